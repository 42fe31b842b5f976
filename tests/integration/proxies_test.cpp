// Proxies against the real binary (docs/proxies.md): a parent recorded as a child's guardian acts
// for the child (the header names the child; the child's access log names the parent) until the
// child's 16th birthday on the moved test clock; a carer holds only the rights granted, until the
// end date or a revocation; and a header naming someone the signed-in person has no relation with
// is refused on every /api/v1/me route exactly like an unknown id.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "harness.h"
#include "services/proxies.h"

namespace hb::test {
namespace {

const std::string kActingFor = "X-Healthbook-Acting-For: ";
const std::string kContactNationalId =
    "https://healthbook.example/fhir/StructureDefinition/contact-national-id";

// A date `days` from today, `years` back (YYYY-MM-DD).
std::string date_from_today(int days, int years) {
  using namespace std::chrono;
  year_month_day d{floor<std::chrono::days>(system_clock::now() + std::chrono::days(days))};
  d = year_month_day{d.year() - std::chrono::years(years), d.month(), d.day()};
  if (!d.ok()) d = year_month_day{d.year(), d.month(), std::chrono::day(28)};
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return out;
}

class Proxies : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = resident_server();
    server_->add_facility("01001", "Bach Mai Hospital", "public-hospital");
    clinic_ = server_->token(server_->add_client("01001"));
    codes_ = std::make_unique<SmsCodes>(*server_);
    // Mai's son An turns 16 in ten days; the clinic records Mai as his mother.
    an_ = {"079215009999", date_from_today(10, 16), "+84909999999", "Nguyen", "Minh An"};
  }

  // Registers An with Mai as his mother (by her national id); returns {An's id, his Observation}.
  std::pair<std::string, std::string> register_child() {
    Json contact = {
        {"relationship",
         Json::array(
             {{{"coding",
                Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-RoleCode"},
                              {"code", "MTH"}}})}}})},
        {"name", {{"family", kMai.family}, {"given", Json::array({kMai.given})}}},
        {"extension",
         Json::array({{{"url", kContactNationalId},
                       {"valueIdentifier",
                        {{"system", kNationalIdSystem}, {"value", kMai.national_id}}}}})}};
    const std::string pid =
        register_patient(*server_, clinic_, an_, {{"contact", Json::array({contact})}});
    Json obs = {{"resourceType", "Observation"},
                {"status", "final"},
                {"code",
                 {{"coding", Json::array({{{"system", "http://loinc.org"}, {"code", "29463-7"}}})},
                  {"text", "Body weight"}}},
                {"subject", {{"reference", "Patient/" + pid}}},
                {"effectiveDateTime", "2026-11-02"},
                {"valueQuantity", {{"value", 52}, {"unit", "kg"}}}};
    auto o = server_->send("POST", "/fhir/Observation", clinic_, obs.dump());
    EXPECT_EQ(o.status, 201) << o.body;
    return {pid, o.json()["id"]};
  }

  // A request to /api/v1/me/... with the session cookie and CSRF header, acting for `subject`
  // when it is not empty.
  HttpResponse me(const std::string& method, const std::string& route, const std::string& cookie,
                  const std::string& subject = "", const Json& body = nullptr) {
    std::vector<std::string> h = {kCsrf, "Cookie: " + cookie};
    if (!subject.empty()) h.push_back(kActingFor + subject);
    if (!body.is_null()) h.push_back(kJsonCt);
    return http(method, server_->base() + "/api/v1/me/" + route, body.is_null() ? "" : body.dump(),
                h);
  }
  void advance(int64_t seconds) {
    auto r = http("POST", server_->base() + "/api/test/clock",
                  Json{{"advanceSeconds", seconds}}.dump(), {kJsonCt});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<SmsCodes> codes_;
  std::string clinic_;
  Person an_;
};

TEST_F(Proxies, GuardianActsForAChildUntilTheAgeLimit) {
  register_patient(*server_, clinic_, kMai);
  const auto [an, weight] = register_child();
  const std::string mai = sign_up(*server_, *codes_, kMai);

  auto people = me("GET", "acting-for", mai);
  ASSERT_EQ(people.status, 200) << people.body;
  ASSERT_EQ(people.json()["people"].size(), 1u) << people.body;
  const Json child = people.json()["people"][0];
  EXPECT_EQ(child["patientId"], an);
  EXPECT_EQ(child["name"], "Nguyen Minh An");
  EXPECT_EQ(child["kind"], "guardian");
  EXPECT_EQ(child["until"].get<std::string>().substr(0, 10), date_from_today(10, 0));

  // Without the header Mai sees her own (empty) book; with it, An's.
  EXPECT_EQ(me("GET", "timeline", mai).json()["entries"].size(), 0u);
  auto timeline = me("GET", "timeline", mai, an);
  ASSERT_EQ(timeline.status, 200) << timeline.body;
  ASSERT_EQ(timeline.json()["entries"].size(), 1u) << timeline.body;
  EXPECT_EQ(me("GET", "records/Observation/" + weight, mai, an).status, 200);
  EXPECT_EQ(me("GET", "records/Observation/" + weight, mai).status, 404);
  // A guardian decides the child's consent.
  EXPECT_EQ(me("PUT", "connections/01001", mai, an, {{"shared", true}}).status, 200);
  // ... but not the child's carers (only a person manages their own).
  EXPECT_EQ(me("GET", "carers", mai, an).status, 403);

  // An's access log says his mother read his records, for him; Mai's own log does not have it.
  auto log = me("GET", "access-log", mai, an);
  ASSERT_EQ(log.status, 200) << log.body;
  const Json log_json = log.json();
  bool proxy_seen = false;
  for (const auto& e : log_json["events"]) {
    if (e["who"]["kind"] != "proxy") continue;
    proxy_seen = true;
    EXPECT_EQ(e["who"]["name"], "Nguyen Thi Mai (guardian)") << e.dump();
    EXPECT_EQ(e["why"], "acting for you");
  }
  EXPECT_TRUE(proxy_seen) << log.body;
  const Json own_log = me("GET", "access-log", mai).json();
  for (const auto& e : own_log["events"]) {
    EXPECT_NE(e["who"]["kind"], "proxy") << e.dump();
  }

  // Eleven days on An is 16: his mother no longer acts for him.
  advance(11 * 86400);
  const std::string again = log_in(*server_, *codes_, kMai);
  EXPECT_EQ(me("GET", "acting-for", again).json()["people"].size(), 0u);
  auto late = me("GET", "timeline", again, an);
  EXPECT_EQ(late.status, 404) << late.body;
}

TEST_F(Proxies, CarerHoldsOnlyTheRightsGrantedUntilTheEndOrRevocation) {
  const std::string mai_id = register_patient(*server_, clinic_, kMai);
  register_patient(*server_, clinic_, kBinh);
  const std::string mai = sign_up(*server_, *codes_, kMai);
  const std::string binh = sign_up(*server_, *codes_, kBinh);

  // Problems are listed; someone without an account cannot be a carer.
  auto bad = me("POST", "carers", mai, "",
                {{"nationalId", kBinh.national_id},
                 {"rights", Json::array({"everything"})},
                 {"endsAt", "2020-01-01"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  auto nobody = me("POST", "carers", mai, "",
                   {{"nationalId", "079999999999"},
                    {"rights", Json::array({"view-records"})},
                    {"endsAt", date_from_today(5, 0)}});
  EXPECT_EQ(nobody.status, 422) << nobody.body;
  auto far = me("POST", "carers", mai, "",
                {{"nationalId", kBinh.national_id},
                 {"rights", Json::array({"view-records"})},
                 {"endsAt", date_from_today(800, 0)}});
  EXPECT_EQ(far.status, 400) << far.body;

  // Before a grant Binh reaches nothing of Mai's.
  EXPECT_EQ(me("GET", "timeline", binh, mai_id).status, 404);

  auto grant = me("POST", "carers", mai, "",
                  {{"nationalId", kBinh.national_id},
                   {"rights", Json::array({"view-records"})},
                   {"endsAt", date_from_today(5, 0)}});
  ASSERT_EQ(grant.status, 201) << grant.body;
  EXPECT_EQ(grant.json()["name"], "Tran Van Binh");
  EXPECT_EQ(grant.json()["status"], "active");
  const std::string grant_id = grant.json()["id"];
  auto listed = me("GET", "carers", mai);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json()["carers"].size(), 1u);

  auto people = me("GET", "acting-for", binh);
  ASSERT_EQ(people.json()["people"].size(), 1u) << people.body;
  EXPECT_EQ(people.json()["people"][0]["kind"], "carer");
  EXPECT_EQ(people.json()["people"][0]["rights"], Json::array({"view-records"}));

  // view-records: the book, the documents and the log; nothing else.
  EXPECT_EQ(me("GET", "timeline", binh, mai_id).status, 200);
  EXPECT_EQ(me("GET", "documents", binh, mai_id).status, 200);
  EXPECT_EQ(me("GET", "access-log", binh, mai_id).status, 200);
  EXPECT_EQ(me("GET", "shares", binh, mai_id).status, 403);
  EXPECT_EQ(me("POST", "shares", binh, mai_id,
               {{"records", Json::array({"Patient/" + mai_id})}, {"expiresIn", 86400}})
                .status,
            403);
  EXPECT_EQ(me("PUT", "connections/01001", binh, mai_id, {{"shared", true}}).status, 403);
  EXPECT_EQ(me("GET", "notifications", binh, mai_id).status, 403);
  EXPECT_EQ(me("GET", "carers", binh, mai_id).status, 403);
  EXPECT_EQ(me("DELETE", "carers/" + grant_id, binh, mai_id).status, 403);
  // Binh cannot revoke (or see) Mai's grant as himself either.
  EXPECT_EQ(me("DELETE", "carers/" + grant_id, binh).status, 404);

  // Mai's log names Binh as her carer.
  bool carer_seen = false;
  const Json mai_log = me("GET", "access-log", mai).json();
  for (const auto& e : mai_log["events"]) {
    if (e["who"]["kind"] == "proxy" && e["who"]["name"] == "Tran Van Binh (carer)")
      carer_seen = true;
  }
  EXPECT_TRUE(carer_seen);

  // Revoked: refused at once.
  auto revoked = me("DELETE", "carers/" + grant_id, mai);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.json()["status"], "revoked");
  EXPECT_EQ(me("GET", "timeline", binh, mai_id).status, 404);
  EXPECT_EQ(me("GET", "acting-for", binh).json()["people"].size(), 0u);

  // A new grant with both rights ends on its date.
  auto second = me("POST", "carers", mai, "",
                   {{"nationalId", kBinh.national_id},
                    {"rights", Json::array({"view-records", "manage-shares"})},
                    {"endsAt", date_from_today(3, 0)}});
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(me("GET", "shares", binh, mai_id).status, 200);
  advance(5 * 86400);
  const std::string binh_again = log_in(*server_, *codes_, kBinh);
  EXPECT_EQ(me("GET", "timeline", binh_again, mai_id).status, 404);
  EXPECT_EQ(me("GET", "shares", binh_again, mai_id).status, 404);

  // Guessing at who has an account is limited: after kCarerMissesPerHour national ids without one
  // within an hour, the next is refused before it is looked up; Binh's own limit is untouched.
  const std::string mai_again = log_in(*server_, *codes_, kMai);  // 5 days on: a new session
  auto grant_to = [&](const std::string& session, const std::string& national_id) {
    return me("POST", "carers", session, "",
              {{"nationalId", national_id},
               {"rights", Json::array({"view-records"})},
               {"endsAt", date_from_today(30, 0)}});
  };
  for (int i = 0; i < hb::services::ProxyService::kCarerMissesPerHour; ++i) {
    auto miss = grant_to(mai_again, "07999999" + std::to_string(1000 + i));
    ASSERT_EQ(miss.status, 422) << i << miss.body;
  }
  auto limited = grant_to(mai_again, kBinh.national_id);
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(grant_to(binh_again, "079999990000").status, 422);
}

// Guesses at who has an account sent at once get no more tries than sent one by one: each pays
// before its national id is looked up, and only a miss keeps the payment.
TEST_F(Proxies, CarerGuessesSentAtOnceGetNoMoreTries) {
  register_patient(*server_, clinic_, kMai);
  const std::string mai = sign_up(*server_, *codes_, kMai);
  constexpr int kTries = 2 * hb::services::ProxyService::kCarerMissesPerHour;
  std::vector<long> status(kTries);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kTries; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kTries) std::this_thread::yield();
      status[static_cast<std::size_t>(i)] =
          me("POST", "carers", mai, "",
             {{"nationalId", "07999999" + std::to_string(2000 + i)},
              {"rights", Json::array({"view-records"})},
              {"endsAt", date_from_today(30, 0)}})
              .status;
    });
  }
  for (auto& t : threads) t.join();
  int missed = 0, limited = 0;
  for (long s : status) {
    if (s == 422) ++missed;
    if (s == 429) ++limited;
  }
  EXPECT_EQ(missed, hb::services::ProxyService::kCarerMissesPerHour);
  EXPECT_EQ(limited, kTries - hb::services::ProxyService::kCarerMissesPerHour);
}

TEST_F(Proxies, NoRouteLetsAHeaderReachSomeoneWithoutARelation) {
  register_patient(*server_, clinic_, kMai);
  register_patient(*server_, clinic_, kBinh);
  const auto [an, weight] = register_child();
  const std::string mai = sign_up(*server_, *codes_, kMai);
  const std::string binh = sign_up(*server_, *codes_, kBinh);
  ASSERT_EQ(me("GET", "timeline", mai, an).status, 200);  // the relation works for his mother

  struct Route {
    std::string method, path;
    Json body;
  };
  const std::vector<Route> routes = {
      {"GET", "timeline", nullptr},
      {"GET", "records/Observation/" + weight, nullptr},
      {"GET", "connections", nullptr},
      {"PUT", "connections/01001", {{"shared", true}}},
      {"GET", "shares", nullptr},
      {"POST",
       "shares",
       {{"records", Json::array({"Observation/" + weight})}, {"expiresIn", 86400}}},
      {"DELETE", "shares/00000000-0000-0000-0000-000000000000", nullptr},
      {"GET", "access-log", nullptr},
      {"GET", "notifications", nullptr},
      {"PUT", "notifications", {{"onAccess", {{"sms", false}, {"email", false}}}}},
      {"GET", "documents", nullptr},
      {"GET", "documents/00000000-0000-0000-0000-000000000000", nullptr},
      {"POST", "documents/00000000-0000-0000-0000-000000000000/links", nullptr},
      {"POST", "documents/00000000-0000-0000-0000-000000000000/reopen-link", nullptr},
      {"GET", "carers", nullptr},
      {"POST",
       "carers",
       {{"nationalId", kBinh.national_id},
        {"rights", Json::array({"view-records"})},
        {"endsAt", "2027-01-01"}}},
      {"DELETE", "carers/00000000-0000-0000-0000-000000000000", nullptr},
      {"GET", "acting-for", nullptr},
  };
  const std::string unknown = "00000000-0000-0000-0000-000000000000";
  for (const auto& r : routes) {
    // Someone else's child, and an id nobody has: the same answer.
    auto other = me(r.method, r.path, binh, an, r.body);
    auto none = me(r.method, r.path, binh, unknown, r.body);
    EXPECT_EQ(other.status, 404) << r.method << " " << r.path << ": " << other.body;
    EXPECT_EQ(none.status, other.status) << r.method << " " << r.path;
    EXPECT_EQ(other.body.find("Minh An"), std::string::npos) << r.path;
  }
  // Nothing Binh tried is in An's log; what his mother did is.
  auto log = me("GET", "access-log", mai, an);
  ASSERT_EQ(log.status, 200);
  const Json log_json = log.json();
  for (const auto& e : log_json["events"]) {
    if (e["who"]["kind"] == "proxy") {
      EXPECT_EQ(e["who"]["name"], "Nguyen Thi Mai (guardian)");
    }
  }
  // And An's weight never went into a share of Binh's (no grant: nothing made).
  EXPECT_EQ(me("GET", "shares", binh).json()["shares"].size(), 0u);
}

}  // namespace
}  // namespace hb::test
