#include "http/cookie.h"

#include <gtest/gtest.h>

namespace hb::http {
namespace {

TEST(Cookie, FindsTheNamedCookie) {
  EXPECT_EQ(cookie_value("hb_session=abc", "hb_session"), "abc");
  EXPECT_EQ(cookie_value("a=1; hb_session=abc-_9; b=2", "hb_session"), "abc-_9");
  EXPECT_EQ(cookie_value("  hb_session = \"abc\" ", "hb_session"), "abc");
  EXPECT_EQ(cookie_value("hb_session=first; hb_session=second", "hb_session"), "first");
  EXPECT_EQ(cookie_value("hb_session=", "hb_session"), "");
}

TEST(Cookie, AbsentOrMalformedIsNothing) {
  EXPECT_FALSE(cookie_value("", "hb_session"));
  EXPECT_FALSE(cookie_value("xhb_session=abc", "hb_session"));
  EXPECT_FALSE(cookie_value("hb_sessionx=abc", "hb_session"));
  EXPECT_FALSE(cookie_value("hb_session", "hb_session"));
  EXPECT_FALSE(cookie_value("hb_session=a b", "hb_session"));
  EXPECT_FALSE(cookie_value("hb_session=a\\b", "hb_session"));
  EXPECT_FALSE(cookie_value(std::string("hb_session=a\0b", 14), "hb_session"));
  EXPECT_FALSE(cookie_value("hb_session=" + std::string(5000, 'a'), "hb_session"));
}

}  // namespace
}  // namespace hb::http
