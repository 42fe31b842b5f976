// Private to src/crypto: what keys.cpp and jws.cpp share about JOSE algorithms.
#pragma once

#include <optional>
#include <string_view>

#include "crypto/keys.h"

namespace hb::crypto::detail {

// The key type that a JOSE signature algorithm needs, or nullopt for algorithms we do not support
// (including "none" and every HMAC algorithm: a public key never verifies a MAC).
std::optional<KeyType> key_type_for_alg(std::string_view alg);

// Takes a public key OpenSSL decoded elsewhere (a certificate's subject key) under the same rules
// as a JWK: supported curves and RSA sizes only, kInvalid otherwise.
Result<PublicKey> public_key_from_pkey(evp_pkey_st* owned);

}  // namespace hb::crypto::detail
