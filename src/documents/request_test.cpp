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

TEST(DocumentRequest, BirthDatesAsPeopleTypeThem) {
  EXPECT_EQ(normalise_birth_date("1990-04-12"), "1990-04-12");
  EXPECT_EQ(normalise_birth_date("12/04/1990"), "1990-04-12");
  EXPECT_EQ(normalise_birth_date("12.04.1990"), "1990-04-12");
  EXPECT_EQ(normalise_birth_date(" 12041990 "), "1990-04-12");
  EXPECT_EQ(normalise_birth_date("31/02/1990"), "");
  EXPECT_EQ(normalise_birth_date("1990-4-12"), "");
  EXPECT_EQ(normalise_birth_date(""), "");
}

}  // namespace
}  // namespace hb::documents
