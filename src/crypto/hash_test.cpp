#include "crypto/hash.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "crypto/encoding.h"

namespace hb::crypto {
namespace {

std::string from_hex(std::string_view h) { return hex_decode(h).value(); }

TEST(Sha256, KnownAnswers) {
  // FIPS 180-2 appendix B and the empty string.
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(sha256("abc"),
            from_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_EQ(sha256("abc").size(), 32u);
}

// RFC 4231 section 4 (test case 5, truncated output, does not apply).
TEST(HmacSha256, Rfc4231Vectors) {
  struct V {
    std::string key, data, mac;
  };
  const V vectors[] = {
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {from_hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. The "
       "key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.mac);
    EXPECT_EQ(hex_encode(hmac_sha256(v.key, v.data)), v.mac);
    const HmacSha256 keyed(v.key);
    EXPECT_EQ(hex_encode(keyed.mac(v.data)), v.mac);
    EXPECT_EQ(hex_encode(keyed.mac(v.data)), v.mac);  // the keyed states are not used up
  }
}

TEST(HmacSha256, OneKeyFromManyThreads) {
  const HmacSha256 keyed("Jefe");
  const std::string want = hmac_sha256("Jefe", "what do ya want for nothing?");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (keyed.mac("what do ya want for nothing?") != want) ++wrong;
        if (keyed.mac(std::to_string(i)) != hmac_sha256("Jefe", std::to_string(i))) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(HmacSha256, EmptyKeyAndData) {
  // Computed with Python's hmac module.
  EXPECT_EQ(hex_encode(hmac_sha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// RFC 5869 appendix A.1 and A.3.
TEST(HkdfSha256, Rfc5869Vectors) {
  EXPECT_EQ(hex_encode(hkdf_sha256(std::string(22, '\x0b'), from_hex("000102030405060708090a0b0c"),
                                   from_hex("f0f1f2f3f4f5f6f7f8f9"), 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  EXPECT_EQ(hex_encode(hkdf_sha256(std::string(22, '\x0b'), "", "", 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256, EmptyInputKeyAndLabelsSeparate) {
  // Reference value from Python's cryptography HKDF.
  EXPECT_EQ(hex_encode(hkdf_sha256("", "", "x", 32)),
            "0dfd7b633e54fd3c77e68749c2c9a8899dd4a0e86dec0043242e714f6cc75913");
  EXPECT_NE(hkdf_sha256("k", "", "a", 32), hkdf_sha256("k", "", "b", 32));
  EXPECT_EQ(hkdf_sha256("k", "", "a", 0), "");
}

TEST(EqualConstantTime, ComparesBytesAndLengths) {
  EXPECT_TRUE(equal_constant_time("", ""));
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "ab"));
  EXPECT_FALSE(equal_constant_time("", "a"));
  EXPECT_TRUE(equal_constant_time(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(equal_constant_time(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace hb::crypto
