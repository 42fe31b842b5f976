#include "core/url.h"

#include <gtest/gtest.h>

namespace hb {
namespace {

TEST(Url, DecodesEscapesAndPlus) {
  EXPECT_EQ(*url_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(*url_decode("a+b", false), "a+b");
  EXPECT_EQ(*url_decode("Nguy%E1%BB%85n", false), "Nguy\xe1\xbb\x85n");
}

TEST(Url, RejectsBadEscapesAndUtf8) {
  EXPECT_FALSE(url_decode("%", false).is_ok());
  EXPECT_FALSE(url_decode("%4", false).is_ok());
  EXPECT_FALSE(url_decode("%zz", false).is_ok());
  EXPECT_FALSE(url_decode("%ff", false).is_ok());
  EXPECT_FALSE(url_decode("%C0%AF", false).is_ok());  // overlong '/'
  EXPECT_FALSE(url_decode("%ED%A0%80", false).is_ok());  // surrogate
}

TEST(Url, SplitsQueriesInOrder) {
  auto q = split_query("identifier=urn%3Aoid%3A1%7C42&x&&name=a+b&identifier=2");
  ASSERT_TRUE(q.is_ok());
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[0], (std::pair<std::string, std::string>{"identifier", "urn:oid:1|42"}));
  EXPECT_EQ((*q)[1], (std::pair<std::string, std::string>{"x", ""}));
  EXPECT_EQ((*q)[2], (std::pair<std::string, std::string>{"name", "a b"}));
  EXPECT_EQ((*q)[3].second, "2");
}

TEST(Url, EncodeRoundTrips) {
  std::string s = "a b/c?d=e&f|g~\xe1\xbb\x85";
  EXPECT_EQ(url_encode("a b|"), "a%20b%7C");
  EXPECT_EQ(*url_decode(url_encode(s), false), s);
}

TEST(Url, Utf8Validation) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xf0\x9f\x98"));
  EXPECT_FALSE(valid_utf8("\xc3"));
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

}  // namespace
}  // namespace hb
