#include "core/json.h"

#include <gtest/gtest.h>

namespace hb {
namespace {

TEST(Json, ParsesObject) {
  auto r = parse_json(R"({"a":[1,2.5,"x",true,null],"b":{"c":"d"}})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)["a"][1], 2.5);
  EXPECT_EQ((*r)["b"]["c"], "d");
}

TEST(Json, RejectsDuplicateKeys) {
  auto r = parse_json(R"({"a":1,"b":{"x":1,"x":2}})");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().code(), Code::kInvalid);
  EXPECT_NE(r.error().message().find("duplicate object key \"x\""), std::string::npos);
}

TEST(Json, SameKeyInSiblingObjectsIsFine) {
  EXPECT_TRUE(parse_json(R"([{"a":1},{"a":2}])").is_ok());
}

TEST(Json, RejectsDeepNesting) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  auto r = parse_json(deep, JsonLimits{.max_bytes = 1000, .max_depth = 64});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().code(), Code::kTooLarge);
  std::string ok(64, '[');
  ok += std::string(64, ']');
  EXPECT_TRUE(parse_json(ok, JsonLimits{.max_bytes = 1000, .max_depth = 64}).is_ok());
}

TEST(Json, RejectsOversizedInput) {
  auto r = parse_json(R"({"a":"0123456789"})", JsonLimits{.max_bytes = 10, .max_depth = 8});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().code(), Code::kTooLarge);
}

TEST(Json, RejectsInvalidUtf8) {
  auto r = parse_json("{\"a\":\"\xff\xfe\"}");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().code(), Code::kInvalid);
}

TEST(Json, RejectsTrailingGarbageAndTruncation) {
  EXPECT_FALSE(parse_json(R"({"a":1} x)").is_ok());
  EXPECT_FALSE(parse_json(R"({"a":1)").is_ok());
  EXPECT_FALSE(parse_json("").is_ok());
  auto r = parse_json(R"({"a":})");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.error().message().find("at byte"), std::string::npos);
}

TEST(Json, DumpIsCompact) {
  auto r = parse_json(R"({ "a" : [ 1 , 2 ] })");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(dump_json(*r), R"({"a":[1,2]})");
}

TEST(Json, FhirParsingKeepsDecimalsAsSent) {
  const std::string text = R"({"a":1.50,"b":[0.10,2,-3e2,1E+3],"c":"1.50","d":7})";
  auto r = parse_fhir_json(text);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(is_decimal_text((*r)["a"]));
  EXPECT_EQ(decimal_text((*r)["a"]), "1.50");
  EXPECT_FALSE(is_decimal_text((*r)["c"])) << "a string that looks like a number stays a string";
  EXPECT_TRUE((*r)["d"].is_number_integer());
  EXPECT_EQ(dump_json(*r), text);
  // The ordinary parser gives doubles, and drops the trailing zero.
  EXPECT_EQ(dump_json(*parse_json(R"({"a":1.50})")), R"({"a":1.5})");
}

TEST(Json, DecimalTextNeedsTheMarkAndANumber) {
  EXPECT_TRUE(is_decimal_text(make_decimal_text("0.0")));
  EXPECT_FALSE(is_decimal_text(make_decimal_text("01")));
  EXPECT_FALSE(is_decimal_text(make_decimal_text("1.")));
  EXPECT_FALSE(is_decimal_text(make_decimal_text("1,\"x\":2")));
  EXPECT_FALSE(is_decimal_text(Json(std::string("D1.5"))));
  // A string that is not a decimal text but holds the mark is written as a string, escaped.
  EXPECT_EQ(dump_json(make_decimal_text("1,2")), R"("\u0000D1,2")");
}

TEST(Json, IsJsonNumberFollowsRfc8259) {
  for (const char* ok : {"0", "-0", "1.5", "10", "1e5", "1E-5", "-0.25e+10"}) {
    EXPECT_TRUE(is_json_number(ok)) << ok;
  }
  for (const char* bad : {"", "-", "01", "+1", ".5", "1.", "1e", "1e+", "0x10", "1.5 ", "NaN"}) {
    EXPECT_FALSE(is_json_number(bad)) << bad;
  }
}

TEST(Json, DumpEscapesLikeJson) {
  Json j = {{"k\"ey", "a\\b\n\t\x01 é"}, {"n", nullptr}, {"t", true}, {"big", 18446744073709551615u},
            {"neg", -5}, {"f", 2.5}};
  std::string out = dump_json(j);
  EXPECT_EQ(out, R"({"big":18446744073709551615,"f":2.5,"k\"ey":"a\\b\n\t\u0001 é","n":null,"neg":-5,"t":true})");
  EXPECT_EQ(*parse_json(out), j);
}

}  // namespace
}  // namespace hb
