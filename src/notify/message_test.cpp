#include "notify/message.h"

#include <gtest/gtest.h>

namespace hb::notify {
namespace {

TEST(Message, E164) {
  for (const char* ok : {"+84912345678", "+6591234567", "+12025550123", "+123456789012345"}) {
    EXPECT_TRUE(is_e164(ok)) << ok;
  }
  for (const char* bad : {"", "+", "+1234567", "+1234567890123456", "84912345678", "+0912345678",
                          "+84-912-345-678", "+84 912345678", "++84912345678", "+8491234567x"}) {
    EXPECT_FALSE(is_e164(bad)) << bad;
  }
}

TEST(Message, EmailSyntax) {
  for (const char* ok : {"a@b.vn", "first.last+tag@mail.example.sg", "o'brien@x.ie",
                         "x_y-z@sub-domain.example.com"}) {
    EXPECT_TRUE(is_email_address(ok)) << ok;
  }
  for (const char* bad : {"", "a", "@b.vn", "a@", "a@b", "a@.b.vn", "a@b..vn", "a@b.vn.", "a.@b.vn",
                          "a..b@c.vn", "a b@c.vn", "\"a\"@b.vn", "a@[127.0.0.1]", "a@b_c.vn",
                          "a@-b.vn", "a@b-.vn", "a@b.vn\n", "a\r\n@b.vn"}) {
    EXPECT_FALSE(is_email_address(bad)) << bad;
  }
  EXPECT_FALSE(is_email_address(std::string(65, 'a') + "@b.vn"));
  EXPECT_TRUE(is_email_address(std::string(64, 'a') + "@b.vn"));
}

TEST(Message, Utf8) {
  EXPECT_TRUE(is_valid_utf8("Tài liệu mới 文件 🩺"));
  EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(Message, ValidateListsEveryProblem) {
  Message m;
  m.channel = Channel::kSms;
  m.recipient = "0912";
  m.subject = "x";
  m.text = "";
  Status s = validate(m);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.problems().size(), 3u);
  m.recipient = "+84912345678";
  m.subject = "";
  m.text = std::string(641, 'a');
  EXPECT_EQ(validate(m).code(), Code::kInvalid);
  m.text = "line one\nline two";
  EXPECT_TRUE(validate(m).is_ok());
  m.text = "bell\a";
  EXPECT_EQ(validate(m).code(), Code::kInvalid);
}

}  // namespace
}  // namespace hb::notify
