#include "notify/local_sink.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/ids.h"
#include "core/json.h"
#include "notify/transports.h"

namespace hb::notify {
namespace {

namespace fs = std::filesystem;

Outgoing sms(int64_t id) {
  Outgoing m;
  m.id = id;
  m.to = "+84912345678";
  m.text = "message " + std::to_string(id);
  return m;
}

TEST(LocalSink, AppendsJsonLinesAndKeepsTheLastN) {
  fs::path dir = fs::temp_directory_path() / ("hb-sink-" + new_uuid());
  fs::create_directories(dir);
  ManualClock clock;
  auto sink = LocalSink::create({(dir / "sms.jsonl").string(), 2}, clock);
  ASSERT_TRUE(sink.is_ok());
  for (int64_t i = 1; i <= 3; ++i) ASSERT_TRUE((*sink)->send(sms(i)).is_ok());

  auto recent = (*sink)->recent();
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].message.id, 2);
  EXPECT_EQ(recent[1].message.id, 3);

  std::ifstream in(dir / "sms.jsonl");
  std::string line;
  std::vector<Json> lines;
  while (std::getline(in, line)) lines.push_back(parse_json(line).value());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["id"], 1);
  EXPECT_EQ(lines[0]["channel"], "sms");
  EXPECT_EQ(lines[0]["to"], "+84912345678");
  EXPECT_EQ(lines[2]["text"], "message 3");
  EXPECT_EQ(lines[0]["time"], format_instant(clock.now()));
  EXPECT_EQ(fs::status(dir / "sms.jsonl").permissions() & fs::perms::others_read, fs::perms::none);
  fs::remove_all(dir);
}

TEST(LocalSink, UnwritableFileIsTemporary) {
  ManualClock clock;
  auto sink = LocalSink::create({"/nonexistent-dir/sms.jsonl", 10}, clock);
  ASSERT_TRUE(sink.is_ok());
  EXPECT_EQ((*sink)->send(sms(1)).code(), Code::kUnavailable);
}

TEST(Transports, FromConfiguration) {
  ManualClock clock;
  Config c;
  c.data_dir = "/tmp";
  auto sinks = make_transports(c, clock);
  ASSERT_TRUE(sinks.is_ok()) << sinks.status().to_string();
  EXPECT_NE(sinks->sms_sink, nullptr);
  EXPECT_NE(sinks->email_sink, nullptr);
  EXPECT_EQ(sinks->sms->policy().give_up_after, std::chrono::hours(24));
  EXPECT_EQ(sinks->sms->policy().concurrency, 8);
  c.sms_transport = "http";
  c.sms_url = "https://sms.example/send";
  c.email_transport = "smtp";
  c.email_url = "smtps://mail.example";
  c.email_from = "no-reply@hb.example";
  c.sms_retry_hours = 48;
  c.sms_concurrency = 2;
  auto real = make_transports(c, clock);
  ASSERT_TRUE(real.is_ok()) << real.status().to_string();
  EXPECT_EQ(real->sms->policy().give_up_after, std::chrono::hours(48));
  EXPECT_EQ(real->sms->policy().concurrency, 2);
  EXPECT_EQ(real->sms_sink, nullptr);
  EXPECT_EQ(real->email_sink, nullptr);
  c.email_from = "nobody";
  EXPECT_EQ(make_transports(c, clock).status().code(), Code::kInvalid);
}

}  // namespace
}  // namespace hb::notify
