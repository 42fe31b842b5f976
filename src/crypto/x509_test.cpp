#include "crypto/x509.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/encoding.h"

namespace hb::crypto {
namespace {

Json example_jwks() {
  const char* env = std::getenv("HB_SOURCE_DIR");
  std::filesystem::path root = env != nullptr ? env : HB_SOURCE_DIR;
  std::ifstream in(root / "tests/data/shc/issuer/jwks.json");
  std::ostringstream s;
  s << in.rdbuf();
  return Json::parse(s.str());
}

// The SMART Health Cards IG's example key EBKOr... and its published three-certificate chain.
const Json& example_x5c() {
  static const Json x5c = [] {
    const Json jwks = example_jwks();
    for (const Json& k : jwks["keys"]) {
      if (k.contains("x5c")) return k["x5c"];
    }
    return Json();
  }();
  return x5c;
}

std::string to_pem(const std::string& b64) {
  std::string pem = "# a comment line, ignored\n-----BEGIN CERTIFICATE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE-----\n";
}

// 2021-12-01 and 2024-05-07 (the examples' nbf), unix seconds.
constexpr int64_t kWhileValid = 1'638'316'800;
constexpr int64_t kExamplesNbf = 1'715'107'763;

TEST(X509, ParsesTheIgExampleChain) {
  auto chain = parse_x5c(example_x5c());
  ASSERT_TRUE(chain.is_ok()) << chain.status().message();
  ASSERT_EQ(chain->size(), 3u);
  const Certificate& leaf = (*chain)[0];
  EXPECT_EQ(leaf.subject(), "CN=SMART Health Card Example Issuer");
  EXPECT_EQ((*chain)[2].subject(), "CN=SMART Health Card Example Root CA");
  EXPECT_EQ(leaf.san_uris(),
            std::vector<std::string>{"https://spec.smarthealth.cards/examples/issuer"});
  EXPECT_TRUE((*chain)[2].san_uris().empty());
  EXPECT_EQ(leaf.not_before(), 1'622'562'609);  // 2021-06-01T15:50:09Z
  EXPECT_EQ(leaf.not_after(), 1'654'098'609);   // 2022-06-01T15:50:09Z
  auto key = leaf.public_key();
  ASSERT_TRUE(key.is_ok());
  EXPECT_EQ(key->thumbprint(), "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw");
}

TEST(X509, PathToTheExampleRootIsCheckedAtTheTimeGiven) {
  auto chain = parse_x5c(example_x5c()).value();
  auto root = Certificate::from_pem(to_pem(example_x5c().back().get<std::string>()));
  ASSERT_TRUE(root.is_ok()) << root.status().message();
  EXPECT_TRUE(verify_certificate_path(chain, *root, kWhileValid).ok());
  // Leaf and intermediate alone reach the root too.
  std::vector<Certificate> two(chain.begin(), chain.begin() + 2);
  EXPECT_TRUE(verify_certificate_path(two, *root, kWhileValid).ok());
  PathResult late = verify_certificate_path(chain, *root, kExamplesNbf);
  EXPECT_EQ(late.error, PathError::kNotValidAtTime) << late.message;
  PathResult early = verify_certificate_path(chain, *root, kWhileValid - 365 * 86'400);
  EXPECT_EQ(early.error, PathError::kNotValidAtTime) << early.message;
  // The leaf alone cannot reach the root; no anchors trust nothing.
  EXPECT_EQ(verify_certificate_path({chain[0]}, *root, kWhileValid).error, PathError::kUntrusted);
  EXPECT_EQ(verify_certificate_path(chain, {}, kWhileValid).error, PathError::kUntrusted);
  // Anchoring at the intermediate is allowed.
  EXPECT_TRUE(verify_certificate_path(chain, {chain[1]}, kWhileValid).ok());
}

TEST(X509, JwkSetKeepsX5cProblemsWithoutRefusingTheKey) {
  Json keys = example_jwks();
  auto set = JwkSet::from_json(keys);
  ASSERT_TRUE(set.is_ok());
  for (const Jwk& k : set->keys()) {
    if (k.kid.starts_with("EBKOr")) {
      ASSERT_TRUE(k.x5c);
      EXPECT_TRUE(k.x5c->error.empty());
      EXPECT_EQ(k.x5c->chain.size(), 3u);
    } else {
      EXPECT_FALSE(k.x5c);
    }
  }
  for (Json& k : keys["keys"]) {
    if (k.contains("x5c")) k["x5c"][0] = "not base64!";
  }
  set = JwkSet::from_json(keys);
  ASSERT_TRUE(set.is_ok());
  bool seen = false;
  for (const Jwk& k : set->keys()) {
    if (!k.x5c) continue;
    seen = true;
    EXPECT_TRUE(k.x5c->chain.empty());
    EXPECT_NE(k.x5c->error.find("x5c[0] is not base64"), std::string::npos) << k.x5c->error;
  }
  EXPECT_TRUE(seen);
}

TEST(X509, RefusesWhatIsNotOneCertificate) {
  EXPECT_FALSE(Certificate::from_der("").is_ok());
  EXPECT_FALSE(Certificate::from_der("\x30\x03\x02\x01\x05").is_ok());
  EXPECT_FALSE(Certificate::from_der(std::string(20000, '\x30')).is_ok());
  std::string der = base64_decode(example_x5c()[0].get<std::string>()).value();
  EXPECT_TRUE(Certificate::from_der(der).is_ok());
  EXPECT_FALSE(Certificate::from_der(der + "x").is_ok());
  EXPECT_FALSE(Certificate::from_der(der.substr(0, der.size() - 1)).is_ok());
  EXPECT_FALSE(Certificate::from_pem("").is_ok());
  EXPECT_FALSE(Certificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n").is_ok());
  EXPECT_FALSE(
      Certificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
          .is_ok());
  EXPECT_FALSE(parse_x5c(Json::array()).is_ok());
  EXPECT_FALSE(parse_x5c(Json::object()).is_ok());
  EXPECT_FALSE(parse_x5c(Json::array({example_x5c()[0], 1})).is_ok());
  Json eleven = Json::array();
  for (int i = 0; i < 11; ++i) eleven.push_back(example_x5c()[0]);
  EXPECT_FALSE(parse_x5c(eleven).is_ok());
}

}  // namespace
}  // namespace hb::crypto
