#include "crypto/otp.h"

#include <gtest/gtest.h>

namespace hb::crypto {
namespace {

const std::string kSecret = "12345678901234567890";  // RFC 4226 / RFC 6238 SHA-1 seed

Time at(int64_t unix) { return Time(std::chrono::seconds(unix)); }

TEST(Base32, Rfc4648Vectors) {
  const std::pair<const char*, const char*> v[] = {{"", ""},
                                                   {"f", "MY"},
                                                   {"fo", "MZXQ"},
                                                   {"foo", "MZXW6"},
                                                   {"foob", "MZXW6YQ"},
                                                   {"fooba", "MZXW6YTB"},
                                                   {"foobar", "MZXW6YTBOI"}};
  for (auto [plain, enc] : v) {
    EXPECT_EQ(base32_encode(plain), enc);
    EXPECT_EQ(base32_decode(enc).value(), plain);
  }
  EXPECT_EQ(base32_decode("mzxw6ytboi======").value(), "foobar");
  EXPECT_FALSE(base32_decode("MZXW6YTB0I").is_ok()) << "0 is not in the alphabet";
  EXPECT_FALSE(base32_decode("MZ").is_ok()) << "MZ has trailing bits";
  EXPECT_FALSE(base32_decode("M").is_ok()) << "one character is less than a byte";
}

// RFC 4226 appendix D.
TEST(Hotp, Rfc4226Vectors) {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(hotp(kSecret, i), expected[i]) << i;
}

// RFC 6238 appendix B, the SHA-1 rows (8 digits).
TEST(Totp, Rfc6238AppendixBSha1Vectors) {
  const std::pair<int64_t, const char*> v[] = {{59, "94287082"},
                                               {1111111109, "07081804"},
                                               {1111111111, "14050471"},
                                               {1234567890, "89005924"},
                                               {2000000000, "69279037"}};
  for (auto [t, code] : v) EXPECT_EQ(totp(kSecret, at(t), 8), code) << t;
  // 20000000000 s is past what a nanosecond system_clock holds: the step, directly.
  EXPECT_EQ(hotp(kSecret, 20000000000 / 30, 8), "65353130");
  EXPECT_EQ(totp_step(at(59)), 1u);
  EXPECT_EQ(totp_step(at(1111111109)), 0x23523ECu);
  // Six digits are the last six of the eight.
  EXPECT_EQ(totp(kSecret, at(1234567890)), "005924");
}

TEST(Totp, MatchesOneStepEitherSideAndNoFurther) {
  const Time t = at(1234567890);
  const uint64_t step = totp_step(t);
  EXPECT_EQ(totp_match(kSecret, totp(kSecret, t), t), static_cast<int64_t>(step));
  EXPECT_EQ(totp_match(kSecret, totp(kSecret, t - std::chrono::seconds(30)), t),
            static_cast<int64_t>(step - 1));
  EXPECT_EQ(totp_match(kSecret, totp(kSecret, t + std::chrono::seconds(30)), t),
            static_cast<int64_t>(step + 1));
  EXPECT_EQ(totp_match(kSecret, totp(kSecret, t - std::chrono::seconds(60)), t), -1);
  EXPECT_EQ(totp_match(kSecret, totp(kSecret, t + std::chrono::seconds(60)), t), -1);
  EXPECT_EQ(totp_match(kSecret, "12345", t), -1);
  EXPECT_EQ(totp_match(kSecret, "", t), -1);
}

TEST(Totp, OtpauthUri) {
  EXPECT_EQ(otpauth_uri("Healthbook", "resident 1", "foobar"),
            "otpauth://totp/"
            "Healthbook:resident%201?secret=MZXW6YTBOI&issuer=Healthbook&algorithm=SHA1&digits=6&"
            "period=30");
}

}  // namespace
}  // namespace hb::crypto
