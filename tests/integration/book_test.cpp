// The resident's health book against the real binary: the timeline of records two facilities
// sent (filters, search, pages, a new record showing at once), full records, consent deciding
// what a second facility's client reads and searches, breaking the glass (reason, SMS, refusal
// without one), and residents who never reach each other's records.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "harness.h"

namespace hb::test {
namespace {


class Book : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = resident_server();
    server_->add_facility("01001", "Bach Mai Hospital", "public-hospital");
    server_->add_facility("79002", "Saigon International Hospital", "private-hospital");
    server_->add_facility("01015", "Hoan Kiem District Health Centre", "health-centre");
    bachmai_ = server_->token(server_->add_client("01001"));
    saigon_ = server_->token(server_->add_client("79002"));
    hoankiem_ = server_->token(server_->add_client("01015"));
    codes_ = std::make_unique<SmsCodes>(*server_);
  }

  // Registers the person at a facility; returns the Patient id (the same one at every facility).
  std::string register_patient(const std::string& token, const Person& p) {
    return hb::test::register_patient(*server_, token, p);
  }

  std::string create(const std::string& token, const Json& resource) {
    auto r = server_->send("POST", "/fhir/" + resource["resourceType"].get<std::string>(), token,
                           resource.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["id"];
  }

  static Json haemoglobin(const std::string& pid, double value, const std::string& when) {
    return {{"resourceType", "Observation"},
            {"status", "final"},
            {"code",
             {{"coding", Json::array({{{"system", "http://loinc.org"}, {"code", "718-7"}}})},
              {"text", "Haemoglobin"}}},
            {"subject", {{"reference", "Patient/" + pid}}},
            {"effectiveDateTime", when},
            {"valueQuantity", {{"value", value}, {"unit", "g/dL"}}},
            {"referenceRange", Json::array({{{"low", {{"value", 12}, {"unit", "g/dL"}}},
                                             {"high", {{"value", 16}, {"unit", "g/dL"}}}}})}};
  }

  HttpResponse post_account(const std::string& route, const Json& body,
                            const std::string& cookie = "") {
    std::vector<std::string> h = {kCsrf, kJsonCt};
    if (!cookie.empty()) h.push_back("Cookie: " + cookie);
    return http("POST", server_->base() + "/api/v1/account/" + route, body.dump(), h);
  }

  // Every SMS text sent to `phone` so far (the development sink's file).
  std::vector<std::string> sms_to(const std::string& phone) {
    std::vector<std::string> out;
    std::ifstream in(server_->data_dir() + "/notify-sms.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      Json j = Json::parse(line);
      if (j["to"] == phone) out.push_back(j["text"]);
    }
    return out;
  }

  std::string next_code(const std::string& phone) { return codes_->next(phone); }

  // Signs up (full session); `half` gets a second login's half session (password only).
  std::string sign_up(const Person& p, std::string* half = nullptr) {
    const std::string full = hb::test::sign_up(*server_, *codes_, p);
    if (half) {
      auto h = post_account("login", {{"nationalId", p.national_id}, {"password", kResidentPassword}});
      EXPECT_EQ(h.status, 200) << h.body;
      *half = cookie_of(h);
    }
    return full;
  }

  HttpResponse me(const std::string& cookie, const std::string& path) {
    std::vector<std::string> h;
    if (!cookie.empty()) h.push_back("Cookie: " + cookie);
    return http("GET", server_->base() + "/api/v1/me/" + path, "", h);
  }
  HttpResponse share(const std::string& cookie, const std::string& code, bool shared,
                     bool csrf = true) {
    std::vector<std::string> h = {kJsonCt, "Cookie: " + cookie};
    if (csrf) h.push_back(kCsrf);
    return http("PUT", server_->base() + "/api/v1/me/connections/" + code,
                Json{{"shared", shared}}.dump(), h);
  }
  static std::vector<std::string> ids_of(const Json& timeline) {
    std::vector<std::string> out;
    for (const auto& e : timeline["entries"]) out.push_back(e["id"]);
    return out;
  }
  static bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  }

  std::unique_ptr<Server> server_;
  std::string bachmai_, saigon_, hoankiem_;
  std::unique_ptr<SmsCodes> codes_;
};

TEST_F(Book, TimelineHoldsEveryFacilitysRecordsNewestFirstWithValuesAndFlags) {
  std::string pid = register_patient(bachmai_, kMai);
  EXPECT_EQ(register_patient(saigon_, kMai), pid) << "one person across facilities";
  std::string obs = create(bachmai_, haemoglobin(pid, 11.2, "2026-11-20T09:30:00+07:00"));
  std::string visit = create(
      saigon_,
      {{"resourceType", "Encounter"},
       {"status", "finished"},
       {"class", {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "AMB"}}},
       {"type", Json::array({{{"text", "Outpatient visit"}}})},
       {"subject", {{"reference", "Patient/" + pid}}},
       {"period", {{"start", "2026-11-18T08:00:00+07:00"}}}});
  std::string cond = create(
      saigon_,
      {{"resourceType", "Condition"},
       {"clinicalStatus",
        {{"coding",
          Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/condition-clinical"},
                        {"code", "active"}}})}}},
       {"code", {{"text", "Iron deficiency anaemia"}}},
       {"subject", {{"reference", "Patient/" + pid}}},
       {"onsetDateTime", "2026-11-21"}});
  std::string vacc = create(bachmai_, {{"resourceType", "Immunization"},
                                       {"status", "completed"},
                                       {"vaccineCode", {{"text", "Influenza vaccine"}}},
                                       {"patient", {{"reference", "Patient/" + pid}}},
                                       {"occurrenceDateTime", "2025-10-01"}});
  std::string half;
  std::string cookie = sign_up(kMai, &half);

  auto t = me(cookie, "timeline");
  ASSERT_EQ(t.status, 200) << t.body;
  Json j = t.json();
  EXPECT_EQ(ids_of(j), (std::vector<std::string>{"Condition/" + cond, "Observation/" + obs,
                                                 "Encounter/" + visit, "Immunization/" + vacc}))
      << "newest first";
  EXPECT_TRUE(j["next"].is_null());
  EXPECT_EQ(j["facilities"].size(), 2u);
  EXPECT_EQ(j["kinds"].size(), 10u);
  const Json& hb = j["entries"][1];
  EXPECT_EQ(hb["kind"], "result");
  EXPECT_EQ(hb["title"], "Haemoglobin");
  EXPECT_EQ(hb["date"], "2026-11-20T09:30:00+07:00");
  EXPECT_EQ(hb["status"], "final");
  EXPECT_EQ(hb["facility"]["code"], "01001");
  EXPECT_EQ(hb["facility"]["name"], "Bach Mai Hospital");
  EXPECT_DOUBLE_EQ(hb["value"]["value"].get<double>(), 11.2);
  EXPECT_EQ(hb["value"]["unit"], "g/dL");
  EXPECT_EQ(hb["value"]["low"], 12);
  EXPECT_EQ(hb["value"]["high"], 16);
  EXPECT_EQ(hb["value"]["flag"], "L");
  EXPECT_FALSE(j["entries"][0].contains("value"));
  EXPECT_EQ(j["entries"][0]["kind"], "condition");
  EXPECT_EQ(j["entries"][0]["facility"]["code"], "79002");

  // Filters: facility, kind (a list or repeated), dates, words; pages with a cursor.
  EXPECT_EQ(ids_of(me(cookie, "timeline?facility=79002").json()),
            (std::vector<std::string>{"Condition/" + cond, "Encounter/" + visit}));
  EXPECT_EQ(ids_of(me(cookie, "timeline?kind=result,immunization").json()),
            (std::vector<std::string>{"Observation/" + obs, "Immunization/" + vacc}));
  EXPECT_EQ(ids_of(me(cookie, "timeline?kind=visit&kind=condition").json()).size(), 2u);
  EXPECT_EQ(ids_of(me(cookie, "timeline?from=2026-11-19&to=2026-11-20").json()),
            (std::vector<std::string>{"Observation/" + obs}));
  EXPECT_EQ(ids_of(me(cookie, "timeline?q=ANAEMIA").json()),
            (std::vector<std::string>{"Condition/" + cond}));
  auto p1 = me(cookie, "timeline?limit=3").json();
  ASSERT_EQ(p1["entries"].size(), 3u);
  ASSERT_TRUE(p1["next"].is_string());
  auto p2 = me(cookie, "timeline?limit=3&cursor=" + p1["next"].get<std::string>()).json();
  EXPECT_EQ(ids_of(p2), (std::vector<std::string>{"Immunization/" + vacc}));
  EXPECT_TRUE(p2["next"].is_null());

  // Bad input is a clear problem.
  for (const char* q : {"timeline?kind=gossip", "timeline?limit=0", "timeline?limit=201",
                        "timeline?from=yesterday", "timeline?cursor=@@", "timeline?colour=red"}) {
    auto bad = me(cookie, q);
    EXPECT_EQ(bad.status, 400) << q;
    EXPECT_EQ(bad.headers["content-type"], "application/problem+json") << q;
  }

  // The full record, from either facility.
  auto full = me(cookie, "records/Observation/" + obs);
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_EQ(full.json()["resourceType"], "Observation");
  EXPECT_EQ(full.json()["referenceRange"][0]["low"]["value"], 12);
  EXPECT_EQ(me(cookie, "records/Condition/" + cond).status, 200);
  EXPECT_EQ(me(cookie, "records/Observation/nonexistent").status, 404);

  // A record a facility sends shows at once.
  std::string fresh = create(saigon_, haemoglobin(pid, 17.5, "2026-11-25T10:00:00+07:00"));
  auto after = me(cookie, "timeline?limit=1").json();
  ASSERT_EQ(after["entries"].size(), 1u);
  EXPECT_EQ(after["entries"][0]["id"], "Observation/" + fresh);
  EXPECT_EQ(after["entries"][0]["value"]["flag"], "H");
  // ... and a deleted one goes.
  ASSERT_EQ(server_->send("DELETE", "/fhir/Observation/" + fresh, saigon_, "").status, 204);
  EXPECT_FALSE(has(ids_of(me(cookie, "timeline").json()), "Observation/" + fresh));

  // Without a full session: 401 problem, whatever the route.
  for (const std::string& c : {std::string(), half, std::string("hb_session=forged")}) {
    for (const char* path : {"timeline", "connections"}) {
      auto r = me(c, path);
      EXPECT_EQ(r.status, 401) << path;
      EXPECT_EQ(r.headers["content-type"], "application/problem+json");
    }
    EXPECT_EQ(me(c, "records/Observation/" + obs).status, 401);
  }
}

TEST_F(Book, AnIssuedCertificateIsInTheTimelineAndOpensItsCard) {
  Json request = {{"documentId", "MC-0001"},
                  {"kind", "mc-outpatient"},
                  {"patient",
                   {{"nationalId", kMai.national_id},
                    {"family", kMai.family},
                    {"given", kMai.given},
                    {"birthDate", kMai.birth_date},
                    {"phone", kMai.phone}}},
                  {"doctor", {{"name", "Dr. Tran Van Binh"}}},
                  {"leave", {{"from", "2026-11-20"}, {"to", "2026-11-22"}}}};
  auto issued = server_->send("POST", "/api/v1/documents", bachmai_, request.dump(), {kJsonCt});
  ASSERT_EQ(issued.status, 201) << issued.body;
  register_patient(bachmai_, kBinh);
  std::string cookie = sign_up(kMai);
  std::string binh = sign_up(kBinh);

  auto t = me(cookie, "timeline?kind=document").json();
  ASSERT_EQ(t["entries"].size(), 1u) << t.dump();
  const Json& e = t["entries"][0];
  EXPECT_EQ(e["facility"]["code"], "01001");
  ASSERT_TRUE(e["document"].is_object()) << e.dump();
  EXPECT_EQ(e["document"]["kind"], "mc-outpatient");
  const std::string link = e["document"]["link"];
  EXPECT_EQ(link, "/api/v1/me/documents/" + e["document"]["id"].get<std::string>());
  auto card = http("GET", server_->base() + link, "", {"Cookie: " + cookie});
  ASSERT_EQ(card.status, 200) << card.body;
  EXPECT_EQ(card.json()["status"], "active");
  EXPECT_EQ(card.json()["qr"].get<std::string>().rfind("shc:/", 0), 0u);
  EXPECT_FALSE(card.json()["card"].get<std::string>().empty());
  // Not Binh's.
  EXPECT_EQ(http("GET", server_->base() + link, "", {"Cookie: " + binh}).status, 404);
  EXPECT_EQ(http("GET", server_->base() + link, "").status, 401);
}

TEST_F(Book, ResidentsNeverReachEachOthersRecords) {
  std::string mai = register_patient(bachmai_, kMai);
  std::string binh = register_patient(bachmai_, kBinh);
  std::string mai_obs = create(bachmai_, haemoglobin(mai, 13, "2026-11-20"));
  std::string binh_obs = create(bachmai_, haemoglobin(binh, 14, "2026-11-21"));
  std::string mai_cookie = sign_up(kMai);
  std::string binh_cookie = sign_up(kBinh);

  EXPECT_EQ(ids_of(me(mai_cookie, "timeline").json()),
            (std::vector<std::string>{"Observation/" + mai_obs}));
  EXPECT_EQ(ids_of(me(binh_cookie, "timeline").json()),
            (std::vector<std::string>{"Observation/" + binh_obs}));
  // Another person's record reads like one that does not exist, Patient included.
  auto other = me(binh_cookie, "records/Observation/" + mai_obs);
  auto unknown = me(binh_cookie, "records/Observation/no-such-thing");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(me(binh_cookie, "records/Patient/" + mai).status, 404);
  EXPECT_EQ(me(mai_cookie, "records/Patient/" + mai).status, 200);
  EXPECT_EQ(me(binh_cookie, "records/Consent/consent-" + mai).status, 404);
  // Mai's consent is hers: Binh cannot read it, or see it in his connections.
  auto ok = share(mai_cookie, "01001", true);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(me(mai_cookie, "records/Consent/consent-" + mai).status, 200);
  EXPECT_EQ(me(binh_cookie, "records/Consent/consent-" + mai).status, 404);
  auto conns = me(binh_cookie, "connections").json();
  ASSERT_EQ(conns["facilities"].size(), 1u);
  EXPECT_EQ(conns["facilities"][0]["shared"], false);
  // A facility that does not know Binh cannot be named by him.
  EXPECT_EQ(share(binh_cookie, "79002", true).status, 404);
  EXPECT_EQ(share(binh_cookie, "99999", true).status, 404);
}

TEST_F(Book, ConsentDecidesWhatAnotherFacilityReadsAndSearches) {
  std::string pid = register_patient(bachmai_, kMai);
  register_patient(saigon_, kMai);
  std::string obs = create(bachmai_, haemoglobin(pid, 11.2, "2026-11-20"));
  std::string own = create(saigon_, haemoglobin(pid, 12.5, "2026-11-22"));
  std::string cookie = sign_up(kMai);

  auto search_ids = [&](const std::string& token) {
    auto r = server_->get("/fhir/Observation?patient=" + pid, token);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const Json bundle = r.json();
    for (const auto& e : bundle.value("entry", Json::array())) ids.push_back(e["resource"]["id"]);
    return ids;
  };
  // Before consent: Saigon sees only its own.
  EXPECT_EQ(server_->get("/fhir/Observation/" + obs, saigon_).status, 404);
  EXPECT_EQ(search_ids(saigon_), (std::vector<std::string>{own}));

  auto conns = me(cookie, "connections");
  ASSERT_EQ(conns.status, 200) << conns.body;
  ASSERT_EQ(conns.json()["facilities"].size(), 2u);
  const Json listed = conns.json();
  for (const auto& f : listed["facilities"]) {
    EXPECT_EQ(f["holdsRecords"], true);
    EXPECT_EQ(f["shared"], false);
  }

  // A change needs the CSRF header and a well-formed body.
  EXPECT_EQ(share(cookie, "79002", true, false).status, 403);
  auto bad = http("PUT", server_->base() + "/api/v1/me/connections/79002", R"({"shared":"yes"})",
                  {kJsonCt, kCsrf, "Cookie: " + cookie});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(server_->get("/fhir/Observation/" + obs, saigon_).status, 404);

  // Shared with Saigon: it reads and searches Bach Mai's records of her, but cannot change them.
  auto on = share(cookie, "79002", true);
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_EQ(on.json()["shared"], true);
  EXPECT_EQ(server_->get("/fhir/Observation/" + obs, saigon_).status, 200);
  auto both = search_ids(saigon_);
  EXPECT_EQ(both.size(), 2u);
  EXPECT_TRUE(has(both, obs));
  Json changed = haemoglobin(pid, 9, "2026-11-20");
  changed["id"] = obs;
  EXPECT_EQ(server_->send("PUT", "/fhir/Observation/" + obs, saigon_, changed.dump()).status, 403);
  // Writes see only a facility's own resources: the record is not there to delete.
  EXPECT_EQ(server_->send("DELETE", "/fhir/Observation/" + obs, saigon_, "").status, 404);
  // Bach Mai did not get Saigon's: consent is per reading facility.
  EXPECT_EQ(server_->get("/fhir/Observation/" + own, bachmai_).status, 404);
  EXPECT_EQ(search_ids(bachmai_), (std::vector<std::string>{obs}));

  // The Consent is a versioned FHIR resource naming the facility.
  auto consent = me(cookie, "records/Consent/consent-" + pid).json();
  EXPECT_EQ(consent["scope"]["coding"][0]["code"], "patient-privacy");
  EXPECT_EQ(consent["provision"]["type"], "deny");
  EXPECT_EQ(consent["provision"]["provision"][0]["type"], "permit");
  EXPECT_EQ(consent["provision"]["provision"][0]["actor"][0]["reference"]["identifier"]["value"],
            "79002");

  // Withdrawn: hidden again.
  auto off = share(cookie, "79002", false);
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(server_->get("/fhir/Observation/" + obs, saigon_).status, 404);
  EXPECT_EQ(search_ids(saigon_), (std::vector<std::string>{own}));
  consent = me(cookie, "records/Consent/consent-" + pid).json();
  EXPECT_EQ(consent["meta"]["versionId"], "2");
  EXPECT_EQ(consent["provision"]["provision"][0]["type"], "deny");
  const Json after = me(cookie, "connections").json();
  for (const auto& f : after["facilities"]) EXPECT_EQ(f["shared"], false);
}

TEST_F(Book, BreakingTheGlassNeedsAReasonIsAuditedAndTellsTheResident) {
  std::string pid = register_patient(bachmai_, kMai);
  register_patient(saigon_, kMai);
  std::string obs = create(bachmai_, haemoglobin(pid, 11.2, "2026-11-20"));
  const std::string glass = "X-Healthbook-Break-Glass: unconscious on arrival, allergies unknown";

  auto empty = server_->get("/fhir/Observation/" + obs, saigon_, {"X-Healthbook-Break-Glass;"});
  EXPECT_EQ(empty.status, 400) << empty.body;
  EXPECT_EQ(empty.json()["resourceType"], "OperationOutcome");
  auto wide = server_->get("/fhir/Observation?code=718-7", saigon_, {glass});
  EXPECT_EQ(wide.status, 400) << "an emergency search names the patient";
  EXPECT_EQ(wide.json()["resourceType"], "OperationOutcome");
  EXPECT_TRUE(sms_to(kMai.phone).empty());

  auto read = server_->get("/fhir/Observation/" + obs, saigon_, {glass});
  ASSERT_EQ(read.status, 200) << read.body;
  auto found = server_->get("/fhir/Observation?patient=" + pid, saigon_, {glass});
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.json()["entry"].size(), 1u);
  // Without the header, nothing changed.
  EXPECT_EQ(server_->get("/fhir/Observation/" + obs, saigon_).status, 404);
  // A facility that never registered her cannot break the glass on her.
  EXPECT_EQ(server_->get("/fhir/Observation/" + obs, hoankiem_, {glass}).status, 404);

  // The resident got one SMS (one per facility an hour), naming the facility and no health data.
  std::vector<std::string> texts;
  for (int i = 0; i < 200 && texts.empty(); ++i) {
    texts = sms_to(kMai.phone);
    if (texts.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_NE(texts[0].find("Saigon International Hospital"), std::string::npos) << texts[0];
  EXPECT_NE(texts[0].find("emergency"), std::string::npos);
  EXPECT_EQ(texts[0].find("Haemoglobin"), std::string::npos);

  // The audit trail names the reason (a facility reads its own trail).
  bool audited = false;
  for (int i = 0; i < 100 && !audited; ++i) {
    auto trail = server_->get("/fhir/AuditEvent?patient=" + pid + "&_count=100", saigon_);
    ASSERT_EQ(trail.status, 200) << trail.body;
    audited = trail.body.find("unconscious on arrival") != std::string::npos;
    if (!audited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(audited);

  // Her access log names the facility and gives the clinician's reason.
  const std::string cookie = sign_up(kMai);
  Json emergency;
  for (int i = 0; i < 100 && emergency.is_null(); ++i) {
    auto log = me(cookie, "access-log?limit=200");
    ASSERT_EQ(log.status, 200) << log.body;
    const Json events = log.json()["events"];
    for (const Json& e : events) {
      if (e["who"]["kind"] == "break-glass") emergency = e;
    }
    if (emergency.is_null()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(emergency.is_null());
  EXPECT_EQ(emergency["who"]["name"], "Saigon International Hospital");
  EXPECT_EQ(emergency["why"], "emergency: unconscious on arrival, allergies unknown");
}

}  // namespace
}  // namespace hb::test
