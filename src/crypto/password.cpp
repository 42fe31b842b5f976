#include "crypto/password.h"

#include <sodium.h>

namespace hb::crypto {
namespace {

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

Result<std::string> hash_password(std::string_view password, const PasswordCost& cost) {
  if (!sodium_ready()) return internal("libsodium failed to initialise");
  if (cost.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      cost.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
      cost.mem_limit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      cost.mem_limit > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return invalid("Argon2id cost out of range");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops_limit, cost.mem_limit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return internal("Argon2id failed (out of memory)");
  }
  return std::string(out);
}

bool verify_password(std::string_view password, const std::string& stored) {
  if (!sodium_ready() || stored.rfind("$argon2id$", 0) != 0 ||
      stored.size() >= crypto_pwhash_STRBYTES)
    return false;
  return crypto_pwhash_argon2id_str_verify(stored.c_str(), password.data(), password.size()) == 0;
}

bool password_needs_rehash(const std::string& stored, const PasswordCost& cost) {
  if (!sodium_ready() || stored.size() >= crypto_pwhash_STRBYTES) return true;
  return crypto_pwhash_argon2id_str_needs_rehash(stored.c_str(), cost.ops_limit, cost.mem_limit) !=
         0;
}

}  // namespace hb::crypto
