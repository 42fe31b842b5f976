#include "documents/device_cookie.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace hb::documents {
namespace {

const crypto::HmacSha256 kKey(std::string(32, 'k'));
const std::string kLink = "5f2b0c1e";  // a token hash

TEST(DeviceCookie, ItsOwnCookieHoldsUntilItsExpiry) {
  const std::string c = make_device_cookie(kKey, kLink, 1'800'000'000);
  auto parsed = parse_device_cookie(c);
  ASSERT_TRUE(parsed.has_value()) << c;
  EXPECT_EQ(parsed->expires, 1'800'000'000);
  EXPECT_EQ(parsed->expires_text, "1800000000");
  EXPECT_EQ(parsed->mac.size(), 43u);
  EXPECT_TRUE(device_cookie_holds(kKey, kLink, c, 1'799'999'999, 1'900'000'000));
  EXPECT_FALSE(device_cookie_holds(kKey, kLink, c, 1'800'000'000, 1'900'000'000))
      << "expired at its time";
  EXPECT_FALSE(device_cookie_holds(kKey, kLink, c, 1'700'000'000, 1'799'999'999))
      << "later than any made";
  EXPECT_FALSE(device_cookie_holds(kKey, "another", c, 1'700'000'000, 1'900'000'000));
  EXPECT_FALSE(
      device_cookie_holds(crypto::HmacSha256("other key"), kLink, c, 1'700'000'000, 1'900'000'000));
}

TEST(DeviceCookie, TheMacCoversTheExpiryAsWritten) {
  const std::string c = make_device_cookie(kKey, kLink, 1'800'000'000);
  const std::string mac = c.substr(c.find('.') + 1);
  for (const std::string& forged :
       {"1800003600." + mac, "1799996400." + mac, "01800000000." + mac}) {
    EXPECT_TRUE(parse_device_cookie(forged).has_value()) << forged;
    EXPECT_FALSE(device_cookie_holds(kKey, kLink, forged, 1'700'000'000, 1'900'000'000)) << forged;
  }
}

TEST(DeviceCookie, AnythingElseIsNotACookie) {
  const std::string mac(43, 'A');
  for (const std::string& bad : std::initializer_list<std::string>{
           "", ".", "." + mac, "123.", "123" + mac, "12a." + mac, "-12." + mac,
           "1234567890123." + mac, "123." + mac + "A", "123." + mac.substr(1),
           "123." + mac.substr(1) + "=", "123." + mac.substr(1) + "+", "123.." + mac.substr(1),
           " 123." + mac}) {
    EXPECT_FALSE(parse_device_cookie(bad).has_value()) << bad;
    EXPECT_FALSE(device_cookie_holds(kKey, kLink, bad, 0, INT64_MAX)) << bad;
  }
  auto longest = parse_device_cookie("999999999999." + mac);
  ASSERT_TRUE(longest.has_value());
  EXPECT_EQ(longest->expires, 999'999'999'999);
}

}  // namespace
}  // namespace hb::documents
