#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "crypto/encoding.h"
#include "crypto/keys.h"

namespace hb::crypto {
namespace {

std::string read_data(const std::string& rel) {
  std::string path = std::string(HB_SOURCE_DIR) + "/tests/data/shc/" + rel;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

JwkSet shc_keys() {
  auto set = JwkSet::parse(read_data("issuer/jwks.json"));
  EXPECT_TRUE(set.is_ok()) << set.status().to_string();
  return std::move(set).value();
}

std::string negative(const std::string& defect) {
  return read_data("negative/test-example-00-d-jws-" + defect + ".txt");
}

// Parses and verifies; the Status of whichever step failed.
Status parse_and_verify(const std::string& text, const JwkSet& keys,
                        std::size_t max_len = 16 * 1024) {
  auto jws = parse_compact_jws(text, max_len);
  if (!jws) return jws.error();
  return verify_compact_jws(*jws, keys);
}

// --- SMART Health Card vectors ----------------------------------------------------------------

TEST(ShcJws, IssuerKeySetParses) {
  JwkSet keys = shc_keys();
  ASSERT_EQ(keys.keys().size(), 2u);
  EXPECT_EQ(keys.keys()[0].kid, "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s");
  EXPECT_EQ(keys.keys()[0].alg, "ES256");
  EXPECT_EQ(keys.keys()[0].use, "sig");
  for (const Jwk& k : keys.keys()) {
    EXPECT_EQ(k.key.type(), KeyType::kEcP256);
    EXPECT_EQ(k.key.thumbprint(), k.kid);  // SMART Health Cards: kid is the RFC 7638 thumbprint
  }
  EXPECT_EQ(keys.find("EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw").size(), 1u);
  EXPECT_TRUE(keys.find("nope").empty());
  EXPECT_TRUE(keys.find("").empty());
}

TEST(ShcJws, ExampleCardsVerify) {
  JwkSet keys = shc_keys();
  for (const char* file : {"examples/example-00-d-jws.txt", "examples/example-01-d-jws.txt"}) {
    SCOPED_TRACE(file);
    auto jws = parse_compact_jws(read_data(file));
    ASSERT_TRUE(jws.is_ok()) << jws.status().to_string();
    EXPECT_EQ(jws->alg, "ES256");
    EXPECT_EQ(jws->header.value("zip", ""), "DEF");
    EXPECT_EQ(jws->signature.size(), 64u);
    Status s = verify_compact_jws(*jws, keys);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
  }
  auto jws00 = parse_compact_jws(read_data("examples/example-00-d-jws.txt"));
  EXPECT_EQ(jws00->kid, "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s");
}

TEST(ShcJws, ExampleCardFailsUnderTheOtherIssuerKey) {
  // Re-label the 00 card's kid onto the other key: the signature must not verify under it.
  JwkSet keys = shc_keys();
  auto jws = parse_compact_jws(read_data("examples/example-00-d-jws.txt")).value();
  jws.kid = "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw";
  EXPECT_EQ(verify_compact_jws(jws, keys).code(), Code::kUnauthorized);
}

TEST(ShcJws, InvalidSignatureFails) {
  auto jws = parse_compact_jws(negative("invalid-signature"));
  ASSERT_TRUE(jws.is_ok()) << jws.status().to_string();
  Status s = verify_compact_jws(*jws, shc_keys());
  EXPECT_EQ(s.code(), Code::kUnauthorized);
  EXPECT_NE(s.message().find("does not verify"), std::string::npos) << s.message();
}

TEST(ShcJws, DerSignaturesAreRefused) {
  JwkSet keys = shc_keys();
  for (const char* defect :
       {"der-signature", "der-signature-r-neg", "der-signature-s-neg", "der-signature-rs-neg"}) {
    SCOPED_TRACE(defect);
    auto jws = parse_compact_jws(negative(defect));
    ASSERT_TRUE(jws.is_ok()) << jws.status().to_string();
    EXPECT_NE(jws->signature.size(), 64u);
    Status s = verify_compact_jws(*jws, keys);
    EXPECT_EQ(s.code(), Code::kUnauthorized);
    EXPECT_NE(s.message().find("r||s"), std::string::npos) << s.message();
  }
}

TEST(ShcJws, MissingAlgIsRejectedByTheParser) {
  auto jws = parse_compact_jws(negative("no_jws_header_alg"));
  ASSERT_FALSE(jws.is_ok());
  EXPECT_EQ(jws.error().code(), Code::kInvalid);
  EXPECT_NE(jws.error().message().find("alg"), std::string::npos);
}

TEST(ShcJws, MissingKidFindsNoKey) {
  auto jws = parse_compact_jws(negative("no_jws_header_kid"));
  ASSERT_TRUE(jws.is_ok()) << jws.status().to_string();
  EXPECT_EQ(jws->kid, "");
  Status s = verify_compact_jws(*jws, shc_keys());
  EXPECT_EQ(s.code(), Code::kUnauthorized);
  EXPECT_NE(s.message().find("no kid"), std::string::npos) << s.message();
}

TEST(ShcJws, UnknownKidFindsNoKey) {
  JwkSet keys = shc_keys();
  for (const char* defect : {"wrong_jws_header_kid", "issuer-kid-mismatch"}) {
    SCOPED_TRACE(defect);
    auto jws = parse_compact_jws(negative(defect));
    ASSERT_TRUE(jws.is_ok()) << jws.status().to_string();
    Status s = verify_compact_jws(*jws, keys);
    EXPECT_EQ(s.code(), Code::kUnauthorized);
    EXPECT_NE(s.message().find("no key with kid"), std::string::npos) << s.message();
  }
}

TEST(ShcJws, SurroundingWhitespaceIsRejected) {
  std::string text = negative("trailing_chars");
  auto jws = parse_compact_jws(text);
  ASSERT_FALSE(jws.is_ok());
  EXPECT_EQ(jws.error().code(), Code::kInvalid);
}

TEST(ShcJws, BomInsideThePayloadIsNotAJoseDefect) {
  // The defect is in the deflated payload (it starts with EF BB BF once inflated); the JWS is
  // well-formed and correctly signed, so the JOSE layer accepts it and hands the bytes on.
  auto jws = parse_compact_jws(negative("utf8_bom_prefix"));
  ASSERT_TRUE(jws.is_ok()) << jws.status().to_string();
  EXPECT_TRUE(verify_compact_jws(*jws, shc_keys()).is_ok());
}

TEST(ShcJws, TooLongForOneQrCodeIsRejectedWithTheQrLimit) {
  std::string text = negative("jws_too_long");
  EXPECT_GT(text.size(), 1195u);
  EXPECT_TRUE(parse_and_verify(text, shc_keys()).is_ok());  // valid as a JWS
  auto limited = parse_compact_jws(text, 1195);
  ASSERT_FALSE(limited.is_ok());
  EXPECT_EQ(limited.error().code(), Code::kInvalid);
}

TEST(ShcJws, AnyFlippedCharacterFails) {
  JwkSet keys = shc_keys();
  const std::string good = read_data("examples/example-00-d-jws.txt");
  ASSERT_TRUE(parse_and_verify(good, keys).is_ok());
  for (std::size_t i = 0; i < good.size(); i += 7) {
    std::string t = good;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(parse_and_verify(t, keys).is_ok()) << "position " << i;
  }
}

// --- parse_compact_jws strictness ---------------------------------------------------------------

std::string b64(std::string_view s) { return base64url_encode(s); }

TEST(CompactJws, ParsesPartsAndKeepsSigningInputAsReceived) {
  std::string h = b64(R"({"alg":"ES256","kid":"k1","typ":"JWT"})");
  std::string text = h + "." + b64("payload bytes") + "." + b64("sig");
  auto jws = parse_compact_jws(text);
  ASSERT_TRUE(jws.is_ok()) << jws.status().to_string();
  EXPECT_EQ(jws->alg, "ES256");
  EXPECT_EQ(jws->kid, "k1");
  EXPECT_EQ(jws->header["typ"], "JWT");
  EXPECT_EQ(jws->payload, "payload bytes");
  EXPECT_EQ(jws->signature, "sig");
  EXPECT_EQ(jws->signing_input, h + "." + b64("payload bytes"));
}

TEST(CompactJws, RejectsMalformedInput) {
  const std::string h = b64(R"({"alg":"ES256"})");
  const std::string p = b64("p");
  const std::string s = b64("s");
  const std::string bad[] = {
      "",
      ".",
      "..",
      h,
      h + "." + p,
      h + "." + p + "." + s + ".",
      h + "." + p + "." + s + "." + s,  // JWE-like five parts also fail
      "." + p + "." + s,                // empty header
      h + "." + p + ".",                // empty signature
      h + "=." + p + "." + s,           // padding
      h + "." + p + "." + s + "=",
      h + "." + p + "+." + s,  // standard base64 character
      h + " ." + p + "." + s,
      h + "." + p + "." + s + "\n",
      "\xEF\xBB\xBF" + h + "." + p + "." + s,  // BOM before the JWS
      b64("not json") + "." + p + "." + s,
      b64("[]") + "." + p + "." + s,
      b64(R"("alg")") + "." + p + "." + s,
      b64(R"({"alg":"ES256"} x)") + "." + p + "." + s,
      b64(R"({"alg":"ES256","alg":"none"})") + "." + p + "." + s,  // duplicate member
      b64("\xEF\xBB\xBF{\"alg\":\"ES256\"}") + "." + p + "." + s,  // BOM inside the header
      b64(R"({})") + "." + p + "." + s,
      b64(R"({"alg":null})") + "." + p + "." + s,
      b64(R"({"alg":256})") + "." + p + "." + s,
      b64(R"({"alg":""})") + "." + p + "." + s,
      b64(R"({"alg":"none"})") + "." + p + "." + s,
      b64(R"({"alg":"ES256","kid":7})") + "." + p + "." + s,
      b64(R"({"alg":"ES256","crit":["b64"],"b64":false})") + "." + p + "." + s,
  };
  for (const std::string& text : bad) {
    SCOPED_TRACE(text);
    auto r = parse_compact_jws(text);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.error().code(), Code::kInvalid);
  }
}

TEST(CompactJws, RejectsAlgNoneEvenWithEmptySignature) {
  std::string text = b64(R"({"alg":"none"})") + "." + b64("{}") + ".";
  EXPECT_FALSE(parse_compact_jws(text).is_ok());
}

TEST(CompactJws, EnforcesMaximumLength) {
  std::string text = b64(R"({"alg":"ES256"})") + "." + b64(std::string(100, 'p')) + "." + b64("s");
  EXPECT_TRUE(parse_compact_jws(text, text.size()).is_ok());
  EXPECT_FALSE(parse_compact_jws(text, text.size() - 1).is_ok());
  EXPECT_FALSE(parse_compact_jws(std::string(20000, 'A')).is_ok());
}

TEST(CompactJws, RejectsDeeplyNestedHeader) {
  std::string nested =
      R"({"alg":"ES256","x":)" + std::string(200, '[') + std::string(200, ']') + "}";
  EXPECT_FALSE(parse_compact_jws(b64(nested) + "." + b64("p") + "." + b64("s")).is_ok());
}

// --- signing and verifying with key sets --------------------------------------------------------

TEST(CompactJws, SignThenVerifyEveryAlgorithm) {
  struct Case {
    KeyType type;
    const char* alg;
  };
  for (Case c : {Case{KeyType::kEcP256, "ES256"}, Case{KeyType::kEcP384, "ES384"},
                 Case{KeyType::kRsa, "RS384"}, Case{KeyType::kEd25519, "EdDSA"}}) {
    SCOPED_TRACE(c.alg);
    auto priv = PrivateKey::generate(c.type).value();
    PublicKey pub = priv.public_key();
    std::string kid = pub.thumbprint();
    // No alg in the header: it defaults from the key.
    auto text = sign_compact_jws(priv, Json{{"kid", kid}}, R"({"iss":"https://example.org"})");
    ASSERT_TRUE(text.is_ok()) << text.status().to_string();
    auto jws = parse_compact_jws(*text);
    ASSERT_TRUE(jws.is_ok()) << jws.status().to_string();
    EXPECT_EQ(jws->alg, c.alg);
    EXPECT_EQ(jws->kid, kid);
    EXPECT_EQ(jws->payload, R"({"iss":"https://example.org"})");

    Json jwk = pub.to_jwk();
    jwk["kid"] = kid;
    auto keys = JwkSet::from_json(Json{{"keys", Json::array({jwk})}});
    ASSERT_TRUE(keys.is_ok()) << keys.status().to_string();
    Status s = verify_compact_jws(*jws, *keys);
    EXPECT_TRUE(s.is_ok()) << s.to_string();

    // The same key set does not verify a token signed by someone else under the same kid.
    auto other = PrivateKey::generate(c.type).value();
    auto forged =
        parse_compact_jws(sign_compact_jws(other, Json{{"kid", kid}}, "x").value()).value();
    EXPECT_EQ(verify_compact_jws(forged, *keys).code(), Code::kUnauthorized);
  }
}

TEST(CompactJws, SignRejectsBadHeaders) {
  auto priv = PrivateKey::generate(KeyType::kEcP256).value();
  EXPECT_FALSE(sign_compact_jws(priv, Json::array(), "p").is_ok());
  EXPECT_FALSE(sign_compact_jws(priv, Json{{"alg", 1}}, "p").is_ok());
  EXPECT_FALSE(sign_compact_jws(priv, Json{{"alg", "ES384"}}, "p").is_ok());
  EXPECT_FALSE(sign_compact_jws(priv, Json{{"alg", "none"}}, "p").is_ok());
  EXPECT_TRUE(sign_compact_jws(priv, Json(), "p").is_ok());
}

TEST(CompactJws, KeyWithoutKidMatchesTokenWithoutKid) {
  auto priv = PrivateKey::generate(KeyType::kEd25519).value();
  auto keys = JwkSet::from_json(Json{{"keys", Json::array({priv.public_key().to_jwk()})}}).value();
  auto jws = parse_compact_jws(sign_compact_jws(priv, Json::object(), "p").value()).value();
  EXPECT_TRUE(verify_compact_jws(jws, keys).is_ok());
  jws.kid = "some-kid";
  EXPECT_EQ(verify_compact_jws(jws, keys).code(), Code::kUnauthorized);
}

TEST(CompactJws, PicksTheKeyWhoseTypeFitsTheAlg) {
  // Two keys share a kid (e.g. during algorithm migration); the one that fits the alg is used.
  auto ec = PrivateKey::generate(KeyType::kEcP256).value();
  auto ed = PrivateKey::generate(KeyType::kEd25519).value();
  Json a = ed.public_key().to_jwk();
  a["kid"] = "k";
  Json b = ec.public_key().to_jwk();
  b["kid"] = "k";
  auto keys = JwkSet::from_json(Json{{"keys", Json::array({a, b})}}).value();
  auto jws = parse_compact_jws(sign_compact_jws(ec, Json{{"kid", "k"}}, "p").value()).value();
  EXPECT_TRUE(verify_compact_jws(jws, keys).is_ok());
}

TEST(CompactJws, AlgConfusionIsRefused) {
  auto ec = PrivateKey::generate(KeyType::kEcP256).value();
  Json jwk = ec.public_key().to_jwk();
  jwk["kid"] = "k";
  auto keys = JwkSet::from_json(Json{{"keys", Json::array({jwk})}}).value();
  auto jws = parse_compact_jws(sign_compact_jws(ec, Json{{"kid", "k"}}, "p").value()).value();
  ASSERT_TRUE(verify_compact_jws(jws, keys).is_ok());
  for (const char* alg : {"ES384", "HS256", "RS256", "EdDSA", "none"}) {
    SCOPED_TRACE(alg);
    CompactJws forged = jws;
    forged.alg = alg;
    EXPECT_EQ(verify_compact_jws(forged, keys).code(), Code::kUnauthorized);
  }
}

TEST(CompactJws, KeysPublishedForOtherUsesAreSkipped) {
  auto ec = PrivateKey::generate(KeyType::kEcP256).value();
  Json jwk = ec.public_key().to_jwk();
  jwk["kid"] = "k";
  jwk["use"] = "enc";
  auto keys = JwkSet::from_json(Json{{"keys", Json::array({jwk})}}).value();
  auto jws = parse_compact_jws(sign_compact_jws(ec, Json{{"kid", "k"}}, "p").value()).value();
  EXPECT_EQ(verify_compact_jws(jws, keys).code(), Code::kUnauthorized);
}

// --- JwkSet
// ---------------------------------------------------------------------------------------

TEST(JwkSet, ListsEveryUnusableKey) {
  const std::string text = R"({"keys":[
    {"kty":"EC","crv":"P-256","x":"11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw","y":"eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8"},
    {"kty":"EC","crv":"P-521","x":"AA","y":"AA"},
    {"kty":"oct","k":"c2VjcmV0"},
    {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"},
    {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"ES256"},
    {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":42},
    "not an object"
  ]})";
  auto set = JwkSet::parse(text);
  ASSERT_FALSE(set.is_ok());
  EXPECT_EQ(set.error().code(), Code::kInvalid);
  std::vector<std::string> paths;
  for (const Problem& p : set.error().problems()) paths.push_back(p.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"keys[1].crv", "keys[2].k", "keys[3].d", "keys[4].alg",
                                             "keys[5].kid", "keys[6]"}));
}

TEST(JwkSet, RejectsWrongShapes) {
  for (const char* text : {"", "[]", "{}", R"({"keys":{}})", R"({"keys":null})", "{\"keys\":[]} x",
                           R"({"keys":[],"keys":[]})", "\xEF\xBB\xBF{\"keys\":[]}x"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(JwkSet::parse(text).is_ok());
  }
  auto empty = JwkSet::parse(R"({"keys":[]})");
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->keys().empty());
}

TEST(JwkSet, NoExceptionEscapesOnOddJson) {
  for (const Json& j :
       {Json(), Json(1), Json::array({1, 2}), Json{{"keys", Json::array({Json(nullptr)})}},
        Json{{"keys", Json::array({Json{{"kty", Json::array()}}})}},
        Json{{"keys", Json::array({Json{{"kty", "EC"}, {"crv", Json::object()}}})}}}) {
    EXPECT_NO_THROW({ EXPECT_FALSE(JwkSet::from_json(j).is_ok()); });
  }
}

}  // namespace
}  // namespace hb::crypto
