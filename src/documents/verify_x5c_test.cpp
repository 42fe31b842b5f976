// The verifier's checks of an issuer key's x5c certificate chain, against certificates made here
// with OpenSSL: a root CA, an intermediate CA and a leaf for the issuer's P-256 key.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

#include "crypto/encoding.h"
#include "documents/health_card.h"
#include "documents/test_util.h"
#include "documents/verify.h"

namespace hb::documents {
namespace {

using testing::read_file;
using testing::shc_data;

constexpr const char* kX5cIss = "https://issuer.example/shc";
constexpr int64_t kDay = 86'400;
// The test cards' issue time (nbf), 2024-07-03.
constexpr int64_t kIssued = 1'720'000'000;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Pkey new_p256() { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

Pkey from_pem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Pkey key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

struct CertSpec {
  std::string cn;
  EVP_PKEY* key = nullptr;         // the subject's key (public half used)
  X509* issuer = nullptr;          // null: self-signed
  EVP_PKEY* issuer_key = nullptr;  // signs; the subject's key when self-signed
  int64_t not_before = kIssued - 365 * kDay;
  int64_t not_after = kIssued + 365 * kDay;
  bool ca = false;
  std::string san;  // e.g. "URI:https://..."; empty for none
};

Cert make_cert(const CertSpec& s) {
  static long serial = 1;
  Cert cert(X509_new());
  X509* x = cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  ASN1_TIME_set(X509_getm_notBefore(x), static_cast<time_t>(s.not_before));
  ASN1_TIME_set(X509_getm_notAfter(x), static_cast<time_t>(s.not_after));
  X509_set_pubkey(x, s.key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(s.cn.c_str()), -1, -1, 0);
  X509* issuer = s.issuer != nullptr ? s.issuer : x;
  X509_set_issuer_name(x, X509_get_subject_name(issuer));
  add_ext(x, issuer, NID_basic_constraints, s.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_ext(x, issuer, NID_key_usage,
          s.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add_ext(x, issuer, NID_subject_key_identifier, "hash");
  add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
  if (!s.san.empty()) add_ext(x, issuer, NID_subject_alt_name, s.san.c_str());
  EXPECT_GT(X509_sign(x, s.issuer_key != nullptr ? s.issuer_key : s.key, EVP_sha256()), 0);
  return cert;
}

std::string der_base64(X509* cert) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(cert, &buf);
  std::string der(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return crypto::base64_encode(der);
}

std::string pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

// A small PKI: root -> intermediate -> leaf over the test issuer key, plus a second, untrusted
// root with its own intermediate.
class X5cTest : public ::testing::Test {
 protected:
  void SetUp() override {
    issuer_key_ = testing::test_key();
    leaf_key_ = from_pem(issuer_key_.to_pem());
    root_key_ = new_p256();
    inter_key_ = new_p256();
    root_ = make_cert({.cn = "Test Root CA",
                       .key = root_key_.get(),
                       .not_before = kIssued - 3650 * kDay,
                       .not_after = kIssued + 3650 * kDay,
                       .ca = true});
    inter_ = make_cert({.cn = "Test Issuing CA",
                        .key = inter_key_.get(),
                        .issuer = root_.get(),
                        .issuer_key = root_key_.get(),
                        .not_before = kIssued - 1000 * kDay,
                        .not_after = kIssued + 1000 * kDay,
                        .ca = true});
    kid_ = issuer_key_.public_key().thumbprint();
  }

  Cert leaf(CertSpec s = {}) {
    if (s.cn.empty()) s.cn = "Test Clinic";
    if (s.key == nullptr) s.key = leaf_key_.get();
    if (s.issuer == nullptr) {
      s.issuer = inter_.get();
      s.issuer_key = inter_key_.get();
    }
    if (s.san.empty()) s.san = std::string("URI:") + kX5cIss;
    return make_cert(s);
  }

  // The issuer's JWK with this x5c (a JSON value, so tests can also pass malformed ones).
  Json jwk_with(const Json& x5c) const {
    Json jwk = issuer_key_.public_key().to_jwk();
    jwk["kid"] = kid_;
    jwk["use"] = "sig";
    jwk["alg"] = "ES256";
    if (!x5c.is_null()) jwk["x5c"] = x5c;
    return jwk;
  }
  Json chain(X509* leaf_cert) const {
    return Json::array({der_base64(leaf_cert), der_base64(inter_.get()), der_base64(root_.get())});
  }

  IssuerDirectory directory(const Json& keys, std::vector<X509*> anchors) const {
    Json dir = {{"issuers", Json::array({Json{{"iss", kX5cIss}, {"jwks", {{"keys", keys}}}}})}};
    if (!anchors.empty()) {
      Json a = Json::array();
      for (X509* c : anchors) a.push_back(pem(c));
      dir["trust_anchors"] = a;
    }
    auto d = IssuerDirectory::from_json(dir);
    EXPECT_TRUE(d.is_ok()) << d.status().message();
    return std::move(d).value();
  }

  // A card signed by the issuer key at kIssued, verified a day later.
  Verdict verify(const IssuerDirectory& dir) const {
    ManualClock at_issue{Time(std::chrono::seconds(kIssued))};
    Json bundle = Json::parse(read_file(shc_data("examples/example-00-a-fhirBundle.json")));
    auto card = issue_health_card(bundle, issuer_key_, {.iss = kX5cIss, .kid = kid_}, at_issue);
    EXPECT_TRUE(card.is_ok()) << card.status().message();
    ManualClock later{Time(std::chrono::seconds(kIssued + kDay))};
    return verify_health_card(card->jws, dir, later);
  }

  static std::string describe(const Verdict& v) {
    std::string s = std::string(outcome_name(v.outcome)) + " (" + reason_name(v.reason) + ")";
    for (const Finding& f : v.findings)
      s += "\n  " + std::string(reason_name(f.reason)) + ": " + f.message;
    return s;
  }

  crypto::PrivateKey issuer_key_ = testing::test_key();
  Pkey leaf_key_, root_key_, inter_key_;
  Cert root_, inter_;
  std::string kid_;
};

TEST_F(X5cTest, GoodChainToAConfiguredRootIsAccepted) {
  Cert l = leaf();
  Verdict v = verify(directory(Json::array({jwk_with(chain(l.get()))}), {root_.get()}));
  EXPECT_TRUE(v.valid()) << describe(v);
  EXPECT_TRUE(v.findings.empty()) << describe(v);
  // The root need not travel in x5c: leaf and intermediate suffice.
  Json short_chain = Json::array({der_base64(l.get()), der_base64(inter_.get())});
  v = verify(directory(Json::array({jwk_with(short_chain)}), {root_.get()}));
  EXPECT_TRUE(v.valid()) << describe(v);
}

TEST_F(X5cTest, WithoutX5cNothingChanges) {
  Verdict v = verify(directory(Json::array({jwk_with(Json())}), {root_.get()}));
  EXPECT_TRUE(v.valid()) << describe(v);
  v = verify(directory(Json::array({jwk_with(Json())}), {}));
  EXPECT_TRUE(v.valid()) << describe(v);
}

TEST_F(X5cTest, LeafForAnotherKeyIsRefused) {
  Pkey other = new_p256();
  Cert l = leaf({.key = other.get()});
  for (auto anchors : {std::vector<X509*>{root_.get()}, std::vector<X509*>{}}) {
    Verdict v = verify(directory(Json::array({jwk_with(chain(l.get()))}), anchors));
    EXPECT_EQ(v.reason, Reason::kX5cKeyMismatch) << describe(v);
  }
}

TEST_F(X5cTest, ChainToAnUntrustedRootIsRefused) {
  Pkey other_root_key = new_p256();
  Cert other_root = make_cert({.cn = "Test Root CA",  // same name, other key
                               .key = other_root_key.get(),
                               .not_before = kIssued - 3650 * kDay,
                               .not_after = kIssued + 3650 * kDay,
                               .ca = true});
  Cert l = leaf();
  Verdict v = verify(directory(Json::array({jwk_with(chain(l.get()))}), {other_root.get()}));
  EXPECT_EQ(v.reason, Reason::kX5cUntrusted) << describe(v);
  // A self-signed leaf brings its own "root"; it is not an anchor.
  Cert self = make_cert({.cn = "Self", .key = leaf_key_.get(), .san = std::string("URI:") + kX5cIss});
  v = verify(
      directory(Json::array({jwk_with(Json::array({der_base64(self.get())}))}), {root_.get()}));
  EXPECT_EQ(v.reason, Reason::kX5cUntrusted) << describe(v);
  // A leaf signed by the intermediate's key but chained without it cannot reach the root.
  v = verify(directory(Json::array({jwk_with(Json::array({der_base64(l.get())}))}), {root_.get()}));
  EXPECT_EQ(v.reason, Reason::kX5cUntrusted) << describe(v);
}

TEST_F(X5cTest, CertificateNotValidWhenTheCardWasIssuedIsRefused) {
  Cert expired = leaf({.not_before = kIssued - 400 * kDay, .not_after = kIssued - kDay});
  Verdict v = verify(directory(Json::array({jwk_with(chain(expired.get()))}), {root_.get()}));
  EXPECT_EQ(v.reason, Reason::kX5cNotValidAtNbf) << describe(v);
  Cert future = leaf({.not_before = kIssued + kDay / 2, .not_after = kIssued + 400 * kDay});
  v = verify(directory(Json::array({jwk_with(chain(future.get()))}), {root_.get()}));
  EXPECT_EQ(v.reason, Reason::kX5cNotValidAtNbf) << describe(v);
  // An intermediate expired at issue time breaks the path the same way.
  Cert old_inter = make_cert({.cn = "Test Issuing CA",
                              .key = inter_key_.get(),
                              .issuer = root_.get(),
                              .issuer_key = root_key_.get(),
                              .not_before = kIssued - 1000 * kDay,
                              .not_after = kIssued - kDay,
                              .ca = true});
  Cert l = leaf({.issuer = old_inter.get(), .issuer_key = inter_key_.get()});
  Json c = Json::array({der_base64(l.get()), der_base64(old_inter.get())});
  v = verify(directory(Json::array({jwk_with(c)}), {root_.get()}));
  EXPECT_EQ(v.reason, Reason::kX5cNotValidAtNbf) << describe(v);
  // Validity is judged at issue time, not now: a certificate that expired after the card was
  // signed (the clock is a day later) still covers it.
  Cert since_expired = leaf({.not_before = kIssued - 400 * kDay, .not_after = kIssued + kDay / 2});
  v = verify(directory(Json::array({jwk_with(chain(since_expired.get()))}), {root_.get()}));
  EXPECT_TRUE(v.valid()) << describe(v);
}

TEST_F(X5cTest, LeafThatDoesNotNameTheIssuerIsRefused) {
  for (const char* san :
       {"URI:https://other.example/shc", "URI:https://issuer.example/shc/", "DNS:issuer.example"}) {
    SCOPED_TRACE(san);
    Cert l = leaf({.san = san});
    Verdict v = verify(directory(Json::array({jwk_with(chain(l.get()))}), {root_.get()}));
    EXPECT_EQ(v.reason, Reason::kX5cSanMismatch) << describe(v);
  }
  // Among several URIs, one equal to iss is enough.
  Cert l = leaf({.san = std::string("URI:https://other.example/shc,URI:") + kX5cIss});
  Verdict v = verify(directory(Json::array({jwk_with(chain(l.get()))}), {root_.get()}));
  EXPECT_TRUE(v.valid()) << describe(v);
}

TEST_F(X5cTest, WithoutTrustAnchorsTheListingDecidesAndCertificateDefectsAreWarnings) {
  Cert l = leaf({.not_after = kIssued - kDay, .san = "URI:https://other.example/shc"});
  Verdict v = verify(directory(Json::array({jwk_with(chain(l.get()))}), {}));
  EXPECT_TRUE(v.valid()) << describe(v);
  EXPECT_TRUE(v.has(Reason::kX5cSanMismatch));
  EXPECT_TRUE(v.has(Reason::kX5cNotValidAtNbf));
  EXPECT_FALSE(v.has(Reason::kX5cUntrusted));
}

TEST_F(X5cTest, MalformedX5cIsRefused) {
  Cert l = leaf();
  const std::string good = der_base64(l.get());
  std::string url_alphabet = good;
  for (char& c : url_alphabet) c = c == '+' ? '-' : c == '/' ? '_' : c;
  const std::string not_der = crypto::base64_encode("not a certificate at all");
  // A DER value that is not a certificate: an INTEGER.
  const std::string integer = crypto::base64_encode(std::string("\x02\x01\x05", 3));
  const std::vector<std::pair<std::string, Json>> cases = {
      {"not an array", Json("MIIB")},
      {"empty", Json::array()},
      {"not a string", Json::array({42})},
      {"bad base64", Json::array({"%%%%"})},
      {"unpadded",
       Json::array({good.find('=') == std::string::npos ? good.substr(0, good.size() - 1)
                                                        : good.substr(0, good.find('='))})},
      {"base64url", Json::array({url_alphabet})},
      {"not DER", Json::array({not_der})},
      {"not a certificate", Json::array({integer})},
      {"trailing bytes", Json::array({crypto::base64_encode(crypto::base64_decode(good).value() +
                                                            std::string("\0", 1))})},
      {"bad second entry", Json::array({good, "!!"})},
  };
  for (const auto& [name, x5c] : cases) {
    SCOPED_TRACE(name);
    if (name == "base64url" && url_alphabet == good) continue;  // nothing to swap in this DER
    for (auto anchors : {std::vector<X509*>{root_.get()}, std::vector<X509*>{}}) {
      Verdict v = verify(directory(Json::array({jwk_with(x5c)}), anchors));
      EXPECT_EQ(v.reason, Reason::kX5cMalformed) << describe(v);
    }
  }
}

TEST_F(X5cTest, OneGoodEntryAmongSeveralForTheSameKeyIsEnough) {
  // The spec: one JWK entry per certificate, identical but for x5c.
  Pkey other_root_key = new_p256();
  Cert other_root = make_cert({.cn = "Other Root", .key = other_root_key.get(), .ca = true});
  Cert foreign = leaf({.issuer = other_root.get(), .issuer_key = other_root_key.get()});
  Cert good = leaf();
  Json foreign_chain = Json::array({der_base64(foreign.get()), der_base64(other_root.get())});
  Verdict v = verify(directory(Json::array({jwk_with(foreign_chain), jwk_with(chain(good.get()))}),
                               {root_.get()}));
  EXPECT_TRUE(v.valid()) << describe(v);
  v = verify(directory(Json::array({jwk_with(foreign_chain)}), {root_.get()}));
  EXPECT_EQ(v.reason, Reason::kX5cUntrusted) << describe(v);
}

TEST_F(X5cTest, TrustAnchorsComeFromTheFileOrTheCaller) {
  Cert l = leaf();
  IssuerDirectory dir = directory(Json::array({jwk_with(chain(l.get()))}), {});
  EXPECT_TRUE(dir.trust_anchors().empty());
  auto roots = crypto::Certificate::from_pem(pem(root_.get()) + pem(inter_.get()));
  ASSERT_TRUE(roots.is_ok()) << roots.status().message();
  EXPECT_EQ(roots->size(), 2u);
  dir.add_trust_anchors(std::move(roots).value());
  EXPECT_TRUE(verify(dir).valid());
  // Malformed anchors make the file fail to load, naming the entry.
  for (const Json& bad :
       {Json("x"), Json::array({"no PEM here"}), Json::array({7}),
        Json::array({"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"})}) {
    Json j = {{"issuers", Json::array()}, {"trust_anchors", bad}};
    auto d = IssuerDirectory::from_json(j);
    ASSERT_FALSE(d.is_ok()) << bad.dump();
    EXPECT_NE(d.status().message().find("trust_anchors"), std::string::npos)
        << d.status().message();
  }
}

// The IG's example 01 is signed by key EBKOr..., whose published x5c chain (SMART Health Card
// Example Root CA -> Example CA -> Example Issuer, SAN URI = iss) has a leaf valid from 2021-06-01
// to 2022-06-01, while the card's nbf is 2024-05-07.
TEST(X5cExamples, TheIgExampleChainExpiredBeforeExample01WasSigned) {
  ManualClock clock(Time(std::chrono::seconds(1'720'000'000)));
  Json dir_json = testing::test_directory_json();
  const std::string jws = read_file(shc_data("examples/example-01-d-jws.txt"));
  // Trusted by listing: accepted, with the certificate's expiry as a warning.
  Verdict listed = verify_health_card(jws, testing::test_directory(), clock);
  EXPECT_TRUE(listed.valid());
  EXPECT_TRUE(listed.has(Reason::kX5cNotValidAtNbf));
  EXPECT_FALSE(listed.has(Reason::kX5cSanMismatch));
  // Trusted through the IG's root: refused, as a PKI verifier must.
  Json keys = Json::parse(read_file(shc_data("issuer/jwks.json")));
  std::string root_b64;
  for (const Json& k : keys["keys"]) {
    if (k.contains("x5c")) root_b64 = k["x5c"].back().get<std::string>();
  }
  std::string root_pem = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t i = 0; i < root_b64.size(); i += 64) root_pem += root_b64.substr(i, 64) + "\n";
  root_pem += "-----END CERTIFICATE-----\n";
  dir_json["trust_anchors"] = Json::array({root_pem});
  auto dir = IssuerDirectory::from_json(dir_json);
  ASSERT_TRUE(dir.is_ok()) << dir.status().message();
  Verdict pki = verify_health_card(jws, *dir, clock);
  EXPECT_EQ(pki.reason, Reason::kX5cNotValidAtNbf) << pki.message;
  // Example 00's key has no x5c: unchanged under the same anchors.
  EXPECT_TRUE(verify_health_card(read_file(shc_data("examples/example-00-d-jws.txt")), *dir, clock)
                  .valid());
}

}  // namespace
}  // namespace hb::documents
