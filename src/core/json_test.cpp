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

}  // namespace
}  // namespace hb
