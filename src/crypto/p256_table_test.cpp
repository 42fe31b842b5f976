#include "crypto/p256_table.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <array>
#include <atomic>
#include <optional>
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

using BnCtx = ossl::Owned<BN_CTX, BN_CTX_free>;

std::string bytes(const unsigned char* p, std::size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}

struct Key {
  ossl::Pkey pkey;
  std::string point;  // uncompressed SEC1

  Key(ossl::Pkey key, std::string encoded) : pkey(std::move(key)), point(std::move(encoded)) {}
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

// The table's verdict; every input here is one OpenSSL can do the arithmetic for.
bool verdict(const P256KeyTable& table, const std::string& digest, const std::string& rs) {
  std::optional<bool> v = table.verify(digest, rs);
  EXPECT_TRUE(v.has_value());
  return v.value_or(false);
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
      ASSERT_TRUE(verdict(*table, digest, rs));
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
        EXPECT_EQ(verdict(*table, d, sig), expected) << "case " << cases;
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
      EXPECT_EQ(verdict(*table, digest, sig), key.openssl_verifies(digest, sig));
      EXPECT_FALSE(verdict(*table, digest, sig));
    }
  }
  // Digests at the edges, signed and checked both ways: 0 and n are 0 mod n, so u1 = 0 and
  // R = u2*Q alone; n+1 and 2^256-1 are over n, so e is reduced.
  for (const std::string& d : {zero, order_bytes(0), order_bytes(1), std::string(32, '\xff')}) {
    const std::string sig = key.sign(d);
    EXPECT_TRUE(key.openssl_verifies(d, sig));
    EXPECT_TRUE(verdict(*table, d, sig));
    std::string other = d;
    other[31] ^= 1;
    EXPECT_EQ(verdict(*table, other, sig), key.openssl_verifies(other, sig));
  }
  // Lengths other than 32 and 64.
  EXPECT_FALSE(verdict(*table, digest.substr(0, 31), rs));
  EXPECT_FALSE(verdict(*table, digest, rs.substr(0, 63)));
  EXPECT_FALSE(verdict(*table, digest, rs + '\0'));
  EXPECT_FALSE(verdict(*table, digest + '\0', rs));
}

// Signatures made by hand for the corners of u1*G + u2*Q: the two products equal (the sum is a
// doubling), opposite (the sum is the point at infinity), and a sum whose x is n or more (r is x
// reduced mod n). Keys include G itself and -G. OpenSSL's verification must agree on each.
class Corners : public ::testing::Test {
 protected:
  Corners()
      : group_(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)),
        ctx_(BN_CTX_new()),
        n_(EC_GROUP_get0_order(group_.get())) {
    EC_GROUP_get_curve(group_.get(), p_.get(), nullptr, nullptr, ctx_.get());
  }

  ossl::Bn bn() { return ossl::Bn(BN_new()); }
  ossl::Bn random_scalar() {
    ossl::Bn b = bn();
    do {
      BN_rand_range(b.get(), n_);
    } while (BN_is_zero(b.get()));
    return b;
  }
  std::string be32(const BIGNUM* b) {
    std::array<unsigned char, 32> out;
    BN_bn2binpad(b, out.data(), 32);
    return bytes(out.data(), out.size());
  }
  std::string encode(const EC_POINT* p) {
    std::array<unsigned char, 65> out;
    const std::size_t len = EC_POINT_point2oct(group_.get(), p, POINT_CONVERSION_UNCOMPRESSED,
                                               out.data(), out.size(), ctx_.get());
    return bytes(out.data(), len);
  }
  ossl::Owned<EC_POINT, EC_POINT_free> point() {
    return ossl::Owned<EC_POINT, EC_POINT_free>(EC_POINT_new(group_.get()));
  }
  // The first x from `x` on (upwards, or downwards with `down`) that is a point's; the point in
  // `out`, its x in `x`.
  void first_point_from(BIGNUM* x, EC_POINT* out, bool down = false) {
    while (EC_POINT_set_compressed_coordinates(group_.get(), out, x, 0, ctx_.get()) != 1) {
      ossl::clear_errors();
      if (down) {
        BN_sub_word(x, 1);
      } else {
        BN_add_word(x, 1);
      }
    }
  }
  // The key for which (r, s) is a valid signature of e with R = u1*G + u2*Q being `big_r`:
  // Q = (R - u1*G) / u2.
  std::string key_for(const EC_POINT* big_r, const BIGNUM* e, const BIGNUM* r, const BIGNUM* s) {
    ossl::Bn w = bn(), u1 = bn(), u2 = bn(), u2_inv = bn();
    BN_mod_inverse(w.get(), s, n_, ctx_.get());
    BN_mod_mul(u1.get(), e, w.get(), n_, ctx_.get());
    BN_mod_mul(u2.get(), r, w.get(), n_, ctx_.get());
    BN_mod_inverse(u2_inv.get(), u2.get(), n_, ctx_.get());
    auto t = point(), q = point();
    EC_POINT_mul(group_.get(), t.get(), u1.get(), nullptr, nullptr, ctx_.get());
    EC_POINT_invert(group_.get(), t.get(), ctx_.get());
    EC_POINT_add(group_.get(), t.get(), t.get(), big_r, ctx_.get());
    EXPECT_EQ(EC_POINT_mul(group_.get(), q.get(), nullptr, t.get(), u2_inv.get(), ctx_.get()), 1);
    return encode(q.get());
  }
  // x(P) mod n.
  ossl::Bn x_mod_n(const EC_POINT* p) {
    ossl::Bn x = bn();
    EC_POINT_get_affine_coordinates(group_.get(), p, x.get(), nullptr, ctx_.get());
    BN_nnmod(x.get(), x.get(), n_, ctx_.get());
    return x;
  }

  // The table's verdict and OpenSSL's on the same key (by its point), digest and r || s.
  void expect_both(const std::string& point, const BIGNUM* e, const BIGNUM* r, const BIGNUM* s,
                   bool valid, const char* what) {
    ossl::ParamBld bld(OSSL_PARAM_BLD_new());
    ASSERT_TRUE(bld);
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                     point.size());
    ossl::Params params(OSSL_PARAM_BLD_to_param(bld.get()));
    ossl::PkeyCtx make(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* raw = nullptr;
    ASSERT_TRUE(params && make && EVP_PKEY_fromdata_init(make.get()) == 1 &&
                EVP_PKEY_fromdata(make.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) == 1);
    Key key{ossl::Pkey(raw), point};
    auto table = P256KeyTable::build(point);
    ASSERT_NE(table, nullptr) << what;
    const std::string digest = be32(e), rs = be32(r) + be32(s);
    EXPECT_EQ(key.openssl_verifies(digest, rs), valid) << what;
    EXPECT_EQ(verdict(*table, digest, rs), valid) << what;
  }

  ossl::Owned<EC_GROUP, EC_GROUP_free> group_;
  BnCtx ctx_;
  const BIGNUM* n_;
  ossl::Bn p_{BN_new()};  // the field prime
};

TEST_F(Corners, EqualAndOppositeProducts) {
  for (int round = 0; round < 4; ++round) {
    ossl::Bn d = random_scalar();
    if (round == 1) BN_one(d.get());                      // Q = G
    if (round == 2) BN_sub(d.get(), n_, BN_value_one());  // Q = -G
    auto q = point();
    ASSERT_EQ(EC_POINT_mul(group_.get(), q.get(), d.get(), nullptr, nullptr, ctx_.get()), 1);
    const std::string key = encode(q.get());
    // R = k*G, r = x(R); with e = r*d, u1*G = (e/s)*G and u2*Q = (r*d/s)*G are the same point.
    ossl::Bn k = random_scalar(), k_inv = bn(), e = bn(), twice = bn(), s = bn();
    auto big_r = point();
    EC_POINT_mul(group_.get(), big_r.get(), k.get(), nullptr, nullptr, ctx_.get());
    ossl::Bn r = x_mod_n(big_r.get());
    BN_mod_mul(e.get(), r.get(), d.get(), n_, ctx_.get());
    BN_mod_inverse(k_inv.get(), k.get(), n_, ctx_.get());
    BN_mod_add(twice.get(), e.get(), e.get(), n_, ctx_.get());
    BN_mod_mul(s.get(), k_inv.get(), twice.get(), n_, ctx_.get());  // s = (e + r*d) / k
    expect_both(key, e.get(), r.get(), s.get(), true, "u1*G == u2*Q");
    ossl::Bn e_plus_n(BN_dup(e.get()));
    BN_add(e_plus_n.get(), e_plus_n.get(), n_);
    if (BN_num_bits(e_plus_n.get()) <= 256) {
      expect_both(key, e_plus_n.get(), r.get(), s.get(), true, "the same, digest e + n");
    }
    // e = -r*d: u1*G = -u2*Q, and the sum is the point at infinity.
    ossl::Bn minus = bn();
    BN_mod_sub(minus.get(), n_, e.get(), n_, ctx_.get());
    expect_both(key, minus.get(), r.get(), s.get(), false, "u1*G == -u2*Q");
  }
}

TEST_F(Corners, SumWhoseXIsNOrMore) {
  // The first x at or above n with a point on the curve (p - n is about 2^126, so there are many).
  ossl::Bn x(BN_dup(n_));
  auto big_r = point();
  first_point_from(x.get(), big_r.get());
  ossl::Bn r = bn();
  BN_sub(r.get(), x.get(), n_);
  ossl::Bn r_plus_one(BN_dup(r.get()));
  BN_add_word(r_plus_one.get(), 1);
  for (int i = 0; i < 3; ++i) {
    ossl::Bn e = random_scalar(), s = random_scalar();
    if (i == 2) BN_zero(e.get());  // and u1 = 0
    const std::string key = key_for(big_r.get(), e.get(), r.get(), s.get());
    expect_both(key, e.get(), r.get(), s.get(), true, "r = x - n");
    expect_both(key, e.get(), x.get(), s.get(), false, "r = x, not reduced (not below n)");
    const std::string other = key_for(big_r.get(), e.get(), r_plus_one.get(), s.get());
    expect_both(other, e.get(), r_plus_one.get(), s.get(), false, "r = x - n + 1");
  }
  // The largest x below p with a point: r = x - n, the largest r that the second comparison
  // (x = r + n) can accept.
  ossl::Bn top(BN_dup(p_.get()));
  BN_sub_word(top.get(), 1);
  first_point_from(top.get(), big_r.get(), /*down=*/true);
  BN_sub(r.get(), top.get(), n_);
  ossl::Bn e = random_scalar(), s = random_scalar();
  expect_both(key_for(big_r.get(), e.get(), r.get(), s.get()), e.get(), r.get(), s.get(), true,
              "the largest x, r = x - n");
}

// R's x is compared as X = r*Z^2 and, when r + n < p, X = (r+n)*Z^2 (mod p). Without that bound,
// r + n >= p would wrap around: r + n - p is a small x that is not r mod n.
TEST_F(Corners, RPlusNAtOrAboveP) {
  ossl::Bn p_minus_n = bn();
  BN_sub(p_minus_n.get(), p_.get(), n_);
  // A small x with a point, and r = x + (p - n), which is below n: r + n = x + p.
  ossl::Bn x = bn();
  BN_one(x.get());
  auto big_r = point();
  first_point_from(x.get(), big_r.get());
  ossl::Bn r = bn();
  BN_add(r.get(), x.get(), p_minus_n.get());
  ASSERT_LT(BN_cmp(r.get(), n_), 0);
  for (int i = 0; i < 3; ++i) {
    ossl::Bn e = random_scalar(), s = random_scalar();
    expect_both(key_for(big_r.get(), e.get(), r.get(), s.get()), e.get(), r.get(), s.get(), false,
                "x small, r = x + p - n");
    // The same point with r = x: valid, by the first comparison.
    expect_both(key_for(big_r.get(), e.get(), x.get(), s.get()), e.get(), x.get(), s.get(), true,
                "x small, r = x");
  }
  // x = 0 is a point of P-256; r = p - n makes r + n = p, which is 0 mod p.
  BN_zero(x.get());
  ASSERT_EQ(EC_POINT_set_compressed_coordinates(group_.get(), big_r.get(), x.get(), 0, ctx_.get()),
            1);
  ossl::Bn e = random_scalar(), s = random_scalar();
  expect_both(key_for(big_r.get(), e.get(), p_minus_n.get(), s.get()), e.get(), p_minus_n.get(),
              s.get(), false, "x = 0, r = p - n");
}

TEST(P256KeyTable, ASignatureFitsOnlyItsOwnKey) {
  Key a, b;
  auto table_a = P256KeyTable::build(a.point);
  auto table_b = P256KeyTable::build(b.point);
  ASSERT_NE(table_a, nullptr);
  ASSERT_NE(table_b, nullptr);
  const std::string digest = sha256("whose key");
  EXPECT_TRUE(verdict(*table_a, digest, a.sign(digest)));
  EXPECT_FALSE(verdict(*table_b, digest, a.sign(digest)));
  EXPECT_FALSE(verdict(*table_a, digest, b.sign(digest)));
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
  EXPECT_TRUE(verdict(*table, digest, key.sign(digest)));

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

// kMaxTables bounds the memory. With every place taken by a key still held, a new key gets no
// table and counts again; once a held key is let go, the next build takes its place.
TEST(KeyTableSlot, TablesAreBoundedAndAKeyLetGoGivesUpItsPlace) {
  auto cross = [](KeyTableSlot& slot) {
    const P256KeyTable* table = nullptr;
    for (std::uint32_t i = 0; i < KeyTableSlot::kBuildAfter; ++i) table = slot.use();
    return table;
  };
  std::vector<std::shared_ptr<KeyTableSlot>> held;
  for (int i = 0; i < KeyTableSlot::kMaxTables; ++i) {
    held.push_back(KeyTableSlot::for_point(Key().point));
    ASSERT_NE(held.back(), nullptr);
    ASSERT_NE(cross(*held.back()), nullptr) << "table " << i;
  }
  Key late_key;
  auto late = KeyTableSlot::for_point(late_key.point);
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(cross(*late), nullptr) << "every place is held";
  EXPECT_EQ(late->use(), nullptr) << "the count started again";
  held.front().reset();
  const P256KeyTable* table = cross(*late);
  ASSERT_NE(table, nullptr) << "the key let go gave up its place";
  const std::string digest = sha256("late");
  EXPECT_TRUE(verdict(*table, digest, late_key.sign(digest)));
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
