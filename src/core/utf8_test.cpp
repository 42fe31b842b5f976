#include "core/utf8.h"

#include <gtest/gtest.h>

#include "core/url.h"

namespace hb {
namespace {

TEST(Utf8, CountsCharactersNotBytes) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("Bach Mai"), 8u);
  EXPECT_EQ(utf8_length("Bệnh viện"), 9u);  // "ệ" is three bytes
  EXPECT_EQ(utf8_length("Cần Thơ"), 7u);
  EXPECT_EQ(utf8_length("\xF0\x9F\x8F\xA5"), 1u);  // U+1F3E5, four bytes
}

TEST(Utf8, CutsBetweenCharacters) {
  EXPECT_EQ(utf8_prefix("Bach Mai", 4), "Bach");
  EXPECT_EQ(utf8_prefix("Bach Mai", 8), "Bach Mai");
  EXPECT_EQ(utf8_prefix("Bach Mai", 80), "Bach Mai");
  EXPECT_EQ(utf8_prefix("Bach Mai", 0), "");
  EXPECT_EQ(utf8_prefix("Bệnh viện", 2), "Bệ");
  EXPECT_EQ(utf8_prefix("Bệnh viện", 1), "B");
  EXPECT_EQ(utf8_prefix("a\xF0\x9F\x8F\xA5z", 2), "a\xF0\x9F\x8F\xA5");
}

// Against the simple reference (decode, take n, encode): every cut of a Vietnamese name is valid
// UTF-8 of exactly min(n, length) characters, and the start of the text.
TEST(Utf8, EveryCutOfAVietnameseNameIsWholeCharacters) {
  const std::string name = "AABệnh viện Đa khoa Trung ương Thành phố Cần Thơ Bệnh viện";
  const std::size_t length = utf8_length(name);
  ASSERT_EQ(length, 58u);
  ASSERT_GT(name.size(), length);
  for (std::size_t n = 0; n <= length + 2; ++n) {
    const std::string cut = utf8_prefix(name, n);
    if (!valid_utf8(cut)) {
      ADD_FAILURE() << "cut at " << n << " is not UTF-8";
    }
    EXPECT_EQ(utf8_length(cut), std::min(n, length));
    EXPECT_EQ(name.compare(0, cut.size(), cut), 0);
  }
}

}  // namespace
}  // namespace hb
