// Verifiable documents against the real binary: a facility issues a medical certificate through
// the JSON API; the card verifies, its issuer keys are published, it is in the transparency log,
// and the patient's record holds it as FHIR.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include "crypto/encoding.h"
#include "harness.h"

namespace hb::test {
namespace {

const std::vector<std::string> kJson = {"Content-Type: application/json"};

Json mc_request(const std::string& ref, const std::string& to = "2026-11-22") {
  return {{"documentId", ref},
          {"kind", "mc-outpatient"},
          {"patient", {{"nationalId", "079201001234"}, {"family", "Nguyen"}, {"given", "Thi Mai"},
                       {"birthDate", "1990-04-12"}, {"phone", "+84901234567"}}},
          {"doctor", {{"name", "Dr. Tran Van Binh"}, {"registration", "MCR-12345"}}},
          {"leave", {{"from", "2026-11-20"}, {"to", to}}},
          {"diagnosis", {{"text", "Acute upper respiratory infection"}, {"code", "J06.9"},
                         {"system", "http://hl7.org/fhir/sid/icd-10"}}}};
}

class Documents : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Server>();
    server_->add_facility("01001", "Bach Mai Hospital", "public-hospital");
    server_->add_facility("79002", "Cho Ray Hospital", "public-hospital");
    a_ = server_->token(server_->add_client("01001"));
    b_ = server_->token(server_->add_client("79002"));
  }
  HttpResponse issue(const Json& req, const std::string& token) {
    return server_->send("POST", "/api/v1/documents", token, req.dump(), kJson);
  }
  HttpResponse verify(const std::string& card) {
    return server_->send("POST", "/api/v1/verify", "", Json{{"card", card}}.dump(), kJson);
  }
  std::unique_ptr<Server> server_;
  std::string a_, b_;
};

TEST_F(Documents, IssueVerifyAndFindInTheRecordAndTheLog) {
  auto r = issue(mc_request("MC-0001"), a_);
  ASSERT_EQ(r.status, 201) << r.body;
  Json doc = Json::parse(r.body);
  EXPECT_EQ(doc["status"], "active");
  EXPECT_EQ(doc["issuer"], server_->base() + "/issuers/01001");
  const std::string qr = doc["card"]["qr"];
  ASSERT_EQ(qr.rfind("shc:/", 0), 0u);
  EXPECT_EQ(doc["transparencyLog"]["index"], 0);
  EXPECT_NE(doc["transparencyLog"]["receipt"].get<std::string>().find("c2sp.org/tlog-proof"), std::string::npos);

  // The issuer's key is published under its kid (the RFC 7638 thumbprint), with an empty CRL.
  auto jwks = server_->get("/issuers/01001/.well-known/jwks.json", "");
  ASSERT_EQ(jwks.status, 200) << jwks.body;
  Json keys = Json::parse(jwks.body)["keys"];
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0]["alg"], "ES256");
  EXPECT_FALSE(keys[0].contains("d"));
  const std::string kid = keys[0]["kid"];
  auto crl = server_->get("/issuers/01001/.well-known/crl/" + kid + ".json", "");
  ASSERT_EQ(crl.status, 200) << crl.body;
  EXPECT_EQ(Json::parse(crl.body)["rids"], Json::array());
  EXPECT_EQ(server_->get("/issuers/79002/.well-known/jwks.json", "").body, R"({"keys":[]})");
  EXPECT_EQ(server_->get("/issuers/99999/.well-known/jwks.json", "").status, 404);

  // Anyone can verify it: the QR text, or the JWS.
  auto v = verify(qr);
  ASSERT_EQ(v.status, 200) << v.body;
  Json verdict = Json::parse(v.body);
  EXPECT_EQ(verdict["outcome"], "valid") << v.body;
  EXPECT_EQ(verdict["issuer"]["name"], "Bach Mai Hospital");
  EXPECT_EQ(verdict["document"]["kind"], "mc-outpatient");
  std::string bundle = verdict["fhirBundle"].dump();
  EXPECT_NE(bundle.find("Nguyen"), std::string::npos);
  EXPECT_EQ(bundle.find("J06.9"), std::string::npos) << "the card carries no diagnosis";
  EXPECT_EQ(bundle.find("079201001234"), std::string::npos) << "nor the national id";
  EXPECT_EQ(Json::parse(verify(doc["card"]["jws"]).body)["outcome"], "valid");
  // And as a .smart-health-card file's text, pasted as saved: pretty-printed, ending with a
  // newline.
  const Json file = {{"verifiableCredential", Json::array({doc["card"]["jws"]})}};
  for (const std::string& text : {file.dump() + "\n", file.dump(2) + "\n"}) {
    auto pasted = verify(text);
    EXPECT_EQ(Json::parse(pasted.body)["outcome"], "valid") << pasted.body;
  }

  // Altered: one digit of the QR changed.
  std::string altered = qr;
  altered[altered.size() - 10] = altered[altered.size() - 10] == '1' ? '2' : '1';
  Json bad = Json::parse(verify(altered).body);
  EXPECT_EQ(bad["outcome"], "invalid") << bad.dump();
  EXPECT_FALSE(bad["reason"].get<std::string>().empty());
  EXPECT_FALSE(bad.contains("fhirBundle")) << "an altered card's claims are not shown";
  EXPECT_EQ(verify("not a card").status, 200);
  EXPECT_EQ(Json::parse(verify("not a card").body)["outcome"], "invalid");
  EXPECT_EQ(server_->send("POST", "/api/v1/verify", "", "[]", kJson).status, 400);

  // The patient's record holds the document, found by the facility's own id.
  auto found = server_->get("/fhir/DocumentReference?identifier=urn:healthbook:document:01001%7CMC-0001", a_);
  ASSERT_EQ(found.status, 200) << found.body;
  Json entries = Json::parse(found.body)["entry"];
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ("DocumentReference/" + entries[0]["resource"]["id"].get<std::string>(), doc["documentReference"]);
  EXPECT_EQ(entries[0]["resource"]["context"]["period"]["end"], "2026-11-22");

  // The log holds one entry and verifies.
  auto checkpoint = server_->get("/log/checkpoint", "");
  EXPECT_NE(checkpoint.body.find("/log\n1\n"), std::string::npos) << checkpoint.body;
  auto verified = run_healthbook({"log", "verify", server_->base() + "/log", "--vkey",
                                  server_->data_dir() + "/keys/log.vkey"});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_NE(verified.out.find("1 entries"), std::string::npos) << verified.out;
}

// The C2SP tlog-tiles read API as a cache and a client see it.
TEST_F(Documents, TheLogServesItsObjectsAsTlogTilesSays) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(issue(mc_request("MC-LOG-" + std::to_string(i)), a_).status, 201);
  }
  auto checkpoint = server_->get("/log/checkpoint", "");
  ASSERT_NE(checkpoint.body.find("/log\n3\n"), std::string::npos) << checkpoint.body;
  EXPECT_EQ(checkpoint.headers["cache-control"], "no-cache");
  // Every tile path names its bytes for good, partial widths included.
  for (const char* path :
       {"/log/tile/0/000.p/3", "/log/tile/0/000.p/1", "/log/tile/entries/000.p/2"}) {
    auto r = server_->get(path, "");
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.headers["cache-control"], "public, max-age=31536000, immutable") << path;
    EXPECT_EQ(r.headers["content-type"], "application/octet-stream") << path;
  }
  EXPECT_EQ(server_->get("/log/tile/0/000.p/3", "").body.size(), 3u * 32);
  // Past the tree: a 404 that no cache keeps, since the object will exist.
  auto later = server_->get("/log/tile/0/000.p/4", "");
  EXPECT_EQ(later.status, 404);
  EXPECT_EQ(later.headers["cache-control"], "no-cache");
  // One spelling per object.
  EXPECT_EQ(server_->get("/log/tile%2F0%2F000.p%2F3", "").status, 404);
  EXPECT_EQ(server_->get("/log/tile/0/000.p/%33", "").status, 404);
  // Entry bundles are gzipped for a client that asks (and only then).
  auto plain = server_->get("/log/tile/entries/000.p/3", "");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.headers.count("content-encoding"), 0u);
  EXPECT_EQ(plain.headers["vary"], "Accept-Encoding");
  auto packed = server_->get("/log/tile/entries/000.p/3", "", {"Accept-Encoding: gzip"});
  ASSERT_EQ(packed.status, 200);
  EXPECT_EQ(packed.headers["content-encoding"], "gzip");
  EXPECT_EQ(gunzip(packed.body), plain.body);
  EXPECT_EQ(server_->get("/log/tile/entries/000.p/3", "", {"Accept-Encoding: gzip;q=0"}).body,
            plain.body);
  EXPECT_EQ(server_->get("/log/tile/0/000.p/3", "", {"Accept-Encoding: gzip"})
                .headers.count("content-encoding"),
            0u);
  // The verifier asks for gzip and reads the bundles through it.
  auto verified = run_healthbook({"log", "verify", server_->base() + "/log", "--vkey",
                                  server_->data_dir() + "/keys/log.vkey"});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_NE(verified.out.find("3 entries"), std::string::npos) << verified.out;
}

TEST_F(Documents, IssuingIsIdempotentByTheFacilitysDocumentId) {
  auto first = issue(mc_request("MC-0002"), a_);
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = issue(mc_request("MC-0002"), a_);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json::parse(again.body)["id"], Json::parse(first.body)["id"]);
  EXPECT_EQ(Json::parse(again.body)["card"], Json::parse(first.body)["card"]);
  auto changed = issue(mc_request("MC-0002", "2026-11-25"), a_);
  EXPECT_EQ(changed.status, 409) << changed.body;
  EXPECT_EQ(server_->get("/log/checkpoint", "").body.find("/log\n1\n") != std::string::npos, true)
      << "a repeated request adds nothing to the log";
  // Another facility may use the same document id for its own document.
  EXPECT_EQ(issue(mc_request("MC-0002"), b_).status, 201);
}

TEST_F(Documents, BadRequestsListEveryProblemAndWriteNothing) {
  Json req = mc_request("MC 3");
  req["kind"] = "mc-imaginary";
  req["patient"]["birthDate"] = "1990-02-30";
  req["patient"]["phone"] = "0901234567";
  req["leave"]["to"] = "2026-11-19";
  req["extra"] = true;
  auto r = issue(req, a_);
  ASSERT_EQ(r.status, 422) << r.body;
  Json p = Json::parse(r.body);
  std::set<std::string> paths;
  for (const auto& e : p["errors"]) paths.insert(e["path"]);
  for (const char* want : {"documentId", "kind", "patient.birthDate", "patient.phone", "extra"}) {
    EXPECT_TRUE(paths.count(want)) << want << " in " << r.body;
  }
  EXPECT_EQ(issue(Json::array(), a_).status, 400);
  EXPECT_EQ(server_->send("POST", "/api/v1/documents", a_, "{", kJson).status, 400);
  EXPECT_EQ(server_->send("POST", "/api/v1/documents", a_, mc_request("X").dump(),
                          {"Content-Type: text/plain"}).status, 415);
  EXPECT_EQ(issue(mc_request("MC-0004"), "not-a-token").status, 401);
  EXPECT_NE(server_->get("/log/checkpoint", "").body.find("/log\n0\n"), std::string::npos);
}

TEST_F(Documents, AFacilitySeesOnlyItsOwnDocuments) {
  ASSERT_EQ(issue(mc_request("MC-0005"), a_).status, 201);
  auto mine = server_->get("/api/v1/documents/MC-0005", a_);
  EXPECT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(Json::parse(mine.body)["status"], "active");
  EXPECT_EQ(server_->get("/api/v1/documents/MC-0005", b_).status, 404);
  // Without the create scope on DocumentReference, no issuing.
  auto reader = server_->token(server_->add_client("01001", crypto::KeyType::kEcP384, "system/*.rs"), "system/*.rs");
  EXPECT_EQ(issue(mc_request("MC-0006"), reader).status, 403);
}

TEST_F(Documents, TheLinkUnlocksWithTheBirthDateAndRemembersTheBrowser) {
  auto r = issue(mc_request("MC-0007"), a_);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string link = Json::parse(r.body)["link"];
  ASSERT_EQ(link.rfind(server_->base() + "/c/", 0), 0u) << link;
  const std::string token = link.substr(link.rfind('/') + 1);
  EXPECT_GE(token.size(), 22u) << "at least 128 random bits";
  const std::string api = "/api/v1/links/" + token;

  auto locked = server_->get(api, "");
  EXPECT_EQ(locked.status, 401);
  auto wrong = server_->send("POST", api + "/unlock", "", R"({"birthDate":"1990-04-13"})", kJson);
  auto unknown = server_->send("POST", "/api/v1/links/AAAAAAAAAAAAAAAAAAAAAAAA/unlock", "",
                               R"({"birthDate":"1990-04-13"})", kJson);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body, unknown.body) << "an unknown link and a wrong birth date look the same";
  EXPECT_EQ(Json::parse(wrong.body)["remainingAttempts"], 4);

  auto right = server_->send("POST", api + "/unlock", "", R"({"birthDate":"1990-04-12"})", kJson);
  ASSERT_EQ(right.status, 200) << right.body;
  std::string cookie = right.headers["set-cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("Path=" + api), std::string::npos);
  EXPECT_NE(cookie.find("Max-Age=604800"), std::string::npos);
  Json view = Json::parse(right.body);
  EXPECT_EQ(view["facility"]["name"], "Bach Mai Hospital");
  EXPECT_EQ(view["patient"]["name"], "Nguyen Thi Mai")
      << "written family first (patients.name_order)";
  EXPECT_FALSE(view.contains("diagnosis"));
  const std::string device = cookie.substr(0, cookie.find(';'));
  auto remembered = server_->get(api, "", {"Cookie: " + device});
  EXPECT_EQ(remembered.status, 200) << remembered.body;
  // Only the patient, signed in, may show the diagnosis: not whoever holds the link.
  auto shown = server_->send("POST", api + "/preferences", "", R"({"showDiagnosis":true})",
                             {"Content-Type: application/json", "Cookie: " + device});
  EXPECT_EQ(shown.status, 403) << shown.body;
  EXPECT_FALSE(Json::parse(server_->get(api, "", {"Cookie: " + device}).body).contains("diagnosis"));
  EXPECT_EQ(server_->send("POST", api + "/unlock", "", "{}", kJson).status, 400);
}

// The link as a SMART Health Link, over HTTP: every wrong passcode is 401 with remainingAttempts,
// the passcodes left before the link is disabled (the spec's meaning), the fifth of an hour and
// the twentieth too; while the hour's lock holds, 429 with Retry-After; once disabled, 404. An
// unknown link answers every one of these the same.
TEST_F(Documents, ASmartHealthLinkViewerIsToldThePasscodesLeftBeforeTheLinkIsDisabled) {
  server_ =
      std::make_unique<Server>(std::vector<std::string>{"HEALTHBOOK_TESTING_CLOCK_CONTROL=1"});
  server_->add_facility("01001", "Bach Mai Hospital", "public-hospital");
  auto r = issue(mc_request("MC-0008"), server_->token(server_->add_client("01001")));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string link = Json::parse(r.body)["link"];
  const std::string token = link.substr(link.rfind('/') + 1);
  auto ask = [&](const std::string& t, const std::string& passcode) {
    return server_->send("POST", "/shl/" + t, "",
                         Json{{"recipient", "Dr. Other"}, {"passcode", passcode}}.dump(), kJson);
  };
  const std::string unknown(43, 'D');
  for (int wrong = 1; wrong <= 20; ++wrong) {
    auto real = ask(token, "2000-01-01");
    auto fake = ask(unknown, "2000-01-01");
    EXPECT_EQ(real.status, 401) << "wrong passcode " << wrong << ": " << real.body;
    EXPECT_EQ(real.json()["remainingAttempts"], 20 - wrong) << real.body;
    EXPECT_EQ(real.body, fake.body) << "an unknown link and a wrong passcode look the same";
    if (wrong % 5 == 0 && wrong < 20) {
      auto locked = ask(token, "1990-04-12");
      EXPECT_EQ(locked.status, 429) << locked.body;
      const int retry_after = std::atoi(locked.headers["retry-after"].c_str());
      EXPECT_GE(retry_after, 3500) << locked.headers["retry-after"];
      EXPECT_LE(retry_after, 3601);
      EXPECT_EQ(locked.json()["retryAfter"], retry_after);
      EXPECT_FALSE(locked.json().contains("remainingAttempts"));
      // The same for the unknown link, but for the seconds that passed between the two.
      Json locked_body = locked.json(), unknown_body = ask(unknown, "1990-04-12").json();
      locked_body.erase("retryAfter");
      unknown_body.erase("retryAfter");
      EXPECT_EQ(locked_body, unknown_body);
      auto moved = http("POST", server_->base() + "/api/test/clock",
                        Json{{"advanceSeconds", 3601}}.dump(), kJson);
      ASSERT_EQ(moved.status, 200) << moved.body;
    }
  }
  auto ended = ask(token, "1990-04-12");
  EXPECT_EQ(ended.status, 404) << ended.body;
  EXPECT_EQ(ended.body, ask(unknown, "1990-04-12").body);
}

TEST_F(Documents, OnlyTheIssuerRevokesOrReplacesAndVerifiersSeeIt) {
  auto issued = issue(mc_request("MC-0010"), a_);
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string qr = Json::parse(issued.body)["card"]["qr"];
  const std::string reason = R"({"reason":"issued to the wrong patient"})";
  EXPECT_EQ(server_->send("POST", "/api/v1/documents/MC-0010/revoke", b_, reason, kJson).status, 404)
      << "another facility cannot revoke it";
  EXPECT_EQ(server_->send("POST", "/api/v1/documents/MC-0010/revoke", a_, "{}", kJson).status, 422);
  auto revoked = server_->send("POST", "/api/v1/documents/MC-0010/revoke", a_, reason, kJson);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(Json::parse(revoked.body)["status"], "revoked");
  Json verdict = Json::parse(verify(qr).body);
  EXPECT_EQ(verdict["outcome"], "revoked") << verdict.dump();
  const std::string kid = Json::parse(server_->get("/issuers/01001/.well-known/jwks.json", "").body)["keys"][0]["kid"];
  Json crl = Json::parse(server_->get("/issuers/01001/.well-known/crl/" + kid + ".json", "").body);
  EXPECT_EQ(crl["rids"].size(), 1u);
  EXPECT_EQ(crl["ctr"], 2);
  EXPECT_NE(server_->get("/log/checkpoint", "").body.find("/log\n2\n"), std::string::npos) << "issue + revoke";

  // Replacement: the old card verifies as superseded, and its link leads to the new document.
  auto first = issue(mc_request("MC-0011"), a_);
  ASSERT_EQ(first.status, 201);
  Json replacement = mc_request("MC-0012", "2026-11-26");
  replacement["replaces"] = "MC-0011";
  auto second = issue(replacement, a_);
  ASSERT_EQ(second.status, 201) << second.body;
  Json old_verdict = Json::parse(verify(Json::parse(first.body)["card"]["qr"]).body);
  EXPECT_EQ(old_verdict["outcome"], "superseded") << old_verdict.dump();
  EXPECT_EQ(Json::parse(verify(Json::parse(second.body)["card"]["qr"]).body)["outcome"], "valid");
  const std::string link = Json::parse(first.body)["link"];
  const std::string api = "/api/v1/links/" + link.substr(link.rfind('/') + 1);
  auto open = server_->send("POST", api + "/unlock", "", R"({"birthDate":"1990-04-12"})", kJson);
  ASSERT_EQ(open.status, 200) << open.body;
  EXPECT_EQ(Json::parse(open.body)["status"], "superseded");
  const std::string cookie = open.headers["set-cookie"].substr(0, open.headers["set-cookie"].find(';'));
  auto latest = server_->get(api + "?latest", "", {"Cookie: " + cookie});
  ASSERT_EQ(latest.status, 200) << latest.body;
  EXPECT_EQ(Json::parse(latest.body)["status"], "active");
  EXPECT_EQ(Json::parse(latest.body)["leave"]["to"], "2026-11-26");
  replacement["documentId"] = "MC-0013";
  EXPECT_EQ(issue(replacement, a_).status, 422) << "an already replaced document cannot be replaced again";
  // The replacement's SMS says it replaces an earlier document (and nothing of its content).
  const std::string new_link = Json::parse(second.body)["link"];
  std::string replacement_sms;
  for (int i = 0; i < 200 && replacement_sms.empty(); ++i) {
    std::ifstream in(server_->data_dir() + "/notify-sms.jsonl");
    for (std::string line; std::getline(in, line);) {
      const std::string text = Json::parse(line)["text"];
      if (text.find(new_link) != std::string::npos) replacement_sms = text;
    }
    if (replacement_sms.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(replacement_sms.find("replaces an earlier one"), std::string::npos) << replacement_sms;
  EXPECT_EQ(replacement_sms.find("2026-11-26"), std::string::npos) << replacement_sms;

  // The patient's record follows: the revoked document is entered in error, the replaced one
  // superseded, and its replacement says what it replaces.
  auto record = [&](const std::string& ref) {
    auto found = server_->get("/fhir/DocumentReference?identifier=urn:healthbook:document:01001%7C" + ref, a_);
    EXPECT_EQ(found.status, 200) << found.body;
    Json entries = Json::parse(found.body)["entry"];
    return entries.size() == 1 ? entries[0]["resource"] : Json();
  };
  Json revoked_record = record("MC-0010");
  EXPECT_EQ(revoked_record["status"], "entered-in-error");
  Json replaced_record = record("MC-0011");
  EXPECT_EQ(replaced_record["status"], "superseded");
  Json new_record = record("MC-0012");
  EXPECT_EQ(new_record["status"], "current");
  EXPECT_EQ(new_record["relatesTo"][0]["code"], "replaces");
  EXPECT_EQ(new_record["relatesTo"][0]["target"]["reference"],
            "DocumentReference/" + replaced_record["id"].get<std::string>());

  // Nobody changes such a record over FHIR, not even the issuer: the change would not reach the
  // transparency log or the card's verifiers.
  const std::string fhir_json = "Content-Type: application/fhir+json";
  Json edited = new_record;
  edited["context"]["period"]["end"] = "2026-12-31";
  auto put = server_->send("PUT", "/fhir/DocumentReference/" + new_record["id"].get<std::string>(), a_,
                           edited.dump(), {fhir_json});
  EXPECT_EQ(put.status, 422) << put.body;
  EXPECT_NE(put.body.find("OperationOutcome"), std::string::npos);
  EXPECT_EQ(server_->send("DELETE", "/fhir/DocumentReference/" + new_record["id"].get<std::string>(), a_, "", {}).status,
            422);
  EXPECT_EQ(record("MC-0012")["context"]["period"]["end"], "2026-11-26") << "unchanged";
  Json forged = new_record;
  forged.erase("id");
  forged.erase("meta");
  forged.erase("relatesTo");
  auto posted = server_->send("POST", "/fhir/DocumentReference", a_, forged.dump(), {fhir_json});
  EXPECT_EQ(posted.status, 422) << "the identifier system urn:healthbook:document is reserved: " << posted.body;
}

// The same verdicts offline: `healthbook verify` with the issuer directory the server publishes.
TEST_F(Documents, TheCommandLineVerifiesOfflineWithTheIssuerDirectory) {
  auto issued = issue(mc_request("MC-0020"), a_);
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string qr = Json::parse(issued.body)["card"]["qr"];
  auto dir = server_->get("/api/v1/issuers", "");
  ASSERT_EQ(dir.status, 200);
  const std::string dir_file = server_->data_dir() + "/issuers.json";
  std::ofstream(dir_file) << dir.body;
  auto ok = run_healthbook({"verify", qr, "--issuers", dir_file});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("valid: issued by Bach Mai Hospital"), std::string::npos) << ok.out;
  std::string altered = qr;
  altered[altered.size() - 7] = altered[altered.size() - 7] == '3' ? '4' : '3';
  auto bad = run_healthbook({"verify", altered, "--issuers", dir_file, "--json"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(Json::parse(bad.out)["outcome"], "invalid") << bad.out;
  const std::string examples = std::string(HB_SOURCE_DIR) + "/tests/data/shc/examples/";
  auto foreign = run_healthbook({"verify", examples + "example-00-e-file.smart-health-card", "--issuers", dir_file});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_NE(foreign.out.find("unknown_issuer"), std::string::npos) << foreign.out;
  // A replaced card, offline: superseded, as the server says, not merely revoked.
  auto first = issue(mc_request("MC-0021"), a_);
  ASSERT_EQ(first.status, 201);
  Json replacement = mc_request("MC-0022", "2026-11-26");
  replacement["replaces"] = "MC-0021";
  ASSERT_EQ(issue(replacement, a_).status, 201);
  ASSERT_EQ(server_->send("POST", "/api/v1/documents/MC-0020/revoke", a_, R"({"reason":"issued in error"})", kJson).status,
            200);
  auto later = server_->get("/api/v1/issuers", "");
  std::ofstream(dir_file) << later.body;
  auto superseded = run_healthbook({"verify", Json::parse(first.body)["card"]["qr"], "--issuers", dir_file, "--json"});
  EXPECT_EQ(superseded.exit_code, 1);
  EXPECT_EQ(Json::parse(superseded.out)["outcome"], "superseded") << superseded.out;
  auto revoked = run_healthbook({"verify", qr, "--issuers", dir_file});
  EXPECT_NE(revoked.out.find("revoked: issued by Bach Mai Hospital"), std::string::npos) << revoked.out;
  EXPECT_NE(run_healthbook({"verify", qr, "--issuers", "/nonexistent.json"}).exit_code, 0);
  EXPECT_NE(run_healthbook({"verify", qr}).exit_code, 0);
}

// The JWS with its ECDSA signature's other half, (r, n - s): it verifies as well as the card's own,
// and anyone can make it without the key. Worked out here byte by byte, apart from the library's.
std::string signature_twin(const std::string& jws) {
  static const unsigned char n[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00,
                                      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                      0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84,
                                      0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
  const std::size_t dot = jws.rfind('.');
  std::string sig = *crypto::base64url_decode(jws.substr(dot + 1));
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = n[i] - static_cast<unsigned char>(sig[32 + i]) - borrow;
    borrow = d < 0;
    sig[32 + i] = static_cast<char>(d + 256 * borrow);
  }
  return jws.substr(0, dot + 1) + crypto::base64url_encode(sig);
}

// POST /api/v1/verify and `healthbook verify --json`, with the directory the server publishes, give
// one verdict in one shape (the server adds only "document", its record of the card): for a card,
// its signature's twin, a replaced card and its twin, a revoked card. A replaced card's answer
// names no replacement: an id inside the server tells a verifier nothing.
TEST_F(Documents, TheApiAndTheCommandLineGiveTheSameVerdicts) {
  auto jws_of = [](const HttpResponse& r) {
    return Json::parse(r.body)["card"]["jws"].get<std::string>();
  };
  auto old = issue(mc_request("MC-0040"), a_);
  ASSERT_EQ(old.status, 201) << old.body;
  Json replacement = mc_request("MC-0041", "2026-11-26");
  replacement["replaces"] = "MC-0040";
  auto current = issue(replacement, a_);
  ASSERT_EQ(current.status, 201) << current.body;
  auto withdrawn = issue(mc_request("MC-0042"), a_);
  ASSERT_EQ(withdrawn.status, 201) << withdrawn.body;
  ASSERT_EQ(server_
                ->send("POST", "/api/v1/documents/MC-0042/revoke", a_,
                       R"({"reason":"issued in error"})", kJson)
                .status,
            200);
  auto dir = server_->get("/api/v1/issuers", "");
  ASSERT_EQ(dir.status, 200);
  const std::string dir_file = server_->data_dir() + "/issuers.json";
  std::ofstream(dir_file) << dir.body;
  const std::vector<std::pair<std::string, std::string>> cards = {
      {jws_of(current), "valid"},     {signature_twin(jws_of(current)), "valid"},
      {jws_of(old), "superseded"},    {signature_twin(jws_of(old)), "superseded"},
      {jws_of(withdrawn), "revoked"}, {signature_twin(jws_of(withdrawn)), "revoked"}};
  for (const auto& [jws, outcome] : cards) {
    SCOPED_TRACE(outcome + " " + jws.substr(jws.size() - 20));
    auto api = verify(jws);
    ASSERT_EQ(api.status, 200) << api.body;
    Json answer = Json::parse(api.body);
    EXPECT_EQ(answer["outcome"], outcome) << api.body;
    ASSERT_TRUE(answer.contains("document")) << api.body;
    EXPECT_FALSE(answer["document"].contains("supersededBy")) << api.body;
    EXPECT_EQ(api.body.find(Json::parse(current.body)["id"].get<std::string>()), std::string::npos)
        << "the replacement's id: " << api.body;
    answer.erase("document");
    auto cli = run_healthbook({"verify", jws, "--issuers", dir_file, "--json"});
    EXPECT_EQ(cli.exit_code, outcome == "valid" ? 0 : 1) << cli.out << cli.err;
    EXPECT_EQ(Json::parse(cli.out), answer);
    EXPECT_EQ(answer["issuer"],
              Json({{"iss", server_->base() + "/issuers/01001"}, {"name", "Bach Mai Hospital"}}));
    EXPECT_EQ(answer.contains("reason"), outcome == "revoked") << api.body;
    EXPECT_FALSE(answer.contains("warnings")) << api.body;
    EXPECT_EQ(answer["fhirBundle"]["resourceType"], "Bundle");
  }
}

// A file of cards one per line (what a batch of scans gives): one verdict per card with its line,
// and a total; exit 0 only when every card is valid.
TEST_F(Documents, TheCommandLineVerifiesAFileOfCardsOnePerLine) {
  std::vector<std::string> qrs;
  for (const char* id : {"MC-0030", "MC-0031"}) {
    auto issued = issue(mc_request(id), a_);
    ASSERT_EQ(issued.status, 201) << issued.body;
    qrs.push_back(Json::parse(issued.body)["card"]["qr"]);
  }
  auto dir = server_->get("/api/v1/issuers", "");
  ASSERT_EQ(dir.status, 200);
  const std::string dir_file = server_->data_dir() + "/issuers.json";
  std::ofstream(dir_file) << dir.body;
  const std::string good = server_->data_dir() + "/good.txt";
  std::ofstream(good) << qrs[0] << "\n\n" << qrs[1] << "\r\n";
  auto ok = run_healthbook({"verify", good, "--issuers", dir_file});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("line 1: valid: issued by Bach Mai Hospital\n"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("line 3: valid: issued by Bach Mai Hospital\n"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("2 cards: 2 valid, 0 invalid, 0 revoked"), std::string::npos) << ok.out;

  std::string altered = qrs[1];
  altered[altered.size() - 7] = altered[altered.size() - 7] == '3' ? '4' : '3';
  const std::string mixed = server_->data_dir() + "/mixed.txt";
  std::ofstream(mixed) << qrs[0] << "\n" << altered << "\n" << qrs[1] << "\n";
  auto some = run_healthbook({"verify", mixed, "--issuers", dir_file, "--json"});
  EXPECT_EQ(some.exit_code, 1) << some.out << some.err;
  Json verdicts = Json::parse(some.out);
  ASSERT_EQ(verdicts.size(), 3u) << some.out;
  EXPECT_EQ(verdicts[0]["outcome"], "valid");
  EXPECT_EQ(verdicts[1]["outcome"], "invalid");
  EXPECT_EQ(verdicts[1]["line"], 2);
  EXPECT_EQ(verdicts[2]["outcome"], "valid");
}

// Every kind of document: results (with the decimals kept as sent and flagged against their
// range), vaccinations, referrals and discharge summaries; each card verifies, and the record
// holds the FHIR resources.
TEST_F(Documents, ResultsVaccinationsReferralsAndDischargeSummaries) {
  auto with = [](Json req, const std::string& kind) {
    req.erase("leave");
    req.erase("diagnosis");
    req["kind"] = kind;
    return req;
  };
  Json lab = with(mc_request("LAB-1"), "lab-result");
  lab["results"] = Json::parse(R"([
    {"code": {"system": "http://loinc.org", "code": "2823-3", "display": "Potassium"}, "value": 5.40,
     "unit": "mmol/L", "low": 3.50, "high": 5.10, "effective": "2026-11-20T08:30:00+07:00"},
    {"code": {"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}, "value": 5.0,
     "unit": "mmol/L", "low": 3.9, "high": 5.5, "effective": "2026-11-20"}])");
  // A clinic's system sends 5.40, not 5.4: the JSON text is written out, since nlohmann would
  // drop the trailing zeros.
  std::string lab_body = lab.dump();
  const std::string results_text = lab["results"].dump();
  lab_body.replace(lab_body.find(results_text), results_text.size(), R"([
    {"code": {"system": "http://loinc.org", "code": "2823-3", "display": "Potassium"}, "value": 5.40,
     "unit": "mmol/L", "low": 3.50, "high": 5.10, "effective": "2026-11-20T08:30:00+07:00"},
    {"code": {"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}, "value": 5.0,
     "unit": "mmol/L", "low": 3.9, "high": 5.5, "effective": "2026-11-20"}])");
  auto r = server_->send("POST", "/api/v1/documents", a_, lab_body, kJson);
  ASSERT_EQ(r.status, 201) << r.body;
  Json verdict = Json::parse(verify(Json::parse(r.body)["card"]["qr"]).body);
  EXPECT_EQ(verdict["outcome"], "valid") << verdict.dump();
  auto obs = server_->get("/fhir/Observation?identifier=urn:healthbook:document:01001%7CLAB-1/0", a_);
  ASSERT_EQ(obs.status, 200);
  EXPECT_NE(obs.body.find("\"value\":5.40"), std::string::npos) << "5.40 stays 5.40: " << obs.body;
  EXPECT_NE(obs.body.find("\"code\":\"H\""), std::string::npos) << "flagged high";

  Json vax = with(mc_request("VAX-1"), "vaccination");
  vax["vaccine"] = {{"system", "http://hl7.org/fhir/sid/cvx"}, {"code", "207"}, {"display", "COVID-19, mRNA"}};
  vax["date"] = "2026-10-01";
  vax["lotNumber"] = "EW0182";
  vax["doseNumber"] = 2;
  r = issue(vax, a_);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json::parse(verify(Json::parse(r.body)["card"]["qr"]).body)["outcome"], "valid");
  EXPECT_EQ(server_->get("/fhir/Immunization?identifier=urn:healthbook:document:01001%7CVAX-1/0", a_).json()["entry"].size(), 1u);

  // Revoked, the lab result's Observations are entered in error too, not left as final results.
  ASSERT_EQ(server_->send("POST", "/api/v1/documents/LAB-1/revoke", a_, R"({"reason":"wrong sample"})", kJson).status,
            200);
  Json revoked_obs = server_->get("/fhir/Observation?identifier=urn:healthbook:document:01001%7CLAB-1/0", a_).json();
  ASSERT_EQ(revoked_obs["entry"].size(), 1u);
  EXPECT_EQ(revoked_obs["entry"][0]["resource"]["status"], "entered-in-error");
  EXPECT_EQ(server_->get("/fhir/Immunization?identifier=urn:healthbook:document:01001%7CVAX-1/0", a_)
                .json()["entry"][0]["resource"]["status"],
            "completed")
      << "another document's records are untouched";

  Json referral = with(mc_request("REF-1"), "referral");
  referral["referral"] = {{"to", "Cho Ray Hospital, cardiology"}, {"reason", "Chest pain on exertion"}, {"priority", "urgent"}};
  r = issue(referral, a_);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json::parse(verify(Json::parse(r.body)["card"]["qr"]).body)["outcome"], "valid");

  Json discharge = with(mc_request("DIS-1"), "discharge-summary");
  discharge["admission"] = {{"from", "2026-11-10"}, {"to", "2026-11-15"}};
  discharge["summary"] = "Admitted with community-acquired pneumonia; treated with antibiotics; discharged well.";
  r = issue(discharge, a_);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json::parse(verify(Json::parse(r.body)["card"]["qr"]).body)["outcome"], "valid");

  Json bad = with(mc_request("LAB-2"), "lab-result");
  bad["results"] = Json::array({{{"code", {{"system", "http://loinc.org"}}}, {"effective", "yesterday"}}});
  auto refused = issue(bad, a_);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("results[0].code.code"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("results[0].effective"), std::string::npos) << refused.body;
}

// A document too large for one QR code is issued all the same, shared by its link only (its
// SMART Health Link file is the FHIR Bundle), and its hash is in the log.
TEST_F(Documents, ADocumentTooLargeForAQrCodeGoesByLinkOnly) {
  Json discharge = mc_request("DIS-LONG");
  discharge.erase("leave");
  discharge.erase("diagnosis");
  discharge["kind"] = "discharge-summary";
  discharge["admission"] = {{"from", "2026-11-01"}, {"to", "2026-11-15"}};
  std::string summary;
  for (int i = 0; summary.size() < 3900; ++i) summary += "Day " + std::to_string(i) + ": observation and treatment notes. ";
  discharge["summary"] = summary.substr(0, 3900);
  auto r = issue(discharge, a_);
  ASSERT_EQ(r.status, 201) << r.body;
  Json doc = Json::parse(r.body);
  EXPECT_TRUE(doc["card"].is_null());
  EXPECT_EQ(doc["transparencyLog"]["index"], 0);
  EXPECT_EQ(server_->get("/api/v1/documents/DIS-LONG/qr.png", a_).status, 404);
  const std::string link = doc["link"];
  const std::string token = link.substr(link.rfind('/') + 1);
  auto manifest = server_->send("POST", "/shl/" + token, "", R"({"recipient":"Dr. Other","passcode":"1990-04-12"})", kJson);
  ASSERT_EQ(manifest.status, 200) << manifest.body;
  // HL7 STU1: the FHIR version as a parameter of the file's content type.
  EXPECT_EQ(Json::parse(manifest.body)["files"][0]["contentType"],
            "application/fhir+json;fhirVersion=4.0.1");
  auto view = server_->send("POST", "/api/v1/links/" + token + "/unlock", "", R"({"birthDate":"1990-04-12"})", kJson);
  ASSERT_EQ(view.status, 200) << view.body;
  EXPECT_EQ(Json::parse(view.body)["linkOnly"], true);
  EXPECT_EQ(Json::parse(view.body)["details"]["summary"].get<std::string>().size(), 3900u);
}

}  // namespace
}  // namespace hb::test

namespace hb::test {
namespace {

// Batch issuance: many documents in one request, each issued on its own terms.
class DocumentBatches : public Documents {
 protected:
  HttpResponse batch(const Json& documents, const std::string& token) {
    return server_->send("POST", "/api/v1/documents/batch", token,
                         Json{{"documents", documents}}.dump(), kJson);
  }
  static std::vector<int> statuses(const HttpResponse& r) {
    std::vector<int> out;
    const Json j = Json::parse(r.body);
    for (const auto& one : j["documents"]) out.push_back(one["status"]);
    return out;
  }
  std::string log_size() {
    const std::string cp = server_->get("/log/checkpoint", "").body;
    const size_t line = cp.find('\n');
    return cp.substr(line + 1, cp.find('\n', line + 1) - line - 1);
  }
  // The SMS lines of the development sink.
  std::vector<Json> sent_sms() {
    std::vector<Json> out;
    std::ifstream in(server_->data_dir() + "/notify-sms.jsonl");
    for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
    return out;
  }
};

TEST_F(DocumentBatches, EachDocumentIsIssuedOnItsOwnAndAnsweredInOrder) {
  Json binh = mc_request("MC-B2");
  binh["patient"] = {{"nationalId", "079201005678"},
                     {"family", "Tran"},
                     {"given", "Van Binh"},
                     {"birthDate", "1985-01-30"},
                     {"phone", "+84907654321"}};
  Json bad_phone = mc_request("MC-B9");
  bad_phone["patient"]["phone"] = "0901234567";
  Json second_for_mai = mc_request("MC-B3", "2026-11-23");
  const Json documents =
      Json::array({mc_request("MC-B1"), binh, bad_phone, mc_request("MC-B1"), second_for_mai});
  auto r = batch(documents, a_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(statuses(r), (std::vector<int>{201, 201, 422, 409, 201}));
  Json out = Json::parse(r.body)["documents"];
  EXPECT_EQ(out[2]["problem"]["errors"][0]["path"], "patient.phone") << out[2].dump();
  EXPECT_EQ(out[3]["problem"]["errors"][0]["path"], "documentId") << out[3].dump();
  // Two documents for one new patient: one Patient.
  EXPECT_EQ(out[0]["document"]["patient"], out[4]["document"]["patient"]);
  EXPECT_NE(out[0]["document"]["patient"], out[1]["document"]["patient"]);
  std::set<int64_t> indices;
  for (int i : {0, 1, 4}) {
    const Json& doc = out[i]["document"];
    EXPECT_EQ(doc["status"], "active");
    indices.insert(doc["transparencyLog"]["index"].get<int64_t>());
    EXPECT_NE(doc["transparencyLog"]["receipt"].get<std::string>().find("c2sp.org/tlog-proof"),
              std::string::npos);
    // Each card verifies, as a card issued alone does.
    Json verdict = Json::parse(verify(doc["card"]["qr"]).body);
    EXPECT_EQ(verdict["outcome"], "valid") << verdict.dump();
  }
  EXPECT_EQ(indices, (std::set<int64_t>{0, 1, 2}));
  EXPECT_EQ(log_size(), "3") << "the refused requests added nothing to the log";

  // Every document's SMS, with its own link and no health data, to its own patient.
  std::vector<Json> sms;
  for (int i = 0; i < 200 && (sms = sent_sms()).size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(sms.size(), 3u);
  std::multiset<std::string> to;
  for (const auto& m : sms) {
    to.insert(m["to"]);
    const std::string text = m["text"];
    EXPECT_EQ(text.find("Influenza"), std::string::npos);
    EXPECT_EQ(text.find("respiratory"), std::string::npos);
    bool names_a_link = false;
    for (int i : {0, 1, 4})
      names_a_link = names_a_link ||
                     text.find(out[i]["document"]["link"].get<std::string>()) != std::string::npos;
    EXPECT_TRUE(names_a_link) << text;
  }
  EXPECT_EQ(to, (std::multiset<std::string>{"+84901234567", "+84901234567", "+84907654321"}));

  // The patient's record holds both of Mai's documents.
  const std::string mai = out[0]["document"]["patient"];
  auto refs = server_->get("/fhir/DocumentReference?subject=" + mai, a_);
  ASSERT_EQ(refs.status, 200) << refs.body;
  const Json found = Json::parse(refs.body);
  EXPECT_EQ(found["entry"].size(), 2u) << refs.body;

  // The same batch again: the same documents (200), the same refusals, nothing new in the log.
  auto again = batch(documents, a_);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(statuses(again), (std::vector<int>{200, 200, 422, 409, 200}));
  EXPECT_EQ(Json::parse(again.body)["documents"][1]["document"]["id"], out[1]["document"]["id"]);
  EXPECT_EQ(log_size(), "3");
  // A document issued alone, then sent in a batch, is the same document.
  auto alone = issue(mc_request("MC-B4"), a_);
  ASSERT_EQ(alone.status, 201);
  Json changed = mc_request("MC-B1", "2026-11-30");
  auto mixed = batch(Json::array({mc_request("MC-B4"), changed}), a_);
  ASSERT_EQ(mixed.status, 200) << mixed.body;
  EXPECT_EQ(statuses(mixed), (std::vector<int>{200, 409}));
  EXPECT_EQ(Json::parse(mixed.body)["documents"][0]["document"]["id"],
            Json::parse(alone.body)["id"]);
}

TEST_F(DocumentBatches, AFacilityReplacesOnlyItsOwnDocumentsInABatch) {
  ASSERT_EQ(issue(mc_request("MC-C1"), a_).status, 201);
  Json theirs = mc_request("MC-C2", "2026-11-25");
  theirs["replaces"] = "MC-C1";
  // Facility B cannot replace A's document; its own MC-C1 is a document of its own.
  auto b = batch(Json::array({theirs, mc_request("MC-C1")}), b_);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(statuses(b), (std::vector<int>{422, 201}));
  EXPECT_EQ(server_->get("/api/v1/documents/MC-C1", a_).status, 200);
  EXPECT_EQ(Json::parse(server_->get("/api/v1/documents/MC-C1", a_).body)["status"], "active");
  // A replaces its own, in a batch, and a second replacement of the same document in the same
  // batch is refused.
  Json again = mc_request("MC-C3", "2026-11-26");
  again["replaces"] = "MC-C1";
  auto a = batch(Json::array({theirs, again}), a_);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(statuses(a)[0], 201) << a.body;
  EXPECT_NE(statuses(a)[1], 201) << a.body;
  EXPECT_EQ(Json::parse(server_->get("/api/v1/documents/MC-C1", a_).body)["status"], "superseded");
  EXPECT_EQ(server_->get("/api/v1/documents/MC-C3", a_).status, 404)
      << "the refused replacement was not stored";
}

TEST_F(DocumentBatches, ABadBatchIsRefusedWholeAndWritesNothing) {
  auto post = [&](const std::string& body, const std::string& token = "") {
    return server_->send("POST", "/api/v1/documents/batch", token.empty() ? a_ : token, body, kJson)
        .status;
  };
  EXPECT_EQ(post("{"), 400);
  EXPECT_EQ(post("[]"), 400);
  EXPECT_EQ(post("{}"), 400);
  EXPECT_EQ(post(R"({"documents": []})"), 400);
  EXPECT_EQ(post(R"({"documents": {}})"), 400);
  EXPECT_EQ(post(Json{{"documents", Json::array({mc_request("MC-D1")})}, {"extra", 1}}.dump()),
            400);
  Json many = Json::array();
  for (int i = 0; i < 1001; ++i) many.push_back(mc_request("MC-E" + std::to_string(i)));
  EXPECT_EQ(post(Json{{"documents", many}}.dump()), 413);
  EXPECT_EQ(server_
                ->send("POST", "/api/v1/documents/batch", a_,
                       Json{{"documents", Json::array()}}.dump(), {"Content-Type: text/plain"})
                .status,
            415);
  EXPECT_EQ(post(Json{{"documents", Json::array({mc_request("MC-D2")})}}.dump(), "not-a-token"),
            401);
  auto reader = server_->token(
      server_->add_client("01001", crypto::KeyType::kEcP384, "system/*.rs"), "system/*.rs");
  EXPECT_EQ(post(Json{{"documents", Json::array({mc_request("MC-D3")})}}.dump(), reader), 403);
  EXPECT_EQ(log_size(), "0");
  EXPECT_EQ(server_->get("/api/v1/documents/MC-E0", a_).status, 404);
}

}  // namespace
}  // namespace hb::test

namespace hb::test {
namespace {

// A person the book knows by their insurance number only, then two documents of one batch that
// bring their national id too: the first adds it to the Patient (a new version); the second,
// perhaps prepared against the version before, must not fail for it (the writer's side of this is
// SpeculationTest.AQueuedTransactionWhoseReplayFailsRunsAgain). Both are issued, for one Patient
// that has both identifiers.
TEST_F(DocumentBatches, DocumentsThatUpdateTheirPatientAreIssuedTogether) {
  Json insured = mc_request("MC-G1");
  insured["patient"].erase("nationalId");
  insured["patient"]["insuranceNumber"] = "HS4010120871234";
  auto first = issue(insured, a_);
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string patient = Json::parse(first.body)["patient"];
  Json both = mc_request("MC-G2");
  both["patient"]["insuranceNumber"] = "HS4010120871234";
  Json again = both;
  again["documentId"] = "MC-G3";
  again["leave"]["to"] = "2026-11-24";
  auto r = batch(Json::array({both, again}), a_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(statuses(r), (std::vector<int>{201, 201})) << r.body;
  const Json out = Json::parse(r.body)["documents"];
  EXPECT_EQ(out[0]["document"]["patient"], patient);
  EXPECT_EQ(out[1]["document"]["patient"], patient);
  auto stored = server_->get("/fhir/" + patient, a_);
  ASSERT_EQ(stored.status, 200) << stored.body;
  EXPECT_EQ(Json::parse(stored.body)["identifier"].size(), 2u) << stored.body;
}

}  // namespace
}  // namespace hb::test

namespace hb::test {
namespace {

// More documents than one log append takes (64): every one issued, each with its own entry in
// the log; a request over 64 KiB is refused alone.
TEST_F(DocumentBatches, ALargeBatchSpansSeveralLogAppends) {
  constexpr int kDocuments = 150;
  Json documents = Json::array();
  for (int i = 0; i < kDocuments; ++i) {
    Json req = mc_request("MC-H" + std::to_string(i));
    char nid[16];
    std::snprintf(nid, sizeof nid, "0792%08d", i);
    req["patient"]["nationalId"] = nid;
    documents.push_back(req);
  }
  Json too_large = mc_request("MC-H-LARGE");
  too_large["diagnosis"]["text"] = std::string(70 * 1024, 'x');
  documents.push_back(too_large);
  auto r = batch(documents, a_);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  const Json out = Json::parse(r.body)["documents"];
  ASSERT_EQ(out.size(), kDocuments + 1u);
  std::set<int64_t> indices;
  std::set<std::string> patients;
  for (int i = 0; i < kDocuments; ++i) {
    ASSERT_EQ(out[i]["status"], 201) << out[i].dump();
    EXPECT_EQ(out[i]["document"]["documentId"], "MC-H" + std::to_string(i)) << "answered in order";
    indices.insert(out[i]["document"]["transparencyLog"]["index"].get<int64_t>());
    patients.insert(out[i]["document"]["patient"].get<std::string>());
  }
  EXPECT_EQ(out[kDocuments]["status"], 413) << out[kDocuments].dump().substr(0, 300);
  EXPECT_EQ(indices.size(), static_cast<size_t>(kDocuments));
  EXPECT_EQ(*indices.rbegin(), kDocuments - 1);
  EXPECT_EQ(patients.size(), static_cast<size_t>(kDocuments));
  EXPECT_EQ(log_size(), std::to_string(kDocuments));
  // The last card proves its inclusion like any other.
  Json verdict = Json::parse(verify(out[kDocuments - 1]["document"]["card"]["qr"]).body);
  EXPECT_EQ(verdict["outcome"], "valid") << verdict.dump();
}

TEST_F(Documents, NamesAreWrittenInTheDeploymentsOrder) {
  auto r = issue(mc_request("MC-NAME"), a_);
  ASSERT_EQ(r.status, 201) << r.body;
  const Json doc = Json::parse(r.body);
  // The card's Patient carries the name as written here, for any verifier to show.
  Json verdict = Json::parse(verify(doc["card"]["qr"]).body);
  ASSERT_EQ(verdict["outcome"], "valid") << verdict.dump();
  const Json& card_name = verdict["fhirBundle"]["entry"][0]["resource"]["name"][0];
  EXPECT_EQ(card_name["text"], "Nguyen Thi Mai") << card_name.dump();
  EXPECT_EQ(card_name["family"], "Nguyen");
  // So does the Patient registered in the record.
  const std::string patient = doc["patient"];
  auto record = server_->get("/fhir/" + patient, a_);
  ASSERT_EQ(record.status, 200) << record.body;
  EXPECT_EQ(record.json()["name"][0]["text"], "Nguyen Thi Mai") << record.body;

  // A deployment that writes given names first.
  Server western({"HEALTHBOOK_PATIENTS_NAME_ORDER=given-first"});
  western.add_facility("01001", "Bach Mai Hospital", "public-hospital");
  const std::string token = western.token(western.add_client("01001"));
  auto w = western.send("POST", "/api/v1/documents", token, mc_request("MC-NAME").dump(), kJson);
  ASSERT_EQ(w.status, 201) << w.body;
  const std::string link = Json::parse(w.body)["link"];
  auto view = western.send("POST", "/api/v1/links/" + link.substr(link.rfind('/') + 1) + "/unlock",
                           "", R"({"birthDate":"1990-04-12"})", kJson);
  ASSERT_EQ(view.status, 200) << view.body;
  EXPECT_EQ(view.json()["patient"]["name"], "Thi Mai Nguyen");
}

TEST_F(Documents, AKnownPathAskedWithAnotherMethodIs405WithAllow) {
  auto r = issue(mc_request("MC-0405"), a_);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string link = Json::parse(r.body)["link"];
  const std::string token = link.substr(link.rfind('/') + 1);
  struct Case {
    const char* method;
    std::string path;
    const char* allow;
    bool fhir;
  };
  const Case cases[] = {
      {"GET", "/api/v1/verify", "POST", false},
      {"GET", "/api/v1/documents", "POST", false},
      {"DELETE", "/api/v1/documents/MC-0405", "GET, HEAD", false},
      {"GET", "/api/v1/documents/MC-0405/revoke", "POST", false},
      {"POST", "/api/v1/documents/MC-0405/qr.png", "GET, HEAD", false},
      {"DELETE", "/api/v1/links/" + token, "GET, HEAD", false},
      {"GET", "/api/v1/links/" + token + "/unlock", "POST", false},
      {"PUT", "/issuers/01001/.well-known/jwks.json", "GET, HEAD", false},
      {"DELETE", "/fhir/Patient", "GET, HEAD, POST, PUT", true},
      {"PATCH", "/fhir/Patient/x", "GET, HEAD, PUT, DELETE", true},
      {"GET", "/fhir", "POST", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path);
    auto res = server_->send(c.method, c.path, a_, "", kJson);
    EXPECT_EQ(res.status, 405) << res.body;
    EXPECT_EQ(res.headers["allow"], c.allow);
    Json body = res.json();
    if (c.fhir) {
      EXPECT_EQ(body["resourceType"], "OperationOutcome");
    } else {
      EXPECT_EQ(body["status"], 405) << "the problem's status is the response's";
    }
  }
  // Nothing changed: the document is still valid, and its link still asks for the birth date.
  auto st = server_->get("/api/v1/documents/MC-0405", a_);
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_EQ(st.json()["status"], "active");
  EXPECT_EQ(server_->get("/api/v1/links/" + token, "").status, 401);
}

}  // namespace
}  // namespace hb::test
