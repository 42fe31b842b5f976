// Password hashing with Argon2id (libsodium's crypto_pwhash_str): the stored string is the PHC
// encoding ($argon2id$v=19$m=...,t=...,p=1$salt$hash), so it carries its own salt and cost, and a
// hash made with an older cost still verifies (needs_rehash says when to replace it).
//
// Thread-safety: stateless; safe from any thread. Each call takes `mem_limit` bytes of memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hb::crypto {

struct PasswordCost {
  uint64_t ops_limit = 2;               // passes (libsodium's OPSLIMIT_INTERACTIVE)
  std::size_t mem_limit = 64ull << 20;  // bytes (MEMLIMIT_INTERACTIVE: 64 MiB)
};

// kInvalid when the cost is outside libsodium's bounds; kInternal when memory runs out.
Result<std::string> hash_password(std::string_view password, const PasswordCost& cost);
// True when `stored` is an Argon2id string and `password` matches it. Works for any stored cost.
bool verify_password(std::string_view password, const std::string& stored);
// True when `stored` was made with another cost (or another algorithm) than `cost`.
bool password_needs_rehash(const std::string& stored, const PasswordCost& cost);

}  // namespace hb::crypto
