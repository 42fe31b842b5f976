// HttpSmsGateway against a real HTTP server on the loopback interface (test_servers.h): the bytes
// it sends, how it reads answers, and retries through the Outbox.
#include "notify/http_sms.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "core/ids.h"
#include "core/json.h"
#include "notify/outbox.h"
#include "notify/test_servers.h"

namespace hb::notify {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::HttpRecorder;
using testing::HttpRecorderOptions;

Outgoing sms_to(const std::string& to, const std::string& text) {
  Outgoing m;
  m.id = 42;
  m.channel = Channel::kSms;
  m.to = to;
  m.text = text;
  return m;
}

std::unique_ptr<HttpSmsGateway> gateway(HttpSmsOptions o) {
  auto g = HttpSmsGateway::create(std::move(o));
  EXPECT_TRUE(g.is_ok()) << g.status().to_string();
  return g.is_ok() ? std::move(*g) : nullptr;
}

// A real SQLite store in a folder of its own and an Outbox that sends SMS (and e-mail) through
// `transport`, on a ManualClock.
class OutboxOverHttp {
 public:
  explicit OutboxOverHttp(Transport& transport, OutboxOptions o = {})
      : dir_(fs::temp_directory_path() / ("hb-notify-http-" + new_uuid())) {
    fs::create_directories(dir_);
    store::SqliteOptions so;
    so.path = (dir_ / "hb.db").string();
    so.synchronous_full = false;
    store_ = std::move(store::open_sqlite(so).value());
    o.jitter = 0;
    auto keys = OutboxKeys::derive(std::string(32, '\x07')).value();
    outbox_ = std::move(Outbox::create(*store_, transport, transport, keys, clock_, o).value());
  }
  ~OutboxOverHttp() {
    outbox_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  Outbox& outbox() { return *outbox_; }
  ManualClock& clock() { return clock_; }

  int64_t enqueue(const std::string& to) {
    Message m;
    m.recipient = to;
    m.text = "Healthbook: you have a new document. https://hb.example/c/1";
    int64_t id = 0;
    Status s = store_->write_sync([&](store::Writer& w) -> Status {
      HB_ASSIGN_OR_RETURN(Enqueued e, outbox_->enqueue(w, m));
      id = e.id;
      return Status::ok();
    });
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return id;
  }

  store::OutboxMessage row(int64_t id) {
    std::optional<store::OutboxMessage> m;
    Status s = store_->read([&](store::Reader& r) -> Status {
      HB_ASSIGN_OR_RETURN(m, r.outbox_message(id));
      return Status::ok();
    });
    EXPECT_TRUE(s.is_ok() && m.has_value()) << s.to_string();
    return m.value_or(store::OutboxMessage{});
  }

 private:
  fs::path dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Outbox> outbox_;
};

TEST(HttpSmsGateway, PostsJsonWithTheAuthHeader) {
  HttpRecorder server({200});
  HttpSmsOptions o;
  o.url = server.url("/v1/messages");
  o.auth_header = "Authorization: Bearer gw-token-1";
  auto g = gateway(o);
  const std::string text = "Tài liệu mới \"đã ký\": https://hb.example/d?a=1&b=2\n";
  Status s = g->send(sms_to("+84912345678", text));
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1/messages");
  EXPECT_EQ(reqs[0].headers["content-type"], "application/json");
  EXPECT_EQ(reqs[0].headers["authorization"], "Bearer gw-token-1");
  auto body = parse_json(reqs[0].body);
  ASSERT_TRUE(body.is_ok()) << reqs[0].body;
  EXPECT_EQ((*body)["to"], "+84912345678");
  EXPECT_EQ((*body)["text"], text);
}

TEST(HttpSmsGateway, FormEncodesWithACustomTemplate) {
  HttpRecorder server({202});
  HttpSmsOptions o;
  o.url = server.url();
  o.content_type = "application/x-www-form-urlencoded";
  o.body_template = "dest={to}&msg={text}&ref=hb-{id}&sender=Healthbook";
  o.auth_header = "X-Api-Key: k1";
  auto g = gateway(o);
  ASSERT_TRUE(g->send(sms_to("+6591234567", "New doc: https://hb.sg/d?x=1&y={to}")).is_ok());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers["content-type"], "application/x-www-form-urlencoded");
  EXPECT_EQ(reqs[0].headers["x-api-key"], "k1");
  // The text's own "{to}" is not expanded: placeholders are replaced in the template only.
  EXPECT_EQ(reqs[0].body,
            "dest=%2B6591234567&msg=New%20doc%3A%20https%3A%2F%2Fhb.sg%2Fd%3Fx%3D1%26y%3D%7Bto%7D"
            "&ref=hb-42&sender=Healthbook");
}

TEST(HttpSmsGateway, ServerErrorsAreTemporaryAndBadRequestsFinal) {
  HttpRecorder server({500, 429, 400, 401});
  HttpSmsOptions o;
  o.url = server.url();
  auto g = gateway(o);
  Outgoing m = sms_to("+84912345678", "hi");
  Status a = g->send(m);
  EXPECT_EQ(a.code(), Code::kUnavailable);
  EXPECT_NE(a.message().find("500"), std::string::npos);
  EXPECT_EQ(g->send(m).code(), Code::kUnavailable);  // 429
  EXPECT_EQ(g->send(m).code(), Code::kInvalid);      // 400
  EXPECT_EQ(g->send(m).code(), Code::kUnavailable);  // 401: our configuration, not the message
  // The gateway's answer body never reaches the error.
  EXPECT_EQ(a.message().find("says hi"), std::string::npos);
}

TEST(HttpSmsGateway, TimesOutOnASilentServer) {
  HttpRecorder server({200}, /*hang=*/true);
  HttpSmsOptions o;
  o.url = server.url();
  o.timeout = std::chrono::milliseconds(300);
  auto g = gateway(o);
  auto start = std::chrono::steady_clock::now();
  Status s = g->send(sms_to("+84912345678", "hi"));
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpSmsGateway, RefusedConnectionIsTemporary) {
  std::string url;
  {
    HttpRecorder gone({200});
    url = gone.url();
  }  // closed: nothing listens there now
  HttpSmsOptions o;
  o.url = url;
  auto g = gateway(o);
  EXPECT_EQ(g->send(sms_to("+84912345678", "hi")).code(), Code::kUnavailable);
}

TEST(HttpSmsGateway, BadOptionsAreRefused) {
  HttpSmsOptions o;
  o.url = "ftp://x";
  EXPECT_EQ(HttpSmsGateway::create(o).status().code(), Code::kInvalid);
  o.url = "http://x";
  o.content_type = "text/plain";
  EXPECT_EQ(HttpSmsGateway::create(o).status().code(), Code::kInvalid);
  o.content_type = "application/json";
  o.body_template = R"({"to":"{to}"})";
  EXPECT_EQ(HttpSmsGateway::create(o).status().code(), Code::kInvalid);
  o.body_template = "";
  o.auth_header = "Authorization: a\r\nX-Evil: 1";
  EXPECT_EQ(HttpSmsGateway::create(o).status().code(), Code::kInvalid);
  o.auth_header = "";
  o.policy.concurrency = 0;
  EXPECT_EQ(HttpSmsGateway::create(o).status().code(), Code::kInvalid);
}

TEST(HttpSmsGateway, OutboxRetriesAfterA500ThenSends) {
  HttpRecorder server({500, 200});
  HttpSmsOptions o;
  o.url = server.url();
  auto g = gateway(o);
  {
    OutboxOverHttp rig(*g);
    rig.enqueue("+84912345678");
    auto first = rig.outbox().dispatch_due();
    ASSERT_TRUE(first.is_ok());
    EXPECT_EQ(first->retried, 1);
    rig.clock().advance(std::chrono::seconds(1));
    auto second = rig.outbox().dispatch_due();
    ASSERT_TRUE(second.is_ok());
    EXPECT_EQ(second->sent, 1);
    auto listed = rig.outbox().list("sent", 0, 10);
    ASSERT_TRUE(listed.is_ok());
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].attempts, 2);
    EXPECT_EQ((*listed)[0].last_error, "");
  }
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, reqs[1].body);
}

// A gateway that takes 0.2 s to answer: one SMS at a time, the last of a batch of 60 issuances
// left 12 s after them. The outbox sends through the gateway on sms.concurrency (8) threads.
TEST(HttpSmsGateway, OutboxSendsToASlowGatewayInParallel) {
  HttpRecorderOptions so;
  so.delay = milliseconds(200);
  so.concurrent = true;
  HttpRecorder server(so);
  HttpSmsOptions o;
  o.url = server.url();
  auto g = gateway(o);
  constexpr int kMessages = 40;
  OutboxOptions oo;
  oo.poll = std::chrono::hours(1);  // only the wakes of enqueue and of the lanes make it look
  OutboxOverHttp rig(*g, oo);
  for (int i = 0; i < kMessages; ++i) rig.enqueue("+849100000" + std::to_string(10 + i));
  const auto start = std::chrono::steady_clock::now();
  rig.outbox().start();
  EXPECT_TRUE(server.wait_answered(kMessages, std::chrono::seconds(20)));
  const auto took =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  rig.outbox().stop();
  EXPECT_EQ(server.requests().size(), static_cast<size_t>(kMessages));
  std::cout << "[ measured ] " << kMessages
            << " SMS through a gateway answering in 200 ms: " << took.count() << " ms\n";
  // One at a time: 8,000 ms. Eight at a time: five rounds of 200 ms.
  EXPECT_LT(took, kMessages * so.delay / 3);
}

// A request that hangs until its timeout holds up only the thread that sent it: the SMS queued
// with it, and one queued while it hangs, are at the gateway while it still waits.
TEST(HttpSmsGateway, OneHungRequestDoesNotHoldBackTheOthers) {
  HttpRecorderOptions so;
  so.concurrent = true;
  so.hang_on = "84900000000";
  HttpRecorder server(so);
  HttpSmsOptions o;
  o.url = server.url();
  o.timeout = std::chrono::seconds(5);
  auto g = gateway(o);
  OutboxOptions oo;
  oo.poll = std::chrono::hours(1);  // only the wakes of enqueue make it look
  OutboxOverHttp rig(*g, oo);
  const int64_t hung = rig.enqueue("+84900000000");  // first in line
  for (int i = 0; i < 5; ++i) rig.enqueue("+8491000000" + std::to_string(i));
  rig.outbox().start();
  EXPECT_TRUE(server.wait_answered(5, std::chrono::seconds(4)));
  rig.enqueue("+84910000009");
  EXPECT_TRUE(server.wait_answered(6, std::chrono::seconds(4)));
  EXPECT_EQ(rig.row(hung).status, "sending");  // nothing waited for it
  rig.outbox().stop();  // lets the hung send reach its timeout, and records it
  store::OutboxMessage m = rig.row(hung);
  EXPECT_EQ(m.status, "failed");
  EXPECT_NE(m.last_error.find("SMS gateway"), std::string::npos) << m.last_error;
  EXPECT_EQ(server.requests().size(), 7u);
}

}  // namespace
}  // namespace hb::notify
