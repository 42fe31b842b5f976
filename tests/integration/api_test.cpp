// The FHIR API and SMART Backend Services, exercised against the real binary over HTTP.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "core/clock.h"
#include "harness.h"

namespace hb::test {
namespace {

constexpr const char* kNid = "urn:oid:2.16.704.1.1.1";   // national id (default config)
constexpr const char* kIns = "urn:oid:2.16.704.1.1.2";   // health insurance number

Json patient(const std::string& nid, const std::string& family, const std::string& given,
             const std::string& birth, const std::string& insurance = "") {
  Json p = {{"resourceType", "Patient"},
            {"identifier", Json::array({{{"system", kNid}, {"value", nid}}})},
            {"name", Json::array({{{"family", family}, {"given", Json::array({given})}}})},
            {"gender", "female"},
            {"birthDate", birth}};
  if (!insurance.empty()) p["identifier"].push_back({{"system", kIns}, {"value", insurance}});
  return p;
}

Json observation(const std::string& patient_ref, const std::string& code, const std::string& when,
                 double value) {
  return {{"resourceType", "Observation"},
          {"status", "final"},
          {"category", Json::array({{{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/observation-category"},
                                                             {"code", "vital-signs"}}})}}})},
          {"code", {{"coding", Json::array({{{"system", "http://loinc.org"}, {"code", code}}})}}},
          {"subject", {{"reference", patient_ref}}},
          {"effectiveDateTime", when},
          {"valueQuantity", {{"value", value}, {"unit", "mmHg"}, {"system", "http://unitsofmeasure.org"}, {"code", "mm[Hg]"}}}};
}

class Api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<Server>();
    server_->add_facility("01001", "Bach Mai Hospital", "public-hospital");
    server_->add_facility("79002", "Saigon Private Hospital", "private-hospital");
    a_ = std::make_unique<TestClient>(server_->add_client("01001"));
    b_ = std::make_unique<TestClient>(server_->add_client("79002", crypto::KeyType::kRsa));
    token_a_ = server_->token(*a_);
    token_b_ = server_->token(*b_);
  }
  static void TearDownTestSuite() {
    a_.reset();
    b_.reset();
    server_.reset();
  }

  static std::string create(const std::string& token, const Json& resource, long expect = 201) {
    auto r = server_->send("POST", "/fhir/" + resource["resourceType"].get<std::string>(), token, resource.dump());
    EXPECT_EQ(r.status, expect) << r.body;
    if (r.status != 200 && r.status != 201) return "";
    return r.json()["id"].get<std::string>();
  }

  static std::unique_ptr<Server> server_;
  static std::unique_ptr<TestClient> a_, b_;
  static std::string token_a_, token_b_;
};

std::unique_ptr<Server> Api::server_;
std::unique_ptr<TestClient> Api::a_, Api::b_;
std::string Api::token_a_, Api::token_b_;

TEST_F(Api, SmartConfigurationAndMetadata) {
  auto r = http("GET", server_->base() + "/.well-known/smart-configuration");
  ASSERT_EQ(r.status, 200);
  auto j = r.json();
  EXPECT_EQ(j["token_endpoint"], server_->base() + "/auth/token");
  EXPECT_NE(j["token_endpoint_auth_signing_alg_values_supported"].dump().find("ES384"), std::string::npos);
  auto m = server_->get("/fhir/metadata", "");
  ASSERT_EQ(m.status, 200);
  auto cs = m.json();
  EXPECT_EQ(cs["resourceType"], "CapabilityStatement");
  EXPECT_EQ(cs["fhirVersion"], "4.0.1");
  EXPECT_GE(cs["rest"][0]["resource"].size(), 17u);
}

TEST_F(Api, TokenRulesForClientAssertions) {
  // RS384 and ES384 clients both got tokens in SetUp; now the failures.
  int64_t now = unix_seconds(SystemClock::instance().now());
  auto refused = [&](const std::string& assertion, const std::string& why) {
    auto r = server_->token_request(assertion);
    EXPECT_EQ(r.status, 401) << why << ": " << r.body;
    EXPECT_EQ(r.json()["error"], "invalid_client") << why;
  };
  refused(server_->assertion(*a_, {{"aud", "https://elsewhere.example/token"}}), "wrong aud");
  refused(server_->assertion(*a_, {{"exp", now + 3600}}), "exp too far ahead");
  refused(server_->assertion(*a_, {{"exp", now - 10}}), "expired");
  refused(server_->assertion(*a_, {{"jti", nullptr}}), "no jti");
  refused(server_->assertion(*a_, {{"sub", "someone-else"}}), "sub differs");
  auto other = crypto::PrivateKey::generate(crypto::KeyType::kEcP384);
  refused(server_->assertion(*a_, {}, &*other), "forged signature");
  refused(server_->assertion(*a_, {}, nullptr, "unknown-kid"), "unknown kid");
  refused(server_->assertion(*a_, {{"iss", "no-such-client"}, {"sub", "no-such-client"}}), "unknown client");
  // A jti may be used once.
  std::string once = server_->assertion(*a_);
  EXPECT_EQ(server_->token_request(once).status, 200);
  refused(once, "replayed jti");
  // Scopes: granted is what was asked for and allowed; nothing allowed is invalid_scope.
  auto narrow = server_->token_request(server_->assertion(*a_), "system/Observation.rs launch");
  ASSERT_EQ(narrow.status, 200) << narrow.body;
  EXPECT_EQ(narrow.json()["scope"], "system/Observation.rs");
  EXPECT_LE(narrow.json()["expires_in"].get<int>(), 300);
  auto none = server_->token_request(server_->assertion(*a_), "openid");
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(none.json()["error"], "invalid_scope");
  // Wrong grant type.
  auto bad = http("POST", server_->base() + "/auth/token", "grant_type=password",
                  {"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["error"], "unsupported_grant_type");
}

TEST_F(Api, RequestsNeedAValidTokenAndScope) {
  auto r = server_->get("/fhir/Patient", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.json()["resourceType"], "OperationOutcome");
  EXPECT_EQ(server_->get("/fhir/Patient", "not-a-real-token").status, 401);
  auto narrow = server_->token_request(server_->assertion(*a_), "system/Observation.rs");
  std::string obs_only = narrow.json()["access_token"];
  auto denied = server_->get("/fhir/Patient", obs_only);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.json()["issue"][0]["code"], "forbidden");
  EXPECT_EQ(server_->send("POST", "/fhir/Observation", obs_only,
                          observation("Patient/x", "8480-6", "2026-01-01", 1).dump()).status, 403);
  EXPECT_EQ(server_->get("/fhir/Observation", obs_only).status, 200);
}

TEST_F(Api, CreateReadUpdateDeleteWithVersions) {
  auto created = server_->send("POST", "/fhir/Patient", token_a_, patient("CRUD-1", "Tran", "Thi Mai", "1990-02-03").dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto body = created.json();
  std::string id = body["id"];
  EXPECT_EQ(body["meta"]["versionId"], "1");
  EXPECT_EQ(created.headers["etag"], "W/\"1\"");
  EXPECT_NE(created.headers["location"].find("/fhir/Patient/" + id + "/_history/1"), std::string::npos);

  auto read = server_->get("/fhir/Patient/" + id, token_a_);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.json()["name"][0]["family"], "Tran");
  EXPECT_EQ(read.headers["content-type"].rfind("application/fhir+json", 0), 0u);

  body["gender"] = "other";
  auto stale = server_->send("PUT", "/fhir/Patient/" + id, token_a_, body.dump(), {"If-Match: W/\"7\""});
  EXPECT_EQ(stale.status, 412) << stale.body;
  auto upd = server_->send("PUT", "/fhir/Patient/" + id, token_a_, body.dump(), {"If-Match: W/\"1\""});
  ASSERT_EQ(upd.status, 200) << upd.body;
  EXPECT_EQ(upd.json()["meta"]["versionId"], "2");

  auto v1 = server_->get("/fhir/Patient/" + id + "/_history/1", token_a_);
  ASSERT_EQ(v1.status, 200);
  EXPECT_EQ(v1.json()["gender"], "female");

  EXPECT_EQ(server_->send("DELETE", "/fhir/Patient/" + id, token_a_, "").status, 204);
  EXPECT_EQ(server_->get("/fhir/Patient/" + id, token_a_).status, 410);
  auto hist = server_->get("/fhir/Patient/" + id + "/_history", token_a_);
  ASSERT_EQ(hist.status, 200);
  auto h = hist.json();
  EXPECT_EQ(h["type"], "history");
  ASSERT_EQ(h["entry"].size(), 3u);
  EXPECT_EQ(h["entry"][0]["request"]["method"], "DELETE");
  EXPECT_EQ(h["entry"][2]["resource"]["meta"]["versionId"], "1");
}

TEST_F(Api, ConditionalCreateAndUpdate) {
  Json org = {{"resourceType", "Organization"},
              {"identifier", Json::array({{{"system", "urn:test:org"}, {"value", "ORG-1"}}})},
              {"name", "Cardiology Department"}};
  auto first = server_->send("POST", "/fhir/Organization", token_a_, org.dump(), {"If-None-Exist: identifier=urn:test:org|ORG-1"});
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = server_->send("POST", "/fhir/Organization", token_a_, org.dump(), {"If-None-Exist: identifier=urn:test:org|ORG-1"});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["id"], first.json()["id"]);

  org["name"] = "Cardiology";
  auto upd = server_->send("PUT", "/fhir/Organization?identifier=urn:test:org%7CORG-1", token_a_, org.dump());
  ASSERT_EQ(upd.status, 200) << upd.body;
  EXPECT_EQ(upd.json()["id"], first.json()["id"]);
  EXPECT_EQ(upd.json()["meta"]["versionId"], "2");
  Json org2 = {{"resourceType", "Organization"},
               {"identifier", Json::array({{{"system", "urn:test:org"}, {"value", "ORG-2"}}})},
               {"name", "Neurology"}};
  auto made = server_->send("PUT", "/fhir/Organization?identifier=urn:test:org%7CORG-2", token_a_, org2.dump());
  EXPECT_EQ(made.status, 201) << made.body;
}

TEST_F(Api, OnePersonAcrossFacilities) {
  std::string a_id = create(token_a_, patient("079190000001", "Nguyen", "Van An", "1985-04-12", "HS4010000000001"));
  ASSERT_FALSE(a_id.empty());
  // Facility B sends the same person: linked to the same Patient, not duplicated.
  auto b = server_->send("POST", "/fhir/Patient", token_b_,
                         patient("079190000001", "NGUYEN", "Van An", "1985-04-12").dump());
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(b.json()["id"], a_id);
  EXPECT_EQ(server_->get("/fhir/Patient/" + a_id, token_b_).status, 200);
  // Same identifier, different birth date: refused, nothing merged.
  auto clash = server_->send("POST", "/fhir/Patient", token_b_,
                             patient("079190000001", "Nguyen", "Van An", "1985-04-13").dump());
  ASSERT_EQ(clash.status, 409) << clash.body;
  auto oo = clash.json();
  EXPECT_EQ(oo["resourceType"], "OperationOutcome");
  // The refusal does not say which detail differs: it must not help guess them.
  EXPECT_EQ(oo["issue"][0]["expression"][0], "Patient.identifier");
  EXPECT_EQ(clash.body.find("birthDate\""), std::string::npos);
  // An identifier alone does not link: the birth date and name must be sent and match.
  Json bare = {{"resourceType", "Patient"}, {"identifier", Json::array({{{"system", kNid}, {"value", "079190000001"}}})}};
  EXPECT_EQ(server_->send("POST", "/fhir/Patient", token_b_, bare.dump()).status, 409);
  auto clash2 = server_->send("POST", "/fhir/Patient", token_b_,
                              patient("079190000001", "Le", "Van An", "1985-04-12").dump());
  EXPECT_EQ(clash2.status, 409) << clash2.body;
  auto read = server_->get("/fhir/Patient/" + a_id, token_a_).json();
  EXPECT_EQ(read["birthDate"], "1985-04-12");
  EXPECT_EQ(read["name"][0]["family"], "Nguyen");
  // A visit registered by insurance card and national id numbers, in one request.
  Json enc = {{"resourceType", "Encounter"},
              {"status", "arrived"},
              {"class", {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "AMB"}}},
              {"subject", {{"reference", std::string("Patient?identifier=") + kIns + "|HS4010000000001&identifier=" + kNid + "|079190000001"}}},
              {"period", {{"start", "2026-11-20T08:00:00+07:00"}}}};
  auto visit = server_->send("POST", "/fhir/Encounter", token_a_, enc.dump());
  ASSERT_EQ(visit.status, 201) << visit.body;
  EXPECT_EQ(visit.json()["subject"]["reference"], "Patient/" + a_id);
  // Facility B's records stay B's: A cannot read B's encounter, and vice versa.
  std::string b_enc = create(token_b_, Json{{"resourceType", "Encounter"}, {"status", "finished"},
                                            {"class", {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "EMER"}}},
                                            {"subject", {{"reference", "Patient/" + a_id}}}});
  ASSERT_FALSE(b_enc.empty());
  EXPECT_EQ(server_->get("/fhir/Encounter/" + b_enc, token_a_).status, 404);
  EXPECT_EQ(server_->get("/fhir/Encounter/" + visit.json()["id"].get<std::string>(), token_b_).status, 404);
  auto search_a = server_->get("/fhir/Encounter?patient=" + a_id, token_a_).json();
  ASSERT_EQ(search_a["entry"].size(), 1u);
  EXPECT_EQ(server_->send("DELETE", "/fhir/Encounter/" + b_enc, token_a_, "").status, 404);
  // The shared Patient is changed only by the facility that registered it.
  auto shared = server_->get("/fhir/Patient/" + a_id, token_b_).json();
  shared["gender"] = "male";
  EXPECT_EQ(server_->send("PUT", "/fhir/Patient/" + a_id, token_b_, shared.dump()).status, 403);
  // An absolute reference to a patient does not get around the registration check.
  std::string c_only = create(token_a_, patient("079190000009", "Ly", "Thi Ha", "1969-03-03"));
  auto abs = server_->send("POST", "/fhir/Observation", token_b_,
                           observation("http://elsewhere.example/fhir/Patient/" + c_only, "8480-6", "2026-01-01", 120).dump());
  EXPECT_EQ(abs.status, 422) << abs.body;
  auto own_base = server_->send("POST", "/fhir/Observation", token_b_,
                                observation(server_->base() + "/fhir/Patient/" + c_only, "8480-6", "2026-01-01", 120).dump());
  EXPECT_EQ(own_base.status, 422) << own_base.body;
  // B cannot write for a patient it has not registered.
  std::string only_a = create(token_a_, patient("079190000002", "Pham", "Thi Lan", "1970-01-01"));
  auto w = server_->send("POST", "/fhir/Observation", token_b_, observation("Patient/" + only_a, "8480-6", "2026-01-01", 120).dump());
  EXPECT_EQ(w.status, 422) << w.body;
  EXPECT_EQ(server_->get("/fhir/Patient/" + only_a, token_b_).status, 404);
}

TEST_F(Api, SearchPagingSortIncludeAndCount) {
  std::string pid = create(token_a_, patient("SEARCH-1", "Hoang", "Minh", "2001-09-09"));
  for (int i = 0; i < 7; ++i) {
    create(token_a_, observation("Patient/" + pid, i % 2 ? "8480-6" : "8462-4",
                                 "2026-03-0" + std::to_string(i + 1) + "T10:00:00Z", 100 + i));
  }
  auto count = server_->get("/fhir/Observation?patient=" + pid + "&_summary=count", token_a_).json();
  EXPECT_EQ(count["total"], 7);
  EXPECT_FALSE(count.contains("entry"));
  auto sys = server_->get("/fhir/Observation?patient=" + pid + "&code=http://loinc.org%7C8480-6", token_a_).json();
  EXPECT_EQ(sys["entry"].size(), 3u);
  auto ge = server_->get("/fhir/Observation?patient=" + pid + "&date=ge2026-03-05", token_a_).json();
  EXPECT_EQ(ge["entry"].size(), 3u);
  auto lt = server_->get("/fhir/Observation?patient=" + pid + "&date=lt2026-03-03", token_a_).json();
  EXPECT_EQ(lt["entry"].size(), 2u);
  auto desc = server_->get("/fhir/Observation?patient=" + pid + "&_sort=-date&_count=2", token_a_).json();
  ASSERT_EQ(desc["entry"].size(), 2u);
  EXPECT_EQ(desc["entry"][0]["resource"]["effectiveDateTime"], "2026-03-07T10:00:00Z");
  // Follow next links: every result exactly once.
  std::set<std::string> seen;
  std::string url = "/fhir/Observation?patient=" + pid + "&_count=3";
  int pages = 0;
  while (!url.empty() && pages < 10) {
    auto page = server_->get(url, token_a_);
    ASSERT_EQ(page.status, 200) << page.body;
    auto b = page.json();
    for (auto& e : b["entry"]) seen.insert(e["resource"]["id"].get<std::string>());
    url.clear();
    for (auto& l : b["link"]) {
      if (l["relation"] == "next") url = l["url"].get<std::string>().substr(server_->base().size());
    }
    ++pages;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 7u);
  auto inc = server_->get("/fhir/Observation?patient=" + pid + "&_count=2&_include=Observation:patient", token_a_).json();
  int includes = 0;
  for (auto& e : inc["entry"]) includes += e["search"]["mode"] == "include";
  EXPECT_EQ(includes, 1);
  auto bad = server_->get("/fhir/Observation?date=gt2026-13-45", token_a_);
  EXPECT_EQ(bad.status, 400);
  auto names = server_->get("/fhir/Patient?name=hoa&birthdate=2001-09-09", token_a_).json();
  ASSERT_TRUE(names.contains("entry"));
  EXPECT_EQ(names["entry"][0]["resource"]["id"], pid);
}

TEST_F(Api, TransactionsAreAllOrNothing) {
  Json bundle = {{"resourceType", "Bundle"},
                 {"type", "transaction"},
                 {"entry", Json::array({
                     {{"fullUrl", "urn:uuid:6f9d2c1e-0000-4000-8000-000000000001"},
                      {"resource", observation("urn:uuid:6f9d2c1e-0000-4000-8000-000000000002", "8480-6", "2026-05-01", 130)},
                      {"request", {{"method", "POST"}, {"url", "Observation"}}}},
                     {{"fullUrl", "urn:uuid:6f9d2c1e-0000-4000-8000-000000000002"},
                      {"resource", patient("TX-1", "Vo", "Thi Hoa", "1999-12-31")},
                      {"request", {{"method", "POST"}, {"url", "Patient"}}}},
                 })}};
  auto r = server_->send("POST", "/fhir", token_a_, bundle.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto resp = r.json();
  EXPECT_EQ(resp["type"], "transaction-response");
  ASSERT_EQ(resp["entry"].size(), 2u);
  EXPECT_EQ(resp["entry"][0]["response"]["status"], "201 Created");
  std::string obs_loc = resp["entry"][0]["response"]["location"];
  std::string pat_loc = resp["entry"][1]["response"]["location"];
  auto obs = server_->get("/fhir/" + obs_loc.substr(0, obs_loc.find("/_history")), token_a_).json();
  EXPECT_EQ(obs["subject"]["reference"], pat_loc.substr(0, pat_loc.find("/_history")));

  // One invalid entry: nothing is written.
  Json bad = bundle;
  bad["entry"][1]["resource"] = patient("TX-2", "Vo", "Thi Hoa", "1999-12-31");
  bad["entry"][0]["resource"]["status"] = "not-a-status-code with spaces";
  bad["entry"][0]["resource"]["valueQuantity"]["value"] = "high";
  auto rb = server_->send("POST", "/fhir", token_a_, bad.dump());
  EXPECT_EQ(rb.status, 422) << rb.body;
  EXPECT_NE(rb.body.find("Bundle.entry[0]"), std::string::npos);
  auto none = server_->get("/fhir/Patient?identifier=" + std::string(kNid) + "%7CTX-2", token_a_).json();
  EXPECT_FALSE(none.contains("entry"));
  // A conditional reference that matches nothing aborts the transaction.
  Json dangling = {{"resourceType", "Bundle"}, {"type", "transaction"},
                   {"entry", Json::array({{{"resource", patient("TX-3", "Vo", "An", "1999-01-01")}, {"request", {{"method", "POST"}, {"url", "Patient"}}}},
                                          {{"resource", observation("Patient?identifier=urn:none|0", "8480-6", "2026-05-01", 1)},
                                           {"request", {{"method", "POST"}, {"url", "Observation"}}}}})}};
  EXPECT_EQ(server_->send("POST", "/fhir", token_a_, dangling.dump()).status, 422);
  auto none3 = server_->get("/fhir/Patient?identifier=" + std::string(kNid) + "%7CTX-3", token_a_).json();
  EXPECT_FALSE(none3.contains("entry"));
}

TEST_F(Api, BadInputGetsClearErrorsAndWritesNothing) {
  auto expect_outcome = [](const HttpResponse& r, long status, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << r.body;
    if (r.status == status) {
      auto j = r.json();
      EXPECT_EQ(j["resourceType"], "OperationOutcome") << what;
    }
  };
  expect_outcome(server_->send("POST", "/fhir/Patient", token_a_, "{\"resourceType\":\"Patient\","), 400, "truncated JSON");
  expect_outcome(server_->send("POST", "/fhir/Patient", token_a_, "{\"resourceType\":\"Patient\",\"gender\":\"\xff\"}"), 400, "invalid UTF-8");
  expect_outcome(server_->send("POST", "/fhir/Patient", token_a_, "{\"resourceType\":\"Patient\",\"id\":\"a\",\"id\":\"b\"}"), 400, "duplicate key");
  std::string deep = "{\"resourceType\":\"Patient\",\"extension\":" + std::string(200, '[') + std::string(200, ']') + "}";
  expect_outcome(server_->send("POST", "/fhir/Patient", token_a_, deep), 413, "nesting");
  expect_outcome(server_->send("POST", "/fhir/Patient", token_a_, patient("X", "A", "B", "2000-01-01").dump(),
                               {"Content-Type: text/plain"}), 415, "content type");
  expect_outcome(server_->send("POST", "/fhir/Spaceship", token_a_, "{\"resourceType\":\"Spaceship\"}"), 404, "unknown type");
  expect_outcome(server_->send("POST", "/fhir/Patient", token_a_, "{\"resourceType\":\"Observation\"}"), 400, "type mismatch");
  auto invalid = server_->send("POST", "/fhir/Patient", token_a_,
                               R"({"resourceType":"Patient","birthDate":"1990-02-30","gender":"female","colour":"blue","name":{"family":"X"}})");
  expect_outcome(invalid, 422, "invalid resource");
  if (invalid.status == 422) {
    std::string all = invalid.body;
    EXPECT_NE(all.find("Patient.birthDate"), std::string::npos);
    EXPECT_NE(all.find("Patient.colour"), std::string::npos);
    EXPECT_NE(all.find("Patient.name"), std::string::npos);
  }
  auto big = server_->send("POST", "/fhir/Patient", token_a_, std::string(17 * 1024 * 1024, ' '));
  expect_outcome(big, 413, "body over the limit");
  expect_outcome(server_->get("/fhir/Patient?name=%zz", token_a_), 400, "bad percent-escape");
  auto xml = server_->get("/fhir/Patient?_format=xml", token_a_);
  EXPECT_EQ(xml.status, 406);
}

TEST_F(Api, AuditEventsRecordReadsAndWrites) {
  std::string pid = create(token_a_, patient("AUDIT-1", "Dang", "Thu", "1960-06-06"));
  ASSERT_EQ(server_->get("/fhir/Patient/" + pid, token_a_).status, 200);
  // Reads are audited asynchronously; they are durable within one group commit.
  Json events;
  for (int i = 0; i < 50; ++i) {
    events = server_->get("/fhir/AuditEvent?patient=" + pid, token_a_).json();
    if (events.contains("entry") && events["entry"].size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(events.contains("entry"));
  std::set<std::string> actions;
  for (auto& e : events["entry"]) actions.insert(e["resource"]["action"].get<std::string>());
  EXPECT_TRUE(actions.count("C"));
  EXPECT_TRUE(actions.count("R"));
  std::string aid = events["entry"][0]["resource"]["id"];
  EXPECT_EQ(server_->get("/fhir/AuditEvent/" + aid, token_a_).status, 200);
  // Another facility cannot see them; nobody can write them.
  EXPECT_EQ(server_->get("/fhir/AuditEvent/" + aid, token_b_).status, 404);
  EXPECT_EQ(server_->send("POST", "/fhir/AuditEvent", token_a_, events["entry"][0]["resource"].dump()).status, 422);
}

TEST_F(Api, SuspendedFacilityIsRefusedAtOnce) {
  auto c = server_->add_client("79002");
  std::string t = server_->token(c);
  ASSERT_EQ(server_->get("/fhir/Patient", t).status, 200);
  auto s = run_healthbook({"facility", "suspend", "79002", "--data", server_->data_dir()});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(server_->get("/fhir/Patient", t).status, 403);
  EXPECT_EQ(server_->token_request(server_->assertion(c)).status, 401);
  auto back = run_healthbook({"facility", "activate", "79002", "--data", server_->data_dir()});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(server_->get("/fhir/Patient", t).status, 200);
}

TEST_F(Api, RecordIsReadableByAnotherClientAtOnce) {
  auto second = server_->add_client("01001");
  std::string t2 = server_->token(second);
  std::string pid = create(token_a_, patient("DELAY-1", "Bui", "Lan", "1991-01-01"));
  auto start = std::chrono::steady_clock::now();
  auto r = server_->send("POST", "/fhir/Observation", token_a_, observation("Patient/" + pid, "8480-6", "2026-01-01", 110).dump());
  ASSERT_EQ(r.status, 201);
  std::string oid = r.json()["id"];
  auto read = server_->get("/fhir/Observation/" + oid, t2);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(read.status, 200);
  std::printf("[ measure  ] write-then-read by another client: %.2f ms\n", ms);
}

}  // namespace
}  // namespace hb::test
