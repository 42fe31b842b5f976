#include "crypto/random.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "crypto/encoding.h"

namespace hb::crypto {
namespace {

TEST(RandomBytes, LengthAndVariety) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(1).size(), 1u);
  EXPECT_EQ(random_bytes(4096).size(), 4096u);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_bytes(16));
  EXPECT_EQ(seen.size(), 100u);
  // All 256 byte values show up in 64 KiB of output (fails with probability ~ 256 * e^-256).
  std::string big = random_bytes(65536);
  std::set<unsigned char> values(big.begin(), big.end());
  EXPECT_EQ(values.size(), 256u);
}

TEST(RandomToken, Base64UrlOfRequestedBytes) {
  std::string t = random_token();
  EXPECT_EQ(t.size(), 43u);  // 32 bytes, unpadded base64url
  auto decoded = base64url_decode(t);
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded->size(), 32u);
  EXPECT_EQ(base64url_decode(random_token(24))->size(), 24u);
  EXPECT_NE(random_token(), random_token());
}

TEST(RandomToken, NeverFewerThan128Bits) {
  EXPECT_EQ(base64url_decode(random_token(0))->size(), 16u);
  EXPECT_EQ(base64url_decode(random_token(8))->size(), 16u);
  EXPECT_EQ(base64url_decode(random_token(16))->size(), 16u);
}

}  // namespace
}  // namespace hb::crypto
