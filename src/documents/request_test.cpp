// The document request parser (documents/request.h): problems with their paths, the kinds'
// content, and the birth dates people type.
#include "documents/request.h"

#include <gtest/gtest.h>

namespace hb::documents {
namespace {

const Time kNow = Time(std::chrono::seconds(1'800'000'000));

Json mc() {
  return *parse_fhir_json(R"({"documentId":"MC-1","kind":"mc-outpatient",
    "patient":{"nationalId":"079201001234","family":"Nguyen","given":"Mai","birthDate":"1990-04-12","phone":"+84901234567"},
    "doctor":{"name":"Dr. Binh"},"leave":{"from":"2026-11-20","to":"2026-11-22"}})");
}

TEST(DocumentRequest, AValidCertificate) {
  auto r = parse_document_request(mc(), kNow);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->kind->family, Family::kLeave);
  EXPECT_EQ(r->to, "2026-11-22");
}

// Found by document_request_fuzz: an unknown member with an empty name was reported with an
// empty path.
TEST(DocumentRequest, EveryProblemHasAPathEvenForAnEmptyKey) {
  Json j = mc();
  j[""] = 1;
  auto r = parse_document_request(j, kNow);
  ASSERT_FALSE(r.is_ok());
  ASSERT_FALSE(r.error().problems().empty());
  for (const auto& p : r.error().problems()) EXPECT_FALSE(p.path.empty()) << p.message;
}

TEST(DocumentRequest, LabResultsKeepDecimalsAndAreFlagged) {
  Json j = mc();
  j.erase("leave");
  j["kind"] = "lab-result";
  j["results"] = *parse_fhir_json(R"([{"code":{"system":"http://loinc.org","code":"2823-3"},
    "value":5.40,"unit":"mmol/L","low":3.50,"high":5.10,"effective":"2026-11-20"}])");
  auto r = parse_document_request(j, kNow);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->clinical.size(), 1u);
  EXPECT_EQ(dump_json(r->clinical[0]["valueQuantity"]), R"({"unit":"mmol/L","value":5.40})");
  EXPECT_EQ(r->clinical[0]["interpretation"][0]["coding"][0]["code"], "H");
}

// "path: message" of every problem, to look for one among them.
std::vector<std::string> problems_of(const Json& j) {
  auto r = parse_document_request(j, kNow);
  std::vector<std::string> out;
  if (r.is_ok()) return out;
  for (const auto& p : r.error().problems()) out.push_back(p.path + ": " + p.message);
  return out;
}

// Whether one of the problems contains text (and, when not, what the problems were).
::testing::AssertionResult has_problem(const std::vector<std::string>& problems,
                                       const std::string& text) {
  std::string all;
  for (const auto& p : problems) {
    if (p.find(text) != std::string::npos) return ::testing::AssertionSuccess();
    all += "\n  " + p;
  }
  return ::testing::AssertionFailure()
         << "no problem \"" << text << "\" among:" << (all.empty() ? " none" : all);
}

void expect_ok(const Json& j) {
  auto r = parse_document_request(j, kNow);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
}

Json chit(const std::string& from, const std::string& to) {
  Json j = mc();
  j["kind"] = "time-chit";
  j["leave"] = {{"from", from}, {"to", to}};
  return j;
}

TEST(DocumentRequest, ATimeChitEndsAfterItStartsAndWithinADay) {
  expect_ok(chit("2026-11-20T09:00:00+07:00", "2026-11-20T15:00:00+07:00"));
  // A night in the emergency room.
  expect_ok(chit("2026-11-20T22:00+07:00", "2026-11-21T06:00+07:00"));
  EXPECT_TRUE(
      has_problem(problems_of(chit("2026-11-20T15:00:00+07:00", "2026-11-20T09:00:00+07:00")),
                  "leave.to: is before leave.from"));
  // Compared as instants: 09:30 at +08:00 is 08:30 at +07:00.
  EXPECT_TRUE(
      has_problem(problems_of(chit("2026-11-20T09:00:00+07:00", "2026-11-20T09:30:00+08:00")),
                  "leave.to: is before leave.from"));
  EXPECT_TRUE(has_problem(problems_of(chit("2021-11-20T09:00:00Z", "2026-11-20T09:00:00Z")),
                          "leave: longer than 24 hours"));
  EXPECT_TRUE(has_problem(problems_of(chit("2026-11-20T09:00:00Z", "2026-11-21T09:00:01Z")),
                          "leave: longer than 24 hours"));
  expect_ok(chit("2026-11-20T09:00:00Z", "2026-11-21T09:00:00Z"));
}

Json vaccination(const std::string& date) {
  Json j = mc();
  j.erase("leave");
  j["kind"] = "vaccination";
  j["vaccine"] = {{"system", "http://hl7.org/fhir/sid/cvx"}, {"code", "140"}};
  j["date"] = date;
  return j;
}

Json lab(const Json& result) {
  Json j = mc();
  j.erase("leave");
  j["kind"] = "lab-result";
  Json x = {{"code", {{"system", "http://loinc.org"}, {"code", "2823-3"}}},
            {"value", 4.1},
            {"effective", "2026-11-20"}};
  for (auto it = result.begin(); it != result.end(); ++it) x[it.key()] = it.value();
  j["results"] = Json::array({x});
  return j;
}

TEST(DocumentRequest, DatesThatCannotBeRightAreRefused) {
  // kNow is 2027-01-15T08:00:00Z; the patient was born on 1990-04-12.
  EXPECT_TRUE(has_problem(problems_of(vaccination("2099-11-01")), "date: is in the future"));
  EXPECT_TRUE(has_problem(problems_of(vaccination("2027-01-17")), "date: is in the future"));
  expect_ok(vaccination("2027-01-16"));  // already the 16th east of UTC
  EXPECT_TRUE(has_problem(problems_of(vaccination("1990-04-11")),
                          "date: is before the patient's birth date"));
  expect_ok(vaccination("1990-04-12"));  // a newborn's first dose

  EXPECT_TRUE(has_problem(problems_of(lab({{"effective", "2099-01-01"}})),
                          "results[0].effective: is in the future"));
  EXPECT_TRUE(has_problem(problems_of(lab({{"effective", "2027-01-16T09:00:00Z"}})),
                          "results[0].effective: is in the future"));
  // Local time sent as Z (7 hours ahead) is within the allowance.
  expect_ok(lab({{"effective", "2027-01-15T15:00:00Z"}}));
  EXPECT_TRUE(has_problem(problems_of(lab({{"effective", "1980-01-01"}})),
                          "results[0].effective: is before the patient's birth date"));
  EXPECT_TRUE(has_problem(problems_of(lab({{"low", 5.5}, {"high", 3.9}})),
                          "results[0].low: is above results[0].high"));
  EXPECT_FALSE(has_problem(
      problems_of(lab({{"low", *parse_fhir_json("5.10")}, {"high", *parse_fhir_json("5.1")}})),
      "above"));

  Json early = mc();
  early["leave"] = {{"from", "1990-04-01"}, {"to", "1990-04-20"}};
  EXPECT_TRUE(has_problem(problems_of(early), "leave.from: is before the patient's birth date"));
  Json chit_early = chit("1990-04-11T09:00:00+07:00", "1990-04-11T10:00:00+07:00");
  EXPECT_TRUE(has_problem(problems_of(chit_early), "leave.to: is before the patient's birth date"));
  // Leave for planned surgery starts in the future.
  Json planned = mc();
  planned["leave"] = {{"from", "2027-06-01"}, {"to", "2027-06-14"}};
  expect_ok(planned);
}

TEST(DocumentRequest, IdentifiersAreOneSearchToken) {
  for (const char* bad : {"abc|def", "079,201", "a$b", "a\\b", "a\tb", " 0792", "0792 ", "079  201",
                          "079\u00a0201", "\u0661\u0662\u0663", "a+b", "a%20b", "a&b"}) {
    Json j = mc();
    j["patient"]["nationalId"] = bad;
    EXPECT_TRUE(has_problem(problems_of(j), "patient.nationalId: use letters A-Z, digits")) << bad;
    j["patient"]["nationalId"] = "079201001234";
    j["patient"]["insuranceNumber"] = bad;
    EXPECT_TRUE(has_problem(problems_of(j), "patient.insuranceNumber: use letters A-Z, digits")) << bad;
  }
  for (const char* good : {"S1234567D", "DN-4010.123/45", "079 201 001234"}) {
    Json j = mc();
    j["patient"]["nationalId"] = good;
    j["patient"]["insuranceNumber"] = good;
    expect_ok(j);
  }
  Json j = mc();
  j["patient"]["nationalId"] = std::string(65, '1');
  EXPECT_TRUE(has_problem(problems_of(j), "patient.nationalId: longer than 64 characters"));
}

TEST(DocumentRequest, UnknownNestedMembersAndOtherKindsMembersAreRefused) {
  Json j = mc();
  j["leave"]["extra"] = 1;
  j["doctor"]["foo"] = "x";
  j["patient"]["middle"] = "x";
  j["diagnosis"] = {{"text", "Influenza"}, {"evil", true}};
  auto p = problems_of(j);
  EXPECT_TRUE(has_problem(p, "leave.extra: unknown member"));
  EXPECT_TRUE(has_problem(p, "doctor.foo: unknown member"));
  EXPECT_TRUE(has_problem(p, "patient.middle: unknown member"));
  EXPECT_TRUE(has_problem(p, "diagnosis.evil: unknown member"));

  Json x = lab({{"comment", "x"}});
  x["results"][0]["code"]["version"] = "2.7";
  EXPECT_TRUE(has_problem(problems_of(x), "results[0].comment: unknown member"));
  EXPECT_TRUE(has_problem(problems_of(x), "results[0].code.version: unknown member"));
  Json v = vaccination("2026-01-01");
  v["vaccine"]["lot"] = "x";
  EXPECT_TRUE(has_problem(problems_of(v), "vaccine.lot: unknown member"));

  Json other = mc();
  other["summary"] = "Discharged well";
  other["referral"] = {{"to", "Cardiology"}, {"reason", "murmur"}};
  EXPECT_TRUE(has_problem(problems_of(other), "summary: not used by kind mc-outpatient"));
  EXPECT_TRUE(has_problem(problems_of(other), "referral: not used by kind mc-outpatient"));
  Json leave_on_vax = vaccination("2026-01-01");
  leave_on_vax["leave"] = mc()["leave"];
  EXPECT_TRUE(has_problem(problems_of(leave_on_vax), "leave: not used by kind vaccination"));
  // null is "not given", as everywhere in the request.
  Json nulls = mc();
  nulls["summary"] = nullptr;
  expect_ok(nulls);
}

TEST(DocumentRequest, LimitsCountCharactersNotBytes) {
  std::string given;
  for (int i = 0; i < 30; ++i) given += "Thị";  // 90 characters, 150 bytes
  Json j = mc();
  j["patient"]["given"] = given;
  expect_ok(j);
  j["patient"]["given"] = given + std::string(10, 'a') + "ễ";  // 101 characters
  EXPECT_TRUE(has_problem(problems_of(j), "patient.given: longer than 100 characters"));
}

TEST(DocumentRequest, CharactersThatHideOrReorderTextAreRefused) {
  Json j = mc();
  j["patient"]["family"] = "Nguyễn\u202eyrneH";
  EXPECT_TRUE(
      has_problem(problems_of(j), "patient.family: contains U+202E, a text-direction control"));
  j = mc();
  j["patient"]["given"] = "Mai\u2066x\u2069";
  EXPECT_TRUE(has_problem(problems_of(j), "patient.given: contains U+2066"));
  j = mc();
  j["doctor"]["name"] = "Dr.\u200bBinh";
  EXPECT_TRUE(has_problem(problems_of(j), "doctor.name: contains U+200B, an invisible character"));
  j = mc();
  j["diagnosis"] = {{"text", "\ufeffInfluenza"}};
  EXPECT_TRUE(has_problem(problems_of(j), "diagnosis.text: contains U+FEFF"));
  j = mc();
  j["doctor"]["registration"] = "MCR\u2060123";
  EXPECT_TRUE(has_problem(problems_of(j), "doctor.registration: contains U+2060"));
  j = mc();
  j["patient"]["family"] = "Ng\x07uyen";
  EXPECT_TRUE(has_problem(problems_of(j), "patient.family: contains U+0007, a control character"));
  Json r = mc();
  r.erase("leave");
  r["kind"] = "referral";
  r["referral"] = {{"to", "Cardiology\u202d"}, {"reason", "murmur"}};
  EXPECT_TRUE(has_problem(problems_of(r), "referral.to: contains U+202D"));
  // Joiners some scripts need, and line breaks in long text, stay.
  j = mc();
  j["patient"]["given"] = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645";
  j["diagnosis"] = {{"text", "Line one\nline two\ttabbed"}};
  expect_ok(j);
}

// The patient reads a revocation's reason: the document's text rules hold for it too.
TEST(Revocation, TheReasonIsTextTheDocumentsRulesAllow) {
  auto reason = parse_revocation(Json{{"reason", "issued to the wrong patient"}});
  ASSERT_TRUE(reason.is_ok()) << reason.status().to_string();
  EXPECT_EQ(*reason, "issued to the wrong patient");
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xc3\xa9";  // 200 characters, 400 bytes
  EXPECT_TRUE(parse_revocation(Json{{"reason", accents}}).is_ok());
  auto refused = [](const Json& j, const std::string& path) {
    auto r = parse_revocation(j);
    ASSERT_FALSE(r.is_ok()) << j.dump();
    EXPECT_EQ(r.error().code(), Code::kUnprocessable);
    ASSERT_FALSE(r.error().problems().empty());
    EXPECT_EQ(r.error().problems()[0].path, path) << j.dump();
  };
  refused(Json{{"reason", accents + "x"}}, "reason");
  refused(Json{{"reason", "ok\x07"}}, "reason");
  refused(Json{{"reason", "ok\xe2\x80\xae"}}, "reason");  // U+202E
  refused(Json{{"reason", ""}}, "reason");
  refused(Json{{"reason", 5}}, "reason");
  refused(Json::object(), "reason");
  refused(Json{{"reason", "ok"}, {"unexpected", Json::object()}}, "unexpected");
  refused(Json::array(), "");
}

TEST(DocumentRequest, BirthDatesAsPeopleTypeThem) {
  EXPECT_EQ(normalise_birth_date("1990-04-12"), "1990-04-12");
  EXPECT_EQ(normalise_birth_date("12/04/1990"), "1990-04-12");
  EXPECT_EQ(normalise_birth_date("12.04.1990"), "1990-04-12");
  EXPECT_EQ(normalise_birth_date(" 12041990 "), "1990-04-12");
  EXPECT_EQ(normalise_birth_date("31/02/1990"), "");
  EXPECT_EQ(normalise_birth_date("1990-4-12"), "1990-04-12");
  EXPECT_EQ(normalise_birth_date("1990/04/12"), "1990-04-12");
  EXPECT_EQ(normalise_birth_date("1990.4.2"), "1990-04-02");
  EXPECT_EQ(normalise_birth_date("8/8/1988"), "1988-08-08");
  EXPECT_EQ(normalise_birth_date("12-4-1990"), "1990-04-12");
  EXPECT_EQ(normalise_birth_date("1990/04-12"), "") << "one separator";
  EXPECT_EQ(normalise_birth_date("12/04/90"), "") << "a two-digit year is a guess";
  EXPECT_EQ(normalise_birth_date("1990-04-12-1"), "");
  EXPECT_EQ(normalise_birth_date("04/1990"), "");
  EXPECT_EQ(normalise_birth_date("123/04/1990"), "");
  EXPECT_EQ(normalise_birth_date("12 April 1990"), "");
  EXPECT_EQ(normalise_birth_date("-"), "");
  EXPECT_EQ(normalise_birth_date(""), "");
}

}  // namespace
}  // namespace hb::documents
