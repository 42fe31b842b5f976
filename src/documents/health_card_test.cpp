#include "documents/health_card.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "crypto/encoding.h"
#include "crypto/random.h"
#include "documents/deflate.h"
#include "documents/numeric.h"
#include "documents/qr.h"
#include "documents/test_util.h"
#include "documents/verify.h"

namespace hb::documents {
namespace {

using testing::read_file;
using testing::shc_data;

constexpr const char* kIss = "https://healthbook.example/issuers/clinic-1";

// A typical medical certificate: who, who certifies, the visit, and the unfitness for work.
Json medical_certificate() {
  return Json::parse(R"({
    "resourceType": "Bundle", "id": "mc-1", "type": "collection",
    "entry": [
      {"fullUrl": "urn:uuid:5b0f6c9e-1d0e-4b8e-9a57-4c2d0a3e7f11",
       "resource": {"resourceType": "Patient", "id": "p1",
                    "meta": {"versionId": "3", "lastUpdated": "2026-11-20T10:00:00Z"},
                    "name": [{"family": "Tan", "given": ["Mei", "Ling"]}],
                    "birthDate": "1990-04-12",
                    "identifier": [{"system": "https://id.example.sg/nric", "value": "S9012345A"}]}},
      {"fullUrl": "urn:uuid:0c4d3a1b-6f7e-4c1d-8b2a-9e8f7a6b5c4d",
       "resource": {"resourceType": "Practitioner", "id": "dr",
                    "name": [{"family": "Lim", "given": ["Wei"], "prefix": ["Dr"]}],
                    "identifier": [{"system": "https://smc.example.sg/mcr", "value": "M12345Z"}]}},
      {"fullUrl": "urn:uuid:7a1e2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b",
       "resource": {"resourceType": "Encounter", "id": "visit", "status": "finished",
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                              "code": "AMB", "display": "ambulatory"},
                    "subject": {"reference": "Patient/p1"},
                    "participant": [{"individual": {"reference": "Practitioner/dr"}}],
                    "period": {"start": "2026-11-20T09:30:00+08:00", "end": "2026-11-20T09:50:00+08:00"},
                    "serviceProvider": {"display": "Healthbook Clinic, Tampines"}}},
      {"fullUrl": "urn:uuid:2f3e4d5c-6b7a-4988-8776-655443322110",
       "resource": {"resourceType": "Observation", "id": "unfit", "status": "final",
                    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Unfit for work</div>"},
                    "code": {"coding": [{"system": "http://loinc.org", "code": "11535-2",
                                         "display": "Hospital discharge Dx"}],
                             "text": "Medical certificate: unfit for duty"},
                    "subject": {"reference": "urn:uuid:5b0f6c9e-1d0e-4b8e-9a57-4c2d0a3e7f11"},
                    "encounter": {"reference": "Encounter/visit"},
                    "performer": [{"reference": "Practitioner/dr"}],
                    "effectivePeriod": {"start": "2026-11-20", "end": "2026-11-22"},
                    "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct",
                                                         "code": "444814009",
                                                         "display": "Viral sinusitis"}]}}}
    ]})");
}

IssuerDirectory directory_with_test_key() {
  Json key = testing::test_key().public_key().to_jwk();
  key["kid"] = testing::test_key().public_key().thumbprint();
  key["alg"] = "ES256";
  key["use"] = "sig";
  auto dir = IssuerDirectory::from_json(
      {{"issuers",
        Json::array(
            {{{"iss", kIss}, {"name", "Clinic 1"}, {"jwks", {{"keys", Json::array({key})}}}}})}});
  EXPECT_TRUE(dir.is_ok());
  return std::move(dir).value();
}

TEST(Minify, RewritesReferencesAndDropsWhatTheSpecLeavesOut) {
  auto m = minify_bundle(medical_certificate());
  ASSERT_TRUE(m.is_ok()) << m.error().to_string();
  const Json& b = *m;
  EXPECT_FALSE(b.contains("id"));
  EXPECT_EQ(b["entry"][0]["fullUrl"], "resource:0");
  EXPECT_EQ(b["entry"][3]["fullUrl"], "resource:3");
  const Json& patient = b["entry"][0]["resource"];
  EXPECT_FALSE(patient.contains("id"));
  EXPECT_FALSE(patient.contains("meta"));
  const Json& enc = b["entry"][2]["resource"];
  EXPECT_EQ(enc["subject"]["reference"], "resource:0");
  EXPECT_EQ(enc["participant"][0]["individual"]["reference"], "resource:1");
  EXPECT_FALSE(enc["class"].contains("display"));                               // Coding.display
  EXPECT_EQ(enc["serviceProvider"]["display"], "Healthbook Clinic, Tampines");  // Reference.display
  const Json& obs = b["entry"][3]["resource"];
  EXPECT_FALSE(obs.contains("text"));
  EXPECT_FALSE(obs["code"].contains("text"));
  EXPECT_FALSE(obs["code"]["coding"][0].contains("display"));
  EXPECT_EQ(obs["subject"]["reference"], "resource:0");    // by fullUrl
  EXPECT_EQ(obs["encounter"]["reference"], "resource:2");  // by Type/id
  EXPECT_TRUE(check_fhir_bundle(b, true).empty());
}

TEST(Minify, KeepsMetaSecurityOnlyAndRefusesDanglingReferences) {
  Json b = medical_certificate();
  b["entry"][0]["resource"]["meta"]["security"] =
      Json::array({{{"system", "https://smarthealth.cards/ial"}, {"code", "IAL2"}}});
  auto m = minify_bundle(b);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(
      (*m)["entry"][0]["resource"]["meta"],
      Json({{"security",
             Json::array({{{"system", "https://smarthealth.cards/ial"}, {"code", "IAL2"}}})}}));
  b["entry"][2]["resource"]["subject"]["reference"] = "Patient/somebody-else";
  auto bad = minify_bundle(b);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.error().message().find("Patient/somebody-else"), std::string::npos);
}

TEST(Issue, RoundTripsThroughTheVerifierAndFitsOneSmallQr) {
  ManualClock clock;
  IssueOptions opt;
  opt.iss = kIss;
  opt.rid =
      revocation_id(std::string(32, 's'), testing::test_key().public_key().thumbprint(), "p1");
  opt.expires = clock.now() + std::chrono::hours(24 * 30);
  auto card = issue_health_card(medical_certificate(), testing::test_key(), opt, clock);
  ASSERT_TRUE(card.is_ok()) << card.error().to_string();
  EXPECT_LE(card->jws.size(), kMaxSingleQrJws);

  // Header exactly as the spec asks; payload raw DEFLATE of the minified claims.
  auto jws = crypto::parse_compact_jws(card->jws);
  ASSERT_TRUE(jws.is_ok());
  EXPECT_EQ(jws->header, Json({{"alg", "ES256"},
                               {"zip", "DEF"},
                               {"kid", testing::test_key().public_key().thumbprint()}}));
  auto inflated = inflate_raw(jws->payload);
  ASSERT_TRUE(inflated.is_ok());
  auto payload = parse_json(*inflated);
  ASSERT_TRUE(payload.is_ok());
  EXPECT_EQ(*inflated, dump_json(*payload));  // minified: no whitespace
  EXPECT_EQ((*payload)["nbf"], unix_seconds(clock.now()));
  EXPECT_EQ((*payload)["vc"]["type"], Json::array({"https://smarthealth.cards#health-card"}));
  EXPECT_EQ((*payload)["vc"]["credentialSubject"]["fhirVersion"], "4.0.1");
  EXPECT_EQ((*payload)["vc"]["rid"].get<std::string>().size(), 11u);

  IssuerDirectory dir = directory_with_test_key();
  for (const std::string& text : {card->jws, card->qr_text, health_card_file({card->jws})}) {
    Verdict v = verify_health_card(text, dir, clock);
    EXPECT_TRUE(v.valid()) << reason_name(v.reason) << ": " << v.message;
    EXPECT_TRUE(v.findings.empty());
  }
  auto files =
      verify_health_card_file("mc.smart-health-card", health_card_file({card->jws}), dir, clock);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files[0].valid());

  auto qr = make_shc_qr(card->qr_text);
  ASSERT_TRUE(qr.is_ok()) << qr.error().to_string();
  EXPECT_LE(qr->version(), kMaxQrVersion);
  EXPECT_EQ(qr->size(), 4 * qr->version() + 17);

  // A tampered payload byte no longer verifies.
  std::string tampered = card->jws;
  tampered[tampered.find('.') + 5] = tampered[tampered.find('.') + 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_health_card(tampered, dir, clock).valid());
}

TEST(Issue, RefusesACardTooLargeForOneQr) {
  Json b = medical_certificate();
  // Thirty coded observations of free text do not compress into 1195 characters.
  for (int i = 0; i < 30; ++i) {
    Json obs = b["entry"][3];
    obs["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-0000000000" + std::to_string(10 + i);
    obs["resource"]["id"] = "o" + std::to_string(i);
    obs["resource"]["note"] = Json::array(
        {{{"text", "Observation note " + std::to_string(i) + " " + crypto::random_token(24)}}});
    b["entry"].push_back(obs);
  }
  ManualClock clock;
  auto card = issue_health_card(b, testing::test_key(), IssueOptions{.iss = kIss}, clock);
  ASSERT_FALSE(card.is_ok());
  EXPECT_EQ(card.error().code(), Code::kTooLarge);
  EXPECT_NE(card.error().message().find("too large for one QR"), std::string::npos);

  // The QR encoder itself refuses more digits than version 22 holds.
  auto qr = make_shc_qr("shc:/" + std::string(2 * 1300, '5'));
  ASSERT_FALSE(qr.is_ok());
  EXPECT_EQ(qr.error().code(), Code::kTooLarge);
}

TEST(Issue, RefusesBadOptionsAndBundles) {
  ManualClock clock;
  for (const char* iss : {"http://x.example", "https://x.example/", ""}) {
    EXPECT_FALSE(issue_health_card(medical_certificate(), testing::test_key(),
                                   IssueOptions{.iss = iss}, clock)
                     .is_ok());
  }
  IssueOptions bad_rid{.iss = kIss, .rid = "has spaces"};
  EXPECT_FALSE(
      issue_health_card(medical_certificate(), testing::test_key(), bad_rid, clock).is_ok());
  IssueOptions past{.iss = kIss, .expires = clock.now() - std::chrono::hours(1)};
  EXPECT_FALSE(issue_health_card(medical_certificate(), testing::test_key(), past, clock).is_ok());
  Json invalid_bundle = medical_certificate();
  invalid_bundle["entry"][0]["resource"]["birthDate"] = "12/04/1990";
  auto r = issue_health_card(invalid_bundle, testing::test_key(), IssueOptions{.iss = kIss}, clock);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().code(), Code::kUnprocessable);
  auto es384 = crypto::PrivateKey::generate(crypto::KeyType::kEcP384);
  ASSERT_TRUE(es384.is_ok());
  EXPECT_FALSE(
      issue_health_card(medical_certificate(), *es384, IssueOptions{.iss = kIss}, clock).is_ok());
}

TEST(Issue, ReissuesTheExampleBundleInTheExamplesShape) {
  // Example 00's bundle, issued by us, minifies to exactly the bundle the example signed.
  Json bundle = Json::parse(read_file(shc_data("examples/example-00-a-fhirBundle.json")));
  Json signed_payload =
      Json::parse(read_file(shc_data("examples/example-00-c-jws-payload-minified.json")));
  auto m = minify_bundle(bundle);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(*m, signed_payload["vc"]["credentialSubject"]["fhirBundle"]);
}

TEST(Qr, ExampleCardsFitVersion22AndRenderAsSvgAndPng) {
  for (int n : {0, 1, 3}) {
    std::string text = read_file(
        shc_data("examples/example-0" + std::to_string(n) + "-f-qr-code-numeric-value-0.txt"));
    auto qr = make_shc_qr(text);
    ASSERT_TRUE(qr.is_ok()) << n;
    EXPECT_LE(qr->version(), 22);
  }
  auto boundary = make_shc_qr(read_file(shc_data("negative/test-example-1195-byte-qrnumeric.txt")));
  ASSERT_TRUE(boundary.is_ok());
  EXPECT_EQ(boundary->version(), 22);

  auto qr = make_shc_qr(read_file(shc_data("examples/example-00-f-qr-code-numeric-value-0.txt")));
  ASSERT_TRUE(qr.is_ok());
  std::string svg = qr_svg(*qr);
  EXPECT_TRUE(svg.starts_with("<?xml"));
  const int dim = qr->size() + 2 * kQuietZone;
  EXPECT_NE(svg.find("viewBox=\"0 0 " + std::to_string(dim) + " " + std::to_string(dim) + "\""),
            std::string::npos);
}

uint32_t be32(std::string_view s, std::size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

TEST(Qr, PngIsWellFormedWithQuietZoneAndModules) {
  auto qr = make_shc_qr(read_file(shc_data("examples/example-00-f-qr-code-numeric-value-0.txt")));
  ASSERT_TRUE(qr.is_ok());
  const int scale = 3;
  auto png = qr_png(*qr, scale);
  ASSERT_TRUE(png.is_ok());
  const std::string& p = *png;
  ASSERT_EQ(p.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // Walk the chunks, checking every CRC; collect IDAT.
  std::size_t at = 8;
  std::string idat;
  std::vector<std::string> types;
  uint32_t width = 0, height = 0;
  while (at + 12 <= p.size()) {
    uint32_t len = be32(p, at);
    std::string type = p.substr(at + 4, 4);
    std::string data = p.substr(at + 8, len);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(p.data() + at + 4), len + 4);
    EXPECT_EQ(be32(p, at + 8 + len), static_cast<uint32_t>(crc)) << type;
    if (type == "IHDR") {
      width = be32(data, 0);
      height = be32(data, 4);
      EXPECT_EQ(data.substr(8), std::string("\x01\x00\x00\x00\x00", 5));
    }
    if (type == "IDAT") idat += data;
    types.push_back(type);
    at += 12 + len;
  }
  EXPECT_EQ(at, p.size());
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  const uint32_t dim = static_cast<uint32_t>((qr->size() + 2 * kQuietZone) * scale);
  EXPECT_EQ(width, dim);
  EXPECT_EQ(height, dim);
  // Decompress and read pixels back.
  const std::size_t stride = 1 + (dim + 7) / 8;
  std::string raw(stride * dim, '\0');
  uLongf raw_len = static_cast<uLongf>(raw.size());
  ASSERT_EQ(
      uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_len,
                 reinterpret_cast<const Bytef*>(idat.data()), static_cast<uLong>(idat.size())),
      Z_OK);
  ASSERT_EQ(raw_len, raw.size());
  auto black = [&](uint32_t x, uint32_t y) {
    unsigned char byte = static_cast<unsigned char>(raw[y * stride + 1 + x / 8]);
    return (byte & (0x80u >> (x % 8))) == 0;
  };
  for (uint32_t i = 0; i < dim; ++i) {
    EXPECT_FALSE(black(i, 0));  // quiet zone
    EXPECT_FALSE(black(0, i));
  }
  for (int y = 0; y < qr->size(); ++y) {
    for (int x = 0; x < qr->size(); ++x) {
      ASSERT_EQ(black(static_cast<uint32_t>((x + kQuietZone) * scale + 1),
                      static_cast<uint32_t>((y + kQuietZone) * scale + 1)),
                qr->dark(x, y));
    }
  }
  EXPECT_FALSE(qr_png(*qr, 0).is_ok());
}

TEST(Numeric, EncodesAndDecodesTheExampleQrText) {
  std::string jws = read_file(shc_data("examples/example-00-d-jws.txt"));
  auto text = to_shc_numeric(jws);
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(*text, read_file(shc_data("examples/example-00-f-qr-code-numeric-value-0.txt")));
  auto back = parse_shc_text(*text);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->jws_part, jws);
  EXPECT_EQ(back->total, 1);
  Reason why = Reason::kNone;
  EXPECT_FALSE(parse_shc_text("shc:/567", &why).is_ok());
  EXPECT_EQ(why, Reason::kMalformedNumeric);
  EXPECT_FALSE(parse_shc_text("shc:/78", &why).is_ok());
  EXPECT_EQ(why, Reason::kMalformedNumeric);
  EXPECT_FALSE(parse_shc_text("shc:/5a", &why).is_ok());
  EXPECT_EQ(why, Reason::kMalformedNumeric);
  EXPECT_FALSE(parse_shc_text("SHC:/56", &why).is_ok());
  EXPECT_EQ(why, Reason::kBadQrHeader);
  EXPECT_FALSE(parse_shc_text("shc:/0/2/56", &why).is_ok());
  EXPECT_EQ(why, Reason::kBadChunkHeader);
  EXPECT_TRUE(parse_shc_text("shc:/00").is_ok());  // '-'
  EXPECT_TRUE(parse_shc_text("shc:/77").is_ok());  // 'z'
  EXPECT_FALSE(to_shc_numeric("a b").is_ok());
}

TEST(Numeric, AgreesWithAPairAtATimeDecoderOnRandomText) {
  // parse_shc_text decodes sixteen or eight digits at a time; a pair at a time is the plain
  // reading of the spec. Both must give the same characters, or the same first defect.
  auto reference = [](std::string_view digits) -> Result<std::string> {
    std::string out;
    for (std::size_t i = 0; i < digits.size(); i += 2) {
      const char a = digits[i], b = digits[i + 1];
      if (a < '0' || a > '9' || b < '0' || b > '9') {
        return invalid("non-digit at position " + std::to_string(5 + i));
      }
      const int v = (a - '0') * 10 + (b - '0');
      if (v > 77) {
        return invalid("digit pair " + std::to_string(v) + " at position " +
                       std::to_string(5 + i) + " is over 77");
      }
      out += static_cast<char>(v + 45);
    }
    return out;
  };
  const std::string pool = "0123456789012345670123456701234567: \x80\xff";  // no '/': headers
  for (int round = 0; round < 20000; ++round) {
    const std::string r = crypto::random_bytes(81);
    const std::size_t pairs = 1 + static_cast<unsigned char>(r[0]) % 40;
    std::string digits;
    for (std::size_t i = 0; i < 2 * pairs; ++i) {
      const auto pick = static_cast<unsigned char>(r[1 + i]);
      // Most texts are clean (pairs 00..77 only); some carry a defect anywhere.
      digits += round % 3 == 0 ? pool[pick % pool.size()] : static_cast<char>('0' + pick % 8);
    }
    SCOPED_TRACE(digits);
    auto got = parse_shc_text("shc:/" + digits);
    auto want = reference(digits);
    ASSERT_EQ(got.is_ok(), want.is_ok());
    if (want.is_ok()) {
      EXPECT_EQ(got->jws_part, *want);
    } else {
      EXPECT_EQ(got.error().message(), want.error().message());
    }
  }
}

TEST(Deflate, RoundTripsRefusesZlibAndCapsOutput) {
  std::string data(10000, 'x');
  auto d = deflate_raw(data);
  ASSERT_TRUE(d.is_ok());
  auto back = inflate_raw(*d);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, data);
  // A zip bomb in miniature: 10 kB out of a few bytes, refused under a 1 kB cap.
  auto capped = inflate_raw(*d, 1000);
  ASSERT_FALSE(capped.is_ok());
  EXPECT_EQ(capped.error().code(), Code::kTooLarge);
  // zlib-wrapped data is not raw DEFLATE.
  uLongf n = compressBound(static_cast<uLong>(data.size()));
  std::string z(n, '\0');
  ASSERT_EQ(compress(reinterpret_cast<Bytef*>(z.data()), &n,
                     reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size())),
            Z_OK);
  z.resize(n);
  EXPECT_FALSE(inflate_raw(z).is_ok());
  EXPECT_TRUE(inflate_zlib(z).is_ok());
  // Truncated and trailing garbage.
  EXPECT_FALSE(inflate_raw(d->substr(0, d->size() - 2)).is_ok());
  EXPECT_FALSE(inflate_raw(*d + "junk").is_ok());
  EXPECT_FALSE(inflate_raw("").is_ok());
}

TEST(Deflate, CapIsExactAndMessagesNameTheDefect) {
  // The output buffer grows from a guess; the cap must still be exact at every size, whether the
  // stream needs one inflate call or several.
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1023}, std::size_t{1024},
                           std::size_t{5000}, std::size_t{300000}}) {
    SCOPED_TRACE(size);
    // Incompressible bytes (a 1:1 stream, past the 4x guess only by its own size) and a highly
    // compressible run (far past the guess).
    for (const std::string& data : {crypto::random_bytes(size), std::string(size, 'x')}) {
      auto d = deflate_raw(data);
      ASSERT_TRUE(d.is_ok());
      auto exact = inflate_raw(*d, data.size());
      ASSERT_TRUE(exact.is_ok()) << exact.error().message();
      EXPECT_EQ(*exact, data);
      if (!data.empty()) {
        auto over = inflate_raw(*d, data.size() - 1);
        ASSERT_FALSE(over.is_ok());
        EXPECT_EQ(over.error().code(), Code::kTooLarge);
        EXPECT_EQ(over.error().message(), "raw inflate output exceeds the limit of " +
                                              std::to_string(data.size() - 1) + " bytes");
      }
    }
  }
  auto d = deflate_raw(std::string(10000, 'x') + crypto::random_bytes(3000));
  ASSERT_TRUE(d.is_ok());
  auto truncated = inflate_raw(d->substr(0, d->size() - 2));
  ASSERT_FALSE(truncated.is_ok());
  EXPECT_EQ(truncated.error().message(), "raw inflate data is truncated");
  auto trailing = inflate_raw(*d + "junk");
  ASSERT_FALSE(trailing.is_ok());
  EXPECT_EQ(trailing.error().message(), "raw inflate data has trailing bytes");
  auto corrupt = inflate_raw("\xff\xff\xff");
  ASSERT_FALSE(corrupt.is_ok());
  EXPECT_EQ(corrupt.error().message(), "raw inflate failed: invalid block type");
}

TEST(HealthCard, IssuerUrlsAreHttpsOrLoopback) {
  EXPECT_TRUE(valid_issuer_url("https://healthbook.example/issuers/01001"));
  EXPECT_TRUE(valid_issuer_url("http://localhost:8080/issuers/01001"));
  EXPECT_TRUE(valid_issuer_url("http://127.0.0.1:41234/issuers/01001"));
  EXPECT_FALSE(valid_issuer_url("http://healthbook.example/issuers/01001"));
  EXPECT_FALSE(valid_issuer_url("http://localhost.evil.example/issuers/01001"));
  EXPECT_FALSE(valid_issuer_url("https://healthbook.example/issuers/01001/"));
}

}  // namespace
}  // namespace hb::documents
