// HttpSmsGateway against a real HTTP server on the loopback interface (test_servers.h): the bytes
// it sends, how it reads answers, and retries through the Outbox.
#include "notify/http_sms.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"
#include "core/json.h"
#include "notify/outbox.h"
#include "notify/test_servers.h"

namespace hb::notify {
namespace {

using testing::HttpRecorder;

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
}

TEST(HttpSmsGateway, OutboxRetriesAfterA500ThenSends) {
  namespace fs = std::filesystem;
  HttpRecorder server({500, 200});
  HttpSmsOptions o;
  o.url = server.url();
  auto g = gateway(o);
  fs::path dir = fs::temp_directory_path() / ("hb-notify-http-" + new_uuid());
  fs::create_directories(dir);
  {
    store::SqliteOptions so;
    so.path = (dir / "hb.db").string();
    so.synchronous_full = false;
    auto store = std::move(store::open_sqlite(so).value());
    ManualClock clock;
    OutboxOptions oo;
    oo.jitter = 0;
    auto keys = OutboxKeys::derive(std::string(32, '\x07')).value();
    auto outbox = std::move(Outbox::create(*store, *g, *g, keys, clock, oo).value());
    Message m;
    m.recipient = "+84912345678";
    m.text = "Healthbook: you have a new document. https://hb.example/d/1";
    ASSERT_TRUE(store->write_sync([&](store::Writer& w) { return outbox->enqueue(w, m).status(); })
                    .is_ok());
    auto first = outbox->dispatch_due();
    ASSERT_TRUE(first.is_ok());
    EXPECT_EQ(first->retried, 1);
    clock.advance(std::chrono::seconds(1));
    auto second = outbox->dispatch_due();
    ASSERT_TRUE(second.is_ok());
    EXPECT_EQ(second->sent, 1);
    auto listed = outbox->list("sent", 0, 10);
    ASSERT_TRUE(listed.is_ok());
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].attempts, 2);
    EXPECT_EQ((*listed)[0].last_error, "");
  }
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, reqs[1].body);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hb::notify
