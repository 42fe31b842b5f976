// Envelope encryption: a master key (32 bytes, in the data folder) wraps per-patient data keys;
// data keys encrypt resource bodies. Blind indexes (keyed hashes) make identifiers searchable
// without storing them.
//
// Thread-safety: immutable after construction; safe concurrently.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/aead.h"
#include "crypto/hash.h"

namespace hb::crypto {

class MasterKey {
 public:
  // `key` is the 32-byte master secret. Sub-keys for wrapping and for blind indexes are derived
  // from it with HKDF-SHA256 under distinct labels, so neither use weakens the other.
  static Result<MasterKey> create(std::string_view key);

  // A fresh random 32-byte data key, and that key wrapped for storage with `owner` as AAD.
  std::string new_data_key() const;
  std::string wrap(std::string_view data_key, std::string_view owner) const;
  Result<std::string> unwrap(std::string_view wrapped, std::string_view owner) const;

  // Blind index: HMAC-SHA256 under the index sub-key of "<domain>\0<value>", hex encoded.
  std::string blind_index(std::string_view domain, std::string_view value) const;

 private:
  MasterKey(Aead256 wrap, HmacSha256 index) : wrap_(std::move(wrap)), index_(std::move(index)) {}
  Aead256 wrap_;
  HmacSha256 index_;  // keyed with the index sub-key
};

}  // namespace hb::crypto
