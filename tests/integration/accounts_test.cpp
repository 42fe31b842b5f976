// Resident accounts against the real binary: sign-up by SMS code, login with a second factor, the
// session cookie, CSRF refusals, 429s on guessing, session expiry (the server's clock is moved
// with testing.clock_control) and two residents who only ever see themselves.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "core/clock.h"
#include "crypto/otp.h"
#include "harness.h"

namespace hb::test {
namespace {

const std::string& kPassword = kResidentPassword;

class Accounts : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = resident_server();
    server_->add_facility("01001", "Bach Mai Hospital", "public-hospital");
    clinic_ = server_->token(server_->add_client("01001"));
    codes_ = std::make_unique<SmsCodes>(*server_);
  }

  void register_patient(const Person& p) {
    auto r = server_->send("POST", "/fhir/Patient", clinic_, patient_json(p).dump());
    ASSERT_EQ(r.status, 201) << r.body;
  }

  // POST /api/v1/account/<route> with the CSRF header (unless told otherwise) and a cookie.
  HttpResponse post(const std::string& route, const Json& body, const std::string& cookie = "",
                    std::vector<std::string> headers = {kCsrf}) {
    headers.push_back(kJsonCt);
    if (!cookie.empty()) headers.push_back("Cookie: " + cookie);
    return http("POST", server_->base() + "/api/v1/account/" + route,
                body.is_null() ? "" : body.dump(), headers);
  }
  HttpResponse me(const std::string& cookie) {
    std::vector<std::string> h;
    if (!cookie.empty()) h.push_back("Cookie: " + cookie);
    return http("GET", server_->base() + "/api/v1/account/me", "", h);
  }
  void advance(int seconds) {
    auto r = http("POST", server_->base() + "/api/test/clock",
                  Json{{"advanceSeconds", seconds}}.dump(), {kJsonCt});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // The newest SMS code sent to `phone` that was not read before (the development sink's file).
  std::string next_code(const std::string& phone) { return codes_->next(phone); }
  std::string sign_up(const Person& p) { return hb::test::sign_up(*server_, *codes_, p); }
  std::string log_in(const Person& p) { return hb::test::log_in(*server_, *codes_, p); }

  std::unique_ptr<Server> server_;
  std::unique_ptr<SmsCodes> codes_;
  std::string clinic_;
};

TEST_F(Accounts, SignUpSetsAnHttpOnlyCookieAndRefusesCrossSiteRequests) {
  register_patient(kMai);
  const Json start_body = {{"nationalId", kMai.national_id}, {"birthDate", kMai.birth_date}};
  auto no_header = post("signup/start", start_body, "", {});
  EXPECT_EQ(no_header.status, 403) << "no CSRF header";
  EXPECT_EQ(no_header.headers["content-type"], "application/problem+json");
  EXPECT_EQ(post("signup/start", start_body, "", {kCsrf, "Origin: https://evil.example"}).status,
            403);
  EXPECT_EQ(post("signup/start", start_body, "", {kCsrf, "Origin: " + server_->base()}).status, 202)
      << "the server's own origin is fine";
  next_code(kMai.phone);
  auto unknown =
      post("signup/start", {{"nationalId", "079299999999"}, {"birthDate", kMai.birth_date}});
  auto start = post("signup/start", start_body);
  ASSERT_EQ(start.status, 202);
  EXPECT_EQ(unknown.status, 202);
  EXPECT_EQ(unknown.json()["detail"], start.json()["detail"]);

  auto done = post("signup/verify", {{"challenge", start.json()["challenge"]},
                                     {"code", next_code(kMai.phone)},
                                     {"password", kPassword}});
  ASSERT_EQ(done.status, 201) << done.body;
  const std::string set_cookie = done.headers["set-cookie"];
  EXPECT_EQ(set_cookie.rfind("hb_session=", 0), 0u);
  EXPECT_NE(set_cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(set_cookie.find("; Path=/"), std::string::npos);
  EXPECT_NE(set_cookie.find("; Max-Age=43200"), std::string::npos);
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << "a plain-http development URL";
  EXPECT_EQ(done.headers["cache-control"], "no-store");
  const std::string cookie = cookie_of(done);

  auto mine = me(cookie);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(mine.json()["patient"]["name"], "Nguyen Thi Mai");
  EXPECT_EQ(me("").status, 401);
  EXPECT_EQ(me("hb_session=forged-token-value").status, 401);

  EXPECT_EQ(post("logout", Json(), cookie, {}).status, 403) << "logout needs the CSRF header too";
  auto out = post("logout", Json(), cookie);
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(out.headers["set-cookie"].find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(me(cookie).status, 401);
}

TEST_F(Accounts, LoginNeedsTheSecondFactorAndSessionsExpire) {
  register_patient(kMai);
  sign_up(kMai);
  auto half = post("login", {{"nationalId", kMai.national_id}, {"password", kPassword}});
  ASSERT_EQ(half.status, 200) << half.body;
  EXPECT_EQ(half.json()["secondFactor"]["smsSent"], true);
  const std::string half_cookie = cookie_of(half);
  EXPECT_EQ(me(half_cookie).status, 401) << "not before the second factor";
  auto full = post("login/second-factor", {{"code", next_code(kMai.phone)}}, half_cookie);
  ASSERT_EQ(full.status, 200) << full.body;
  const std::string cookie = cookie_of(full);
  EXPECT_NE(cookie, half_cookie);
  EXPECT_EQ(me(cookie).status, 200);
  EXPECT_EQ(me(half_cookie).status, 401);
  // Idle for 31 minutes: gone.
  advance(31 * 60);
  auto expired = me(cookie);
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.json()["title"], "session-expired");
  EXPECT_NE(expired.headers["set-cookie"].find("Max-Age=0"), std::string::npos);
}

TEST_F(Accounts, AResentLoginCodeReplacesTheFirst) {
  register_patient(kMai);
  sign_up(kMai);
  auto half = post("login", {{"nationalId", kMai.national_id}, {"password", kPassword}});
  ASSERT_EQ(half.status, 200) << half.body;
  const std::string half_cookie = cookie_of(half);
  const std::string first = next_code(kMai.phone);
  auto resend = post("login/sms", Json(), half_cookie);
  ASSERT_EQ(resend.status, 200) << resend.body;
  EXPECT_EQ(resend.json()["smsSent"], true);
  const std::string second = next_code(kMai.phone);
  if (first != second) {
    auto stale = post("login/second-factor", {{"code", first}}, half_cookie);
    EXPECT_EQ(stale.status, 401) << "the first code is spent once a new one is sent";
  }
  auto full = post("login/second-factor", {{"code", second}}, half_cookie);
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_EQ(me(cookie_of(full)).status, 200);
}

TEST_F(Accounts, GuessingPasswordsAndCodesGets429AndAReplayedCodeIsRefused) {
  register_patient(kMai);
  // Codes: five wrong tries kill the challenge; the right code then is refused too.
  auto start =
      post("signup/start", {{"nationalId", kMai.national_id}, {"birthDate", kMai.birth_date}});
  const std::string code = next_code(kMai.phone);
  const std::string wrong = code == "123456" ? "654321" : "123456";
  for (int i = 1; i < 5; ++i) {
    auto r =
        post("signup/verify",
             {{"challenge", start.json()["challenge"]}, {"code", wrong}, {"password", kPassword}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.json()["remainingAttempts"], 5 - i);
  }
  EXPECT_EQ(
      post("signup/verify",
           {{"challenge", start.json()["challenge"]}, {"code", wrong}, {"password", kPassword}})
          .status,
      410);
  EXPECT_EQ(
      post("signup/verify",
           {{"challenge", start.json()["challenge"]}, {"code", code}, {"password", kPassword}})
          .status,
      410);

  // A replayed code: the second use is refused.
  auto again =
      post("signup/start", {{"nationalId", kMai.national_id}, {"birthDate", kMai.birth_date}});
  const std::string good = next_code(kMai.phone);
  const Json verify = {
      {"challenge", again.json()["challenge"]}, {"code", good}, {"password", kPassword}};
  EXPECT_EQ(post("signup/verify", verify).status, 201);
  EXPECT_EQ(post("signup/verify", verify).status, 410);

  // Sign-up codes per national id: the third start within the hour was the last.
  post("signup/start", {{"nationalId", kMai.national_id}, {"birthDate", kMai.birth_date}});
  auto limited =
      post("signup/start", {{"nationalId", kMai.national_id}, {"birthDate", kMai.birth_date}});
  EXPECT_EQ(limited.status, 429);
  EXPECT_FALSE(limited.headers["retry-after"].empty());

  // Passwords: the fifth wrong one locks the account, with Retry-After.
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(
        post("login", {{"nationalId", kMai.national_id}, {"password", "wrong password 1"}}).status,
        401);
  }
  auto locked = post("login", {{"nationalId", kMai.national_id}, {"password", "wrong password 1"}});
  EXPECT_EQ(locked.status, 429);
  EXPECT_GT(std::stoi(locked.headers["retry-after"]), 800);
  EXPECT_EQ(post("login", {{"nationalId", kMai.national_id}, {"password", kPassword}}).status, 429);
  advance(15 * 60 + 1);
  EXPECT_EQ(post("login", {{"nationalId", kMai.national_id}, {"password", kPassword}}).status, 200);
}

TEST_F(Accounts, AnAuthenticatorAppIsASecondFactorAndItsCodesWorkOnce) {
  register_patient(kMai);
  const std::string cookie = sign_up(kMai);
  EXPECT_EQ(post("totp/setup", Json(), "").status, 401) << "signed-in residents only";
  auto setup = post("totp/setup", Json(), cookie);
  ASSERT_EQ(setup.status, 200) << setup.body;
  const std::string secret = *crypto::base32_decode(setup.json()["secret"].get<std::string>());
  EXPECT_NE(setup.json()["uri"].get<std::string>().find("secret=" +
                                                        setup.json()["secret"].get<std::string>()),
            std::string::npos);
  int64_t offset = 0;  // how far the test has moved the server's clock
  auto code_now = [&] {
    return crypto::totp(secret, SystemClock::instance().now() + std::chrono::seconds(offset));
  };
  const std::string enrol = code_now();
  ASSERT_EQ(post("totp/confirm", {{"code", enrol}}, cookie).status, 200);

  auto half = post("login", {{"nationalId", kMai.national_id}, {"password", kPassword}});
  ASSERT_EQ(half.status, 200);
  EXPECT_EQ(half.json()["secondFactor"]["methods"], Json::array({"totp", "sms"}));
  EXPECT_EQ(half.json()["secondFactor"]["smsSent"], false);
  EXPECT_EQ(post("login/second-factor", {{"code", enrol}}, cookie_of(half)).status, 401)
      << "a spent code";
  advance(60);
  offset += 60;
  auto full = post("login/second-factor", {{"code", code_now()}}, cookie_of(half));
  ASSERT_EQ(full.status, 200) << full.body;
  auto mine = me(cookie_of(full));
  EXPECT_EQ(mine.json()["account"]["secondFactors"], Json::array({"totp", "sms"}));
}

TEST_F(Accounts, TwoResidentsEachSeeOnlyThemselves) {
  register_patient(kMai);
  register_patient(kBinh);
  const std::string mai = sign_up(kMai);
  const std::string binh = sign_up(kBinh);
  const std::string mai2 = log_in(kMai);
  EXPECT_EQ(me(mai).json()["patient"]["name"], "Nguyen Thi Mai");
  EXPECT_EQ(me(binh).json()["patient"]["name"], "Tran Van Binh");
  // Two cookies at once: the first hb_session counts; there is no route that names an account.
  EXPECT_EQ(me(binh + "; " + mai).json()["patient"]["name"], "Tran Van Binh");
  auto everywhere = post("logout-everywhere", Json(), mai2);
  EXPECT_EQ(everywhere.status, 200);
  EXPECT_EQ(me(mai).status, 401);
  EXPECT_EQ(me(mai2).status, 401);
  EXPECT_EQ(me(binh).status, 200);
}


// The patient's own documents: listed and shown only to them; a link that wrong birth dates locked
// is opened again from the account; a new link for the employer unlocks like the first.
TEST_F(Accounts, AResidentSeesAndReopensOnlyTheirOwnDocuments) {
  Json mc = {{"documentId", "MC-9001"},
             {"kind", "mc-outpatient"},
             {"patient", {{"nationalId", kMai.national_id}, {"family", kMai.family},
                          {"given", kMai.given}, {"birthDate", kMai.birth_date}, {"phone", kMai.phone}}},
             {"doctor", {{"name", "Dr. Le Van An"}}},
             {"leave", {{"from", "2026-11-20"}, {"to", "2026-11-22"}}},
             {"diagnosis", {{"text", "Acute bronchitis"}, {"code", "J20.9"},
                            {"system", "http://hl7.org/fhir/sid/icd-10"}}}};
  auto issued = server_->send("POST", "/api/v1/documents", clinic_, mc.dump(), {kJsonCt});
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string doc_id = issued.json()["id"];
  const std::string link = issued.json()["link"];
  const std::string token = link.substr(link.rfind('/') + 1);
  register_patient(kBinh);
  const std::string mai = sign_up(kMai);
  const std::string binh = sign_up(kBinh);
  auto get = [&](const std::string& path, const std::string& cookie) {
    return http("GET", server_->base() + "/api/v1/me/documents" + path, "", {"Cookie: " + cookie});
  };
  auto post_doc = [&](const std::string& path, const std::string& cookie,
                      std::vector<std::string> headers = {kCsrf}) {
    headers.push_back("Cookie: " + cookie);
    return http("POST", server_->base() + "/api/v1/me/documents" + path, "", headers);
  };

  auto list = get("", mai);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.headers["cache-control"], "no-store");
  ASSERT_EQ(list.json()["documents"].size(), 1u);
  EXPECT_EQ(list.json()["documents"][0]["id"], doc_id);
  EXPECT_EQ(list.json()["documents"][0]["links"]["state"], "open");
  EXPECT_EQ(get("", binh).json()["documents"].size(), 0u);
  auto mine = get("/" + doc_id, mai);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(mine.json()["diagnosis"]["code"], "J20.9") << "the patient sees their own diagnosis";
  EXPECT_EQ(mine.json()["card"].get<std::string>().size() > 100, true);
  EXPECT_EQ(mine.json()["qr"].get<std::string>().rfind("shc:/", 0), 0u) << "the page draws it";
  // Another resident's id reads exactly like an unknown one, on every route.
  auto theirs = get("/" + doc_id, binh);
  auto unknown = get("/00000000-0000-4000-8000-000000000000", binh);
  EXPECT_EQ(theirs.status, 404);
  EXPECT_EQ(theirs.json()["title"], unknown.json()["title"]);
  EXPECT_EQ(post_doc("/" + doc_id + "/reopen-link", binh).status, 404);
  EXPECT_EQ(post_doc("/" + doc_id + "/links", binh).status, 404);
  EXPECT_EQ(get("", "hb_session=forged").status, 401);

  // Five wrong birth dates lock the link for an hour; the patient opens it again at once.
  const std::string api = "/api/v1/links/" + token;
  for (int i = 0; i < 5; ++i) {
    server_->send("POST", api + "/unlock", "", R"({"birthDate":"1990-04-13"})", {kJsonCt});
  }
  EXPECT_EQ(server_->send("POST", api + "/unlock", "", R"({"birthDate":"1990-04-12"})", {kJsonCt}).status,
            429);
  EXPECT_EQ(get("", mai).json()["documents"][0]["links"]["state"], "locked");
  EXPECT_EQ(post_doc("/" + doc_id + "/reopen-link", mai, {}).status, 403) << "CSRF header needed";
  auto reopened = post_doc("/" + doc_id + "/reopen-link", mai);
  ASSERT_EQ(reopened.status, 200) << reopened.body;
  EXPECT_EQ(reopened.json()["linksReopened"], 1);
  EXPECT_EQ(reopened.json()["links"]["state"], "open");
  EXPECT_EQ(server_->send("POST", api + "/unlock", "", R"({"birthDate":"1990-04-12"})", {kJsonCt}).status,
            200);

  // A new link for the employer: its own token, the same birth date.
  auto fresh = post_doc("/" + doc_id + "/links", mai);
  ASSERT_EQ(fresh.status, 201) << fresh.body;
  const std::string fresh_link = fresh.json()["link"];
  const std::string fresh_token = fresh_link.substr(fresh_link.rfind('/') + 1);
  EXPECT_NE(fresh_token, token);
  EXPECT_GE(fresh_token.size(), 43u) << "256 random bits";
  EXPECT_EQ(server_->send("POST", "/api/v1/links/" + fresh_token + "/unlock", "",
                          R"({"birthDate":"1990-04-13"})", {kJsonCt}).status,
            401);
  EXPECT_EQ(server_->send("POST", "/api/v1/links/" + fresh_token + "/unlock", "",
                          R"({"birthDate":"1990-04-12"})", {kJsonCt}).status,
            200);
  EXPECT_EQ(get("", mai).json()["documents"][0]["links"]["count"], 2);

  // The patient, and only the patient, chooses to show the diagnosis on the document's links.
  auto prefs = [&](const std::string& cookie, const std::string& body) {
    return http("POST", server_->base() + "/api/v1/me/documents/" + doc_id + "/preferences", body,
                {kCsrf, kJsonCt, "Cookie: " + cookie});
  };
  EXPECT_FALSE(mine.json().value("showDiagnosis", false));
  EXPECT_EQ(prefs(binh, R"({"showDiagnosis":true})").status, 404);
  EXPECT_EQ(prefs(mai, R"({"showDiagnosis":"yes"})").status, 400);
  auto chosen = prefs(mai, R"({"showDiagnosis":true})");
  ASSERT_EQ(chosen.status, 200) << chosen.body;
  EXPECT_TRUE(chosen.json()["showDiagnosis"].get<bool>());
  auto seen = server_->send("POST", "/api/v1/links/" + fresh_token + "/unlock", "",
                            R"({"birthDate":"1990-04-12"})", {kJsonCt});
  ASSERT_EQ(seen.status, 200);
  EXPECT_EQ(seen.json()["diagnosis"]["code"], "J20.9") << "every link of the document follows the choice";
  auto third = post_doc("/" + doc_id + "/links", mai);
  ASSERT_EQ(third.status, 201);
  const std::string third_link = third.json()["link"];
  auto third_view = server_->send("POST", "/api/v1/links/" + third_link.substr(third_link.rfind('/') + 1) + "/unlock",
                                  "", R"({"birthDate":"1990-04-12"})", {kJsonCt});
  EXPECT_EQ(third_view.json()["diagnosis"]["code"], "J20.9") << "a new link follows it too";
  ASSERT_EQ(prefs(mai, R"({"showDiagnosis":false})").status, 200);
  EXPECT_FALSE(server_->send("POST", "/api/v1/links/" + fresh_token + "/unlock", "",
                             R"({"birthDate":"1990-04-12"})", {kJsonCt}).json().contains("diagnosis"));

  // A revoked document gets no new links.
  ASSERT_EQ(server_->send("POST", "/api/v1/documents/MC-9001/revoke", clinic_, R"({"reason":"issued in error"})",
                          {kJsonCt}).status,
            200);
  EXPECT_EQ(post_doc("/" + doc_id + "/links", mai).status, 409);
  // Its reason (free text from the facility) is the patient's to read, not the link holder's.
  auto revoked_view = get("/" + doc_id, mai);
  ASSERT_EQ(revoked_view.status, 200) << revoked_view.body;
  EXPECT_EQ(revoked_view.json()["status"], "revoked");
  EXPECT_EQ(revoked_view.json()["revokedReason"], "issued in error");
  auto link_page = server_->send("POST", "/api/v1/links/" + fresh_token + "/unlock", "",
                                 R"({"birthDate":"1990-04-12"})", {kJsonCt});
  ASSERT_EQ(link_page.status, 200);
  EXPECT_EQ(link_page.json()["status"], "revoked");
  EXPECT_EQ(link_page.body.find("issued in error"), std::string::npos) << link_page.body;
}
}  // namespace
}  // namespace hb::test
