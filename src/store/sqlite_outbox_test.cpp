// The outbox tables of the SQLite store (store.h, "notify: the outbox"): what notify/'s dispatcher
// relies on. The dispatcher itself is tested in src/notify/outbox_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "core/ids.h"
#include "store/store.h"
#include "store/test_fixture.h"

namespace hb::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class OutboxStoreTest : public SqliteStoreTest {
 protected:


  static OutboxMessage msg(const std::string& dedupe, Time due) {
    OutboxMessage m;
    m.channel = "sms";
    m.patient_id = "p1";
    m.recipient_sealed = std::string("\x01sealed\x00", 8);
    m.recipient_index = "ix1";
    m.body = "You have a new document: https://hb.example/d";
    m.next_attempt = due;
    m.created = due;
    m.dedupe_key = dedupe;
    return m;
  }

  int64_t enqueue(const OutboxMessage& m) {
    int64_t id = 0;
    Status s = store_->write_sync([&](Writer& w) -> Status {
      HB_ASSIGN_OR_RETURN(id, w.outbox_enqueue(m));
      return Status::ok();
    });
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return id;
  }

  Time t0_ = Time(std::chrono::seconds(1'800'000'000));
};

TEST_F(OutboxStoreTest, EnqueuedMessageReadsBackQueued) {
  int64_t id = enqueue(msg("", t0_));
  ASSERT_GT(id, 0);
  Status s = store_->read([&](Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto m, r.outbox_message(id));
    EXPECT_TRUE(m.has_value());
    EXPECT_EQ(m->status, "queued");
    EXPECT_EQ(m->attempts, 0);
    EXPECT_EQ(m->recipient_sealed, std::string("\x01sealed\x00", 8));
    EXPECT_EQ(m->next_attempt, t0_);
    EXPECT_FALSE(m->sent_at.has_value());
    EXPECT_EQ(m->dedupe_key, "");
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

TEST_F(OutboxStoreTest, DedupeKeyIsUniqueButEmptyKeysAreNot) {
  EXPECT_GT(enqueue(msg("", t0_)), 0);
  EXPECT_GT(enqueue(msg("", t0_)), 0);
  int64_t first = enqueue(msg("doc:1", t0_));
  Status s = store_->write_sync([&](Writer& w) -> Status {
    auto again = w.outbox_enqueue(msg("doc:1", t0_));
    EXPECT_EQ(again.status().code(), Code::kConflict);
    HB_ASSIGN_OR_RETURN(auto found, w.outbox_by_dedupe("doc:1"));
    EXPECT_TRUE(found && found->id == first);
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  s = store_->read([&](Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto all, r.outbox_list("", 0, 10));
    EXPECT_EQ(all.size(), 3u);
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok());
}

TEST_F(OutboxStoreTest, DueIsEarliestFirstAndSkipsSentAndDead) {
  int64_t late = enqueue(msg("", t0_ + milliseconds(500)));
  int64_t early = enqueue(msg("", t0_));
  int64_t future = enqueue(msg("", t0_ + std::chrono::seconds(60)));
  int64_t done = enqueue(msg("", t0_));
  Status s = store_->write_sync([&](Writer& w) -> Status {
    OutboxMark sent{"sent", 1, t0_, "", t0_};
    return w.outbox_mark(done, 0, sent);
  });
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  s = store_->read([&](Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto due, r.outbox_due(t0_ + milliseconds(500), "", 10));
    EXPECT_EQ(due.size(), 2u);
    if (due.size() == 2) {
      EXPECT_EQ(due[0].id, early);
      EXPECT_EQ(due[1].id, late);
    }
    HB_ASSIGN_OR_RETURN(auto next, r.outbox_next_due(""));
    EXPECT_EQ(next, std::optional<Time>(t0_));
    HB_ASSIGN_OR_RETURN(auto sent, r.outbox_list("sent", 0, 10));
    EXPECT_EQ(sent.size(), 1u);
    HB_ASSIGN_OR_RETURN(int64_t n, r.outbox_count_to("ix1", t0_));
    EXPECT_EQ(n, 4);
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  (void)future;
}

// The dispatcher claims each channel's due messages on their own, so that a backlog of e-mail to a
// mail server that hangs does not stand before the SMS.
TEST_F(OutboxStoreTest, DueAndNextDueByChannel) {
  OutboxMessage mail = msg("", t0_);
  mail.channel = "email";
  const int64_t early_mail = enqueue(mail);
  const int64_t sms = enqueue(msg("", t0_ + milliseconds(10)));
  mail.next_attempt = t0_ + milliseconds(20);
  enqueue(mail);
  Status s = store_->read([&](Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto due, r.outbox_due(t0_ + milliseconds(20), "sms", 10));
    EXPECT_EQ(due.size(), 1u);
    if (!due.empty()) {
      EXPECT_EQ(due[0].id, sms);
    }
    HB_ASSIGN_OR_RETURN(due, r.outbox_due(t0_ + milliseconds(20), "email", 1));
    EXPECT_EQ(due.size(), 1u);
    if (!due.empty()) {
      EXPECT_EQ(due[0].id, early_mail);
    }
    HB_ASSIGN_OR_RETURN(due, r.outbox_due(t0_ + milliseconds(20), "", 10));
    EXPECT_EQ(due.size(), 3u);
    HB_ASSIGN_OR_RETURN(auto next, r.outbox_next_due("sms"));
    EXPECT_EQ(next, std::optional<Time>(t0_ + milliseconds(10)));
    HB_ASSIGN_OR_RETURN(next, r.outbox_next_due("email"));
    EXPECT_EQ(next, std::optional<Time>(t0_));
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

TEST_F(OutboxStoreTest, MarkFromStaleAttemptsIsConflictAndFinalStatesStay) {
  int64_t id = enqueue(msg("", t0_));
  Status s = store_->write_sync([&](Writer& w) -> Status {
    EXPECT_TRUE(
        w.outbox_mark(id, 0, {"sending", 1, t0_ + std::chrono::minutes(2), "", {}}).is_ok());
    // A second dispatcher that read the row before the claim loses.
    EXPECT_EQ(w.outbox_mark(id, 0, {"sending", 1, t0_, "", {}}).code(), Code::kConflict);
    EXPECT_TRUE(w.outbox_mark(id, 1, {"dead", 1, t0_, "gateway said 400", {}}).is_ok());
    // Dead is final.
    EXPECT_EQ(w.outbox_mark(id, 1, {"sending", 2, t0_, "", {}}).code(), Code::kConflict);
    EXPECT_EQ(w.outbox_mark(id + 100, 0, {"sent", 1, t0_, "", t0_}).code(), Code::kNotFound);
    EXPECT_EQ(w.outbox_mark(id, 1, {"lost", 1, t0_, "", {}}).code(), Code::kInvalid);
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

// A copy of the database must hold no live link: a message done with keeps its recipient's keyed
// hash, status, attempts, times and error, and nothing it was for.
TEST_F(OutboxStoreTest, FinalMarksForgetTheTextAndTheRecipient) {
  OutboxMessage sealed = msg("", t0_);
  sealed.body.clear();
  sealed.body_sealed = std::string("\x02sealed text\x00", 14);
  const int64_t sent = enqueue(sealed);
  const int64_t dead = enqueue(msg("", t0_));  // a text in clear, as queued before schema step 17
  const int64_t retried = enqueue(sealed);
  Status s = store_->write_sync([&](Writer& w) -> Status {
    for (int64_t id : {sent, dead, retried}) {
      HB_RETURN_IF_ERROR(
          w.outbox_mark(id, 0, {"sending", 1, t0_ + std::chrono::minutes(2), "", {}}));
    }
    HB_RETURN_IF_ERROR(w.outbox_mark(sent, 1, {"sent", 1, t0_, "", t0_}));
    HB_RETURN_IF_ERROR(w.outbox_mark(dead, 1, {"dead", 1, t0_, "invalid: HTTP 400", {}}));
    return w.outbox_mark(retried, 1, {"failed", 1, t0_ + std::chrono::seconds(1), "HTTP 503", {}});
  });
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  s = store_->read([&](Reader& r) -> Status {
    for (int64_t id : {sent, dead}) {
      HB_ASSIGN_OR_RETURN(auto m, r.outbox_message(id));
      EXPECT_TRUE(m.has_value());
      if (!m) continue;
      EXPECT_EQ(m->body, "") << id;
      EXPECT_EQ(m->body_sealed, "") << id;
      EXPECT_EQ(m->recipient_sealed, "") << id;
      EXPECT_EQ(m->recipient_index, "ix1") << id;  // rate limits still count it
      EXPECT_EQ(m->attempts, 1) << id;
    }
    HB_ASSIGN_OR_RETURN(auto d, r.outbox_message(dead));
    EXPECT_TRUE(d && d->status == "dead" && d->last_error == "invalid: HTTP 400");
    HB_ASSIGN_OR_RETURN(auto f, r.outbox_message(retried));  // still in play: all kept
    EXPECT_TRUE(f.has_value());
    if (f) {
      EXPECT_EQ(f->body_sealed, sealed.body_sealed);
      EXPECT_EQ(f->recipient_sealed, sealed.recipient_sealed);
    }
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

TEST_F(OutboxStoreTest, FailedClosureQueuesNothing) {
  Status s = store_->write_sync([&](Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(int64_t id, w.outbox_enqueue(msg("doc:9", t0_)));
    (void)id;
    return invalid("the document did not validate");
  });
  EXPECT_EQ(s.code(), Code::kInvalid);
  s = store_->read([&](Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto all, r.outbox_list("", 0, 10));
    EXPECT_TRUE(all.empty());
    HB_ASSIGN_OR_RETURN(auto next, r.outbox_next_due(""));
    EXPECT_FALSE(next.has_value());
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok());
}

}  // namespace
}  // namespace hb::store
