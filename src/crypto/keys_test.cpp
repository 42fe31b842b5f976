#include "crypto/keys.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/encoding.h"

namespace hb::crypto {
namespace {

// RFC 7638 section 3.1.
constexpr const char* kRfc7638N =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWKR"
    "XjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMicAt"
    "aSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
    "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPk"
    "sINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

// RFC 8037 appendix A.1/A.2: the Ed25519 key pair.
constexpr const char* kEdD = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr const char* kEdX = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

// The SMART Health Card example issuer key (kid = its RFC 7638 thumbprint).
constexpr const char* kShcX = "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw";
constexpr const char* kShcY = "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8";
constexpr const char* kShcKid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";

Json shc_jwk() { return Json{{"kty", "EC"}, {"crv", "P-256"}, {"x", kShcX}, {"y", kShcY}}; }

// PKCS#8 PrivateKeyInfo for an Ed25519 seed (RFC 8410 section 7), as PEM.
std::string ed25519_pkcs8_pem(const std::string& seed) {
  std::string der = hex_decode("302e020100300506032b657004220420").value() + seed;
  return "-----BEGIN PRIVATE KEY-----\n" + base64_encode(der) + "\n-----END PRIVATE KEY-----\n";
}

TEST(JwkThumbprint, Rfc7638Example) {
  Json jwk = {
      {"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}, {"alg", "RS256"}, {"kid", "2011-04-29"}};
  auto key = PublicKey::from_jwk(jwk);
  ASSERT_TRUE(key.is_ok()) << key.status().to_string();
  EXPECT_EQ(key->type(), KeyType::kRsa);
  EXPECT_EQ(key->thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  // to_jwk drops alg/kid and keeps only the required members.
  EXPECT_EQ(key->to_jwk(), (Json{{"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}}));
}

TEST(JwkThumbprint, ShcIssuerKidIsItsThumbprint) {
  auto key = PublicKey::from_jwk(shc_jwk());
  ASSERT_TRUE(key.is_ok()) << key.status().to_string();
  EXPECT_EQ(key->type(), KeyType::kEcP256);
  EXPECT_EQ(key->thumbprint(), kShcKid);
  EXPECT_EQ(key->to_jwk(), shc_jwk());
}

TEST(Ed25519, Rfc8037Vectors) {
  auto priv = PrivateKey::from_pem(ed25519_pkcs8_pem(base64url_decode(kEdD).value()));
  ASSERT_TRUE(priv.is_ok()) << priv.status().to_string();
  EXPECT_EQ(priv->type(), KeyType::kEd25519);
  EXPECT_EQ(priv->default_alg(), "EdDSA");
  Json jwk = priv->to_private_jwk();
  EXPECT_EQ(jwk["d"], kEdD);
  EXPECT_EQ(jwk["x"], kEdX);
  EXPECT_EQ(jwk["kty"], "OKP");
  EXPECT_EQ(jwk["crv"], "Ed25519");

  // A.3: thumbprint. A.4: the deterministic signature over the JWS signing input.
  PublicKey pub = priv->public_key();
  EXPECT_EQ(pub.thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  const std::string input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  const std::string expected_sig =
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
  auto sig = priv->sign("EdDSA", input);
  ASSERT_TRUE(sig.is_ok());
  EXPECT_EQ(base64url_encode(*sig), expected_sig);

  auto from_jwk = PublicKey::from_jwk(Json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", kEdX}});
  ASSERT_TRUE(from_jwk.is_ok());
  EXPECT_TRUE(from_jwk->verify("EdDSA", input, base64url_decode(expected_sig).value()).is_ok());
  EXPECT_FALSE(
      from_jwk->verify("EdDSA", input + "x", base64url_decode(expected_sig).value()).is_ok());
}

class SignVerify : public ::testing::TestWithParam<std::pair<KeyType, const char*>> {};

TEST_P(SignVerify, RoundTripAndTamper) {
  auto [type, alg] = GetParam();
  auto priv = PrivateKey::generate(type);
  ASSERT_TRUE(priv.is_ok()) << priv.status().to_string();
  EXPECT_EQ(priv->type(), type);
  const std::string msg = "header.payload";
  auto sig = priv->sign(alg, msg);
  ASSERT_TRUE(sig.is_ok()) << sig.status().to_string();

  PublicKey pub = priv->public_key();
  EXPECT_TRUE(pub.verify(alg, msg, *sig).is_ok());
  // Through the JWK form, as a verifier on another machine would see it.
  auto imported = PublicKey::from_jwk(pub.to_jwk());
  ASSERT_TRUE(imported.is_ok()) << imported.status().to_string();
  EXPECT_TRUE(imported->verify(alg, msg, *sig).is_ok());
  EXPECT_EQ(imported->thumbprint(), pub.thumbprint());

  Status bad_msg = pub.verify(alg, "header.payloaD", *sig);
  EXPECT_EQ(bad_msg.code(), Code::kUnauthorized);
  std::string flipped = *sig;
  flipped[flipped.size() / 2] ^= 0x01;
  EXPECT_EQ(pub.verify(alg, msg, flipped).code(), Code::kUnauthorized);
  EXPECT_FALSE(pub.verify(alg, msg, sig->substr(1)).is_ok());
  EXPECT_FALSE(pub.verify(alg, msg, *sig + '\0').is_ok());
  EXPECT_FALSE(pub.verify(alg, msg, "").is_ok());

  // PEM round trip keeps the key.
  std::string pem = priv->to_pem();
  EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  auto again = PrivateKey::from_pem(pem);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(again->type(), type);
  EXPECT_EQ(again->public_key().thumbprint(), pub.thumbprint());
  auto sig2 = again->sign(alg, msg);
  ASSERT_TRUE(sig2.is_ok());
  EXPECT_TRUE(pub.verify(alg, msg, *sig2).is_ok());

  // The private JWK carries "d"; the public one must not, and from_jwk refuses a private JWK.
  Json private_jwk = priv->to_private_jwk();
  EXPECT_TRUE(private_jwk.contains("d"));
  EXPECT_FALSE(pub.to_jwk().contains("d"));
  EXPECT_FALSE(PublicKey::from_jwk(private_jwk).is_ok());
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SignVerify,
                         ::testing::Values(std::pair{KeyType::kEcP256, "ES256"},
                                           std::pair{KeyType::kEcP384, "ES384"},
                                           std::pair{KeyType::kRsa, "RS384"},
                                           std::pair{KeyType::kRsa, "RS256"},
                                           std::pair{KeyType::kEd25519, "EdDSA"}));

TEST(PrivateKey, DefaultAlgorithms) {
  EXPECT_EQ(PrivateKey::generate(KeyType::kEcP256)->default_alg(), "ES256");
  EXPECT_EQ(PrivateKey::generate(KeyType::kEcP384)->default_alg(), "ES384");
  EXPECT_EQ(PrivateKey::generate(KeyType::kEd25519)->default_alg(), "EdDSA");
}

TEST(PrivateKey, EcdsaSignaturesAreFixedLengthRs) {
  auto p256 = PrivateKey::generate(KeyType::kEcP256).value();
  auto p384 = PrivateKey::generate(KeyType::kEcP384).value();
  // r or s often has a leading zero byte; over many signatures the length never varies.
  for (int i = 0; i < 64; ++i) {
    std::string msg = "m" + std::to_string(i);
    EXPECT_EQ(p256.sign("ES256", msg)->size(), 64u);
    EXPECT_EQ(p384.sign("ES384", msg)->size(), 96u);
  }
}

TEST(PrivateKey, RefusesAlgThatDoesNotFitTheKey) {
  auto p256 = PrivateKey::generate(KeyType::kEcP256).value();
  EXPECT_FALSE(p256.sign("ES384", "x").is_ok());
  EXPECT_FALSE(p256.sign("RS256", "x").is_ok());
  EXPECT_FALSE(p256.sign("HS256", "x").is_ok());
  EXPECT_FALSE(p256.sign("none", "x").is_ok());
}

TEST(PrivateKey, FromPemRejectsOtherInputs) {
  EXPECT_FALSE(PrivateKey::from_pem("").is_ok());
  EXPECT_FALSE(
      PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
          .is_ok());
  // A public key is not a private key.
  EXPECT_FALSE(PrivateKey::from_pem("-----BEGIN PUBLIC "
                                    "KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/"
                                    "7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n")
                   .is_ok());
}

TEST(PublicKeyVerify, RefusesAlgThatDoesNotFitTheKey) {
  auto p256 = PrivateKey::generate(KeyType::kEcP256).value();
  auto p384 = PrivateKey::generate(KeyType::kEcP384).value();
  auto ed = PrivateKey::generate(KeyType::kEd25519).value();
  const std::string msg = "a.b";
  std::string sig256 = p256.sign("ES256", msg).value();

  // ES256 with a P-384 key, ES384 with a P-256 key, and everything else that does not fit.
  Status s = p384.public_key().verify("ES256", msg, sig256);
  EXPECT_EQ(s.code(), Code::kUnauthorized);
  EXPECT_NE(s.message().find("does not fit"), std::string::npos) << s.message();
  EXPECT_EQ(p256.public_key().verify("ES384", msg, sig256).code(), Code::kUnauthorized);
  EXPECT_EQ(p256.public_key().verify("RS256", msg, sig256).code(), Code::kUnauthorized);
  EXPECT_EQ(p256.public_key().verify("EdDSA", msg, sig256).code(), Code::kUnauthorized);
  EXPECT_EQ(ed.public_key().verify("ES256", msg, sig256).code(), Code::kUnauthorized);
  for (const char* alg : {"none", "HS256", "PS256", "ES512", "es256", ""}) {
    SCOPED_TRACE(alg);
    EXPECT_EQ(p256.public_key().verify(alg, msg, sig256).code(), Code::kUnauthorized);
  }
  EXPECT_TRUE(p256.public_key().verify("ES256", msg, sig256).is_ok());
}

TEST(PublicKeyVerify, RefusesDerEncodedEcdsaSignature) {
  auto priv = PrivateKey::generate(KeyType::kEcP256).value();
  const std::string msg = "a.b";
  std::string rs = priv.sign("ES256", msg).value();
  // Re-encode the (valid) signature as DER, as OpenSSL and some JOSE libraries emit it.
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(rs.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(rs.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ASSERT_GT(len, 0);
  std::string der_sig(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);

  Status s = priv.public_key().verify("ES256", msg, der_sig);
  EXPECT_EQ(s.code(), Code::kUnauthorized);
  EXPECT_NE(s.message().find("r||s"), std::string::npos) << s.message();
  EXPECT_TRUE(priv.public_key().verify("ES256", msg, rs).is_ok());
}

TEST(PublicKeyVerify, EcdsaIntegersOfEveryShape) {
  // r||s goes to DER by hand: each INTEGER minimal, 0x00 in front of a set top bit. Sign until
  // both shapes have turned up (a leading zero byte comes once in 128 signatures or so).
  for (auto [type, alg] : {std::pair{KeyType::kEcP256, "ES256"}, std::pair{KeyType::kEcP384, "ES384"}}) {
    SCOPED_TRACE(alg);
    auto priv = PrivateKey::generate(type).value();
    const PublicKey pub = priv.public_key();
    const std::size_t n = type == KeyType::kEcP256 ? 32 : 48;
    bool leading_zero = false;
    bool top_bit = false;
    for (int i = 0; i < 4000 && !(leading_zero && top_bit); ++i) {
      const std::string msg = "card " + std::to_string(i);
      const std::string sig = priv.sign(alg, msg).value();
      ASSERT_EQ(sig.size(), 2 * n);
      const bool zero = sig[0] == 0 || sig[n] == 0;
      const bool top = (sig[0] & 0x80) != 0 || (sig[n] & 0x80) != 0;
      leading_zero |= zero;
      top_bit |= top;
      ASSERT_TRUE(pub.verify(alg, msg, sig).is_ok()) << i;
      EXPECT_EQ(pub.verify(alg, msg + ".", sig).code(), Code::kUnauthorized);
    }
    EXPECT_TRUE(leading_zero && top_bit);
    // r or s of zero is a well-formed DER INTEGER that never verifies.
    EXPECT_EQ(pub.verify(alg, "x", std::string(2 * n, '\0')).code(), Code::kUnauthorized);
  }
}

TEST(PublicKeyVerify, ManyKeysOneThread) {
  // ES256 keeps a verification context per thread and key, a bounded number of them: more keys
  // than that, keys gone and keys made anew must each verify their own signatures only.
  std::vector<PrivateKey> privs;
  for (int i = 0; i < 40; ++i) privs.push_back(PrivateKey::generate(KeyType::kEcP256).value());
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < privs.size(); ++i) {
      const std::string sig = privs[i].sign("ES256", "m").value();
      EXPECT_TRUE(privs[i].public_key().verify("ES256", "m", sig).is_ok());
      const PublicKey other = privs[(i + 1) % privs.size()].public_key();
      EXPECT_EQ(other.verify("ES256", "m", sig).code(), Code::kUnauthorized);
    }
    privs[static_cast<std::size_t>(round)] = PrivateKey::generate(KeyType::kEcP256).value();
  }
}

TEST(PublicKeyVerify, SafeFromManyThreads) {
  auto priv = PrivateKey::generate(KeyType::kEcP256).value();
  const PublicKey pub = priv.public_key();
  const std::string sig = priv.sign("ES256", "shared").value();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (pub.verify("ES256", "shared", sig).is_ok() &&
            !pub.verify("ES256", "other", sig).is_ok()) {
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 200);
}

TEST(PrivateKey, Es256SignsFromManyThreadsWithAFreshNonceEachTime) {
  // ES256 keeps a signing context per thread and key: each signature still takes its own nonce
  // (two signatures of one message differ) and verifies, whichever thread made it.
  auto priv = PrivateKey::generate(KeyType::kEcP256).value();
  const PublicKey pub = priv.public_key();
  std::vector<std::vector<std::string>> sigs(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < sigs.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i)
        sigs[t].push_back(priv.sign("ES256", "the same message").value());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> distinct;
  for (const auto& list : sigs) {
    for (const auto& sig : list) {
      EXPECT_EQ(sig.size(), 64u);
      EXPECT_TRUE(pub.verify("ES256", "the same message", sig).is_ok());
      EXPECT_FALSE(pub.verify("ES256", "another message", sig).is_ok());
      distinct.insert(sig);
    }
  }
  EXPECT_EQ(distinct.size(), 200u);
}

TEST(PublicKeyFromJwk, RejectsBadEcKeys) {
  auto expect_bad = [](Json jwk, const std::string& member) {
    SCOPED_TRACE(jwk.dump());
    auto r = PublicKey::from_jwk(jwk);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.error().code(), Code::kInvalid);
    ASSERT_FALSE(r.error().problems().empty());
    EXPECT_EQ(r.error().problems()[0].path, member);
  };
  Json good = shc_jwk();
  ASSERT_TRUE(PublicKey::from_jwk(good).is_ok());

  Json j = good;
  j["y"] = "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy4";  // off the curve
  expect_bad(j, "x");
  j = good;
  j["x"] = base64url_encode(std::string(31, '\x11'));  // too short
  expect_bad(j, "x");
  j = good;
  j["y"] = base64url_encode(std::string(33, '\x11'));
  expect_bad(j, "y");
  j = good;
  j["crv"] = "P-384";  // 32-byte coordinates for a 48-byte curve
  expect_bad(j, "x");
  j = good;
  j["crv"] = "secp256k1";
  expect_bad(j, "crv");
  j = good;
  j["crv"] = "P-521";
  expect_bad(j, "crv");
  j = good;
  j.erase("y");
  expect_bad(j, "y");
  j = good;
  j["x"] = 5;
  expect_bad(j, "x");
  j = good;
  j["x"] = std::string(kShcX) + "=";  // padded base64url
  expect_bad(j, "x");
  j = good;
  j["d"] = base64url_encode(std::string(32, '\x01'));
  expect_bad(j, "d");
  // The point at infinity and the all-zero point are not public keys.
  j = good;
  j["x"] = base64url_encode(std::string(32, '\0'));
  j["y"] = base64url_encode(std::string(32, '\0'));
  expect_bad(j, "x");
  // Coordinates at or above the field prime.
  j = good;
  j["x"] = base64url_encode(std::string(32, '\xff'));
  expect_bad(j, "x");
}

TEST(PublicKeyFromJwk, RejectsBadRsaKeys) {
  Json good = {{"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}};
  ASSERT_TRUE(PublicKey::from_jwk(good).is_ok());
  std::string n = base64url_decode(kRfc7638N).value();

  // 1024- and 2047-bit moduli are under the minimum.
  std::string n1024 = n.substr(0, 128);
  Json j = good;
  j["n"] = base64url_encode(n1024);
  auto r = PublicKey::from_jwk(j);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.error().message().find("2048"), std::string::npos) << r.error().message();
  std::string n2047 = n;
  n2047[0] = static_cast<char>(0x7f);
  j["n"] = base64url_encode(n2047);
  EXPECT_FALSE(PublicKey::from_jwk(j).is_ok());

  j = good;
  j["n"] = base64url_encode(std::string(1, '\0') + n);  // leading zero: not minimal
  EXPECT_FALSE(PublicKey::from_jwk(j).is_ok());
  j = good;
  j["e"] = base64url_encode(std::string("\x01\x00\x00", 3));  // even exponent
  EXPECT_FALSE(PublicKey::from_jwk(j).is_ok());
  j = good;
  j["e"] = "AQ";  // e = 1
  EXPECT_FALSE(PublicKey::from_jwk(j).is_ok());
  j = good;
  j["e"] = base64url_encode(std::string(9, '\x01'));  // absurdly large exponent
  EXPECT_FALSE(PublicKey::from_jwk(j).is_ok());
  j = good;
  j["n"] = base64url_encode(std::string(1025, '\xff'));  // over 8192 bits
  EXPECT_FALSE(PublicKey::from_jwk(j).is_ok());
  std::string even = n;
  even.back() = static_cast<char>(even.back() & 0xfe);
  j = good;
  j["n"] = base64url_encode(even);
  EXPECT_FALSE(PublicKey::from_jwk(j).is_ok());
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "oth"}) {
    j = good;
    j[priv] = "AQAB";
    EXPECT_FALSE(PublicKey::from_jwk(j).is_ok()) << priv;
  }
}

TEST(PublicKeyFromJwk, RejectsSmallOrderEd25519Keys) {
  // The identity point (y = 1). Were it accepted, the signature R = identity, S = 0 would verify
  // any message; show that OpenSSL alone would let that through, then that import refuses the key.
  std::string identity(32, '\0');
  identity[0] = 1;
  std::string forged_sig = identity + std::string(32, '\0');
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(identity.data()), 32);
  ASSERT_NE(raw, nullptr);
  PublicKey unchecked(std::shared_ptr<evp_pkey_st>(raw, EVP_PKEY_free), KeyType::kEd25519);
  EXPECT_TRUE(unchecked.verify("EdDSA", "any message at all", forged_sig).is_ok());

  auto r = PublicKey::from_jwk(
      Json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url_encode(identity)}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().problems().at(0).path, "x");
  // A point of order 8 and a non-canonical encoding (y = p + 1) are refused too.
  std::string order8 =
      hex_decode("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a").value();
  EXPECT_FALSE(
      PublicKey::from_jwk(Json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url_encode(order8)}})
          .is_ok());
  std::string noncanonical =
      hex_decode("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f").value();
  EXPECT_FALSE(PublicKey::from_jwk(
                   Json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url_encode(noncanonical)}})
                   .is_ok());
}

TEST(PublicKeyFromJwk, RejectsOtherKeyTypesAndShapes) {
  EXPECT_FALSE(PublicKey::from_jwk(Json{{"kty", "oct"}, {"k", "AAAA"}}).is_ok());
  EXPECT_FALSE(PublicKey::from_jwk(Json{{"kty", "OKP"}, {"crv", "X25519"}, {"x", kEdX}}).is_ok());
  EXPECT_FALSE(PublicKey::from_jwk(Json{{"kty", "OKP"}, {"crv", "Ed448"}, {"x", kEdX}}).is_ok());
  EXPECT_FALSE(
      PublicKey::from_jwk(Json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}}).is_ok());
  EXPECT_FALSE(
      PublicKey::from_jwk(Json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", std::string(kEdX) + "A"}})
          .is_ok());
  EXPECT_FALSE(
      PublicKey::from_jwk(Json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", kEdX}, {"d", kEdD}})
          .is_ok());
  EXPECT_FALSE(PublicKey::from_jwk(Json{{"crv", "P-256"}, {"x", kShcX}, {"y", kShcY}}).is_ok());
  EXPECT_FALSE(PublicKey::from_jwk(Json{{"kty", 1}}).is_ok());
  EXPECT_FALSE(PublicKey::from_jwk(Json::array()).is_ok());
  EXPECT_FALSE(PublicKey::from_jwk(Json("EC")).is_ok());
  EXPECT_FALSE(PublicKey::from_jwk(Json()).is_ok());
}

}  // namespace
}  // namespace hb::crypto
