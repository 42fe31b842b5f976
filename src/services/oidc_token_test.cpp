// The relying party's checks on what an OpenID provider sends, with keys made in the test: a
// well-formed ID token passes, and each way of getting iss, aud/azp, exp/iat/nbf, the nonce or the
// signature wrong is refused. Discovery and key-set documents of the wrong shape are refused too.
#include "services/oidc_token.h"

#include <gtest/gtest.h>

namespace hb::services::oidc {
namespace {

const char* kIssuer = "https://eid.example.gov.vn";
const char* kClient = "healthbook";
const char* kNonce = "n-0S6_WzA2Mj";
const Time kNow = Time(std::chrono::seconds(1'800'000'000));

int64_t at(int64_t offset) { return 1'800'000'000 + offset; }

class IdTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::make_unique<crypto::PrivateKey>(
        crypto::PrivateKey::generate(crypto::KeyType::kEcP256).value());
    Json jwk = key_->public_key().to_jwk();
    jwk["kid"] = "k1";
    jwk["use"] = "sig";
    keys_ = std::make_unique<crypto::JwkSet>(
        crypto::JwkSet::from_json(Json{{"keys", Json::array({jwk})}}).value());
  }

  Json claims() const {
    return {{"iss", kIssuer},
            {"sub", "eid-subject-1"},
            {"aud", kClient},
            {"exp", at(300)},
            {"iat", at(-5)},
            {"nonce", kNonce},
            {"national_id", "079201001234"}};
  }

  std::string sign(const Json& payload, const crypto::PrivateKey* with = nullptr,
                   Json header = {{"alg", "ES256"}, {"kid", "k1"}}) const {
    return crypto::sign_compact_jws(with ? *with : *key_, header, dump_json(payload)).value();
  }

  Result<Json> check(const std::string& token, const std::string& nonce = kNonce) const {
    HB_ASSIGN_OR_RETURN(auto jws, crypto::parse_compact_jws(token));
    IdTokenExpectations e;
    e.issuer = kIssuer;
    e.client_id = kClient;
    e.nonce = nonce;
    e.now = kNow;
    return check_id_token(jws, *keys_, e);
  }

  // The check of `payload` fails as unauthorized.
  void refused(const Json& payload, const char* why) const {
    auto r = check(sign(payload));
    ASSERT_FALSE(r.is_ok()) << why;
    EXPECT_EQ(r.status().code(), Code::kUnauthorized) << why;
    // The reason never quotes the token's values.
    EXPECT_EQ(r.status().message().find("079201001234"), std::string::npos);
  }

  std::unique_ptr<crypto::PrivateKey> key_;
  std::unique_ptr<crypto::JwkSet> keys_;
};

TEST_F(IdTokenTest, AcceptsAWellFormedToken) {
  auto r = check(sign(claims()));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)["sub"], "eid-subject-1");
  EXPECT_EQ(national_id_claim(*r, "national_id").value(), "079201001234");
}

TEST_F(IdTokenTest, RefusesAnotherIssuer) {
  Json c = claims();
  c["iss"] = "https://eid.example.gov.vn/";  // byte for byte: a trailing slash is another issuer
  refused(c, "issuer");
  c.erase("iss");
  refused(c, "no issuer");
}

TEST_F(IdTokenTest, AudienceMustBeUsAndAzpMustNameUsAmongOthers) {
  Json c = claims();
  c["aud"] = "another-client";
  refused(c, "another audience");
  c["aud"] = Json::array({"another-client", kClient});
  refused(c, "several audiences and no azp");
  c["azp"] = "another-client";
  refused(c, "azp names another party");
  c["azp"] = kClient;
  EXPECT_TRUE(check(sign(c)).is_ok());
  c["aud"] = kClient;
  c["azp"] = "another-client";
  refused(c, "one audience but azp for another");
  c.erase("azp");
  c["aud"] = Json::array({kClient});
  EXPECT_TRUE(check(sign(c)).is_ok()) << "one audience in a list";
  c["aud"] = Json::array({kClient, 7});
  refused(c, "aud with a non-string");
  c.erase("aud");
  refused(c, "no aud");
}

TEST_F(IdTokenTest, NonceMustMatchThisLogin) {
  EXPECT_EQ(check(sign(claims()), "another-nonce").status().code(), Code::kUnauthorized);
  EXPECT_EQ(check(sign(claims()), "").status().code(), Code::kUnauthorized);
  Json c = claims();
  c.erase("nonce");
  refused(c, "no nonce");
  c["nonce"] = 12;
  refused(c, "a nonce that is not a string");
}

TEST_F(IdTokenTest, TimesWithSmallSkew) {
  Json c = claims();
  c["exp"] = at(-30);
  EXPECT_TRUE(check(sign(c)).is_ok()) << "expired 30 s ago: within the 60 s skew";
  c["exp"] = at(-61);
  refused(c, "expired");
  c["exp"] = "1800000300";
  refused(c, "exp as a string");
  c = claims();
  c.erase("exp");
  refused(c, "no exp");
  c = claims();
  c["iat"] = at(120);
  refused(c, "issued in the future");
  c["iat"] = at(-11 * 60 - 1);
  refused(c, "issued too long ago");
  c.erase("iat");
  refused(c, "no iat");
  c = claims();
  c["nbf"] = at(120);
  refused(c, "not valid yet");
  c["nbf"] = at(-1);
  EXPECT_TRUE(check(sign(c)).is_ok());
  c["exp"] = 1e308;
  c["iat"] = -1e308;
  refused(c, "absurd numbers");
}

TEST_F(IdTokenTest, SignatureMustComeFromTheProvidersKey) {
  auto other = crypto::PrivateKey::generate(crypto::KeyType::kEcP256).value();
  EXPECT_EQ(check(sign(claims(), &other)).status().code(), Code::kUnauthorized)
      << "same kid, another key";
  EXPECT_EQ(check(sign(claims(), nullptr, {{"alg", "ES256"}, {"kid", "k2"}})).status().code(),
            Code::kUnauthorized)
      << "unknown kid";
  // An HMAC "signed" with the public key as the secret (the classic confusion) is refused.
  std::string token = sign(claims());
  auto jws = crypto::parse_compact_jws(token).value();
  jws.alg = "HS256";
  IdTokenExpectations e{kIssuer, kClient, kNonce, kNow};
  EXPECT_EQ(check_id_token(jws, *keys_, e).status().code(), Code::kUnauthorized);
  // A changed payload under the old signature.
  Json c = claims();
  c["national_id"] = "079201009999";
  std::string forged = sign(c);
  forged = forged.substr(0, forged.rfind('.')) + token.substr(token.rfind('.'));
  EXPECT_EQ(check(forged).status().code(), Code::kUnauthorized);
  // "none" is refused before any check.
  EXPECT_FALSE(crypto::parse_compact_jws("eyJhbGciOiJub25lIn0.e30.x").is_ok());
}

TEST(NationalIdClaim, StringsAndWholeNumbers) {
  EXPECT_EQ(national_id_claim(Json{{"nid", "A1"}}, "nid").value(), "A1");
  EXPECT_EQ(national_id_claim(Json{{"nid", 79201001234}}, "nid").value(), "79201001234");
  EXPECT_FALSE(national_id_claim(Json{{"nid", -1}}, "nid").is_ok());
  EXPECT_FALSE(national_id_claim(Json{{"nid", ""}}, "nid").is_ok());
  EXPECT_FALSE(national_id_claim(Json{{"nid", std::string(65, '1')}}, "nid").is_ok());
  EXPECT_FALSE(national_id_claim(Json{{"other", "A1"}}, "nid").is_ok());
  EXPECT_FALSE(national_id_claim(Json::array(), "nid").is_ok());
}

TEST(Discovery, IssuerMustMatchAndEndpointsBeUsable) {
  Json d = {{"issuer", kIssuer},
            {"authorization_endpoint", "https://eid.example.gov.vn/auth"},
            {"token_endpoint", "https://eid.example.gov.vn/token"},
            {"jwks_uri", "https://eid.example.gov.vn/jwks"},
            {"userinfo_endpoint", "https://eid.example.gov.vn/me"},
            {"code_challenge_methods_supported", Json::array({"plain", "S256"})}};
  auto m = parse_discovery(dump_json(d), kIssuer);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m->token_endpoint, "https://eid.example.gov.vn/token");
  EXPECT_EQ(m->userinfo_endpoint, "https://eid.example.gov.vn/me");

  EXPECT_FALSE(parse_discovery(dump_json(d), "https://other.example").is_ok());
  Json bad = d;
  bad["token_endpoint"] = "http://eid.example.gov.vn/token";
  EXPECT_FALSE(parse_discovery(dump_json(bad), kIssuer).is_ok()) << "http under an https issuer";
  bad = d;
  bad.erase("jwks_uri");
  EXPECT_FALSE(parse_discovery(dump_json(bad), kIssuer).is_ok());
  bad = d;
  bad["code_challenge_methods_supported"] = Json::array({"plain"});
  EXPECT_FALSE(parse_discovery(dump_json(bad), kIssuer).is_ok()) << "no PKCE S256";
  EXPECT_FALSE(parse_discovery("[]", kIssuer).is_ok());
  EXPECT_FALSE(parse_discovery("{\"issuer\":", kIssuer).is_ok());
  // A plain-http issuer (a local test provider) may have plain-http endpoints.
  Json local = d;
  local["issuer"] = "http://127.0.0.1:4000";
  local["token_endpoint"] = "http://127.0.0.1:4000/token";
  EXPECT_TRUE(parse_discovery(dump_json(local), "http://127.0.0.1:4000").is_ok());
}

TEST(ProviderJwks, KeepsSignatureKeysAndLeavesOutTheRest) {
  auto ec = crypto::PrivateKey::generate(crypto::KeyType::kEcP256).value();
  Json sig = ec.public_key().to_jwk();
  sig["kid"] = "sig";
  Json enc = ec.public_key().to_jwk();
  enc["kid"] = "enc";
  enc["use"] = "enc";
  Json oct = {{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}};
  Json ps = ec.public_key().to_jwk();
  ps["kid"] = "ps";
  ps["alg"] = "PS256";
  Json priv = ec.to_private_jwk();
  priv["kid"] = "priv";
  auto set = parse_provider_jwks(dump_json(Json{{"keys", {sig, enc, oct, ps, priv}}}));
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].kid, "sig");
  EXPECT_FALSE(parse_provider_jwks(dump_json(Json{{"keys", {enc, oct}}})).is_ok());
  EXPECT_FALSE(parse_provider_jwks("{}").is_ok());
}

TEST(TokenResponse, NeedsAnIdTokenAndBearer) {
  auto t = parse_token_response(
      R"({"access_token":"at","token_type":"Bearer","id_token":"a.b.c","expires_in":60})");
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->id_token, "a.b.c");
  EXPECT_EQ(t->access_token, "at");
  EXPECT_FALSE(parse_token_response(R"({"access_token":"at","token_type":"Bearer"})").is_ok());
  EXPECT_FALSE(
      parse_token_response(R"({"access_token":"at","token_type":"DPoP","id_token":"a"})").is_ok());
  EXPECT_FALSE(parse_token_response("null").is_ok());
}

}  // namespace
}  // namespace hb::services::oidc
