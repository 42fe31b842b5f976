#include "core/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/json_internal.h"

namespace hb {
namespace {

TEST(Json, ParsesObject) {
  auto r = parse_json(R"({"a":[1,2.5,"x",true,null],"b":{"c":"d"}})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)["a"][1], 2.5);
  EXPECT_EQ((*r)["b"]["c"], "d");
}

TEST(Json, StringMemberWithoutATree) {
  const std::string text =
      R"({"n":1.50,"receipt":"a\"b\u00e9\n","nested":{"receipt":"inner"},"x":null})";
  EXPECT_EQ(json_string_member(text, "receipt"), std::optional<std::string>("a\"b\xc3\xa9\n"));
  EXPECT_EQ(json_string_member(text, "missing"), std::nullopt);
  EXPECT_EQ(json_string_member(text, "n"), std::nullopt);       // not a string
  EXPECT_EQ(json_string_member(text, "nested"), std::nullopt);  // not a string either
  EXPECT_EQ(json_string_member(R"(["receipt"])", "receipt"), std::nullopt);
  EXPECT_EQ(json_string_member(R"({"receipt":"x")", "receipt"), std::nullopt);       // cut short
  EXPECT_EQ(json_string_member("{\"receipt\":\"\xff\"}", "receipt"), std::nullopt);  // not UTF-8
  EXPECT_EQ(json_string_member(R"({"receipt":""})", "receipt"), std::optional<std::string>(""));
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
  Json j = {{"k\"ey", "a\\b\n\t\x01 é"},    {"n", nullptr}, {"t", true},
            {"big", 18446744073709551615u}, {"neg", -5},    {"f", 2.5}};
  std::string out = dump_json(j);
  EXPECT_EQ(
      out,
      R"({"big":18446744073709551615,"f":2.5,"k\"ey":"a\\b\n\t\u0001 é","n":null,"neg":-5,"t":true})");
  EXPECT_EQ(*parse_json(out), j);
}

// dump_json skips eight bytes at a time while none needs an escape: every byte that does (each
// control character, '"', '\\'), at every offset around an eight-byte word, and next to
// multi-byte UTF-8 and bytes just above and below the limits, is escaped as nlohmann escapes it.
TEST(Json, DumpEscapesAtEveryOffsetOfAWord) {
  std::vector<std::string> specials = {"\"", "\\", "\x1f", "\x01", std::string(1, '\0'), "\n", "\x7f", " ", "!", "#",
                                       "[", "]", "\xc3\xa9", "\xe1\xbb\x87"};
  for (const std::string& special : specials) {
    for (std::size_t at = 0; at < 20; ++at) {
      for (std::size_t len : {at + 1, at + 3, std::size_t{24}, std::size_t{33}}) {
        if (at >= len) continue;
        std::string text(len, 'a');
        text.replace(at, 1, special);
        Json j = text;
        SCOPED_TRACE(::testing::PrintToString(text));
        EXPECT_EQ(dump_json(j), j.dump());
      }
    }
  }
  std::string digits = "shc:/" + std::string(2000, '5');  // a long run with nothing to escape
  EXPECT_EQ(dump_json(Json(digits)), "\"" + digits + "\"");
}

// What the fast path answers, the full parser answers too; and parse_json as a whole answers
// what the full parser does (the same value, or the same error).
void expect_agreement(std::string_view text, std::size_t max_depth = 64) {
  SCOPED_TRACE(std::string(text));
  const JsonLimits limits{1 << 20, max_depth};
  auto full = detail::parse_json_full(text, limits);
  if (auto fast = detail::parse_json_fast(text, max_depth)) {
    ASSERT_TRUE(full.is_ok()) << "the fast path accepted what the full parser refuses";
    EXPECT_TRUE(detail::same_tree(*fast, *full)) << fast->dump() << " vs " << full->dump();
  }
  auto both = parse_json(text, limits);
  ASSERT_EQ(both.is_ok(), full.is_ok());
  if (full.is_ok()) {
    EXPECT_TRUE(detail::same_tree(*both, *full));
  } else {
    EXPECT_EQ(both.error().code(), full.error().code());
    EXPECT_EQ(both.error().message(), full.error().message());
  }
  // And FHIR parsing, which takes the same fast path, answers what its full parser does
  // (decimals as decimal texts).
  auto fhir_full = detail::parse_fhir_json_full(text, limits);
  auto fhir = parse_fhir_json(text, limits);
  ASSERT_EQ(fhir.is_ok(), fhir_full.is_ok());
  if (fhir_full.is_ok()) {
    EXPECT_TRUE(detail::same_tree(*fhir, *fhir_full))
        << fhir->dump() << " vs " << fhir_full->dump();
  } else {
    EXPECT_EQ(fhir.error().code(), fhir_full.error().code());
    EXPECT_EQ(fhir.error().message(), fhir_full.error().message());
  }
}

// parse_json_into over `tree` (whatever it holds) answers as parse_json does; `tree` keeps the
// result for the next call.
void expect_same_when_reused(Json& tree, std::string_view text, std::size_t max_depth = 64) {
  SCOPED_TRACE(std::string(text));
  const JsonLimits limits{1 << 20, max_depth};
  Status s = parse_json_into(text, limits, tree);
  auto fresh = parse_json(text, limits);
  ASSERT_EQ(s.is_ok(), fresh.is_ok());
  if (fresh.is_ok()) {
    EXPECT_TRUE(detail::same_tree(tree, *fresh)) << tree.dump() << " vs " << fresh->dump();
  } else {
    EXPECT_TRUE(tree.is_null());
    EXPECT_EQ(s.code(), fresh.error().code());
    EXPECT_EQ(s.message(), fresh.error().message());
  }
}

TEST(Json, ParseIntoReusesTheTreeAndAnswersAsParse) {
  // Each text is parsed into the tree the one before it left: members kept, added, dropped and
  // changing kind, keys out of order, arrays growing and shrinking, and texts the fast path
  // leaves to the full parser (a decimal, -0, a duplicate key, nesting past the limit).
  Json tree;
  for (const char* t :
       {R"({"a":"x","b":[1,2,3],"c":{"d":"y"}})",
        R"({"a":"a longer string than the sixteen bytes kept inline","b":[4],"c":{"d":"z","e":1}})",
        R"({"b":[4,5,6,7],"c":{"e":[]},"f":null})", R"({"a":1,"b":{"x":1},"c":"now a string"})",
        R"({"z":1,"a":2,"m":{"q":1,"b":2}})", R"({"a":[{"k":"v"},{"k":"w"}],"b":true})",
        R"({"a":[{"k":"v","l":2}],"b":false})", R"(["x",{"a":1},[2]])", R"({"a":1.5,"b":[1]})",
        R"({"a":"x","b":-0})", R"({"a":"x","a":"y"})", R"({"a":"x","b":"y"})",
        R"({"a":"x","b":"y"} trailing)", R"({"a":"x","b":"y"})", R"("just a string")", "12",
        R"({"a":{"b":{"c":{"d":1}}}})"}) {
    expect_same_when_reused(tree, t);
  }
  expect_same_when_reused(tree, R"({"a":{"b":{"c":{"d":1}}}})", 3);
  expect_same_when_reused(tree, R"({"a":{"b":{"c":{}}}})", 4);
  expect_same_when_reused(tree, R"({"a":{"b":[[[1]]]}})", 4);
  // The nodes are kept: a member's string keeps its buffer when the next text has one there.
  ASSERT_TRUE(
      parse_json_into(R"({"k":"a string longer than fifteen bytes, on the heap"})", {}, tree)
          .is_ok());
  const char* buffer = tree["k"].get_ref<const std::string&>().data();
  ASSERT_TRUE(
      parse_json_into(R"({"k":"another string, no longer than the first"})", {}, tree).is_ok());
  EXPECT_EQ(tree["k"].get_ref<const std::string&>().data(), buffer);
  EXPECT_EQ(tree["k"], "another string, no longer than the first");
}

TEST(Json, FreeJsonEmptiesTheTree) {
  auto r = parse_json(R"({"b":[1,{"c":"a string longer than fifteen bytes"},[]],"a":{"d":null}})");
  ASSERT_TRUE(r.is_ok());
  Json j = std::move(r).value();
  free_json(j);
  EXPECT_TRUE(j.is_null());
  // Deeper than free_json goes itself: the destructor takes the rest.
  Json deep = 1;
  for (int i = 0; i < 200; ++i) deep = Json::array({std::move(deep), Json::object({{"k", i}})});
  free_json(deep);
  EXPECT_TRUE(deep.is_null());
  Json scalar = "x";
  free_json(scalar);
  EXPECT_TRUE(scalar.is_null());
}

TEST(JsonFastPath, TakesTheCommonShapes) {
  for (const char* t : {"{}",
                        "[]",
                        "0",
                        "7",
                        "-7",
                        "123456789012345678",
                        "-123456789012345678",
                        "true",
                        "false",
                        "null",
                        "\"\"",
                        " \t\r\n{ \"a\" : [ 1 , -2 , \"x\" ] } ",
                        R"({"alg":"ES256","kid":"k","zip":"DEF"})",
                        R"({"b":1,"a":{"c":[true,false,null,[],{}]}})",
                        R"(["\"\\\/\b\f\n\r\t", "caf\u00e9"])",
                        "\"Gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80\"",
                        "\"\x7f\"",
                        "1234567890123456789",
                        "\"\\u00e9\"",
                        "[0,-1,\"a-0\"]",
                        "\"\\ud83d\\ude00\""}) {
    expect_agreement(t);
  }
  EXPECT_TRUE(detail::parse_json_fast(R"({"b":1,"a":{"c":[true,null]}})", 64).has_value());
  EXPECT_TRUE(detail::parse_json_fast("\"Gr\xc3\xbc\xc3\x9f\"", 64).has_value());
  EXPECT_TRUE(detail::parse_json_fast("\"\\\"\\n\"", 64).has_value());
}

TEST(JsonFastPath, LeavesTheRestToTheFullParser) {
  // Left to the full parser (valid JSON): floats, exponents, integers past 64 bits, -0, a BOM.
  for (const char* t : {"1.5", "1e3", "-0", "[-0]", "{\"a\":-0}", "18446744073709551616",
                        "\xef\xbb\xbf{}", "[1E2]"}) {
    EXPECT_FALSE(detail::parse_json_fast(t, 64).has_value()) << t;
    expect_agreement(t);
  }
  // Invalid JSON, each with the full parser's message.
  for (const char* t : {"",
                        " ",
                        "{",
                        "}",
                        "[1,]",
                        "[,1]",
                        "{\"a\":1,}",
                        "{\"a\" 1}",
                        "{a:1}",
                        "{\"a\":1,\"a\":2}",
                        "{\"a\":1,\"b\":2,\"a\":3}",
                        "{\"b\":1,\"a\":2,\"b\":3}",
                        "{\"c\":{\"x\":[1,{\"y\":1,\"y\":1}]},\"a\":1}",
                        "01",
                        "-",
                        "1-2",
                        "[1 2]",
                        "tru",
                        "truex",
                        "nul",
                        "\"abc",
                        "\"a\nb\"",
                        "\"\\x\"",
                        "\"\\",
                        "[\"\x80\"]",
                        "\"\xc0\xaf\"",
                        "\"\xed\xa0\x80\"",
                        "\"\xf4\x90\x80\x80\"",
                        "\"\xe0\x80\xaf\"",
                        "\"\xc3\"",
                        "{} {}",
                        "[] x",
                        "\x01",
                        "{\"a\":1}\x00"}) {
    expect_agreement(t);
  }
  expect_agreement(std::string_view("{\"a\":1}\0", 8));
  expect_agreement(std::string_view("\"a\0b\"", 5));
  // Nesting: the fast path gives up past the limit, and the full parser names it.
  expect_agreement("[[[1]]]", 3);
  expect_agreement("[[[[1]]]]", 3);
  expect_agreement(R"({"a":{"b":{"c":{}}}})", 3);
}

TEST(JsonFastPath, AgreesWithTheFullParserOnMutatedDocuments) {
  // Documents of the kinds parse_json sees (a JWS header, card claims), each mutated a byte at a
  // time: a deleted, inserted or replaced byte from a pool of JSON's own punctuation and of bytes
  // that are trouble.
  const std::vector<std::string> seeds = {
      R"({"alg":"ES256","kid":"3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s","zip":"DEF"})",
      R"({"iss":"https://x.example/i","nbf":1796442893,"vc":{"credentialSubject":{"fhirBundle":)"
      R"({"entry":[{"fullUrl":"resource:0","resource":{"birthDate":"1980-01-01","name":[{"family":)"
      R"("Bench","given":["Person 0"]}],"resourceType":"Patient"}}],"resourceType":"Bundle",)"
      R"("type":"collection"},"fhirVersion":"4.0.1"},"rid":"n8ckWnflDTI","type":[)"
      R"("https://smarthealth.cards#health-card"]}})",
      "[-1,0,12,[[]],{},\"\\t\",true,false,null,\"\xc3\xa9\"]"};
  static constexpr char kPool[] = "{}[]:,\"\\ -.e01a\x80\xc3\xed\xf0\xff\x00\n\tuE+";
  const std::string pool(kPool, sizeof kPool - 1);  // with the NUL inside
  std::mt19937 rng(20261205);
  Json reused;  // parse_json_into's tree, carried from each document to the next
  for (const std::string& seed : seeds) {
    expect_agreement(seed);
    for (int round = 0; round < 3000; ++round) {
      std::string t = seed;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !t.empty(); ++e) {
        const std::size_t at = rng() % t.size();
        const char c = pool[rng() % pool.size()];
        switch (rng() % 3) {
          case 0:
            t.erase(at, 1);
            break;
          case 1:
            t.insert(t.begin() + static_cast<std::ptrdiff_t>(at), c);
            break;
          default:
            t[at] = c;
        }
      }
      const std::size_t depth = 1 + rng() % 8;
      expect_agreement(t, depth);
      expect_same_when_reused(reused, t, depth);
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace hb
