// The resident-share and access-alert tables of the SQLite store (store.h, "resident shares"):
// what services/shares.cpp and services/access_log.cpp rely on.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "core/ids.h"
#include "store/store.h"
#include "store/test_fixture.h"

namespace hb::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::seconds;

class ShareStoreTest : public SqliteStoreTest {
 protected:


  Share share(const std::string& id, const std::string& patient, Time created) {
    Share s;
    s.id = id;
    s.patient_id = patient;
    s.account_id = "acct-" + patient;
    s.token_hash = "hash-" + id;
    s.created = created;
    s.expires = created + hours(24);
    s.status = "active";
    s.body = std::string("\x02sealed\x00body", 12);
    return s;
  }

  Time t0_ = Time(seconds(1'800'000'000));
};

TEST_F(ShareStoreTest, ASharesStateChangesButItsContentDoesNot) {
  Share s = share("s1", "p1", t0_);
  s.passcode_hash = "$argon2id$v=19$m=8,t=1,p=1$salt$hash";
  s.single_use = true;
  ASSERT_TRUE(write([&](Writer& w) { return w.put_share(s); }).is_ok());

  Share changed = s;
  changed.status = "disabled";
  changed.ended = t0_ + seconds(5);
  changed.failures_total = 20;
  changed.failures_window = 3;
  changed.window_start = t0_ + seconds(1);
  changed.locked_until = t0_ + hours(1);
  changed.body = "replaced";          // content is written once
  changed.expires = t0_ + hours(99);  // and so is the expiry
  ASSERT_TRUE(write([&](Writer& w) { return w.put_share(changed); }).is_ok());

  std::optional<Share> by_id, by_token, missing;
  ASSERT_TRUE(store_
                  ->read([&](Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(by_id, r.share("s1"));
                    HB_ASSIGN_OR_RETURN(by_token, r.share_by_token("hash-s1"));
                    HB_ASSIGN_OR_RETURN(missing, r.share_by_token("hash-none"));
                    return Status::ok();
                  })
                  .is_ok());
  ASSERT_TRUE(by_id && by_token);
  EXPECT_FALSE(missing);
  EXPECT_EQ(by_token->id, "s1");
  EXPECT_EQ(by_id->status, "disabled");
  EXPECT_EQ(by_id->ended, t0_ + seconds(5));
  EXPECT_EQ(by_id->failures_total, 20);
  EXPECT_EQ(by_id->failures_window, 3);
  EXPECT_EQ(by_id->locked_until, t0_ + hours(1));
  EXPECT_EQ(by_id->body, s.body);
  EXPECT_EQ(by_id->expires, s.expires);
  EXPECT_TRUE(by_id->single_use);
  EXPECT_EQ(by_id->passcode_hash, s.passcode_hash);
}

TEST_F(ShareStoreTest, TokenHashesAreUniqueAndStatusesChecked) {
  ASSERT_TRUE(write([&](Writer& w) { return w.put_share(share("s1", "p1", t0_)); }).is_ok());
  Share clash = share("s2", "p1", t0_);
  clash.token_hash = "hash-s1";
  EXPECT_EQ(write([&](Writer& w) { return w.put_share(clash); }).code(), Code::kConflict);
  Share odd = share("s3", "p1", t0_);
  odd.status = "paused";
  EXPECT_FALSE(write([&](Writer& w) { return w.put_share(odd); }).is_ok());
}

TEST_F(ShareStoreTest, SharesAndAccessesAreListedPerPatientNewestFirst) {
  ASSERT_TRUE(write([&](Writer& w) -> Status {
                HB_RETURN_IF_ERROR(w.put_share(share("old", "p1", t0_)));
                HB_RETURN_IF_ERROR(w.put_share(share("new", "p1", t0_ + seconds(10))));
                HB_RETURN_IF_ERROR(w.put_share(share("other", "p2", t0_ + seconds(5))));
                HB_RETURN_IF_ERROR(w.add_share_access({0, "old", "p1", t0_ + seconds(1), "r1"}));
                HB_RETURN_IF_ERROR(w.add_share_access({0, "old", "p1", t0_ + seconds(2), "r2"}));
                return w.add_share_access({0, "other", "p2", t0_ + seconds(3), "r3"});
              }).is_ok());
  std::vector<Share> mine, theirs, one;
  std::vector<ShareAccess> accesses;
  ASSERT_TRUE(store_
                  ->read([&](Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(mine, r.shares_of("p1", 10));
                    HB_ASSIGN_OR_RETURN(theirs, r.shares_of("p2", 10));
                    HB_ASSIGN_OR_RETURN(one, r.shares_of("p1", 1));
                    HB_ASSIGN_OR_RETURN(accesses, r.share_accesses("old", 10));
                    return Status::ok();
                  })
                  .is_ok());
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].id, "new");
  EXPECT_EQ(mine[1].id, "old");
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(theirs[0].id, "other");
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(accesses.size(), 2u);
  EXPECT_EQ(accesses[0].recipient_sealed, "r2");
  EXPECT_EQ(accesses[1].recipient_sealed, "r1");
  EXPECT_GT(accesses[0].seq, accesses[1].seq);
}

TEST_F(ShareStoreTest, APatientsAuditEventsPageNewestFirst) {
  ASSERT_TRUE(write([&](Writer& w) -> Status {
                for (int i = 0; i < 5; ++i) {
                  AuditRecord a;
                  a.id = new_uuid();
                  a.time = t0_ + seconds(i);
                  a.action = "R";
                  a.outcome = "0";
                  a.event_type = "read";
                  a.patient_id = i == 2 ? "p2" : "p1";
                  a.detail = std::to_string(i);
                  HB_RETURN_IF_ERROR(w.append_audit(a));
                }
                return Status::ok();
              }).is_ok());
  std::vector<AuditRecord> first, second, none;
  ASSERT_TRUE(store_
                  ->read([&](Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(first, r.audit_newest("p1", 0, 2));
                    HB_ASSIGN_OR_RETURN(second, r.audit_newest("p1", first.back().seq, 10));
                    HB_ASSIGN_OR_RETURN(none, r.audit_newest("", 0, 10));
                    return Status::ok();
                  })
                  .is_ok());
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].detail, "4");
  EXPECT_EQ(first[1].detail, "3");
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].detail, "1");
  EXPECT_EQ(second[1].detail, "0");
  EXPECT_TRUE(none.empty()) << "no patient: nothing, never everyone's events";
}

TEST_F(ShareStoreTest, AccessAlertsKeepChoicesLastSendsAndTheCursor) {
  int64_t cursor = -1;
  ASSERT_TRUE(store_
                  ->read([&](Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(cursor, r.access_alert_cursor());
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_EQ(cursor, 0) << "a new database starts at the end of its (empty) audit log";
  ASSERT_TRUE(write([&](Writer& w) -> Status {
                HB_RETURN_IF_ERROR(w.put_access_alerts({"p1", true, false, "", t0_}));
                HB_RETURN_IF_ERROR(
                    w.put_access_alerts({"p1", true, true, "sealed-mail", t0_ + seconds(1)}));
                HB_RETURN_IF_ERROR(w.put_access_alert_sent("p1", "facility:f1", t0_));
                HB_RETURN_IF_ERROR(w.put_access_alert_sent("p1", "facility:f1", t0_ + hours(2)));
                return w.set_access_alert_cursor(42);
              }).is_ok());
  std::optional<AccessAlerts> prefs, none;
  std::optional<Time> sent, never;
  ASSERT_TRUE(store_
                  ->read([&](Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(prefs, r.access_alerts("p1"));
                    HB_ASSIGN_OR_RETURN(none, r.access_alerts("p2"));
                    HB_ASSIGN_OR_RETURN(sent, r.access_alert_sent("p1", "facility:f1"));
                    HB_ASSIGN_OR_RETURN(never, r.access_alert_sent("p1", "facility:f2"));
                    HB_ASSIGN_OR_RETURN(cursor, r.access_alert_cursor());
                    return Status::ok();
                  })
                  .is_ok());
  ASSERT_TRUE(prefs);
  EXPECT_TRUE(prefs->sms);
  EXPECT_TRUE(prefs->email);
  EXPECT_EQ(prefs->email_sealed, "sealed-mail");
  EXPECT_FALSE(none);
  ASSERT_TRUE(sent);
  EXPECT_EQ(*sent, t0_ + hours(2));
  EXPECT_FALSE(never);
  EXPECT_EQ(cursor, 42);
}

}  // namespace
}  // namespace hb::store
