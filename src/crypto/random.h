// Cryptographically secure randomness (OpenSSL's CSPRNG).
#pragma once

#include <cstddef>
#include <string>

namespace hb::crypto {

std::string random_bytes(std::size_t n);
// A secret token for users to hold (links, sessions, API tokens): `bytes` random bytes,
// base64url without padding. The default 32 bytes is 256 bits; never use fewer than 16.
std::string random_token(std::size_t bytes = 32);

}  // namespace hb::crypto
