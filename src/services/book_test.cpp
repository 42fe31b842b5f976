// Timeline summaries: what each kind of record shows, and when a result is flagged.
#include "services/book.h"

#include <gtest/gtest.h>

namespace hb::services {
namespace {

Json parse(const char* text) { return *parse_fhir_json(text); }

TEST(Book, ResultFlagPrefersTheFacilitysInterpretation) {
  EXPECT_EQ(result_flag("", 11.2, 12.0, 16.0), "L");
  EXPECT_EQ(result_flag("", 16.5, 12.0, 16.0), "H");
  EXPECT_EQ(result_flag("", 16.0, 12.0, 16.0), "") << "the range is inclusive";
  EXPECT_EQ(result_flag("", 5.0, std::nullopt, 4.0), "H") << "a range with only a high end";
  EXPECT_EQ(result_flag("", std::nullopt, 12.0, 16.0), "") << "no value, no flag";
  EXPECT_EQ(result_flag("HH", 13.0, 12.0, 16.0), "HH") << "the interpretation wins";
  EXPECT_EQ(result_flag("N", 11.0, 12.0, 16.0), "") << "normal is not a flag";
}

TEST(Book, ObservationSummaryKeepsTheDecimalAsSent) {
  Json obs = parse(R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"718-7","display":"Hemoglobin"}],"text":"Haemoglobin"},
    "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-11-20T09:30:00+07:00",
    "valueQuantity":{"value":11.20,"unit":"g/dL"},
    "referenceRange":[{"low":{"value":12.0},"high":{"value":16}}]})");
  auto s = summarise("Observation", obs, from_unix_millis(0));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, "result");
  EXPECT_EQ(s->date, 1795141800000) << "2026-11-20T02:30:00Z";
  EXPECT_EQ(dump_json(s->fields["value"]),
            R"({"flag":"L","high":16,"low":12.0,"unit":"g/dL","value":11.20})");
  EXPECT_EQ(s->fields["title"], "Haemoglobin");
  EXPECT_EQ(s->fields["summary"], "11.20 g/dL");
  EXPECT_EQ(s->fields["date"], "2026-11-20T09:30:00+07:00");
}

TEST(Book, EachKindHasATitleAndADate) {
  const Time updated = from_unix_millis(1700000000000);
  auto visit = summarise("Encounter", parse(R"({"resourceType":"Encounter","status":"finished",
    "class":{"code":"AMB","display":"ambulatory"},"subject":{"reference":"Patient/p"}})"),
                         updated);
  ASSERT_TRUE(visit);
  EXPECT_EQ(visit->kind, "visit");
  EXPECT_EQ(visit->fields["title"], "Visit");
  EXPECT_EQ(visit->date, 1700000000000) << "no date in the record: when it was stored";

  auto doc = summarise("DocumentReference", parse(R"({"resourceType":"DocumentReference",
    "status":"current","description":"Sick leave","date":"2026-11-20T10:00:00Z",
    "type":{"coding":[{"system":"urn:x","code":"mc-outpatient"}]},
    "identifier":[{"system":"urn:healthbook:document","value":"d-1"}],
    "custodian":{"display":"Bach Mai Hospital"}})"),
                       updated);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->kind, "document");
  EXPECT_EQ(doc->fields["document"]["id"], "d-1");
  EXPECT_EQ(doc->fields["document"]["kind"], "mc-outpatient");
  EXPECT_EQ(doc->fields["summary"], "Bach Mai Hospital");

  auto appt = summarise("Appointment", parse(R"({"resourceType":"Appointment","status":"booked",
    "description":"Re-examination","start":"2026-12-01T08:00:00+07:00"})"),
                        updated);
  ASSERT_TRUE(appt);
  EXPECT_EQ(appt->kind, "appointment");
  EXPECT_EQ(appt->fields["title"], "Re-examination");

  EXPECT_FALSE(summarise("Patient", parse(R"({"resourceType":"Patient"})"), updated));
  EXPECT_FALSE(summarise("Consent", parse(R"({"resourceType":"Consent"})"), updated));
}

}  // namespace
}  // namespace hb::services
