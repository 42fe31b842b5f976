// Hashes and MACs (OpenSSL 3 underneath). Outputs are raw bytes unless the name says otherwise.
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace hb::crypto {

std::string sha256(std::string_view data);                           // 32 raw bytes
std::string sha256_hex(std::string_view data);                       // 64 hex chars
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes

// HMAC-SHA256 (RFC 2104) under one key that is used many times (the blind-index key): the key's
// two padded blocks are hashed once, here, and each mac() starts from copies of those states.
// Thread-safety: immutable after construction; mac() is safe from any thread.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);

  std::string mac(std::string_view data) const;  // 32 raw bytes, = hmac_sha256(key, data)

 private:
  struct States;
  std::shared_ptr<const States> s_;  // copies share the keyed states, which never change
};
// RFC 5869 HKDF-SHA256 (extract then expand): `length` bytes (at most 255 * 32) derived from the
// input key material under `salt` (may be empty) and `info` (the label that separates uses).
std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                        std::size_t length);
// Constant-time comparison of two byte strings (false if lengths differ).
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace hb::crypto
