#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "crypto/encoding.h"

namespace hb::crypto {
namespace {

std::string unhex(std::string_view h) { return hex_decode(h).value(); }

const std::string kKey(32, '\x42');

Aead256 make(const std::string& key = kKey) { return Aead256::create(key).value(); }

TEST(Aead256, RejectsKeysThatAreNot32Bytes) {
  EXPECT_FALSE(Aead256::create("").is_ok());
  EXPECT_FALSE(Aead256::create(std::string(16, 'k')).is_ok());
  EXPECT_FALSE(Aead256::create(std::string(31, 'k')).is_ok());
  EXPECT_FALSE(Aead256::create(std::string(33, 'k')).is_ok());
  EXPECT_EQ(Aead256::create(std::string(31, 'k')).error().code(), Code::kInvalid);
}

TEST(Aead256, SealedLayoutAndRoundTrip) {
  Aead256 aead = make();
  for (std::string plain :
       {std::string(), std::string("x"), std::string(1000, 'p'), std::string("\0binary\xff", 8)}) {
    std::string sealed = aead.seal(plain, "patient/1");
    EXPECT_EQ(sealed.size(), 12 + plain.size() + 16);
    if (plain.size() >= 8) {  // a shorter plaintext may occur in random bytes by chance
      EXPECT_EQ(sealed.find(plain), std::string::npos);
    }
    auto opened = aead.open(sealed, "patient/1");
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    EXPECT_EQ(*opened, plain);
  }
}

TEST(Aead256, FreshNonceEverySeal) {
  Aead256 aead = make();
  std::string a = aead.seal("same", "aad");
  std::string b = aead.seal("same", "aad");
  EXPECT_NE(a.substr(0, 12), b.substr(0, 12));
  EXPECT_NE(a, b);
}

// Each thread keeps one cipher context for every message: a failed open, another key, or another
// thread's messages leave nothing behind for the next message.
TEST(Aead256, OneContextAThreadServesEveryKeyAndSurvivesFailures) {
  const Aead256 a = make();
  const Aead256 b = make(std::string(32, '\x17'));
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const std::string plain = "message " + std::to_string(t) + "/" + std::to_string(i);
        const std::string sa = a.seal(plain, "aad");
        const std::string sb = b.seal(plain, "aad");
        std::string bad = sa;
        bad.back() = static_cast<char>(bad.back() ^ 1);
        bool ok = !a.open(bad, "aad").is_ok() && !b.open(sa, "aad").is_ok();
        auto oa = a.open(sa, "aad");
        auto ob = b.open(sb, "aad");
        ok = ok && oa.is_ok() && *oa == plain && ob.is_ok() && *ob == plain;
        if (ok) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 400);
}

// The McGrew-Viega GCM test case 16 (AES-256, 96-bit IV, with AAD), laid out in our sealed
// format: open() must accept the published ciphertext and tag.
TEST(Aead256, OpensGcmSpecTestCase16) {
  Aead256 aead = make(unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
  std::string sealed = unhex(
      "cafebabefacedbaddecaf888"
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
      "56828838c5f61e6393ba7a0abcc9f662"
      "76fc6ece0f4e1768cddf8853bb2d551b");
  auto opened = aead.open(sealed, unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2"));
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  EXPECT_EQ(
      hex_encode(*opened),
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449"
      "a6b525b16aedf5aa0de657ba637b39");
}

TEST(Aead256, AnyFlippedBitFails) {
  Aead256 aead = make();
  const std::string sealed = aead.seal("resource body", "Patient/7|Observation/3");
  // Every bit of nonce, ciphertext and tag.
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string t = sealed;
      t[i] = static_cast<char>(t[i] ^ (1 << bit));
      auto r = aead.open(t, "Patient/7|Observation/3");
      ASSERT_FALSE(r.is_ok()) << "byte " << i << " bit " << bit;
      EXPECT_EQ(r.error().code(), Code::kInvalid);
      EXPECT_EQ(r.error().message(), "decryption failed");
    }
  }
}

TEST(Aead256, WrongAssociatedDataFails) {
  Aead256 aead = make();
  const std::string sealed = aead.seal("body", "Patient/7");
  EXPECT_FALSE(aead.open(sealed, "Patient/8").is_ok());
  EXPECT_FALSE(aead.open(sealed, "").is_ok());
  EXPECT_FALSE(aead.open(sealed, "Patient/7 ").is_ok());
  EXPECT_TRUE(aead.open(sealed, "Patient/7").is_ok());
}

TEST(Aead256, WrongKeyFails) {
  const std::string sealed = make().seal("body", "aad");
  auto r = make(std::string(32, '\x43')).open(sealed, "aad");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().message(), "decryption failed");
}

TEST(Aead256, TruncatedOrExtendedInputFails) {
  Aead256 aead = make();
  const std::string sealed = aead.seal("body", "aad");
  EXPECT_FALSE(aead.open("", "aad").is_ok());
  EXPECT_FALSE(aead.open(sealed.substr(0, 27), "aad").is_ok());
  EXPECT_FALSE(aead.open(sealed.substr(0, sealed.size() - 1), "aad").is_ok());
  EXPECT_FALSE(aead.open(sealed + "x", "aad").is_ok());
  EXPECT_EQ(aead.open(sealed.substr(0, 5), "aad").error().code(), Code::kInvalid);
}

}  // namespace
}  // namespace hb::crypto
