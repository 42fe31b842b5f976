// The outbox against a real SQLite store and a ManualClock: queueing inside write closures,
// dispatch passes, retries at the backoff times, dead letters, dedupe, and what is stored.
#include "notify/outbox.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "notify/local_sink.h"

namespace hb::notify {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A transport that answers from a script (then ok) and records what it was given.
class ScriptedTransport final : public Transport {
 public:
  Status send(const Outgoing& m) override {
    std::lock_guard<std::mutex> l(mu_);
    sent_.push_back(m);
    if (on_send_) on_send_();
    if (script_.empty()) return always_;
    Status s = script_.front();
    script_.pop_front();
    return s;
  }
  DeliveryPolicy policy() const override { return policy_; }
  void fail_next(Status s) { script_.push_back(std::move(s)); }
  void always(Status s) { always_ = std::move(s); }
  void set_policy(DeliveryPolicy p) { policy_ = p; }
  void on_send(std::function<void()> f) { on_send_ = std::move(f); }
  std::vector<Outgoing> sent() const {
    std::lock_guard<std::mutex> l(mu_);
    return sent_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Status> script_;
  Status always_;
  std::function<void()> on_send_;
  std::vector<Outgoing> sent_;
  DeliveryPolicy policy_;
};

// A transport whose sends overlap: each waits (at most 5 s) until `concurrency` are in flight at
// once, or that has happened before; it records the most it saw in flight.
class OverlappingTransport final : public Transport {
 public:
  explicit OverlappingTransport(int concurrency) : concurrency_(concurrency) {}
  Status send(const Outgoing&) override {
    std::unique_lock<std::mutex> l(mu_);
    most_ = std::max(most_, ++in_flight_);
    cv_.notify_all();
    cv_.wait_for(l, seconds(5), [&] { return met_ || in_flight_ == concurrency_; });
    met_ = true;
    --in_flight_;
    return Status::ok();
  }
  DeliveryPolicy policy() const override {
    DeliveryPolicy p;
    p.concurrency = concurrency_;
    return p;
  }
  int most() const {
    std::lock_guard<std::mutex> l(mu_);
    return most_;
  }

 private:
  const int concurrency_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;  // guarded by mu_
  int most_ = 0;       // guarded by mu_
  bool met_ = false;   // guarded by mu_
};

Message sms(const std::string& to = "+84912345678", const std::string& dedupe = "") {
  Message m;
  m.channel = Channel::kSms;
  m.recipient = to;
  m.text = "Healthbook: you have a new document. https://hb.example/d/7f3a";
  m.patient_id = "p1";
  m.dedupe_key = dedupe;
  return m;
}

Message email(const std::string& to = "an.nguyen@example.vn") {
  Message m;
  m.channel = Channel::kEmail;
  m.recipient = to;
  m.subject = "You have a new document";
  m.text = "Open Healthbook to read it: https://hb.example/d/7f3a";
  m.patient_id = "p1";
  return m;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hb-notify-" + new_uuid());
    fs::create_directories(dir_);
    store::SqliteOptions o;
    o.path = (dir_ / "hb.db").string();
    o.synchronous_full = false;
    store_ = std::move(store::open_sqlite(o).value());
    options_.jitter = 0;  // exact retry times; backoff's jitter is tested on its own
    make_outbox();
  }
  void TearDown() override {
    outbox_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void make_outbox() {
    outbox_.reset();
    auto keys = OutboxKeys::derive(std::string(32, '\x42')).value();
    outbox_ = std::move(Outbox::create(*store_, sms_, email_, keys, clock_, options_).value());
  }

  Result<Enqueued> enqueue(const Message& m) {
    Result<Enqueued> out = internal("not run");
    Status s = store_->write_sync([&](store::Writer& w) -> Status {
      out = outbox_->enqueue(w, m);
      return out.status();
    });
    if (!s.is_ok()) return s;
    return out;
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

  DispatchReport pass() {
    auto r = outbox_->dispatch_due();
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : DispatchReport{};
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_;
  ScriptedTransport sms_;
  ScriptedTransport email_;
  OutboxOptions options_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(OutboxTest, EnqueuedThenDispatchedIsSent) {
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  EXPECT_FALSE(q->duplicate);
  EXPECT_EQ(row(q->id).status, "queued");

  DispatchReport r = pass();
  EXPECT_EQ(r.claimed, 1);
  EXPECT_EQ(r.sent, 1);
  ASSERT_EQ(sms_.sent().size(), 1u);
  EXPECT_EQ(sms_.sent()[0].to, "+84912345678");
  EXPECT_EQ(sms_.sent()[0].text, sms().text);
  EXPECT_EQ(sms_.sent()[0].id, q->id);
  EXPECT_TRUE(email_.sent().empty());

  store::OutboxMessage m = row(q->id);
  EXPECT_EQ(m.status, "sent");
  EXPECT_EQ(m.attempts, 1);
  EXPECT_EQ(m.sent_at, std::optional<Time>(clock_.now()));
  EXPECT_EQ(pass().claimed, 0);  // sent is final
}

TEST_F(OutboxTest, EmailGoesThroughTheEmailTransport) {
  auto q = enqueue(email());
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  EXPECT_EQ(pass().sent, 1);
  ASSERT_EQ(email_.sent().size(), 1u);
  EXPECT_EQ(email_.sent()[0].to, "an.nguyen@example.vn");
  EXPECT_EQ(email_.sent()[0].subject, "You have a new document");
  EXPECT_TRUE(sms_.sent().empty());
}

TEST_F(OutboxTest, FailuresRetryAtTheBackoffTimesThenSend) {
  sms_.fail_next(Status(Code::kUnavailable, "gateway answered HTTP 503"));
  sms_.fail_next(Status(Code::kUnavailable, "gateway answered HTTP 503"));
  const Time t0 = clock_.now();
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok());

  EXPECT_EQ(pass().retried, 1);
  store::OutboxMessage m = row(q->id);
  EXPECT_EQ(m.status, "failed");
  EXPECT_EQ(m.attempts, 1);
  EXPECT_EQ(m.next_attempt, t0 + seconds(1));
  EXPECT_NE(m.last_error.find("503"), std::string::npos);

  clock_.advance(milliseconds(999));
  EXPECT_EQ(pass().claimed, 0);  // not yet due
  clock_.advance(milliseconds(1));
  EXPECT_EQ(pass().retried, 1);
  m = row(q->id);
  EXPECT_EQ(m.attempts, 2);
  EXPECT_EQ(m.next_attempt, t0 + seconds(1) + seconds(2));

  clock_.advance(milliseconds(1999));
  EXPECT_EQ(pass().claimed, 0);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(pass().sent, 1);
  m = row(q->id);
  EXPECT_EQ(m.status, "sent");
  EXPECT_EQ(m.attempts, 3);
  EXPECT_EQ(m.sent_at, std::optional<Time>(t0 + seconds(3)));
  EXPECT_EQ(sms_.sent().size(), 3u);
}

// The national SMS gateway is down for an hour: the certificate's link still goes out once it is
// back (it used to be given up after 8 attempts, about two minutes).
TEST_F(OutboxTest, AnHourLongGatewayOutageLosesNothing) {
  sms_.always(Status(Code::kUnavailable, "SMS gateway answered HTTP 503"));
  const Time t0 = clock_.now();
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok());
  int tries = 0;
  while (clock_.now() < t0 + std::chrono::hours(1)) {
    ASSERT_EQ(pass().retried, 1) << "try " << tries + 1 << " at +"
                                 << std::chrono::duration_cast<seconds>(clock_.now() - t0).count()
                                 << " s";
    ++tries;
    store::OutboxMessage m = row(q->id);
    EXPECT_EQ(m.status, "failed");
    EXPECT_LE(m.next_attempt - clock_.now(), options_.max_retry);  // the doubling is capped
    clock_.set(m.next_attempt);
  }
  EXPECT_GT(tries, 15);
  sms_.always(Status::ok());
  EXPECT_EQ(pass().sent, 1);
  EXPECT_EQ(row(q->id).status, "sent");
  EXPECT_EQ(row(q->id).attempts, tries + 1);
}

// A message that keeps failing is tried until its transport's deadline, the last time at the
// deadline itself, and is then dead.
TEST_F(OutboxTest, AlwaysFailingIsDeadAtItsDeadline) {
  DeliveryPolicy policy;
  policy.give_up_after = std::chrono::hours(2);
  sms_.set_policy(policy);
  make_outbox();
  sms_.always(Status(Code::kUnavailable, "connection refused"));
  const Time t0 = clock_.now();
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok());
  int tries = 0;
  for (;;) {
    DispatchReport r = pass();
    ASSERT_EQ(r.claimed, 1);
    ++tries;
    store::OutboxMessage m = row(q->id);
    if (m.status == "dead") break;
    ASSERT_EQ(m.status, "failed");
    ASSERT_LE(m.next_attempt, t0 + policy.give_up_after);
    clock_.set(m.next_attempt);
  }
  EXPECT_EQ(clock_.now(), t0 + policy.give_up_after);  // the last try was at the deadline
  store::OutboxMessage m = row(q->id);
  EXPECT_EQ(m.attempts, tries);
  EXPECT_NE(m.last_error.find("connection refused"), std::string::npos);
  EXPECT_GT(tries, 25);  // every 5 minutes once the doubling reached its cap
  clock_.advance(std::chrono::hours(24));
  EXPECT_EQ(pass().claimed, 0);  // dead is final
  EXPECT_EQ(sms_.sent().size(), static_cast<size_t>(tries));
}

TEST_F(OutboxTest, RefusedForGoodIsDeadAtOnce) {
  sms_.fail_next(invalid("gateway answered HTTP 400"));
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ(pass().dead, 1);
  EXPECT_EQ(row(q->id).status, "dead");
  EXPECT_EQ(row(q->id).attempts, 1);
}

TEST_F(OutboxTest, FailedWriteClosureQueuesNothing) {
  Status s = store_->write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(Enqueued e, outbox_->enqueue(w, sms()));
    (void)e;
    return invalid("the certificate failed validation");  // the document is not stored...
  });
  EXPECT_EQ(s.code(), Code::kInvalid);
  auto all = outbox_->list("", 0, 10);  // ...and neither is its notification
  ASSERT_TRUE(all.is_ok());
  EXPECT_TRUE(all->empty());
  EXPECT_EQ(pass().claimed, 0);
  EXPECT_TRUE(sms_.sent().empty());
}

TEST_F(OutboxTest, SameDedupeKeyIsQueuedOnce) {
  auto a = enqueue(sms("+84912345678", "document:7f3a"));
  auto b = enqueue(sms("+84912345678", "document:7f3a"));
  ASSERT_TRUE(a.is_ok() && b.is_ok()) << b.status().to_string();
  EXPECT_FALSE(a->duplicate);
  EXPECT_TRUE(b->duplicate);
  EXPECT_EQ(a->id, b->id);
  EXPECT_EQ(pass().sent, 1);
  EXPECT_EQ(sms_.sent().size(), 1u);
  // Still a duplicate once sent: the key is kept.
  auto c = enqueue(sms("+84912345678", "document:7f3a"));
  ASSERT_TRUE(c.is_ok());
  EXPECT_TRUE(c->duplicate);
}

TEST_F(OutboxTest, InvalidRecipientsAreRefusedWithoutEchoingThem) {
  for (const char* bad : {"0912345678", "+12", "+1234567890123456", "+84 912345678", "+0123456789",
                          "84912345678", ""}) {
    auto q = enqueue(sms(bad));
    ASSERT_EQ(q.status().code(), Code::kInvalid) << bad;
    if (std::string(bad).size() > 3) {
      EXPECT_EQ(q.status().to_string().find(bad), std::string::npos) << "echoed " << bad;
    }
  }
  for (const char* bad : {"no-at-sign", "a@b", "a@@b.vn", "a b@c.vn", ".a@c.vn", "a..b@c.vn",
                          "a@-c.vn", "a@c.vn\r\nBcc: x@y.vn"}) {
    EXPECT_EQ(enqueue(email(bad)).status().code(), Code::kInvalid) << bad;
  }
  Message header_injection = email();
  header_injection.subject = "Hello\r\nBcc: victim@example.vn";
  EXPECT_EQ(enqueue(header_injection).status().code(), Code::kInvalid);
  EXPECT_TRUE(enqueue(sms("+6591234567")).is_ok());  // Singapore, 8 digits after 65
  EXPECT_TRUE(enqueue(email("First.Last+hb@mail.example.sg")).is_ok());
}

TEST_F(OutboxTest, RecipientsAndTextsAreNotStoredInClear) {
  ASSERT_TRUE(enqueue(sms("+84912345678", "document:7f3a")).is_ok());
  ASSERT_TRUE(enqueue(email("an.nguyen@example.vn")).is_ok());
  ASSERT_TRUE(store_->flush().is_ok());
  std::string bytes;
  for (const char* name : {"hb.db", "hb.db-wal"}) {
    std::ifstream in(dir_ / name, std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_NE(bytes.find("document:7f3a"), std::string::npos);  // we read the right bytes
  // The texts hold the link, a bearer secret: sealed like the recipient.
  EXPECT_EQ(bytes.find("hb.example/d/7f3a"), std::string::npos);
  EXPECT_EQ(bytes.find("you have a new document"), std::string::npos);
  EXPECT_EQ(bytes.find("Open Healthbook"), std::string::npos);
  EXPECT_EQ(bytes.find("84912345678"), std::string::npos);
  EXPECT_EQ(bytes.find("912345678"), std::string::npos);
  EXPECT_EQ(bytes.find("an.nguyen"), std::string::npos);
  EXPECT_EQ(bytes.find("example.vn"), std::string::npos);

  // The index lets a rate limit count messages to one number without knowing it.
  Status s = store_->read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(int64_t n,
                        r.outbox_count_to(outbox_->recipient_index(Channel::kSms, "+84912345678"),
                                          clock_.now() - seconds(60)));
    EXPECT_EQ(n, 1);
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok());
  // And what operators see carries neither the sealed recipient nor its hash.
  auto listed = outbox_->list("", 0, 10);
  ASSERT_TRUE(listed.is_ok());
  ASSERT_EQ(listed->size(), 2u);
  for (const store::OutboxMessage& m : *listed) {
    EXPECT_TRUE(m.recipient_sealed.empty() && m.recipient_index.empty());
    EXPECT_TRUE(m.body_sealed.empty() && m.body.empty());
  }
}

// Once a message is sent or dead the store keeps what operators and rate limits need (status,
// attempts, times, error, the recipient's keyed hash), not its link or its recipient.
TEST_F(OutboxTest, FinalMessagesForgetTheirTextAndRecipient) {
  auto sent = enqueue(sms("+84912345678"));
  auto dead = enqueue(sms("+84912345679"));
  ASSERT_TRUE(sent.is_ok() && dead.is_ok());
  sms_.fail_next(Status::ok());
  sms_.fail_next(invalid("gateway answered HTTP 400"));
  EXPECT_EQ(row(sent->id).body_sealed.empty(), false);
  DispatchReport r = pass();
  EXPECT_EQ(r.sent, 1);
  EXPECT_EQ(r.dead, 1);
  ASSERT_EQ(sms_.sent().size(), 2u);
  EXPECT_EQ(sms_.sent()[0].text, sms().text);  // it was sent whole
  for (int64_t id : {sent->id, dead->id}) {
    store::OutboxMessage m = row(id);
    EXPECT_TRUE(m.body_sealed.empty() && m.body.empty() && m.recipient_sealed.empty()) << id;
    EXPECT_EQ(m.attempts, 1);
  }
  EXPECT_EQ(row(sent->id).status, "sent");
  EXPECT_EQ(row(dead->id).status, "dead");
  EXPECT_EQ(row(dead->id).last_error, "invalid: gateway answered HTTP 400");
  EXPECT_EQ(row(dead->id).recipient_index, outbox_->recipient_index(Channel::kSms, "+84912345679"));
}

// A message queued before the text was sealed (schema step 17) has it in clear in `body`, and a
// recipient sealed as notifications.md says; it is still sent, and then forgotten.
TEST_F(OutboxTest, TextQueuedInClearBeforeSealingIsStillSent) {
  auto keys = OutboxKeys::derive(std::string(32, '\x42')).value();
  auto seal = crypto::Aead256::create(keys.seal_key).value();
  store::OutboxMessage legacy;
  legacy.channel = "sms";
  legacy.patient_id = "p1";
  legacy.recipient_sealed =
      seal.seal("+84912345678", std::string("healthbook outbox recipient\0sms\0p1", 34));
  legacy.recipient_index = outbox_->recipient_index(Channel::kSms, "+84912345678");
  legacy.body = "Healthbook: you have a new document. https://hb.example/c/old-row";
  legacy.next_attempt = clock_.now();
  legacy.created = clock_.now();
  int64_t id = 0;
  ASSERT_TRUE(store_
                  ->write_sync([&](store::Writer& w) -> Status {
                    HB_ASSIGN_OR_RETURN(id, w.outbox_enqueue(legacy));
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_EQ(pass().sent, 1);
  ASSERT_EQ(sms_.sent().size(), 1u);
  EXPECT_EQ(sms_.sent()[0].to, "+84912345678");
  EXPECT_EQ(sms_.sent()[0].text, legacy.body);
  EXPECT_EQ(row(id).status, "sent");
  EXPECT_EQ(row(id).body, "");
}

TEST_F(OutboxTest, SealedRecipientOpensOnlyWithItsKey) {
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok());
  // A server started with another master key cannot send it, and says so without retrying.
  auto other = OutboxKeys::derive(std::string(32, '\x43')).value();
  auto wrong = std::move(Outbox::create(*store_, sms_, email_, other, clock_, options_).value());
  auto r = wrong->dispatch_due();
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->dead, 1);
  EXPECT_TRUE(sms_.sent().empty());
  EXPECT_NE(row(q->id).last_error.find("sealed recipient"), std::string::npos);
}

TEST_F(OutboxTest, TransportErrorsAreStoredWithoutTheRecipient) {
  sms_.fail_next(Status(Code::kUnavailable, "gateway said: bad number +84912345678, try later"));
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ(pass().retried, 1);
  std::string err = row(q->id).last_error;
  EXPECT_EQ(err.find("84912345678"), std::string::npos) << err;
  EXPECT_NE(err.find("<recipient>"), std::string::npos) << err;
}

TEST_F(OutboxTest, CrashBetweenSendAndMarkSendsAgainOnceTheClaimLapses) {
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok());
  // What a dispatcher that died mid-send leaves behind: its claim, and no outcome.
  Status s = store_->write_sync([&](store::Writer& w) {
    return w.outbox_mark(q->id, 0, {"sending", 1, clock_.now() + options_.claim, "", {}});
  });
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(pass().claimed, 0);  // the claim still holds
  clock_.advance(options_.claim);
  EXPECT_EQ(pass().sent, 1);  // at least once: sent again
  EXPECT_EQ(row(q->id).status, "sent");
  EXPECT_EQ(row(q->id).attempts, 2);
}

TEST_F(OutboxTest, LapsedClaimPastTheDeadlineIsDead) {
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok());
  const Time give_up = clock_.now() + DeliveryPolicy().give_up_after;
  ASSERT_TRUE(store_
                  ->write_sync([&](store::Writer& w) {
                    return w.outbox_mark(q->id, 0, {"sending", 1, give_up, "", {}});
                  })
                  .is_ok());
  clock_.set(give_up);
  EXPECT_EQ(pass().dead, 1);
  EXPECT_EQ(row(q->id).status, "dead");
  EXPECT_NE(row(q->id).last_error.find("unknown"), std::string::npos);
  EXPECT_TRUE(sms_.sent().empty());
}

TEST_F(OutboxTest, DispatcherThreadSendsSoonAfterCommit) {
  std::promise<void> sent;
  std::once_flag once;
  sms_.on_send([&] { std::call_once(once, [&] { sent.set_value(); }); });
  options_.poll = std::chrono::hours(1);  // only the wake from enqueue can make it look
  make_outbox();
  outbox_->start();
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok());
  ASSERT_EQ(sent.get_future().wait_for(seconds(5)), std::future_status::ready);
  outbox_->stop();  // finishes the pass, outcome recorded
  EXPECT_EQ(row(q->id).status, "sent");
  outbox_->stop();  // idempotent
}

// Issuances a few milliseconds apart each wake the dispatcher; it waits `gather` after the first
// wake, so one pass claims them all (one claim, one commit) instead of a pass each.
TEST_F(OutboxTest, MessagesWokenWithinTheGatherShareOnePass) {
  options_.poll = std::chrono::hours(1);
  options_.gather = std::chrono::milliseconds(800);
  make_outbox();
  std::vector<int64_t> ids;
  std::mutex mu;
  std::vector<std::string> seen_at_first_send;
  std::promise<void> all_sent;
  int sends = 0;
  sms_.on_send([&] {
    std::lock_guard lock(mu);
    if (sends++ == 0) {
      for (int64_t id : ids) seen_at_first_send.push_back(row(id).status);
    }
    if (sends == 3) all_sent.set_value();
  });
  outbox_->start();
  for (int i = 0; i < 3; ++i) {
    auto q = enqueue(sms("+8491234567" + std::to_string(i)));
    ASSERT_TRUE(q.is_ok());
    {
      std::lock_guard lock(mu);
      ids.push_back(q->id);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(all_sent.get_future().wait_for(seconds(5)), std::future_status::ready);
  outbox_->stop();  // finishes the pass, outcomes recorded
  std::lock_guard lock(mu);
  ASSERT_EQ(seen_at_first_send.size(), 3u);
  for (const std::string& status : seen_at_first_send) EXPECT_EQ(status, "sending");
  for (int64_t id : ids) EXPECT_EQ(row(id).status, "sent");
}

TEST_F(OutboxTest, StopMidBatchReleasesWhatWasNotSent) {
  auto a = enqueue(sms("+84912345678"));
  auto b = enqueue(sms("+84912345679"));
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  // One send at a time (the transport's policy): stop arrives while the first is in hand.
  std::promise<void> in_hand;
  sms_.on_send([&] {
    in_hand.set_value();
    // Hold the send until stop() has begun: from then on the outbox refuses passes.
    while (outbox_->dispatch_due().status().code() != Code::kUnavailable) std::this_thread::yield();
  });
  auto pass = std::async(std::launch::async, [&] { return outbox_->dispatch_due(); });
  in_hand.get_future().wait();
  outbox_->stop();  // returns once the send in hand is recorded and the rest released
  auto r = pass.get();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->claimed, 2);
  EXPECT_EQ(r->sent, 1);
  EXPECT_EQ(r->released, 1);
  EXPECT_EQ(row(a->id).status, "sent");
  EXPECT_EQ(row(b->id).status, "queued");
  EXPECT_EQ(row(b->id).attempts, 0);
  EXPECT_EQ(outbox_->dispatch_due().status().code(), Code::kUnavailable);
}

TEST_F(OutboxTest, StartFindsMessagesQueuedWhileDown) {
  auto q = enqueue(sms());
  ASSERT_TRUE(q.is_ok());
  std::promise<void> sent;
  sms_.on_send([&] { sent.set_value(); });
  options_.poll = std::chrono::hours(1);
  make_outbox();
  outbox_->start();
  ASSERT_EQ(sent.get_future().wait_for(seconds(5)), std::future_status::ready);
  outbox_.reset();  // the destructor stops the thread
  EXPECT_EQ(row(q->id).status, "sent");
}

// While sends are in hand, what else is due goes through the transport's other threads, and never
// more at once than its policy allows.
TEST_F(OutboxTest, SendsUpToTheTransportsConcurrencyAtOnce) {
  OverlappingTransport gateway(3);
  auto keys = OutboxKeys::derive(std::string(32, '\x42')).value();
  outbox_ = std::move(Outbox::create(*store_, gateway, email_, keys, clock_, options_).value());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(enqueue(sms("+8491234560" + std::to_string(i))).is_ok());
  DispatchReport r = pass();
  EXPECT_EQ(r.claimed, 10);
  EXPECT_EQ(r.sent, 10);
  EXPECT_EQ(gateway.most(), 3);
}

// Each channel is claimed on its own: e-mails waiting for a mail server that hangs (one at a time,
// a 30 s timeout each) do not keep the SMS behind them in the store.
TEST_F(OutboxTest, AHungMailServerDoesNotHoldBackTheSms) {
  options_.poll = std::chrono::hours(1);
  make_outbox();
  std::promise<void> mail_answers;
  std::shared_future<void> gate = mail_answers.get_future().share();
  email_.on_send([gate] { gate.wait_for(seconds(10)); });
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(enqueue(email("a" + std::to_string(i) + "@example.vn")).is_ok());
  std::promise<void> sms_out;
  int sent = 0;
  sms_.on_send([&] {
    if (++sent == 3) sms_out.set_value();
  });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(enqueue(sms("+8491234560" + std::to_string(i))).is_ok());
  outbox_->start();
  EXPECT_EQ(sms_out.get_future().wait_for(seconds(5)), std::future_status::ready);
  mail_answers.set_value();
  outbox_->stop();
}

TEST(Backoff, DoublesFromTheFirstRetryUpToTheCap) {
  OutboxOptions o;
  o.jitter = 0;
  std::vector<int64_t> got;
  for (int a = 1; a <= 11; ++a) got.push_back(backoff(a, o, 0.5).count());
  EXPECT_EQ(got, (std::vector<int64_t>{1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000,
                                       300000, 300000}));
  EXPECT_EQ(backoff(1000, o, 0.5).count(), 300000);  // no overflow
}

TEST(Backoff, JitterOnlyShortensUpToItsFraction) {
  OutboxOptions o;
  o.jitter = 0.2;
  EXPECT_EQ(backoff(3, o, 0.0).count(), 4000);
  EXPECT_EQ(backoff(3, o, 0.5).count(), 3600);
  EXPECT_GT(backoff(3, o, 0.999999).count(), 3200);
  EXPECT_EQ(backoff(20, o, 0.5).count(), 270000);
}

TEST(OutboxKeys, DerivedKeysDifferPerUseAndNeedAMasterSecret) {
  auto k = OutboxKeys::derive(std::string(32, '\x01'));
  ASSERT_TRUE(k.is_ok());
  EXPECT_EQ(k->seal_key.size(), 32u);
  EXPECT_NE(k->seal_key, k->index_key);
  EXPECT_NE(k->seal_key, std::string(32, '\x01'));
  EXPECT_EQ(OutboxKeys::derive("short").status().code(), Code::kInvalid);
}

}  // namespace
}  // namespace hb::notify
