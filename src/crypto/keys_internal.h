// Private to src/crypto: what keys.cpp and jws.cpp share about JOSE algorithms.
#pragma once

#include <optional>
#include <string_view>

#include "crypto/keys.h"

namespace hb::crypto::detail {

// The key type that a JOSE signature algorithm needs, or nullopt for algorithms we do not support
// (including "none" and every HMAC algorithm: a public key never verifies a MAC).
std::optional<KeyType> key_type_for_alg(std::string_view alg);

}  // namespace hb::crypto::detail
