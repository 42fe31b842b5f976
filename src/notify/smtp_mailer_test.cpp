// SmtpMailer against a real SMTP responder on the loopback interface (test_servers.h): the SMTP
// dialogue, the RFC 5322 message it carries, and how refusals are classified.
#include "notify/smtp_mailer.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "notify/test_servers.h"

namespace hb::notify {
namespace {

using testing::SmtpRecorder;

Outgoing mail(const std::string& subject, const std::string& text) {
  Outgoing m;
  m.id = 7;
  m.channel = Channel::kEmail;
  m.to = "an.nguyen@example.vn";
  m.subject = subject;
  m.text = text;
  return m;
}

std::unique_ptr<SmtpMailer> mailer(const std::string& url, const Clock& clock) {
  SmtpOptions o;
  o.url = url;
  o.from = "no-reply@healthbook.example";
  auto m = SmtpMailer::create(o, clock);
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  return m.is_ok() ? std::move(*m) : nullptr;
}

// The header block and the body of a message.
std::pair<std::string, std::string> split(const std::string& data) {
  size_t at = data.find("\r\n\r\n");
  if (at == std::string::npos) return {data, ""};
  return {data.substr(0, at + 2), data.substr(at + 4)};
}

TEST(SmtpMailer, SpeaksSmtpAndSendsAProperMessage) {
  SmtpRecorder server;
  ManualClock clock;  // 2027-01-15T08:00:00Z
  auto m = mailer(server.url(), clock);
  Status s = m->send(mail("You have a new document",
                          "Open Healthbook to read it:\nhttps://hb.example/d/7f3a\n.\n"));
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  auto sessions = server.sessions(1);
  ASSERT_EQ(sessions.size(), 1u);
  const auto& c = sessions[0].commands;
  ASSERT_GE(c.size(), 5u);
  EXPECT_EQ(c[0].rfind("EHLO ", 0), 0u);
  // libcurl adds SIZE= because the server offered the extension.
  EXPECT_EQ(c[1].rfind("MAIL FROM:<no-reply@healthbook.example>", 0), 0u) << c[1];
  EXPECT_EQ(c[2], "RCPT TO:<an.nguyen@example.vn>");
  EXPECT_EQ(c[3], "DATA");
  EXPECT_EQ(c.back(), "QUIT");

  auto [head, body] = split(sessions[0].data);
  EXPECT_NE(head.find("Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("From: <no-reply@healthbook.example>\r\n"), std::string::npos);
  EXPECT_NE(head.find("To: <an.nguyen@example.vn>\r\n"), std::string::npos);
  EXPECT_NE(head.find("Subject: You have a new document\r\n"), std::string::npos);
  EXPECT_NE(head.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Type: text/plain; charset=UTF-8\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Transfer-Encoding: 7bit\r\n"), std::string::npos);
  size_t mid = head.find("Message-ID: <");
  ASSERT_NE(mid, std::string::npos);
  EXPECT_NE(head.find("@healthbook.example>\r\n", mid), std::string::npos);
  // CRLF line ends, and the lone "." line dot-stuffed on the wire.
  EXPECT_EQ(body, "Open Healthbook to read it:\r\nhttps://hb.example/d/7f3a\r\n..\r\n");
}

TEST(SmtpMailer, EncodesNonAsciiSubjectAndBody) {
  SmtpRecorder server;
  ManualClock clock;
  auto m = mailer(server.url(), clock);
  const std::string subject = "Bạn có một tài liệu mới";
  const std::string text = "Mở Healthbook để xem: https://hb.example/d/1";
  ASSERT_TRUE(m->send(mail(subject, text)).is_ok());
  auto sessions = server.sessions(1);
  ASSERT_EQ(sessions.size(), 1u);
  auto [head, body] = split(sessions[0].data);
  size_t at = head.find("Subject: =?UTF-8?B?");
  ASSERT_NE(at, std::string::npos) << head;
  size_t end = head.find("?=", at);
  auto decoded = crypto::base64_decode(head.substr(at + 19, end - at - 19));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(*decoded, subject);
  EXPECT_NE(head.find("Content-Transfer-Encoding: base64\r\n"), std::string::npos);
  std::string b64;
  for (char ch : body) {
    if (ch != '\r' && ch != '\n') b64.push_back(ch);
  }
  auto text_back = crypto::base64_decode(b64);
  ASSERT_TRUE(text_back.is_ok()) << body;
  EXPECT_EQ(*text_back, text);
}

TEST(SmtpMailer, RefusedMailboxIsFinalAndBusyServerTemporary) {
  ManualClock clock;
  {
    SmtpRecorder server(550);
    Status s = mailer(server.url(), clock)->send(mail("s", "t"));
    EXPECT_EQ(s.code(), Code::kInvalid) << s.to_string();
    EXPECT_EQ(s.message().find("an.nguyen"), std::string::npos);
  }
  {
    SmtpRecorder server(451);
    EXPECT_EQ(mailer(server.url(), clock)->send(mail("s", "t")).code(), Code::kUnavailable);
  }
}

TEST(SmtpMailer, NoServerIsTemporary) {
  std::string url;
  {
    SmtpRecorder gone;
    url = gone.url();
  }
  ManualClock clock;
  EXPECT_EQ(mailer(url, clock)->send(mail("s", "t")).code(), Code::kUnavailable);
}

TEST(SmtpMailer, BadOptionsAreRefused) {
  ManualClock clock;
  SmtpOptions o;
  o.url = "http://mail";
  o.from = "a@b.example";
  EXPECT_EQ(SmtpMailer::create(o, clock).status().code(), Code::kInvalid);
  o.url = "smtp://mail";
  o.from = "not an address";
  EXPECT_EQ(SmtpMailer::create(o, clock).status().code(), Code::kInvalid);
  o.from = "a@b.example";
  o.password = "p";
  EXPECT_EQ(SmtpMailer::create(o, clock).status().code(), Code::kInvalid);
}

TEST(Rfc5322Date, FormatsUtc) {
  EXPECT_EQ(rfc5322_date(Time(std::chrono::seconds(0))), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(Time(std::chrono::seconds(1'800'000'000))),
            "Fri, 15 Jan 2027 08:00:00 +0000");
}

}  // namespace
}  // namespace hb::notify
