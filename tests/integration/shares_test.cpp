// Residents' shares, access log and access alerts against the real binary (docs/sharing.md): a
// share's SMART Health Link manifest, its expiry (the server's clock is moved), single use,
// revocation and passcode limits; the access log of facility reads and share openings; SMS alerts
// at most hourly; and two residents who can never reach each other's shares, records or log.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "core/clock.h"
#include "crypto/encoding.h"
#include "harness.h"

namespace hb::test {
namespace {


class Shares : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = resident_server();
    server_->add_facility("01001", "Bach Mai Hospital", "public-hospital");
    client_ = std::make_unique<TestClient>(server_->add_client("01001"));
    clinic_ = server_->token(*client_);
    codes_ = std::make_unique<SmsCodes>(*server_);
  }

  // A token for the clinic once the server's clock was moved `ahead` seconds (its assertion's
  // exp is judged by the server's clock).
  std::string token_after(int64_t ahead) {
    const int64_t now = unix_seconds(SystemClock::instance().now());
    auto r = server_->token_request(server_->assertion(*client_, {{"exp", now + ahead + 240}}));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["access_token"];
  }

  // Registers the person at the clinic with one weight Observation; returns {patient, observation}.
  std::pair<std::string, std::string> register_patient(const Person& p) {
    const std::string pid = hb::test::register_patient(*server_, clinic_, p);
    Json obs = {
        {"resourceType", "Observation"},
        {"status", "final"},
        {"code",
         {{"coding", Json::array({{{"system", "http://loinc.org"}, {"code", "29463-7"}}})}}},
        {"subject", {{"reference", "Patient/" + pid}}},
        {"valueQuantity", {{"value", 61}, {"unit", "kg"}}}};
    auto o = server_->send("POST", "/fhir/Observation", clinic_, obs.dump());
    EXPECT_EQ(o.status, 201) << o.body;
    return {pid, o.json()["id"]};
  }

  HttpResponse account(const std::string& route, const Json& body, const std::string& cookie = "") {
    std::vector<std::string> h = {kCsrf, kJsonCt};
    if (!cookie.empty()) h.push_back("Cookie: " + cookie);
    return http("POST", server_->base() + "/api/v1/account/" + route, body.dump(), h);
  }
  // A request to /api/v1/me/...: with the session cookie, and the CSRF header unless told not to.
  HttpResponse me(const std::string& method, const std::string& route, const std::string& cookie,
                  const Json& body = nullptr, bool csrf = true, std::vector<std::string> h = {}) {
    if (csrf) h.push_back(kCsrf);
    if (!body.is_null()) h.push_back(kJsonCt);
    if (!cookie.empty()) h.push_back("Cookie: " + cookie);
    return http(method, server_->base() + "/api/v1/me/" + route, body.is_null() ? "" : body.dump(),
                h);
  }
  void advance(int seconds) {
    auto r = http("POST", server_->base() + "/api/test/clock",
                  Json{{"advanceSeconds", seconds}}.dump(), {kJsonCt});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // SMS texts sent to `phone` that match `pattern` and were not read before, waiting up to
  // `wait_ms` for at least one.
  std::vector<std::string> sms_to(const std::string& phone, const std::regex& pattern,
                                  int wait_ms) {
    std::vector<std::string> found;
    for (int waited = 0;; waited += 25) {
      std::ifstream in(server_->data_dir() + "/notify-sms.jsonl");
      std::string line;
      size_t n = 0;
      while (std::getline(in, line)) {
        if (++n <= sms_read_[phone]) continue;
        sms_read_[phone] = n;
        Json j = Json::parse(line);
        std::string text = j["text"];
        if (j["to"] == phone && std::regex_search(text, pattern)) found.push_back(text);
      }
      if (!found.empty() || waited >= wait_ms) return found;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  std::string next_code(const std::string& phone) { return codes_->next(phone); }
  std::string sign_up(const Person& p) { return hb::test::sign_up(*server_, *codes_, p); }
  // A new full session (an SMS code as second factor), e.g. after the clock moved past the idle
  // timeout.
  std::string log_in(const Person& p) { return hb::test::log_in(*server_, *codes_, p); }

  Json share_request(const std::vector<std::string>& records, int64_t expires_in = 86400) {
    Json r = Json::array();
    for (const auto& x : records) r.push_back(x);
    return {{"records", r}, {"label", "For my new GP"}, {"expiresIn", expires_in}};
  }

  // The decoded shlink:/ payload of a share answer.
  static Json payload_of(const Json& share) {
    std::string link = share["shlink"];
    auto bytes = crypto::base64url_decode(link.substr(8));
    EXPECT_TRUE(bytes.is_ok());
    return Json::parse(*bytes);
  }
  HttpResponse open(const Json& share, const Json& request) {
    return http("POST", payload_of(share)["url"].get<std::string>(), request.dump(), {kJsonCt});
  }
  Json list(const std::string& cookie) {
    auto r = me("GET", "shares", cookie, nullptr, false);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["shares"];
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<TestClient> client_;
  std::string clinic_;
  std::map<std::string, size_t> sms_read_;  // lines of the SMS sink already read, per phone
  std::unique_ptr<SmsCodes> codes_;
};

TEST_F(Shares, AShareIsASmartHealthLinkWhoseOpeningsAreListed) {
  auto [pid, obs] = register_patient(kMai);
  const std::string mai = sign_up(kMai);
  auto made = me("POST", "shares", mai, share_request({"Observation/" + obs, "Patient/" + pid}));
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.headers["cache-control"], "no-store");
  const Json share = made.json();
  EXPECT_EQ(share["status"], "active");
  EXPECT_EQ(share["label"], "For my new GP");
  EXPECT_EQ(share["passcode"], false);
  EXPECT_EQ(share["singleUse"], false);
  EXPECT_EQ(share["accesses"], Json::array());
  EXPECT_EQ(share["records"], Json::array({"Observation/" + obs, "Patient/" + pid}));
  const std::string shlink = share["shlink"];
  EXPECT_EQ(shlink.rfind("shlink:/", 0), 0u);
  EXPECT_EQ(share["viewerUrl"], server_->base() + "/s#" + shlink);
  EXPECT_NE(share["qrSvg"].get<std::string>().find("<svg"), std::string::npos);

  const Json payload = payload_of(share);
  const std::string url = payload["url"];
  const std::string prefix = server_->base() + "/shl/s/";
  ASSERT_EQ(url.rfind(prefix, 0), 0u) << url;
  EXPECT_EQ(url.size() - prefix.size(), 43u) << "256 bits in the manifest URL";
  EXPECT_EQ(payload["key"].get<std::string>().size(), 43u);
  EXPECT_FALSE(payload.contains("flag")) << "no passcode, no P";
  EXPECT_EQ(payload["label"], "For my new GP");
  EXPECT_EQ(payload["v"], 1);
  EXPECT_TRUE(payload["exp"].is_number_integer());

  auto manifest = open(share, {{"recipient", "Dr. Le Van An"}});
  ASSERT_EQ(manifest.status, 200) << manifest.body;
  EXPECT_EQ(manifest.headers["access-control-allow-origin"], "*");
  const Json files = manifest.json()["files"];
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0]["contentType"], "application/fhir+json;fhirVersion=4.0.1");
  const std::string jwe = files[0]["embedded"];
  EXPECT_EQ(std::count(jwe.begin(), jwe.end(), '.'), 4) << "a compact JWE";
  EXPECT_EQ(open(share, {{"passcode", "x"}}).status, 400) << "a recipient must say who they are";

  // The link is shown once: the list has the share and its access, not the link.
  const Json listed = list(mai);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["id"], share["id"]);
  EXPECT_TRUE(listed[0]["shlink"].is_null());
  EXPECT_TRUE(listed[0]["qrSvg"].is_null());
  ASSERT_EQ(listed[0]["accesses"].size(), 1u);
  EXPECT_EQ(listed[0]["accesses"][0]["recipient"], "Dr. Le Van An");
  EXPECT_TRUE(listed[0]["accesses"][0]["time"].is_string());

  // Bad requests are named.
  auto bad = me("POST", "shares", mai,
                {{"records", Json::array({"Observation"})}, {"label", ""}, {"expiresIn", 60}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.headers["content-type"], "application/problem+json");
  EXPECT_EQ(bad.json()["errors"].size(), 3u) << bad.body;
  auto short_code = share_request({"Observation/" + obs});
  short_code["passcode"] = "123";
  EXPECT_EQ(me("POST", "shares", mai, short_code).status, 422);
}

TEST_F(Shares, ResidentsNeverReachEachOthersSharesRecordsOrLog) {
  auto [mai_pid, mai_obs] = register_patient(kMai);
  auto [binh_pid, binh_obs] = register_patient(kBinh);
  const std::string mai = sign_up(kMai);
  const std::string binh = sign_up(kBinh);
  auto made = me("POST", "shares", mai, share_request({"Observation/" + mai_obs}));
  ASSERT_EQ(made.status, 201) << made.body;
  const Json share = made.json();
  ASSERT_EQ(open(share, {{"recipient", "Clinic"}}).status, 200);

  // Binh cannot share Mai's records: refused in the words used for a record that does not exist,
  // naming it, and nothing is made.
  auto theirs = me("POST", "shares", binh,
                   share_request({"Observation/" + binh_obs, "Observation/" + mai_obs}));
  EXPECT_EQ(theirs.status, 422) << theirs.body;
  ASSERT_EQ(theirs.json()["errors"].size(), 1u);
  EXPECT_EQ(theirs.json()["errors"][0]["path"], "records[1]");
  auto none = me("POST", "shares", binh, share_request({"Observation/does-not-exist"}));
  EXPECT_EQ(none.status, 422);
  const std::string words = theirs.json()["errors"][0]["message"];
  EXPECT_NE(words.find("there is no Observation/"), std::string::npos);
  EXPECT_EQ(none.json()["errors"][0]["message"].get<std::string>().find("there is no Observation/"),
            0u);
  EXPECT_EQ(me("POST", "shares", binh, share_request({"Patient/" + mai_pid})).status, 422);
  EXPECT_TRUE(list(binh).empty());

  // Binh cannot revoke (or see) Mai's share.
  auto revoke = me("DELETE", "shares/" + share["id"].get<std::string>(), binh);
  EXPECT_EQ(revoke.status, 404) << revoke.body;
  EXPECT_EQ(open(share, {{"recipient", "Clinic"}}).status, 200) << "still active";
  ASSERT_EQ(list(mai).size(), 1u);

  // Binh's access log holds only Binh's events.
  auto log = me("GET", "access-log?limit=200", binh, nullptr, false);
  ASSERT_EQ(log.status, 200) << log.body;
  EXPECT_EQ(log.body.find(mai_obs), std::string::npos);
  EXPECT_EQ(log.body.find("For my new GP"), std::string::npos);
  EXPECT_EQ(log.body.find("Clinic\""), std::string::npos);
  const Json binh_events = log.json()["events"];
  for (const Json& e : binh_events) EXPECT_NE(e["who"]["kind"], "share-recipient");
  const Json mai_events = me("GET", "access-log?limit=200", mai, nullptr, false).json()["events"];
  int opened = 0;
  for (const Json& e : mai_events) opened += e["action"] == "share-opened";
  EXPECT_EQ(opened, 2);
}

TEST_F(Shares, RevokedExpiredAndUsedSharesAnswer404) {
  auto [pid, obs] = register_patient(kMai);
  const std::string mai = sign_up(kMai);
  const Json revoked = me("POST", "shares", mai, share_request({"Observation/" + obs})).json();
  const Json hourly = me("POST", "shares", mai, share_request({"Observation/" + obs}, 3600)).json();
  auto once_request = share_request({"Observation/" + obs});
  once_request["singleUse"] = true;
  const Json once = me("POST", "shares", mai, once_request).json();
  ASSERT_EQ(once["singleUse"], true);

  auto gone = me("DELETE", "shares/" + revoked["id"].get<std::string>(), mai);
  ASSERT_EQ(gone.status, 200) << gone.body;
  EXPECT_EQ(gone.json()["status"], "revoked");
  EXPECT_EQ(open(revoked, {{"recipient", "A"}}).status, 404);
  EXPECT_EQ(me("DELETE", "shares/" + revoked["id"].get<std::string>(), mai).json()["status"],
            "revoked");

  EXPECT_EQ(open(once, {{"recipient", "A"}}).status, 200);
  auto again = open(once, {{"recipient", "B"}});
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(again.headers["content-type"], "application/problem+json");

  EXPECT_EQ(open(hourly, {{"recipient", "A"}}).status, 200);
  advance(3601);
  EXPECT_EQ(open(hourly, {{"recipient", "A"}}).status, 404) << "past exp";
  EXPECT_EQ(me("GET", "shares", mai, nullptr, false).status, 401) << "the session idled out";
  const std::string again_in = log_in(kMai);
  std::map<std::string, std::string> status;
  const Json listed = list(again_in);
  for (const Json& s : listed) status[s["id"]] = s["status"];
  EXPECT_EQ(status[revoked["id"]], "revoked");
  EXPECT_EQ(status[hourly["id"]], "expired");
  EXPECT_EQ(status[once["id"]], "used");

  auto unknown = http("POST", server_->base() + "/shl/s/" + std::string(43, 'A'),
                      Json{{"recipient", "A"}}.dump(), {kJsonCt});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(me("POST", "shares", again_in, share_request({"Observation/" + obs}, 3599)).status,
            400);
  EXPECT_EQ(me("POST", "shares", again_in, share_request({"Observation/" + obs}, 31536001)).status,
            400);
}

TEST_F(Shares, PasscodeGuessesLockThenDisableTheShare) {
  auto [pid, obs] = register_patient(kMai);
  const std::string mai = sign_up(kMai);
  auto request = share_request({"Observation/" + obs});
  request["passcode"] = "tulip-4821";
  const Json share = me("POST", "shares", mai, request).json();
  ASSERT_EQ(share["passcode"], true);
  EXPECT_EQ(payload_of(share)["flag"], "P");

  // SMART Health Links: remainingAttempts are the passcodes left before the share is disabled,
  // and every wrong passcode is 401 with them, the fifth of an hour (which locks the share) and the
  // twentieth in a row (which disables it: 0) too. The requests after those get 429 and 404.
  auto asked = open(share, {{"recipient", "A"}});
  EXPECT_EQ(asked.status, 401);
  EXPECT_EQ(asked.json()["remainingAttempts"], 20) << "no passcode given is not a guess";
  auto wrong = open(share, {{"recipient", "A"}, {"passcode", "tulip-0000"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.json()["remainingAttempts"], 19);
  EXPECT_EQ(open(share, {{"recipient", "A"}, {"passcode", "tulip-4821"}}).status, 200)
      << "the right passcode works and clears the count";
  int wrongs = 0;
  for (int hour = 0; hour < 4; ++hour) {
    for (int i = 0; i < 5; ++i, ++wrongs) {
      auto r = open(share, {{"recipient", "A"}, {"passcode", "guess-" + std::to_string(wrongs)}});
      EXPECT_EQ(r.status, 401) << "wrong passcode " << wrongs + 1 << ": " << r.body;
      EXPECT_EQ(r.json()["remainingAttempts"], 19 - wrongs) << r.body;
    }
    if (hour < 3) {
      auto locked = open(share, {{"recipient", "A"}, {"passcode", "tulip-4821"}});
      EXPECT_EQ(locked.status, 429)
          << "five wrong in an hour lock it: even the right passcode waits";
      EXPECT_FALSE(locked.headers["retry-after"].empty());
      EXPECT_FALSE(locked.json().contains("remainingAttempts"));
      advance(3601);
    }
  }
  EXPECT_EQ(open(share, {{"recipient", "A"}, {"passcode", "tulip-4821"}}).status, 404);
  EXPECT_EQ(list(log_in(kMai))[0]["status"], "disabled");
}

TEST_F(Shares, RoutesNeedAFullSessionAndStateChangesTheCsrfHeader) {
  auto [pid, obs] = register_patient(kMai);
  const std::string mai = sign_up(kMai);
  const Json body = share_request({"Observation/" + obs});
  EXPECT_EQ(me("POST", "shares", mai, body, false).status, 403);
  EXPECT_EQ(me("POST", "shares", mai, body, true, {"Origin: https://evil.example"}).status, 403);
  EXPECT_EQ(
      me("PUT", "notifications", mai, {{"onAccess", {{"sms", true}, {"email", false}}}}, false)
          .status,
      403);
  const Json share = me("POST", "shares", mai, body).json();
  EXPECT_EQ(me("DELETE", "shares/" + share["id"].get<std::string>(), mai, nullptr, false).status,
            403);
  EXPECT_EQ(open(share, {{"recipient", "A"}}).status, 200) << "not revoked by the refused call";

  for (const char* route : {"shares", "access-log", "notifications"}) {
    auto anon = me("GET", route, "", nullptr, false);
    EXPECT_EQ(anon.status, 401) << route;
    EXPECT_EQ(anon.headers["content-type"], "application/problem+json");
  }
  auto half = account("login", {{"nationalId", kMai.national_id}, {"password", kResidentPassword}});
  ASSERT_EQ(half.status, 200) << half.body;
  auto refused = me("GET", "shares", cookie_of(half), nullptr, false);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.json()["title"], "second-factor-required");
  EXPECT_EQ(me("POST", "shares", cookie_of(half), body).status, 401);
  EXPECT_EQ(me("GET", "shares/x", mai, nullptr, false).status, 405);
  EXPECT_EQ(me("GET", "nothing-here", mai, nullptr, false).status, 404);
}

TEST_F(Shares, TheAccessLogNamesFacilitiesAndRecipientsNewestFirst) {
  auto [pid, obs] = register_patient(kMai);
  const std::string mai = sign_up(kMai);
  ASSERT_EQ(server_->get("/fhir/Observation/" + obs, clinic_).status, 200);
  const Json share = me("POST", "shares", mai, share_request({"Observation/" + obs})).json();
  ASSERT_EQ(open(share, {{"recipient", "Dr. Le Van An"}}).status, 200);

  // Reads are audited a moment after they are answered: ask until both are there.
  HttpResponse log;
  Json events;
  const Json* opened = nullptr;
  const Json* read = nullptr;
  size_t opened_at = 0, read_at = 0;
  for (int i = 0; i < 100 && !(opened && read); ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = me("GET", "access-log", mai, nullptr, false);
    ASSERT_EQ(log.status, 200) << log.body;
    events = log.json()["events"];
    opened = read = nullptr;
    for (size_t k = 0; k < events.size(); ++k) {
      if (!opened && events[k]["action"] == "share-opened") opened = &events[k], opened_at = k;
      if (!read && events[k]["who"]["kind"] == "facility" && events[k]["action"] == "read" &&
          events[k]["what"] == "Observation (1 record)") {
        read = &events[k], read_at = k;
      }
    }
  }
  ASSERT_TRUE(opened) << log.body;
  ASSERT_TRUE(read) << log.body;
  EXPECT_LT(opened_at, read_at) << "newest first";
  EXPECT_EQ((*opened)["who"], Json({{"kind", "share-recipient"}, {"name", "Dr. Le Van An"}}));
  EXPECT_EQ((*opened)["why"], "share For my new GP");
  EXPECT_EQ((*opened)["what"], "Observation (1 record)");
  EXPECT_EQ((*read)["who"]["name"], "Bach Mai Hospital");
  EXPECT_EQ((*read)["why"], "treatment");
  EXPECT_EQ(log.body.find(clinic_), std::string::npos);

  // Pages: one event at a time, following "next".
  auto first = me("GET", "access-log?limit=1", mai, nullptr, false).json();
  ASSERT_EQ(first["events"].size(), 1u);
  ASSERT_TRUE(first["next"].is_string());
  auto second = me("GET", "access-log?limit=1&cursor=" + first["next"].get<std::string>(), mai,
                   nullptr, false)
                    .json();
  ASSERT_EQ(second["events"].size(), 1u);
  EXPECT_LE(second["events"][0]["time"].get<std::string>(),
            first["events"][0]["time"].get<std::string>());
  EXPECT_EQ(me("GET", "access-log?cursor=abc", mai, nullptr, false).status, 400);
  EXPECT_EQ(me("GET", "access-log?limit=0", mai, nullptr, false).status, 400);
}

TEST_F(Shares, OptedInResidentsGetAnSmsPerFacilityAtMostHourly) {
  auto [pid, obs] = register_patient(kMai);
  auto [binh_pid, binh_obs] = register_patient(kBinh);
  const std::string mai = sign_up(kMai);
  const std::string binh = sign_up(kBinh);
  auto prefs = me("GET", "notifications", mai, nullptr, false);
  ASSERT_EQ(prefs.status, 200) << prefs.body;
  EXPECT_EQ(prefs.json()["onAccess"], Json({{"sms", false}, {"email", false}}));
  EXPECT_EQ(prefs.json()["phoneRegistered"], true);
  auto bad = me("PUT", "notifications", mai, {{"onAccess", {{"sms", true}, {"email", true}}}});
  EXPECT_EQ(bad.status, 422) << "e-mail alerts need an address";
  auto set = me("PUT", "notifications", mai,
                {{"onAccess", {{"sms", true}, {"email", true}}}, {"email", "mai@example.org"}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json()["onAccess"], Json({{"sms", true}, {"email", true}}));
  EXPECT_EQ(set.json()["email"], "mai@example.org");

  const std::regex opened("opened by");
  ASSERT_EQ(server_->get("/fhir/Observation/" + obs, clinic_).status, 200);
  ASSERT_EQ(server_->get("/fhir/Observation/" + binh_obs, clinic_).status, 200);
  auto texts = sms_to(kMai.phone, opened, 8000);
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_NE(texts[0].find("opened by Bach Mai Hospital on "), std::string::npos) << texts[0];
  EXPECT_NE(texts[0].find("/access-log"), std::string::npos);
  EXPECT_EQ(texts[0].find("Observation"), std::string::npos) << "no health data";
  EXPECT_EQ(texts[0].find("kg"), std::string::npos) << "no health data";
  std::string mails;
  for (int i = 0; i < 100 && mails.find("mai@example.org") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    mails = read_file(server_->data_dir() + "/notify-email.jsonl");
  }
  EXPECT_NE(mails.find("Your health records were opened"), std::string::npos) << mails;

  // Within the hour, the same facility's reads send nothing more; a share's recipient is another
  // accessor and does.
  ASSERT_EQ(server_->get("/fhir/Observation/" + obs, clinic_).status, 200);
  const Json share = me("POST", "shares", mai, share_request({"Observation/" + obs})).json();
  ASSERT_EQ(open(share, {{"recipient", "Dr. Le"}}).status, 200);
  texts = sms_to(kMai.phone, opened, 4000);
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_NE(texts[0].find("opened by someone you shared them with"), std::string::npos) << texts[0];
  EXPECT_EQ(texts[0].find("Dr. Le"), std::string::npos);
  EXPECT_TRUE(sms_to(kBinh.phone, opened, 0).empty()) << "Binh did not ask for alerts";

  advance(3601);
  ASSERT_EQ(server_->get("/fhir/Observation/" + obs, token_after(3601)).status, 200);
  texts = sms_to(kMai.phone, opened, 8000);
  EXPECT_EQ(texts.size(), 1u) << "an hour later the facility's read is told again";
}

}  // namespace
}  // namespace hb::test
