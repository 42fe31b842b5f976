#include "documents/shlink.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/text.h"
#include "crypto/encoding.h"
#include "documents/test_util.h"

namespace hb::documents {
namespace {

using testing::read_file;
using testing::shc_data;

// The published sample links (tests/data/shc/shl), with the JWE files they unlock.
TEST(ShLink, DecodesThePublishedSamples) {
  auto p = decode_shlink(read_file(shc_data("shl/shlink-link.txt")));
  ASSERT_TRUE(p.is_ok()) << p.error().to_string();
  EXPECT_EQ(p->to_json(), Json::parse(read_file(shc_data("shl/shlink-payload.txt"))));
  EXPECT_TRUE(p->passcode());
  EXPECT_FALSE(p->direct());
  EXPECT_EQ(p->label, "Sample Set 1");
  EXPECT_EQ(p->exp, 1704096000);

  auto viewer = decode_shlink(read_file(shc_data("shl/shlink-link-with-viewer.txt")));
  ASSERT_TRUE(viewer.is_ok());
  EXPECT_EQ(viewer->to_json(), p->to_json());

  auto direct = decode_shlink(read_file(shc_data("shl/shlink-link-direct.txt")));
  ASSERT_TRUE(direct.is_ok()) << direct.error().to_string();
  Json expected = Json::parse(read_file(shc_data("shl/shlink-payload-direct.txt")));
  expected["v"] = 1;  // the link carries "v":1; the decoded sample file leaves it out
  EXPECT_EQ(direct->to_json(), expected);
  EXPECT_TRUE(direct->direct());
}

TEST(ShLink, DecryptsTheSampleFilesWithTheLinkKey) {
  for (const char* name : {"shl/ERn18l4lL3_5yPXMSzx3ZejyMM_XIeWeseXa3DXsJD0.json",
                           "shl/jvb42XYZTjY2BTZ2mcL6nozbTFT8Vs5G2_I-_IuxCZo.json"}) {
    SCOPED_TRACE(name);
    Json sample = Json::parse(read_file(shc_data(name)));
    auto link = decode_shlink(sample["link"].get<std::string>());
    ASSERT_TRUE(link.is_ok());
    ASSERT_FALSE(sample["jweFiles"].empty());
    for (const Json& jwe : sample["jweFiles"]) {
      auto file = decrypt_shl_file(link->key, jwe.get<std::string>());
      ASSERT_TRUE(file.is_ok()) << file.error().to_string();
      auto content = parse_json(file->plaintext);
      ASSERT_TRUE(content.is_ok());
      EXPECT_TRUE(content->contains("verifiableCredential") || content->contains("resourceType"))
          << file->plaintext.substr(0, 80);
      // Another key, or a flipped ciphertext character, fails the tag check.
      EXPECT_FALSE(decrypt_shl_file(new_shl_key(), jwe.get<std::string>()).is_ok());
      std::string bad = jwe.get<std::string>();
      std::size_t at = bad.rfind('.') - 3;
      bad[at] = bad[at] == 'A' ? 'B' : 'A';
      EXPECT_FALSE(decrypt_shl_file(link->key, bad).is_ok());
    }
  }
}

TEST(ShLink, ParsesTheSampleManifestAndFileEntry) {
  auto m = ShlManifest::from_json(Json::parse(read_file(shc_data("shl/shlink-manifest.txt"))));
  ASSERT_TRUE(m.is_ok()) << m.error().to_string();
  ASSERT_EQ(m->files.size(), 2u);
  EXPECT_EQ(m->files[0].content_type, kContentTypeHealthCard);
  EXPECT_TRUE(m->files[0].location.has_value());
  EXPECT_EQ(m->to_json(), Json::parse(read_file(shc_data("shl/shlink-manifest.txt"))));
  auto f =
      ShlManifestFile::from_json(Json::parse(read_file(shc_data("shl/shlink-manifest-file.txt"))));
  ASSERT_TRUE(f.is_ok());

  EXPECT_FALSE(
      ShlManifestFile::from_json({{"contentType", "text/plain"}, {"embedded", "x"}}).is_ok());
  EXPECT_FALSE(ShlManifestFile::from_json({{"contentType", "application/fhir+json"}}).is_ok());
  EXPECT_FALSE(
      ShlManifestFile::from_json(
          {{"contentType", "application/fhir+json"}, {"embedded", "x"}, {"location", "https://a"}})
          .is_ok());
}

// HL7 STU1 names a FHIR file "application/fhir+json;fhirVersion=4.0.1": the media type decides
// whether the entry is known, and the parameters stay as they were sent.
TEST(ShLink, AManifestFileTypeMayCarryParameters) {
  EXPECT_EQ(media_type("application/fhir+json;fhirVersion=4.0.1"), kContentTypeFhir);
  EXPECT_EQ(media_type(" Application/FHIR+json ; fhirVersion=4.0.1"), kContentTypeFhir);
  EXPECT_EQ(media_type(kContentTypeHealthCard), kContentTypeHealthCard);
  auto f = ShlManifestFile::from_json(
      {{"contentType", std::string(kContentTypeFhirR4)}, {"embedded", "a.b.c.d.e"}});
  ASSERT_TRUE(f.is_ok()) << f.error().to_string();
  EXPECT_EQ(f->content_type, kContentTypeFhirR4);
  EXPECT_EQ(f->to_json()["contentType"], kContentTypeFhirR4);
  EXPECT_FALSE(ShlManifestFile::from_json(
                   {{"contentType", "application/fhir+jsonx;fhirVersion=4.0.1"}, {"embedded", "x"}})
                   .is_ok());
  EXPECT_FALSE(
      ShlManifestFile::from_json({{"contentType", ";application/fhir+json"}, {"embedded", "x"}})
          .is_ok());
}

TEST(ShLink, ManifestRequestRoundTrips) {
  ShlManifestRequest r{"Example Clinic", "1234", 4096};
  Json j = r.to_json();
  EXPECT_EQ(
      j,
      Json({{"recipient", "Example Clinic"}, {"passcode", "1234"}, {"embeddedLengthMax", 4096}}));
  auto back = ShlManifestRequest::from_json(j);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->passcode, "1234");
  EXPECT_FALSE(ShlManifestRequest::from_json({{"passcode", "1"}}).is_ok());
  EXPECT_FALSE(
      ShlManifestRequest::from_json({{"recipient", "x"}, {"embeddedLengthMax", -1}}).is_ok());
}

TEST(ShLink, EncodesAndRefusesWhatTheSpecForbids) {
  ShlPayload p;
  p.url = "https://shl.healthbook.example/m/" + new_shl_key();
  p.key = new_shl_key();
  p.flag = "LP";
  p.label = "Medical certificate, 20-22 Nov";
  p.exp = 1'800'000'000;
  auto link = encode_shlink(p);
  ASSERT_TRUE(link.is_ok()) << link.error().to_string();
  EXPECT_TRUE(link->starts_with("shlink:/eyJ"));
  auto back = decode_shlink(*link);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->to_json(), p.to_json());
  auto viewer = encode_shlink_with_viewer("https://viewer.healthbook.example/", p);
  ASSERT_TRUE(viewer.is_ok());
  EXPECT_TRUE(viewer->starts_with("https://viewer.healthbook.example/#shlink:/"));
  EXPECT_TRUE(decode_shlink(*viewer).is_ok());

  auto refused = [](ShlPayload q) { return !encode_shlink(q).is_ok(); };
  ShlPayload q = p;
  q.flag = "PU";
  EXPECT_TRUE(refused(q));  // U with P
  q.flag = "PL";
  EXPECT_TRUE(refused(q));  // not alphabetical
  q.flag = "X";
  EXPECT_TRUE(refused(q));  // we issue only L, P, U
  q = p;
  q.label = std::string(81, 'a');
  EXPECT_TRUE(refused(q));
  q.label = std::string(80, 'a');
  EXPECT_FALSE(refused(q));
  q = p;
  q.key = p.key.substr(1);
  EXPECT_TRUE(refused(q));
  q = p;
  q.url = "http://shl.example/m";
  EXPECT_TRUE(refused(q));
  q.url = "https://shl.example/" + std::string(120, 'm');
  EXPECT_TRUE(refused(q));

  // Receivers ignore unknown flags but refuse other versions and malformed links.
  auto with = [&](Json j) {
    return decode_shlink("shlink:/" + crypto::base64url_encode(dump_json(j)));
  };
  Json base = p.to_json();
  Json j = base;
  j["flag"] = "LPZ";
  EXPECT_TRUE(with(j).is_ok());
  j = base;
  j["v"] = 2;
  EXPECT_FALSE(with(j).is_ok());
  j = base;
  j.erase("key");
  EXPECT_FALSE(with(j).is_ok());
  EXPECT_FALSE(decode_shlink(" " + *link).is_ok());
  EXPECT_FALSE(decode_shlink("shlink:/not base64").is_ok());
  EXPECT_FALSE(decode_shlink("https://viewer.example/#other:/x").is_ok());
}

TEST(ShLink, JweRoundTripsWithAndWithoutCompression) {
  const std::string key = new_shl_key();
  const std::string body = R"({"verifiableCredential":["eyJ..."]})";
  for (bool zip : {false, true}) {
    auto jwe = encrypt_shl_file(key, body, kContentTypeHealthCard, zip);
    ASSERT_TRUE(jwe.is_ok());
    EXPECT_EQ(std::count(jwe->begin(), jwe->end(), '.'), 4);
    EXPECT_NE(jwe->find(".."), std::string::npos);  // empty encrypted key for "dir"
    auto file = decrypt_shl_file(key, *jwe);
    ASSERT_TRUE(file.is_ok()) << file.error().to_string();
    EXPECT_EQ(file->plaintext, body);
    EXPECT_EQ(file->content_type, kContentTypeHealthCard);
    // The header is authenticated: swapping it for another valid header fails.
    std::string other_header = crypto::base64url_encode(R"({"alg":"dir","enc":"A256GCM"})");
    std::string swapped = other_header + jwe->substr(jwe->find('.'));
    EXPECT_FALSE(decrypt_shl_file(key, swapped).is_ok());
  }
  EXPECT_FALSE(decrypt_shl_file(key, "a.b.c.d").is_ok());
  EXPECT_FALSE(decrypt_shl_file(key, "a.b.c.d.e.f").is_ok());
  std::string rsa_header = crypto::base64url_encode(R"({"alg":"RSA-OAEP","enc":"A256GCM"})");
  EXPECT_FALSE(
      decrypt_shl_file(key, rsa_header + "..AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA").is_ok());
}

}  // namespace
}  // namespace hb::documents
