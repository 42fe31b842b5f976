// AES-256-GCM authenticated encryption, used for resource bodies at rest and for wrapping
// per-patient data keys under the master key (envelope encryption).
//
// Sealed format: 12-byte random nonce || ciphertext || 16-byte tag. The associated data (the row's
// ids) binds a ciphertext to its row, so a body copied into another row fails to open.
//
// Thread-safety: an Aead256 is immutable after construction; seal/open are safe concurrently.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace hb::crypto {

class Aead256 {
 public:
  // key must be exactly 32 bytes.
  static Result<Aead256> create(std::string_view key);

  std::string seal(std::string_view plaintext, std::string_view aad) const;
  // kInvalid when the ciphertext is malformed, kUnauthorized-free: any tampering is kInvalid with
  // message "decryption failed".
  Result<std::string> open(std::string_view sealed, std::string_view aad) const;

 private:
  explicit Aead256(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace hb::crypto
