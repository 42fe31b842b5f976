#include "crypto/p256_table.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <array>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/openssl_util.h"

// The table's verdicts are held to OpenSSL's own ECDSA verification (EVP_PKEY_verify, which has no
// table for the key) on the same inputs: valid signatures, every kind of damage, and the integers
// at the edges of the range.
namespace hb::crypto::detail {
namespace {

std::string bytes(const unsigned char* p, std::size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}

struct Key {
  ossl::Pkey pkey;
  std::string point;  // uncompressed SEC1

  Key() : pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")) {
    if (!pkey) ossl::fatal("keygen");
    std::array<unsigned char, 65> buf;
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, buf.data(), buf.size(),
                                        &len) != 1 ||
        len != 65) {
      ossl::fatal("public point");
    }
    point = bytes(buf.data(), len);
  }

  // r || s of a signature of the 32-byte digest (signed as given, not hashed again).
  std::string sign(const std::string& digest) const {
    ossl::PkeyCtx ctx(EVP_PKEY_CTX_new(pkey.get(), nullptr));
    std::array<unsigned char, 80> der;
    std::size_t len = der.size();
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_sign(ctx.get(), der.data(), &len, ossl::u8(digest.data()), digest.size()) != 1) {
      ossl::fatal("sign");
    }
    const unsigned char* p = der.data();
    ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
    const BIGNUM *r = nullptr, *s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::array<unsigned char, 64> rs;
    BN_bn2binpad(r, rs.data(), 32);
    BN_bn2binpad(s, rs.data() + 32, 32);
    return bytes(rs.data(), rs.size());
  }

  // OpenSSL's verdict on r || s, through DER.
  bool openssl_verifies(const std::string& digest, const std::string& rs) const {
    ossl::EcdsaSig sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(ossl::u8(rs.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(ossl::u8(rs.data()) + 32, 32, nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) ossl::fatal("ECDSA_SIG");
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(sig.get(), &der);
    ossl::Bytes owner(der);
    ossl::PkeyCtx ctx(EVP_PKEY_CTX_new(pkey.get(), nullptr));
    if (len <= 0 || !ctx || EVP_PKEY_verify_init(ctx.get()) != 1) ossl::fatal("verify setup");
    bool ok = EVP_PKEY_verify(ctx.get(), der, len, ossl::u8(digest.data()), digest.size()) == 1;
    ossl::clear_errors();
    return ok;
  }
};

// n, the order of P-256, big-endian.
std::string order_bytes(int add) {
  ossl::Owned<EC_GROUP, EC_GROUP_free> group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  ossl::Bn n(BN_dup(EC_GROUP_get0_order(group.get())));
  if (add >= 0) {
    BN_add_word(n.get(), static_cast<BN_ULONG>(add));
  } else {
    BN_sub_word(n.get(), static_cast<BN_ULONG>(-add));
  }
  std::array<unsigned char, 32> out;
  BN_bn2binpad(n.get(), out.data(), 32);
  return bytes(out.data(), out.size());
}

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

TEST(P256KeyTable, AgreesWithOpenSslOnValidAndDamagedSignatures) {
  std::mt19937_64 rng(20261207);
  for (int k = 0; k < 3; ++k) {
    Key key;
    auto table = P256KeyTable::build(key.point);
    ASSERT_NE(table, nullptr);
    int valid = 0, cases = 0;
    for (int i = 0; i < 60; ++i) {
      const std::string digest = random_bytes(rng, 32);
      const std::string rs = key.sign(digest);
      ASSERT_TRUE(table->verify(digest, rs));
      ++valid;
      // (r, n - s) is the same signature's other half: ECDSA accepts both, and so does OpenSSL.
      std::vector<std::pair<std::string, std::string>> variants;
      {
        ossl::Bn s(BN_bin2bn(ossl::u8(rs.data()) + 32, 32, nullptr));
        ossl::Bn n(BN_bin2bn(ossl::u8(order_bytes(0).data()), 32, nullptr));
        BN_sub(s.get(), n.get(), s.get());
        std::array<unsigned char, 32> high;
        BN_bn2binpad(s.get(), high.data(), 32);
        variants.emplace_back(digest, rs.substr(0, 32) + bytes(high.data(), 32));
      }
      for (int flip = 0; flip < 4; ++flip) {
        std::string bad_rs = rs;
        bad_rs[rng() % 64] ^= static_cast<char>(1u << (rng() % 8));
        variants.emplace_back(digest, bad_rs);
        std::string bad_digest = digest;
        bad_digest[rng() % 32] ^= static_cast<char>(1u << (rng() % 8));
        variants.emplace_back(bad_digest, rs);
      }
      variants.emplace_back(digest, rs.substr(32) + rs.substr(0, 32));  // r and s swapped
      variants.emplace_back(digest, random_bytes(rng, 64));
      for (const auto& [d, sig] : variants) {
        const bool expected = key.openssl_verifies(d, sig);
        EXPECT_EQ(table->verify(d, sig), expected) << "case " << cases;
        ++cases;
        if (expected) ++valid;
      }
    }
    // Every signature and its (r, n - s) twin; no damaged one passes either verifier.
    EXPECT_EQ(valid, 120);
    EXPECT_GT(cases, 600);
  }
}

TEST(P256KeyTable, IntegersAtTheEdgesOfTheRange) {
  Key key;
  auto table = P256KeyTable::build(key.point);
  ASSERT_NE(table, nullptr);
  const std::string digest = sha256("edges");
  const std::string rs = key.sign(digest);
  const std::string r = rs.substr(0, 32), s = rs.substr(32);
  const std::string zero(32, '\0');
  std::string one = zero;
  one[31] = 1;
  for (const std::string& edge :
       {zero, one, order_bytes(-1), order_bytes(0), order_bytes(1), std::string(32, '\xff')}) {
    for (const std::string& sig : {edge + s, r + edge, edge + edge}) {
      EXPECT_EQ(table->verify(digest, sig), key.openssl_verifies(digest, sig));
      EXPECT_FALSE(table->verify(digest, sig));
    }
  }
  // Digests that are 0 mod n make u1 = 0, so R = u2*Q alone; signed and checked both ways.
  for (const std::string& d : {zero, order_bytes(0), order_bytes(1), std::string(32, '\xff')}) {
    const std::string sig = key.sign(d);
    EXPECT_TRUE(key.openssl_verifies(d, sig));
    EXPECT_TRUE(table->verify(d, sig));
    std::string other = d;
    other[31] ^= 1;
    EXPECT_EQ(table->verify(other, sig), key.openssl_verifies(other, sig));
  }
  // Lengths other than 32 and 64.
  EXPECT_FALSE(table->verify(digest.substr(0, 31), rs));
  EXPECT_FALSE(table->verify(digest, rs.substr(0, 63)));
  EXPECT_FALSE(table->verify(digest, rs + '\0'));
  EXPECT_FALSE(table->verify(digest + '\0', rs));
}

TEST(P256KeyTable, ASignatureFitsOnlyItsOwnKey) {
  Key a, b;
  auto table_a = P256KeyTable::build(a.point);
  auto table_b = P256KeyTable::build(b.point);
  ASSERT_NE(table_a, nullptr);
  ASSERT_NE(table_b, nullptr);
  const std::string digest = sha256("whose key");
  EXPECT_TRUE(table_a->verify(digest, a.sign(digest)));
  EXPECT_FALSE(table_b->verify(digest, a.sign(digest)));
  EXPECT_FALSE(table_a->verify(digest, b.sign(digest)));
}

TEST(P256KeyTable, BuildRefusesWhatIsNotAPointOnTheCurve) {
  Key key;
  std::string off = key.point;
  off[64] ^= 1;  // y no longer fits x
  EXPECT_EQ(P256KeyTable::build(off), nullptr);
  EXPECT_EQ(P256KeyTable::build(key.point.substr(0, 64)), nullptr);
  EXPECT_EQ(P256KeyTable::build(std::string(1, '\0')), nullptr);  // the point at infinity
  std::string compressed = key.point.substr(0, 33);
  compressed[0] = static_cast<char>(2 + (key.point[64] & 1));
  EXPECT_EQ(P256KeyTable::build(compressed), nullptr);  // only the uncompressed form
  std::string wrong_tag = key.point;
  wrong_tag[0] = 6;
  EXPECT_EQ(P256KeyTable::build(wrong_tag), nullptr);
}

TEST(KeyTableSlot, BuildsTheTableOnTheUseThatCrossesTheThreshold) {
  Key key;
  KeyTableSlot slot(key.point, 3);
  EXPECT_EQ(slot.use(), nullptr);
  EXPECT_EQ(slot.use(), nullptr);
  const P256KeyTable* table = slot.use();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(slot.use(), table);
  const std::string digest = sha256("slot");
  EXPECT_TRUE(table->verify(digest, key.sign(digest)));

  std::string off = key.point;
  off[64] ^= 1;
  KeyTableSlot bad(off, 1);
  EXPECT_EQ(bad.use(), nullptr);  // no table for a point off the curve; the caller goes plain
  EXPECT_EQ(bad.use(), nullptr);
}

TEST(KeyTableSlot, OneSlotPerPoint) {
  Key a, b;
  auto slot_a = KeyTableSlot::for_point(a.point);
  ASSERT_NE(slot_a, nullptr);
  EXPECT_EQ(KeyTableSlot::for_point(a.point), slot_a);
  EXPECT_NE(KeyTableSlot::for_point(b.point), slot_a);
}

// Through PublicKey: many threads verify with copies of one key while its table is built, then
// with the table; the verdicts never change.
TEST(KeyTableSlot, PublicKeysShareTheirPointsTableAcrossThreads) {
  auto priv = PrivateKey::generate(KeyType::kEcP256);
  ASSERT_TRUE(priv);
  const PublicKey pub = priv->public_key();
  const auto good = priv->sign("ES256", "payload");
  ASSERT_TRUE(good);
  std::string bad = *good;
  bad[40] ^= 1;
  constexpr int kThreads = 4;
  const int per_thread = static_cast<int>(KeyTableSlot::kBuildAfter) / kThreads + 100;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, copy = priv->public_key()] {
      for (int i = 0; i < per_thread; ++i) {
        const PublicKey& key = i % 2 ? copy : pub;
        if (!key.verify("ES256", "payload", *good).is_ok()) ++wrong;
        if (i % 16 == 0 && key.verify("ES256", "payload", bad).is_ok()) ++wrong;
        if (i % 16 == 8 && key.verify("ES256", "payloaD", *good).is_ok()) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  // The key's slot has its table now: the registry's slot for the same point hands it out.
  const Json jwk = pub.to_jwk();
  auto x = base64url_decode(jwk.at("x").get<std::string>());
  auto y = base64url_decode(jwk.at("y").get<std::string>());
  ASSERT_TRUE(x);
  ASSERT_TRUE(y);
  auto slot = KeyTableSlot::for_point("\x04" + *x + *y);
  ASSERT_NE(slot, nullptr);
  EXPECT_NE(slot->use(), nullptr);
}

}  // namespace
}  // namespace hb::crypto::detail
