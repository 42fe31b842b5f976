#include "documents/verify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "crypto/encoding.h"
#include "documents/health_card.h"
#include "documents/numeric.h"
#include "documents/test_util.h"

namespace hb::documents {
namespace {

using testing::read_file;
using testing::shc_data;
using testing::test_directory;

// After the examples' nbf (2024-05-07) and before example 03's exp (2025-05-07).
ManualClock example_clock() { return ManualClock(Time(std::chrono::seconds(1'720'000'000))); }

std::string describe(const Verdict& v) {
  std::string s = std::string(outcome_name(v.outcome)) + " (" + reason_name(v.reason) + ")";
  for (const Finding& f : v.findings) {
    s += std::string("\n  ") + (f.severity == Severity::kError ? "error " : "warning ") +
         reason_name(f.reason) + ": " + f.message;
  }
  return s;
}

bool has_error_anywhere(const std::vector<Verdict>& vs) {
  for (const Verdict& v : vs) {
    if (!v.valid()) return true;
  }
  return false;
}

TEST(VerifyExamples, AcceptsEveryExampleInEveryForm) {
  ManualClock clock = example_clock();
  for (int n = 0; n <= 3; ++n) {
    const std::string base = "examples/example-0" + std::to_string(n);
    SCOPED_TRACE(base);
    // Compact JWS and .smart-health-card file.
    Verdict jws =
        verify_health_card(read_file(shc_data(base + "-d-jws.txt")), test_directory(), clock);
    EXPECT_TRUE(jws.valid()) << describe(jws);
    EXPECT_EQ(jws.iss, testing::kExampleIssuer);
    EXPECT_EQ(jws.issuer_name, "SMART Health Cards example issuer");
    EXPECT_EQ(jws.fhir_bundle.value("resourceType", ""), "Bundle");
    auto file = verify_health_card_file("example.smart-health-card",
                                        read_file(shc_data(base + "-e-file.smart-health-card")),
                                        test_directory(), clock);
    ASSERT_EQ(file.size(), 1u);
    EXPECT_TRUE(file[0].valid()) << describe(file[0]);
    // The payload that was signed is the published minified payload.
    EXPECT_EQ(jws.payload, Json::parse(read_file(shc_data(base + "-c-jws-payload-minified.json"))));
  }
  // QR text: 00, 01, 03 in one QR each; 02 in three chunks (read, never produced), any order.
  for (int n : {0, 1, 3}) {
    Verdict qr = verify_health_card(read_file(shc_data("examples/example-0" + std::to_string(n) +
                                                       "-f-qr-code-numeric-value-0.txt")),
                                    test_directory(), clock);
    EXPECT_TRUE(qr.valid()) << n << ": " << describe(qr);
  }
  std::string c0 = read_file(shc_data("examples/example-02-f-qr-code-numeric-value-0.txt"));
  std::string c1 = read_file(shc_data("examples/example-02-f-qr-code-numeric-value-1.txt"));
  std::string c2 = read_file(shc_data("examples/example-02-f-qr-code-numeric-value-2.txt"));
  Verdict chunked = verify_health_card_qr({c1, c2, c0}, test_directory(), clock);
  EXPECT_TRUE(chunked.valid()) << describe(chunked);
  // Example 02 is a large IPS card: over the one-QR limit and not minified; both are warnings.
  EXPECT_TRUE(chunked.has(Reason::kJwsTooLong));
  // One chunk alone is not a card.
  EXPECT_EQ(verify_health_card(c0, test_directory(), clock).reason, Reason::kMissingChunk);
  EXPECT_EQ(verify_health_card_qr({c0, c2}, test_directory(), clock).reason, Reason::kMissingChunk);
  EXPECT_EQ(verify_health_card_qr({c0, c2, c0}, test_directory(), clock).reason,
            Reason::kBadChunkHeader);
}

TEST(VerifyExamples, ExpandedAndMinifiedPayloadsPassTheClaimChecks) {
  ManualClock clock = example_clock();
  for (int n = 0; n <= 3; ++n) {
    for (const char* kind : {"-b-jws-payload-expanded.json", "-c-jws-payload-minified.json"}) {
      const std::string f = "examples/example-0" + std::to_string(n) + kind;
      // Example 02 (an IPS) is too large for one QR code, so it need not be minified.
      Verdict v = check_payload_text(read_file(shc_data(f)), clock, /*for_qr=*/n != 2);
      EXPECT_TRUE(v.valid()) << f << ": " << describe(v);
    }
  }
  for (int n : {0, 1, 3}) {
    const std::string f = "examples/example-0" + std::to_string(n) + "-a-fhirBundle.json";
    Verdict v = check_bundle_text(read_file(shc_data(f)));
    EXPECT_TRUE(v.valid()) << f << ": " << describe(v);
  }
}

// Revocation: the published CRL lists example 03's rid as "vwAjHdarZuc.1664492124", which (SHC
// spec) revokes only cards whose nbf is before 2022-09-29. The examples were re-signed in 2024
// (nbf 1715107763), so the shipped CRL does NOT revoke the shipped example 03; a CRL entry without
// a timestamp, or with a later one, does.
TEST(VerifyRevocation, Example03AgainstTimestampedAndPlainCrlEntries) {
  ManualClock clock = example_clock();
  const std::string jws = read_file(shc_data("examples/example-03-d-jws.txt"));
  Verdict shipped = verify_health_card(jws, test_directory(), clock);
  EXPECT_EQ(shipped.rid, "vwAjHdarZuc");
  EXPECT_TRUE(shipped.valid()) << describe(shipped);

  for (const char* entry : {"vwAjHdarZuc", "vwAjHdarZuc.1800000000"}) {
    Json dir = testing::test_directory_json();
    dir["issuers"][0]["crls"][0]["rids"] = Json::array({entry});
    dir["issuers"][0]["crls"][0]["ctr"] = 2;
    auto d = IssuerDirectory::from_json(dir);
    ASSERT_TRUE(d.is_ok()) << d.error().to_string();
    Verdict v = verify_health_card(jws, *d, clock);
    EXPECT_EQ(v.outcome, Outcome::kRevoked) << entry << ": " << describe(v);
    EXPECT_EQ(v.reason, Reason::kRevoked);
    // Revoked is not "invalid": the signature and the data are still intact and displayable.
    EXPECT_EQ(v.fhir_bundle.value("resourceType", ""), "Bundle");
  }
  // A rid the issuer lists as superseded: still revoked, and marked as replaced.
  {
    Json dir = testing::test_directory_json();
    dir["issuers"][0]["crls"][0]["rids"] = Json::array({"vwAjHdarZuc"});
    dir["issuers"][0]["superseded"] = Json::array({"vwAjHdarZuc"});
    auto d = IssuerDirectory::from_json(dir);
    ASSERT_TRUE(d.is_ok()) << d.error().to_string();
    Verdict v = verify_health_card(jws, *d, clock);
    EXPECT_EQ(v.outcome, Outcome::kRevoked);
    EXPECT_TRUE(v.superseded);
    EXPECT_FALSE(shipped.superseded);
  }
  // Other examples are untouched by that list.
  Json dir = testing::test_directory_json();
  dir["issuers"][0]["crls"][0]["rids"] = Json::array({"vwAjHdarZuc"});
  auto d = IssuerDirectory::from_json(dir);
  ASSERT_TRUE(d.is_ok());
  EXPECT_TRUE(
      verify_health_card(read_file(shc_data("examples/example-00-d-jws.txt")), *d, clock).valid());
}

TEST(VerifyExamples, ExpiryAndNotBeforeFollowTheClock) {
  const std::string jws = read_file(shc_data("examples/example-03-d-jws.txt"));
  ManualClock after_exp(Time(std::chrono::seconds(1'746'643'800)));
  EXPECT_EQ(verify_health_card(jws, test_directory(), after_exp).reason, Reason::kExpired);
  ManualClock before_nbf(Time(std::chrono::seconds(1'700'000'000)));
  EXPECT_EQ(verify_health_card(jws, test_directory(), before_nbf).reason, Reason::kNotYetValid);
}

TEST(VerifyHooks, TransparencyLogCanRefuseOtherwiseValidCards) {
  ManualClock clock = example_clock();
  VerifyOptions opt;
  std::string seen;
  opt.transparency_check = [&](const Verdict& v) {
    seen = v.jws;
    return not_found("no log entry for this card");
  };
  const std::string jws = read_file(shc_data("examples/example-00-d-jws.txt"));
  Verdict v = verify_health_card(jws, test_directory(), clock, opt);
  EXPECT_EQ(seen, jws);
  EXPECT_EQ(v.reason, Reason::kNotInTransparencyLog);
  EXPECT_EQ(v.message, "no log entry for this card");
  opt.transparency_check = [](const Verdict&) { return Status::ok(); };
  EXPECT_TRUE(verify_health_card(jws, test_directory(), clock, opt).valid());
}

// How each negative file is checked, and what must come out.
enum class Via { kBundle, kPayload, kText, kFile, kImage };
enum class Expect {
  kRejected,  // not valid, and the reason is among the error findings
  kFlagged,   // valid, with the reason as a warning (the spec says to accept it; see below)
};
struct NegativeCase {
  Via via;
  Reason reason;
  Expect expect = Expect::kRejected;
};

// Every file of tests/data/shc/negative, by name. The test fails if a file is missing here.
const std::map<std::string, NegativeCase>& negative_table() {
  static const std::map<std::string, NegativeCase> t = {
      // FHIR bundles (check_bundle_text)
      {"test-example-00-a-fhirBundle-bad_meta_extra_key.json",
       {Via::kBundle, Reason::kFhirBadMeta}},
      {"test-example-00-a-fhirBundle-bad_meta_non_security.json",
       {Via::kBundle, Reason::kFhirBadMeta}},
      {"test-example-00-a-fhirBundle-bad_meta_wrong_security.json",
       {Via::kBundle, Reason::kFhirBadMeta}},
      {"test-example-00-a-fhirBundle-empty-values.json", {Via::kBundle, Reason::kFhirEmptyValue}},
      {"test-example-00-a-fhirBundle-occurrence-issues.json", {Via::kBundle, Reason::kFhirInvalid}},
      // Two patients, bad date format, bad codes: fails base FHIR R4 already.
      {"test-example-00-a-fhirBundle-profile-usa.json", {Via::kBundle, Reason::kFhirInvalid}},
      {"test-example-00-a-fhirBundle-status-not-completed.json",
       {Via::kBundle, Reason::kFhirStatusNotCompleted}},
      {"test-example-00-a-fhirBundle-trailing_chars.json",
       {Via::kBundle, Reason::kTrailingCharacters}},
      {"test-example-00-a-non-dm-properties.json", {Via::kBundle, Reason::kFhirNotMinified}},
      {"test-example-00-a-short-refs.json", {Via::kBundle, Reason::kFhirBadReference}},
      // JWT payloads (check_payload_text)
      {"test-example-00-b-jws-payload-expanded-exp_milliseconds.json",
       {Via::kPayload, Reason::kExpMilliseconds}},
      {"test-example-00-b-jws-payload-expanded-expired.json", {Via::kPayload, Reason::kExpired}},
      {"test-example-00-b-jws-payload-expanded-missing-coding.json",
       {Via::kPayload, Reason::kFhirEmptyValue}},
      // The #immunization/#covid19 types are optional (deprecated since VCI 1.4) and the examples
      // omit them, so a missing one cannot be an error; listing one that contradicts the content
      // is flagged.
      {"test-example-00-b-jws-payload-expanded-missing-covid-vc-type.json",
       {Via::kPayload, Reason::kVcTypeInconsistent, Expect::kFlagged}},
      {"test-example-00-b-jws-payload-expanded-missing-imm-vc-type.json",
       {Via::kPayload, Reason::kVcTypeInconsistent, Expect::kFlagged}},
      {"test-example-00-b-jws-payload-expanded-missing-shc-vc-type.json",
       {Via::kPayload, Reason::kVcTypeMissing}},
      {"test-example-00-b-jws-payload-expanded-nbf_milliseconds.json",
       {Via::kPayload, Reason::kNbfMilliseconds}},
      {"test-example-00-b-jws-payload-expanded-nbf_not_yet_valid.json",
       {Via::kPayload, Reason::kNotYetValid}},
      // "Verifiers ... SHALL ignore any additional type elements they do not understand."
      {"test-example-00-b-jws-payload-expanded-optional-vc-type.json",
       {Via::kPayload, Reason::kVcTypeUnknown, Expect::kFlagged}},
      {"test-example-00-b-jws-payload-expanded-unknown-vc-types.json",
       {Via::kPayload, Reason::kVcTypeUnknown, Expect::kFlagged}},
      {"test-example-00-b-jws-payload-expanded-pre-expired.json",
       {Via::kPayload, Reason::kExpBeforeNbf}},
      {"test-example-00-b-jws-payload-expanded-trailing_chars.json",
       {Via::kPayload, Reason::kTrailingCharacters}},
      // Compact JWS (verify_health_card)
      {"test-example-00-d-jws-bad-fhir-metadata.txt", {Via::kText, Reason::kFhirBadMeta}},
      {"test-example-00-d-jws-der-signature-r-neg.txt", {Via::kText, Reason::kDerSignature}},
      {"test-example-00-d-jws-der-signature-rs-neg.txt", {Via::kText, Reason::kDerSignature}},
      {"test-example-00-d-jws-der-signature-s-neg.txt", {Via::kText, Reason::kDerSignature}},
      {"test-example-00-d-jws-der-signature.txt", {Via::kText, Reason::kDerSignature}},
      {"test-example-00-d-jws-invalid-signature.txt", {Via::kText, Reason::kBadSignature}},
      // Its kid is not among the issuer's keys (whose kids are their thumbprints).
      {"test-example-00-d-jws-issuer-kid-mismatch.txt", {Via::kText, Reason::kUnknownKid}},
      {"test-example-00-d-jws-issuer-not-valid-with-smart-key.txt",
       {Via::kText, Reason::kUnknownIssuer}},
      {"test-example-00-d-jws-jws_too_long.txt", {Via::kText, Reason::kJwsTooLong}},
      {"test-example-00-d-jws-no_deflate.txt", {Via::kText, Reason::kNotDeflated}},
      {"test-example-00-d-jws-no_jws_header_alg.txt", {Via::kText, Reason::kMissingHeaderField}},
      {"test-example-00-d-jws-no_jws_header_kid.txt", {Via::kText, Reason::kMissingHeaderField}},
      {"test-example-00-d-jws-no_jws_header_zip.txt", {Via::kText, Reason::kMissingHeaderField}},
      {"test-example-00-d-jws-trailing_chars.txt", {Via::kText, Reason::kTrailingCharacters}},
      {"test-example-00-d-jws-utf8_bom_prefix.txt", {Via::kText, Reason::kUtf8Bom}},
      {"test-example-00-d-jws-wrong_jws_header_kid.txt", {Via::kText, Reason::kUnknownKid}},
      // .smart-health-card files (verify_health_card_file)
      {"test-example-00-e-file-bad_jwks.smart-health-card", {Via::kFile, Reason::kKidMismatch}},
      {"test-example-00-e-file-invalid_deflate.smart-health-card",
       {Via::kFile, Reason::kZlibNotRawDeflate}},
      // A well-formed URL where no issuer of ours lives.
      {"test-example-00-e-file-invalid_issuer_url.smart-health-card",
       {Via::kFile, Reason::kUnknownIssuer}},
      {"test-example-00-e-file-invalid_issuer_url_http.smart-health-card",
       {Via::kFile, Reason::kBadIssuerUrl}},
      {"test-example-00-e-file-issuer_url_with_trailing_slash.smart-health-card",
       {Via::kFile, Reason::kBadIssuerUrl}},
      {"test-example-00-e-file-jws_too_long.smart-health-card", {Via::kFile, Reason::kJwsTooLong}},
      {"test-example-00-e-file-multi-jws-issues.smart-health-card",
       {Via::kFile, Reason::kMissingHeaderField}},
      // Two cards where verify_health_card expects one (each verifies alone: see below).
      {"test-example-00-e-file-multi-jws.smart-health-card",
       {Via::kText, Reason::kMultipleCredentials}},
      {"test-example-00-e-file-no_deflate.smart-health-card", {Via::kFile, Reason::kNotDeflated}},
      // More than the one line break a saved text file ends with.
      {"test-example-00-e-file-trailing_chars.smart-health-card",
       {Via::kFile, Reason::kTrailingCharacters}},
      {"test-example-00-e-file.wrong-extension", {Via::kFile, Reason::kWrongFileExtension}},
      // QR numeric text (verify_health_card)
      {"test-example-00-f-qr-code-numeric-value-0-index-out-of-range.txt",
       {Via::kText, Reason::kBadChunkHeader}},
      {"test-example-00-f-qr-code-numeric-value-0-number-too-big.txt",
       {Via::kText, Reason::kMalformedNumeric}},
      {"test-example-00-f-qr-code-numeric-value-0-odd-count.txt",
       {Via::kText, Reason::kMalformedNumeric}},
      {"test-example-00-f-qr-code-numeric-value-0-trailing_chars.txt",
       {Via::kText, Reason::kTrailingCharacters}},
      {"test-example-00-f-qr-code-numeric-value-0-wrong-multi-chunk.txt",
       {Via::kText, Reason::kBadChunkHeader}},
      {"test-example-00-f-qr-code-numeric-value-0-wrong_qr_header.txt",
       {Via::kText, Reason::kBadQrHeader}},
      // $health-cards-issue Parameters responses are not one of our input forms.
      {"test-example-00-fhirhealthcard-multi-jws.json", {Via::kText, Reason::kUnsupportedInput}},
      {"test-example-00-fhirhealthcard-with-resource-link.json",
       {Via::kText, Reason::kUnsupportedInput}},
      {"test-example-00-fhirhealthcard.json", {Via::kText, Reason::kUnsupportedInput}},
      // Images: QR decoding needs an image decoder; covered by the Node test that reads them with
      // the npm package jsqr (web/, to be written). Listed here so none is skipped silently.
      {"test-example-00-g-qr-code-0-bad_qr_version.png", {Via::kImage, Reason::kNone}},
      {"test-example-00-g-qr-code-0-corrupted.png", {Via::kImage, Reason::kNone}},
      {"test-example-00-g-qr-code-0-qr_chunk_too_small.png", {Via::kImage, Reason::kNone}},
      {"test-example-00-g-qr-code-0-scaled-23.jpg", {Via::kImage, Reason::kNone}},
      {"test-example-00-g-qr-code-0-scaled-85.jpg", {Via::kImage, Reason::kNone}},
      {"test-example-00-g-qr-code-0-single_qr_segment.png", {Via::kImage, Reason::kNone}},
      {"test-example-00-g-qr-code-0-too_many_qr_segment.png", {Via::kImage, Reason::kNone}},
      {"test-example-00-g-qr-code-1-qr_chunk_too_small.png", {Via::kImage, Reason::kNone}},
      {"test-example-00-g-qr-code-inflated-to-v22.png", {Via::kImage, Reason::kNone}},
  };
  return t;
}

bool is_chunk_too_small(const std::string& name) {
  return name.starts_with("test-example-00-f-qr-code-numeric-value-") &&
         name.ends_with("-qr_chunk_too_small.txt");
}

TEST(VerifyNegatives, EveryFileIsRefusedOrFlaggedForTheReasonInItsName) {
  ManualClock clock = example_clock();
  int checked = 0, images = 0;
  for (const auto& entry : std::filesystem::directory_iterator(shc_data("negative"))) {
    const std::string name = entry.path().filename().string();
    if (name == "LICENSE") continue;
    SCOPED_TRACE(name);
    const std::string text = read_file(entry.path());
    std::vector<Verdict> verdicts;
    NegativeCase c;
    if (is_chunk_too_small(name)) {
      c = {Via::kText, Reason::kChunkTooSmall};
    } else if (name == "test-example-1195-byte-qrnumeric.txt") {
      // Not a defect: the boundary case, a 1194-character JWS, the largest that fits one
      // version-22 QR code. It must be accepted (and our encoder must fit it in version 22).
      Verdict v = verify_health_card(text, test_directory(), clock);
      EXPECT_TRUE(v.valid()) << describe(v);
      EXPECT_EQ(v.jws.size(), 1194u);
      ++checked;
      continue;
    } else {
      auto it = negative_table().find(name);
      ASSERT_NE(it, negative_table().end()) << "negative file without an expectation";
      c = it->second;
    }
    switch (c.via) {
      case Via::kImage:
        ++images;
        continue;
      case Via::kBundle:
        verdicts.push_back(check_bundle_text(text));
        break;
      case Via::kPayload:
        verdicts.push_back(check_payload_text(text, clock));
        break;
      case Via::kText:
        verdicts.push_back(verify_health_card(text, test_directory(), clock));
        break;
      case Via::kFile:
        verdicts = verify_health_card_file(name, text, test_directory(), clock);
        break;
    }
    ++checked;
    bool found = false;
    for (const Verdict& v : verdicts) {
      if (c.expect == Expect::kRejected) {
        found = found || (!v.valid() && v.has(c.reason));
      } else {
        found = found || (v.valid() && v.has(c.reason));
      }
    }
    std::string all;
    for (const Verdict& v : verdicts) all += describe(v) + "\n";
    EXPECT_TRUE(found) << "expected " << reason_name(c.reason) << "\n" << all;
    if (c.expect == Expect::kRejected) {
      EXPECT_TRUE(has_error_anywhere(verdicts)) << all;
    }
  }
  EXPECT_EQ(images, 9);
  EXPECT_EQ(checked, 76);  // 86 files: LICENSE, 9 images, 76 checked here
}

// verify_health_card_into, as the command line uses it over a batch: each card verified into the
// verdict of the card before ends exactly as a fresh verification does, whatever that card was
// (valid, refused at any stage, of another shape), in both orders.
TEST(VerifyBatch, AVerdictReusedFromTheCardBeforeEndsAsAFreshOne) {
  ManualClock clock = example_clock();
  std::vector<std::string> texts;
  for (int n = 0; n <= 3; ++n) {
    const std::string base = "examples/example-0" + std::to_string(n);
    texts.push_back(read_file(shc_data(base + "-d-jws.txt")));
    // Refused before the payload is read (a part not base64url; a header not JSON), after and
    // before a valid card: nothing of the valid card's may be left in the verdict.
    texts.push_back("eyJhbGciOiJFUzI1NiJ9.not base64.AAAA");
    texts.push_back(read_file(shc_data(base + "-d-jws.txt")));
    texts.push_back("eyJh.e30.AAAA");
    texts.push_back(read_file(shc_data(base + "-e-file.smart-health-card")));
    if (n != 2) texts.push_back(read_file(shc_data(base + "-f-qr-code-numeric-value-0.txt")));
  }
  for (const auto& entry : std::filesystem::directory_iterator(shc_data("negative"))) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".txt")) texts.push_back(read_file(entry.path()));
  }
  texts.push_back("");
  texts.push_back("ey.not.base64!");
  // Over the 1 MiB a JWS may have, after a valid card: refused before anything is decoded.
  texts.push_back(read_file(shc_data("examples/example-00-d-jws.txt")));
  texts.push_back("ey" + std::string(1100 * 1024, 'A'));
  ASSERT_GT(texts.size(), 40u);
  for (bool reversed : {false, true}) {
    if (reversed) std::reverse(texts.begin(), texts.end());
    Verdict reused;
    for (const std::string& t : texts) {
      SCOPED_TRACE(t.substr(0, 60) + " (" + std::to_string(t.size()) + " bytes)");
      verify_health_card_into(t, test_directory(), clock, {}, reused);
      const Verdict fresh = verify_health_card(t, test_directory(), clock);
      EXPECT_EQ(reused.outcome, fresh.outcome);
      EXPECT_EQ(reused.reason, fresh.reason);
      EXPECT_EQ(reused.message, fresh.message);
      EXPECT_EQ(describe(reused), describe(fresh));
      EXPECT_EQ(reused.findings.size(), fresh.findings.size());
      EXPECT_EQ(reused.jws, fresh.jws);
      EXPECT_EQ(reused.header, fresh.header);
      EXPECT_EQ(reused.payload, fresh.payload);
      EXPECT_EQ(dump_json(reused.payload), dump_json(fresh.payload));
      EXPECT_EQ(reused.fhir_bundle, fresh.fhir_bundle);
      EXPECT_EQ(reused.iss, fresh.iss);
      EXPECT_EQ(reused.issuer_name, fresh.issuer_name);
      EXPECT_EQ(reused.superseded, fresh.superseded);
      EXPECT_EQ(reused.kid, fresh.kid);
      EXPECT_EQ(reused.rid, fresh.rid);
      EXPECT_EQ(reused.nbf, fresh.nbf);
      EXPECT_EQ(reused.exp, fresh.exp);
    }
  }
}

TEST(VerifyNegatives, AllSeventeenSmallChunksTogetherAreStillTooSmall) {
  ManualClock clock = example_clock();
  std::vector<std::string> texts;
  for (int i = 0; i <= 16; ++i) {
    texts.push_back(read_file(shc_data("negative/test-example-00-f-qr-code-numeric-value-" +
                                       std::to_string(i) + "-qr_chunk_too_small.txt")));
  }
  std::vector<std::string_view> views(texts.begin(), texts.end());
  Verdict v = verify_health_card_qr(views, test_directory(), clock);
  EXPECT_EQ(v.reason, Reason::kChunkTooSmall) << describe(v);
}

TEST(VerifyNegatives, MultiJwsFileCardsVerifyOneByOne) {
  ManualClock clock = example_clock();
  auto vs = verify_health_cards(
      read_file(shc_data("negative/test-example-00-e-file-multi-jws.smart-health-card")),
      test_directory(), clock);
  ASSERT_EQ(vs.size(), 2u);
  for (const Verdict& v : vs) {
    // Signed by the example keys, but with an old (pre-1.3) bundle that is not minified fully.
    EXPECT_FALSE(v.has(Reason::kBadSignature)) << describe(v);
    EXPECT_FALSE(v.has(Reason::kUnknownKid)) << describe(v);
  }
}

// From text the verifier knows neither the QR version nor its error-correction level, so the
// one-QR limit is the spec's 1195 characters (version 22 at level L, the most room any level
// gives), exactly: 1195 passes, 1196 is an error for one QR code and a warning for a file.
TEST(VerifyInput, OneQrLimitIsExactly1195CharactersOfJws) {
  ManualClock clock = example_clock();
  const std::string base = read_file(shc_data("examples/example-00-d-jws.txt"));
  for (std::size_t n : {std::size_t{1195}, std::size_t{1196}}) {
    SCOPED_TRACE(n);
    ASSERT_LT(base.size(), n);
    // Same length: the example's JWS with its signature part padded out (it no longer verifies,
    // which is beside the point here).
    const std::string jws = base + std::string(n - base.size(), 'A');
    auto qr = to_shc_numeric(jws);
    ASSERT_TRUE(qr.is_ok());
    Verdict one_qr = verify_health_card(*qr, test_directory(), clock);
    Verdict file = verify_health_card(health_card_file({jws}), test_directory(), clock);
    EXPECT_EQ(one_qr.has_error(Reason::kJwsTooLong), n > kMaxSingleQrJws);
    EXPECT_EQ(file.has(Reason::kJwsTooLong), n > kMaxSingleQrJws);
    EXPECT_FALSE(file.has_error(Reason::kJwsTooLong));
  }
}

// A .smart-health-card file is JSON: saved by an editor it ends with a line break, and it may be
// pretty-printed or minified. More whitespace around it is refused (the IG's negative example),
// and a bare shc:/ or JWS text must be exact.
TEST(VerifyInput, AFileMayEndWithALineBreakAndBePrettyPrinted) {
  ManualClock clock = example_clock();
  const std::string jws = read_file(shc_data("examples/example-00-d-jws.txt"));
  const std::string minified = health_card_file({jws});
  const std::string pretty = "{\n  \"verifiableCredential\": [\n    \"" + jws + "\"\n  ]\n}";
  for (const std::string& more : {"\n\t " + pretty + "\n", pretty + "\n\n", pretty + " \n", " " + minified}) {
    SCOPED_TRACE(more.substr(0, 40));
    EXPECT_TRUE(verify_health_card(more, test_directory(), clock).has_error(Reason::kTrailingCharacters));
  }
  for (const std::string& file : {minified + "\n", minified + "\r\n", pretty + "\n", pretty}) {
    SCOPED_TRACE(file.substr(0, 40));
    Verdict one = verify_health_card(file, test_directory(), clock);  // as POST /api/v1/verify
    EXPECT_TRUE(one.valid()) << describe(one);
    auto all = verify_health_card_file("card.smart-health-card", file, test_directory(), clock);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_TRUE(all[0].valid()) << describe(all[0]);
  }
  for (const std::string& exact : {jws + "\n", " " + jws, *to_shc_numeric(jws) + "\n"}) {
    Verdict v = verify_health_card(exact, test_directory(), clock);
    EXPECT_TRUE(v.has_error(Reason::kTrailingCharacters)) << describe(v);
  }
}

TEST(VerifyInput, RefusesJunkWithoutCrashing) {
  ManualClock clock = example_clock();
  for (std::string_view junk :
       {"", " ", "shc:/", "shc:/1", "shc:/0/2/00", "{", "{}", "ey", "ey..", "eyJ.eyJ.eyJ", "hello",
        "{\"verifiableCredential\":[]}", "{\"verifiableCredential\":[1]}"}) {
    Verdict v = verify_health_card(junk, test_directory(), clock);
    EXPECT_EQ(v.outcome, Outcome::kInvalid) << junk;
    EXPECT_NE(v.reason, Reason::kNone) << junk;
    EXPECT_FALSE(v.message.empty()) << junk;
  }
}

// What a refusal says is the defect itself: text with letters is not a card short of a digit, and
// the message names no function of ours.
TEST(VerifyInput, MessagesNameTheDefect) {
  ManualClock clock = example_clock();
  Verdict letters = verify_health_card("shc:/567629abc", test_directory(), clock);
  EXPECT_EQ(letters.reason, Reason::kMalformedNumeric);
  EXPECT_EQ(letters.message, "non-digit at position 11") << describe(letters);
  EXPECT_EQ(verify_health_card("shc:/5676290", test_directory(), clock).message,
            "odd number of digits (7)");
  // Positions count the chunk header too.
  EXPECT_EQ(verify_health_card("shc:/1/2/565a", test_directory(), clock).message,
            "non-digit at position 11");
  const std::string jws = read_file(shc_data("examples/example-00-d-jws.txt"));
  Verdict two = verify_health_card(health_card_file({jws, jws}), test_directory(), clock);
  EXPECT_EQ(two.reason, Reason::kMultipleCredentials);
  EXPECT_EQ(
      two.message,
      "the file holds 2 cards, and one card is verified at a time: give each card on its own");
}

// The twin of a signature, against a deliberately plain reference: s + twin's s = n.
TEST(VerifySignatureTwin, TheOtherHalfVerifiesAndLeadsBack) {
  ManualClock clock = example_clock();
  const unsigned char n[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                               0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
                               0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
  auto signature = [](const std::string& jws) {
    return *crypto::base64url_decode(jws.substr(jws.rfind('.') + 1));
  };
  for (int e = 0; e <= 3; ++e) {
    const std::string jws =
        read_file(shc_data("examples/example-0" + std::to_string(e) + "-d-jws.txt"));
    SCOPED_TRACE(e);
    auto twin = signature_twin(jws);
    ASSERT_TRUE(twin.has_value());
    EXPECT_NE(*twin, jws);
    EXPECT_EQ(twin->substr(0, twin->rfind('.')), jws.substr(0, jws.rfind('.')));
    EXPECT_EQ(signature_twin(*twin), jws);
    const std::string a = signature(jws), b = signature(*twin);
    EXPECT_EQ(a.substr(0, 32), b.substr(0, 32)) << "r is kept";
    int carry = 0;
    for (int i = 31; i >= 0; --i) {
      const int sum =
          static_cast<unsigned char>(a[32 + i]) + static_cast<unsigned char>(b[32 + i]) + carry;
      EXPECT_EQ(sum % 256, n[i]) << i;
      carry = sum / 256;
    }
    Verdict v = verify_health_card(*twin, test_directory(), clock);
    EXPECT_TRUE(v.valid()) << describe(v);
  }
  // No twin for what is not a 64-byte signature with s in 1..n-1.
  const std::string jws = read_file(shc_data("examples/example-00-d-jws.txt"));
  const std::string input = jws.substr(0, jws.rfind('.') + 1);
  const std::string r(32, '\x01');
  EXPECT_FALSE(signature_twin(input + crypto::base64url_encode(r + std::string(32, '\0'))));
  EXPECT_FALSE(signature_twin(
      input + crypto::base64url_encode(r + std::string(reinterpret_cast<const char*>(n), 32))));
  EXPECT_FALSE(signature_twin(input + crypto::base64url_encode(r + std::string(32, '\xFF'))));
  EXPECT_FALSE(signature_twin(input + crypto::base64url_encode(r)));
  EXPECT_FALSE(signature_twin("no dot"));
  EXPECT_FALSE(signature_twin(input + "!!"));
  std::string n_minus_1(reinterpret_cast<const char*>(n), 32);
  n_minus_1[31] = static_cast<char>(n[31] - 1);
  EXPECT_EQ(signature_twin(input + crypto::base64url_encode(r + n_minus_1)),
            input + crypto::base64url_encode(r + std::string(31, '\0') + "\x01"));
}

// A card with a rid can be revoked; when the directory's revocation list is older than the one the
// issuer's key announces, or missing, its verdict says that revocation could not be checked. A
// card without a rid cannot be revoked, and no list changes its verdict.
TEST(VerifyRevocation, AnOutdatedListIsAWarningForCardsThatCanBeRevoked) {
  ManualClock clock = example_clock();
  const std::string with_rid = read_file(shc_data("examples/example-03-d-jws.txt"));
  // Example 01 has no rid; here its key announces a list too.
  const std::string without = read_file(shc_data("examples/example-01-d-jws.txt"));
  Json no_list = testing::test_directory_json();
  no_list["issuers"][0].erase("crls");
  no_list["issuers"][0]["jwks"]["keys"][1]["crlVersion"] = 1;
  Json old_list = testing::test_directory_json();
  old_list["issuers"][0]["jwks"]["keys"][0]["crlVersion"] = 2;
  old_list["issuers"][0]["jwks"]["keys"][1]["crlVersion"] = 2;
  for (const Json& j : {no_list, old_list}) {
    auto d = IssuerDirectory::from_json(j);
    ASSERT_TRUE(d.is_ok()) << d.error().to_string();
    Verdict v = verify_health_card(with_rid, *d, clock);
    EXPECT_TRUE(v.valid()) << describe(v);
    EXPECT_TRUE(v.has(Reason::kCrlOutdated)) << describe(v);
    Verdict plain = verify_health_card(without, *d, clock);
    EXPECT_TRUE(plain.valid()) << describe(plain);
    EXPECT_FALSE(plain.has(Reason::kCrlOutdated)) << describe(plain);
  }
  auto d = IssuerDirectory::from_json(old_list);
  Verdict v = verify_health_card(with_rid, *d, clock);
  Json answer = verdict_json(v);
  ASSERT_TRUE(answer.contains("warnings")) << answer.dump();
  EXPECT_EQ(answer["warnings"][0]["reason"], "crl_outdated");
  EXPECT_EQ(answer["warnings"][0]["message"],
            "the issuer's key publishes revocation list version 2 and the directory holds version "
            "1: whether this card was revoked since could not be checked (get a current "
            "directory)");
  EXPECT_TRUE(verify_health_card(with_rid, test_directory(), clock).findings.empty());
}

// One JSON shape for every verifier: the server's POST /api/v1/verify and `healthbook verify
// --json` both answer with verdict_json.
TEST(VerifyJson, OneShapeForEveryOutcome) {
  ManualClock clock = example_clock();
  const std::string jws = read_file(shc_data("examples/example-03-d-jws.txt"));
  Verdict valid = verify_health_card(jws, test_directory(), clock);
  Json j = verdict_json(valid);
  EXPECT_EQ(j["outcome"], "valid");
  EXPECT_EQ(j["issuer"], Json({{"iss", testing::kExampleIssuer},
                               {"name", "SMART Health Cards example issuer"}}));
  EXPECT_EQ(j["fhirBundle"]["resourceType"], "Bundle");
  for (const char* absent : {"reason", "message", "errors", "warnings"}) {
    EXPECT_FALSE(j.contains(absent)) << absent;
  }
  // Without a copy of the bundle in the verdict (the server's verify), from the claims.
  VerifyOptions no_copy;
  no_copy.copy_bundle = false;
  Verdict lean = verify_health_card(jws, test_directory(), clock, no_copy);
  EXPECT_TRUE(lean.fhir_bundle.is_null());
  EXPECT_EQ(verdict_json(lean)["fhirBundle"], j["fhirBundle"]);

  // Invalid: the reason and message; the issuer only as the card claims it, and none of its
  // content.
  std::string forged = jws;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  Verdict bad = verify_health_card(forged, test_directory(), clock);
  Json b = verdict_json(bad);
  EXPECT_EQ(b["outcome"], "invalid");
  EXPECT_EQ(b["reason"], "bad_signature");
  EXPECT_EQ(b["message"], "the signature does not verify");
  EXPECT_EQ(
      b["errors"],
      Json::array({{{"reason", "bad_signature"}, {"message", "the signature does not verify"}}}));
  EXPECT_EQ(b["issuer"], Json({{"iss", testing::kExampleIssuer}}));
  EXPECT_FALSE(b.contains("fhirBundle"));

  // Revoked and superseded (a replaced card's outcome is its reason).
  Json dir = testing::test_directory_json();
  dir["issuers"][0]["crls"][0]["rids"] = Json::array({"vwAjHdarZuc"});
  dir["issuers"][0]["crls"][0]["ctr"] = 2;
  dir["issuers"][0]["jwks"]["keys"][0]["crlVersion"] = 2;
  auto revoking = IssuerDirectory::from_json(dir);
  ASSERT_TRUE(revoking.is_ok());
  Verdict revoked = verify_health_card(jws, *revoking, clock);
  Json r = verdict_json(revoked);
  EXPECT_EQ(r["outcome"], "revoked");
  EXPECT_EQ(r["reason"], "revoked");
  EXPECT_EQ(r["message"], "the issuer has revoked this card (rid vwAjHdarZuc)");
  EXPECT_EQ(r["issuer"]["name"], "SMART Health Cards example issuer");
  EXPECT_FALSE(r.contains("errors")) << "the revocation is the outcome";
  EXPECT_EQ(r["fhirBundle"]["resourceType"], "Bundle");
  dir["issuers"][0]["superseded"] = Json::array({"vwAjHdarZuc"});
  auto replacing = IssuerDirectory::from_json(dir);
  ASSERT_TRUE(replacing.is_ok());
  Verdict replaced = verify_health_card(jws, *replacing, clock);
  EXPECT_STREQ(verdict_word(replaced), "superseded");
  Json s = verdict_json(replaced);
  EXPECT_EQ(s["outcome"], "superseded");
  EXPECT_FALSE(s.contains("reason")) << s.dump();
  EXPECT_EQ(s["message"], "the issuer has replaced this card by a newer one (rid vwAjHdarZuc)");
  EXPECT_EQ(s["fhirBundle"]["resourceType"], "Bundle");

  // Warnings with any outcome: example 01's key certificate had expired when it was signed.
  Verdict warned = verify_health_card(read_file(shc_data("examples/example-01-d-jws.txt")),
                                      test_directory(), clock);
  Json w = verdict_json(warned);
  EXPECT_EQ(w["outcome"], "valid");
  ASSERT_EQ(w["warnings"].size(), 1u) << w.dump();
  EXPECT_EQ(w["warnings"][0]["reason"], "x5c_not_valid_at_nbf");
}

// What the issuer's own records know beyond its list: the same finding and message as the list's.
TEST(VerifyRevocation, MarkRevokedSaysWhatTheListWould) {
  ManualClock clock = example_clock();
  const std::string jws = read_file(shc_data("examples/example-03-d-jws.txt"));
  Verdict v = verify_health_card(jws, test_directory(), clock);
  mark_revoked(v, false);
  EXPECT_EQ(v.outcome, Outcome::kRevoked);
  EXPECT_EQ(v.message, "the issuer has revoked this card (rid vwAjHdarZuc)");
  mark_revoked(v, true);
  EXPECT_EQ(v.outcome, Outcome::kRevoked);
  EXPECT_TRUE(v.superseded);
  EXPECT_EQ(v.message, "the issuer has replaced this card by a newer one (rid vwAjHdarZuc)");
  EXPECT_EQ(std::count_if(v.findings.begin(), v.findings.end(),
                          [](const Finding& f) { return f.reason == Reason::kRevoked; }),
            1);
  std::string forged = jws;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  Verdict bad = verify_health_card(forged, test_directory(), clock);
  mark_revoked(bad, true);
  EXPECT_EQ(bad.outcome, Outcome::kInvalid);
  EXPECT_STREQ(verdict_word(bad), "invalid");
}

// A file named otherwise than *.smart-health-card is refused for it when it holds cards; what is
// no card file at all is refused for what it is.
TEST(VerifyInput, TheFileExtensionCountsForCardFilesOnly) {
  ManualClock clock = example_clock();
  const std::string jws = read_file(shc_data("examples/example-00-d-jws.txt"));
  auto named =
      verify_health_card_file("card.json", health_card_file({jws}), test_directory(), clock);
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named[0].reason, Reason::kWrongFileExtension) << describe(named[0]);
  auto parameters = verify_health_card_file(
      "response.json", read_file(shc_data("negative/test-example-00-fhirhealthcard.json")),
      test_directory(), clock);
  ASSERT_EQ(parameters.size(), 1u);
  EXPECT_EQ(parameters[0].reason, Reason::kUnsupportedInput);
  EXPECT_FALSE(parameters[0].has(Reason::kWrongFileExtension)) << describe(parameters[0]);
}

TEST(IssuerDirectory, RefusesBadIssuerUrlsAndCrls) {
  Json good = testing::test_directory_json();
  for (const char* iss : {"http://x.example", "https://x.example/", "https://", "x"}) {
    Json d = good;
    d["issuers"][0]["iss"] = iss;
    EXPECT_FALSE(IssuerDirectory::from_json(d).is_ok()) << iss;
  }
  Json d = good;
  d["issuers"][0]["crls"][0]["rids"] = Json::array({"not base64url!"});
  EXPECT_FALSE(IssuerDirectory::from_json(d).is_ok());
  d = good;
  d["issuers"][0]["crls"][0]["method"] = "other";
  EXPECT_FALSE(IssuerDirectory::from_json(d).is_ok());
  d = good;
  d["issuers"].push_back(good["issuers"][0]);
  EXPECT_FALSE(IssuerDirectory::from_json(d).is_ok());
  EXPECT_FALSE(IssuerDirectory::parse("{\"issuers\": 1}").is_ok());
  d = good;
  d["issuers"][0]["superseded"] = "vwAjHdarZuc";
  EXPECT_FALSE(IssuerDirectory::from_json(d).is_ok()) << "superseded is a list of rids";
  d["issuers"][0]["superseded"] = Json::array({1});
  EXPECT_FALSE(IssuerDirectory::from_json(d).is_ok());
}

TEST(IssuerDirectory, CrlTimestampsRevokeOnlyEarlierCards) {
  Crl crl;
  crl.rids = {{"a", std::nullopt}, {"b", 1000}};
  EXPECT_TRUE(crl.revokes("a", 5));
  EXPECT_TRUE(crl.revokes("b", 999.5));
  EXPECT_FALSE(crl.revokes("b", 1000));
  EXPECT_FALSE(crl.revokes("c", 1));
}

}  // namespace
}  // namespace hb::documents
