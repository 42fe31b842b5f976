#include "fhir/human_name.h"

#include <gtest/gtest.h>

namespace hb::fhir {
namespace {

TEST(HumanName, WrittenInTheDeploymentsOrder) {
  EXPECT_EQ(written_name("Nguyễn", {"Văn An"}, NameOrder::kFamilyFirst), "Nguyễn Văn An");
  EXPECT_EQ(written_name("Silva", {"Ana", "Maria"}, NameOrder::kGivenFirst), "Ana Maria Silva");
  EXPECT_EQ(written_name("", {"Mai"}, NameOrder::kFamilyFirst), "Mai");
  EXPECT_EQ(written_name("Tran", {"", "Binh"}, NameOrder::kGivenFirst), "Binh Tran");
  EXPECT_EQ(written_name("", {}, NameOrder::kGivenFirst), "");
}

TEST(HumanName, TextIsTheNameAsWrittenWhateverTheOrder) {
  const Json n = Json::parse(R"({"text":"Lê Thị Hồng","family":"Lê","given":["Thị Hồng"]})");
  EXPECT_EQ(written_name(n, NameOrder::kGivenFirst), "Lê Thị Hồng");
  const Json parts = Json::parse(R"({"family":"Lê","given":["Thị","Hồng"]})");
  EXPECT_EQ(written_name(parts, NameOrder::kFamilyFirst), "Lê Thị Hồng");
  EXPECT_EQ(written_name(parts, NameOrder::kGivenFirst), "Thị Hồng Lê");
}

TEST(HumanName, AnythingElseIsNoName) {
  EXPECT_EQ(written_name(Json(nullptr), NameOrder::kFamilyFirst), "");
  EXPECT_EQ(written_name(Json::parse(R"(["Nguyen"])"), NameOrder::kFamilyFirst), "");
  EXPECT_EQ(
      written_name(Json::parse(R"({"text":5,"family":7,"given":"An"})"), NameOrder::kFamilyFirst),
      "");
  EXPECT_EQ(written_name(Json::parse(R"({"text":"","family":"Pham","given":[1,"Lan"]})"),
                         NameOrder::kFamilyFirst),
            "Pham Lan");
}

TEST(HumanName, ParsesTheSetting) {
  EXPECT_EQ(parse_name_order("family-first"), NameOrder::kFamilyFirst);
  EXPECT_EQ(parse_name_order("given-first"), NameOrder::kGivenFirst);
  EXPECT_EQ(parse_name_order("Family-First"), std::nullopt);
  EXPECT_EQ(parse_name_order(""), std::nullopt);
}

}  // namespace
}  // namespace hb::fhir
