#include "crypto/envelope.h"

#include <openssl/crypto.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace hb::crypto {
namespace {

constexpr std::size_t kMasterKeyLen = 32;
// HKDF "info" labels: one per use of the master key. Changing one orphans everything under it.
constexpr std::string_view kWrapLabel = "healthbook wrap v1";
constexpr std::string_view kIndexLabel = "healthbook blind-index v1";

}  // namespace

Result<MasterKey> MasterKey::create(std::string_view key) {
  if (key.size() != kMasterKeyLen) return invalid("master key must be 32 bytes");
  std::string wrap_key = hkdf_sha256(key, {}, kWrapLabel, kMasterKeyLen);
  std::string index_key = hkdf_sha256(key, {}, kIndexLabel, kMasterKeyLen);
  auto aead = Aead256::create(wrap_key);
  OPENSSL_cleanse(wrap_key.data(), wrap_key.size());
  HmacSha256 index(index_key);
  OPENSSL_cleanse(index_key.data(), index_key.size());
  if (!aead) return aead.error();
  return MasterKey(std::move(aead).value(), std::move(index));
}

std::string MasterKey::new_data_key() const { return random_bytes(kMasterKeyLen); }

std::string MasterKey::wrap(std::string_view data_key, std::string_view owner) const {
  return wrap_.seal(data_key, owner);
}

Result<std::string> MasterKey::unwrap(std::string_view wrapped, std::string_view owner) const {
  HB_ASSIGN_OR_RETURN(std::string key, wrap_.open(wrapped, owner));
  if (key.size() != kMasterKeyLen) {
    OPENSSL_cleanse(key.data(), key.size());
    return invalid("wrapped data key has the wrong length");
  }
  return key;
}

std::string MasterKey::blind_index(std::string_view domain, std::string_view value) const {
  std::string msg;
  msg.reserve(domain.size() + 1 + value.size());
  msg.append(domain);
  msg.push_back('\0');
  msg.append(value);
  std::string out = hex_encode(index_.mac(msg));
  // The message holds the plain identifier (a national id, a phone number): do not leave it behind.
  OPENSSL_cleanse(msg.data(), msg.size());
  return out;
}

}  // namespace hb::crypto
