#include "crypto/password.h"

#include <gtest/gtest.h>

namespace hb::crypto {
namespace {

const PasswordCost kCheap{1, 8 * 1024};  // libsodium's minimum memory: tests only

TEST(Password, Argon2idHashVerifiesOnlyTheSamePassword) {
  auto h = hash_password("correct horse 1", kCheap);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << *h;
  EXPECT_EQ(h->find("correct horse"), std::string::npos);
  EXPECT_TRUE(verify_password("correct horse 1", *h));
  EXPECT_FALSE(verify_password("correct horse 2", *h));
  EXPECT_FALSE(verify_password("", *h));
  EXPECT_FALSE(verify_password("correct horse 1", "")) << "no hash, no match";
  EXPECT_FALSE(verify_password("correct horse 1", "$argon2i$v=19$m=8,t=1,p=1$AAAA$AAAA"));
  EXPECT_NE(*h, hash_password("correct horse 1", kCheap).value()) << "salted";
}

TEST(Password, RehashWhenTheCostChanges) {
  auto h = hash_password("correct horse 1", kCheap).value();
  EXPECT_FALSE(password_needs_rehash(h, kCheap));
  EXPECT_TRUE(password_needs_rehash(h, PasswordCost{2, 16 * 1024}));
  EXPECT_TRUE(password_needs_rehash("garbage", kCheap));
}

TEST(Password, RefusesCostsOutOfRange) {
  EXPECT_EQ(hash_password("x", PasswordCost{1, 1024}).status().code(), Code::kInvalid);
  EXPECT_EQ(hash_password("x", PasswordCost{0, 8 * 1024}).status().code(), Code::kInvalid);
}

}  // namespace
}  // namespace hb::crypto
