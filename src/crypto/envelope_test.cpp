#include "crypto/envelope.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace hb::crypto {
namespace {

std::string test_master() {
  std::string k;
  for (int i = 0; i < 32; ++i) k.push_back(static_cast<char>(i));
  return k;
}

MasterKey make_master(const std::string& k = test_master()) { return MasterKey::create(k).value(); }

TEST(MasterKey, RequiresExactly32Bytes) {
  EXPECT_FALSE(MasterKey::create("").is_ok());
  EXPECT_FALSE(MasterKey::create(std::string(31, 'm')).is_ok());
  EXPECT_FALSE(MasterKey::create(std::string(64, 'm')).is_ok());
  EXPECT_EQ(MasterKey::create(std::string(31, 'm')).error().code(), Code::kInvalid);
  EXPECT_TRUE(MasterKey::create(std::string(32, 'm')).is_ok());
}

TEST(MasterKey, NewDataKeysAreFresh32ByteKeys) {
  MasterKey mk = make_master();
  std::string a = mk.new_data_key();
  std::string b = mk.new_data_key();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

TEST(MasterKey, WrapUnwrapRoundTripBoundToOwner) {
  MasterKey mk = make_master();
  std::string dk = mk.new_data_key();
  std::string wrapped = mk.wrap(dk, "Patient/123");
  EXPECT_EQ(wrapped.find(dk), std::string::npos);
  auto back = mk.unwrap(wrapped, "Patient/123");
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, dk);
  // Copied onto another patient's row, the wrapped key does not open.
  auto other = mk.unwrap(wrapped, "Patient/124");
  ASSERT_FALSE(other.is_ok());
  EXPECT_EQ(other.error().code(), Code::kInvalid);
}

TEST(MasterKey, OtherMasterKeyCannotUnwrap) {
  std::string wrapped = make_master().wrap(make_master().new_data_key(), "Patient/1");
  EXPECT_FALSE(make_master(std::string(32, '\x01')).unwrap(wrapped, "Patient/1").is_ok());
}

TEST(MasterKey, WrapsUnderHkdfDerivedSubKeyNotTheMasterItself) {
  MasterKey mk = make_master();
  std::string wrapped = mk.wrap(std::string(32, 'd'), "Patient/1");
  // The master secret itself does not open it ...
  EXPECT_FALSE(Aead256::create(test_master())->open(wrapped, "Patient/1").is_ok());
  // ... the HKDF-SHA256 sub-key under the documented label does (value from Python's HKDF).
  std::string sub = hkdf_sha256(test_master(), "", "healthbook wrap v1", 32);
  EXPECT_EQ(hex_encode(sub), "37d4e085350be5c5869e096cb9b236eb3d9940ca64e4a01cc8e26a737a2087cd");
  auto opened = Aead256::create(sub)->open(wrapped, "Patient/1");
  ASSERT_TRUE(opened.is_ok());
  EXPECT_EQ(*opened, std::string(32, 'd'));
}

TEST(MasterKey, UnwrapRejectsWrongLengthKeys) {
  MasterKey mk = make_master();
  auto r = mk.unwrap(mk.wrap("short", "Patient/1"), "Patient/1");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().code(), Code::kInvalid);
}

TEST(MasterKey, BlindIndexKnownAnswer) {
  // Reference: Python, HMAC-SHA256(HKDF-SHA256(master, info="healthbook blind-index v1"),
  // "national-id\0199001011234").
  EXPECT_EQ(make_master().blind_index("national-id", "199001011234"),
            "e6194e6ccc07603a84517c7e5b0a4420a843f5a77d72a3a92836991680dd6ed9");
}

TEST(MasterKey, BlindIndexSeparatesDomainsValuesAndKeys) {
  MasterKey mk = make_master();
  std::string a = mk.blind_index("phone", "+4670000000");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, mk.blind_index("phone", "+4670000000"));
  EXPECT_NE(a, mk.blind_index("national-id", "+4670000000"));
  EXPECT_NE(a, mk.blind_index("phone", "+4670000001"));
  EXPECT_NE(mk.blind_index("ab", "c"), mk.blind_index("a", "bc"));
  EXPECT_NE(a, make_master(std::string(32, '\x07')).blind_index("phone", "+4670000000"));
  // The index key is not the wrap key nor the master key.
  EXPECT_NE(a, hex_encode(hmac_sha256(test_master(), std::string("phone\0+4670000000", 17))));
}

}  // namespace
}  // namespace hb::crypto
