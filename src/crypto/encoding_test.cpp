#include "crypto/encoding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/random.h"

namespace hb::crypto {
namespace {

// RFC 4648 section 10.
struct Vector {
  const char* plain;
  const char* b64;
  const char* b64url;
  const char* hex;
};
constexpr Vector kRfc4648[] = {
    {"", "", "", ""},
    {"f", "Zg==", "Zg", "66"},
    {"fo", "Zm8=", "Zm8", "666f"},
    {"foo", "Zm9v", "Zm9v", "666f6f"},
    {"foob", "Zm9vYg==", "Zm9vYg", "666f6f62"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE", "666f6f6261"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy", "666f6f626172"},
};

TEST(Base64, Rfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    SCOPED_TRACE(v.plain);
    EXPECT_EQ(base64_encode(v.plain), v.b64);
    EXPECT_EQ(base64url_encode(v.plain), v.b64url);
    EXPECT_EQ(hex_encode(v.plain), v.hex);
    auto d = base64_decode(v.b64);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    EXPECT_EQ(*d, v.plain);
    auto du = base64url_decode(v.b64url);
    ASSERT_TRUE(du.is_ok()) << du.status().to_string();
    EXPECT_EQ(*du, v.plain);
    auto dh = hex_decode(v.hex);
    ASSERT_TRUE(dh.is_ok());
    EXPECT_EQ(*dh, v.plain);
  }
}

TEST(Base64, AlphabetsDifferOnlyInTheLastTwoSymbols) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(base64_encode(bytes), "+/+/");
  EXPECT_EQ(base64url_encode(bytes), "-_-_");
  EXPECT_FALSE(base64_decode("-_-_").is_ok());
  EXPECT_FALSE(base64url_decode("+/+/").is_ok());
  EXPECT_EQ(*base64url_decode("-_-_"), bytes);
  EXPECT_EQ(*base64_decode("+/+/"), bytes);
}

TEST(Base64, AllByteValuesRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    std::string s = all.substr(0, len);
    EXPECT_EQ(*base64_decode(base64_encode(s)), s);
    EXPECT_EQ(*base64url_decode(base64url_encode(s)), s);
    EXPECT_EQ(*hex_decode(hex_encode(s)), s);
  }
  for (int i = 0; i < 50; ++i) {
    std::string s = random_bytes(static_cast<std::size_t>(i));
    EXPECT_EQ(*base64url_decode(base64url_encode(s)), s);
  }
}

TEST(Base64Url, RejectsPadding) {
  EXPECT_FALSE(base64url_decode("Zg==").is_ok());
  EXPECT_FALSE(base64url_decode("Zm8=").is_ok());
  EXPECT_FALSE(base64url_decode("=").is_ok());
}

TEST(Base64Url, RejectsCharactersOutsideTheAlphabet) {
  for (const char* bad : {"Zm9v\n", " Zm9v", "Zm 9v", "Zm9v.", "Zm9*", "Zm9v\r\n", "Zm9\xc3\xa9"}) {
    SCOPED_TRACE(bad);
    auto r = base64url_decode(bad);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.error().code(), Code::kInvalid);
  }
  EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4)).is_ok());
}

TEST(Base64Url, RejectsImpossibleLength) {
  EXPECT_FALSE(base64url_decode("Z").is_ok());
  EXPECT_FALSE(base64url_decode("Zm9vY").is_ok());
}

// The decoder works four characters at a time; this is the plain bit-at-a-time form it replaced,
// kept as the reference for the randomized comparison below (same results, same messages).
Result<std::string> reference_base64url_decode(std::string_view text) {
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  if (text.size() % 4 == 1) return invalid("base64url: impossible length");
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::size_t v = alphabet.find(text[i]);
    if (v == std::string_view::npos) {
      return invalid("base64url: invalid character at offset " + std::to_string(i));
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return invalid("base64url: non-zero trailing bits (not canonical)");
  }
  return out;
}

TEST(Base64Url, AgreesWithTheReferenceDecoderOnRandomText) {
  // Mostly alphabet characters, some outside it (padding, whitespace, base64's +/, high bytes), and
  // every length class, so that each error is met at every position of a group.
  const std::string_view pool =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .\n\xc3\xff";
  for (int round = 0; round < 20000; ++round) {
    const std::string r = random_bytes(24);
    const std::size_t len = static_cast<unsigned char>(r[0]) % 23;
    std::string text;
    for (std::size_t i = 0; i < len; ++i) {
      const auto pick = static_cast<unsigned char>(r[1 + i]);
      // One text in four is drawn from the alphabet alone, so that trailing bits get tested.
      text.push_back(pool[pick % (round % 4 == 0 ? 64 : pool.size())]);
    }
    SCOPED_TRACE(text);
    auto got = base64url_decode(text);
    auto want = reference_base64url_decode(text);
    ASSERT_EQ(got.is_ok(), want.is_ok());
    if (want.is_ok()) {
      EXPECT_EQ(*got, *want);
    } else {
      EXPECT_EQ(got.error().message(), want.error().message());
    }
  }
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  // "f" is Zg; Zh, Zi, ... Zv decode to the same byte only if the low 4 bits are ignored.
  EXPECT_FALSE(base64url_decode("Zh").is_ok());
  EXPECT_FALSE(base64url_decode("Zv").is_ok());
  // "fo" is Zm8; Zm9 sets one of the two trailing bits.
  EXPECT_FALSE(base64url_decode("Zm9").is_ok());
  EXPECT_TRUE(base64url_decode("Zm8").is_ok());
}

TEST(Base64, RequiresCorrectPadding) {
  EXPECT_FALSE(base64_decode("Zg").is_ok());     // missing padding
  EXPECT_FALSE(base64_decode("Zg=").is_ok());    // short padding
  EXPECT_FALSE(base64_decode("Zg===").is_ok());  // too much
  EXPECT_FALSE(base64_decode("Z===").is_ok());   // three pad characters never happen
  EXPECT_FALSE(base64_decode("====").is_ok());
  EXPECT_FALSE(base64_decode("Zm=v").is_ok());  // padding in the middle
  EXPECT_FALSE(base64_decode("Zg==Zg==").is_ok());
  EXPECT_FALSE(base64_decode("Zm8==").is_ok());
}

TEST(Base64, RejectsNonCanonicalTrailingBitsAndBadCharacters) {
  EXPECT_FALSE(base64_decode("Zh==").is_ok());
  EXPECT_FALSE(base64_decode("Zm9=").is_ok());
  EXPECT_FALSE(base64_decode("Zm9v\n").is_ok());
  EXPECT_FALSE(base64_decode("Zm9-").is_ok());
  EXPECT_FALSE(base64_decode("Zm9_").is_ok());
}

TEST(Hex, LowerCaseOutAndStrictIn) {
  EXPECT_EQ(hex_encode(std::string("\x00\xab\xff", 3)), "00abff");
  EXPECT_EQ(*hex_decode("00ABff"), std::string("\x00\xab\xff", 3));
  EXPECT_FALSE(hex_decode("abc").is_ok());
  EXPECT_FALSE(hex_decode("0g").is_ok());
  EXPECT_FALSE(hex_decode(" 00").is_ok());
  EXPECT_FALSE(hex_decode("0x00").is_ok());
}

}  // namespace
}  // namespace hb::crypto
