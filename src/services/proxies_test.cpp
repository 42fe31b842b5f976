// The parts of proxies that need no server: the guardian's age limit, what each kind of proxy may
// do, and the audit record of a resident's action (who acted for whom).
#include "services/proxies.h"

#include <gtest/gtest.h>

#include "services/resident_audit.h"

namespace hb::services {
namespace {

TEST(GuardianUntil, IsTheBirthdayOfTheAgeAtMidnightUtc) {
  EXPECT_EQ(format_instant(*ProxyService::guardian_until("2012-05-17", 16)),
            "2028-05-17T00:00:00.000Z");
  // Born on 29 February: the birthday in a common year is 1 March.
  EXPECT_EQ(format_instant(*ProxyService::guardian_until("2012-02-29", 15)),
            "2027-03-01T00:00:00.000Z");
  EXPECT_EQ(format_instant(*ProxyService::guardian_until("2012-02-29", 16)),
            "2028-02-29T00:00:00.000Z");
  // A partial or malformed date tells no age: no guardian then.
  EXPECT_FALSE(ProxyService::guardian_until("2012", 16));
  EXPECT_FALSE(ProxyService::guardian_until("2012-05", 16));
  EXPECT_FALSE(ProxyService::guardian_until("2012-13-01", 16));
  EXPECT_FALSE(ProxyService::guardian_until("2012-02-30", 16));
  EXPECT_FALSE(ProxyService::guardian_until("12-05-2012", 16));
}

TEST(ResidentRights, SelfAndGuardianMayAllCarersWhatWasGranted) {
  const Resident self{"a1", "p1"};
  const Resident guardian{"a2", "p1", Resident::Proxy{"guardian", "Mai", true, true}};
  const Resident viewer{"a3", "p1", Resident::Proxy{"carer", "Binh", true, false}};
  const Resident sharer{"a3", "p1", Resident::Proxy{"carer", "Binh", false, true}};
  for (auto right :
       {ResidentRight::kViewRecords, ResidentRight::kManageShares, ResidentRight::kPersonal}) {
    EXPECT_TRUE(require_right(self, right).is_ok());
    EXPECT_TRUE(require_right(guardian, right).is_ok());
  }
  EXPECT_TRUE(require_right(viewer, ResidentRight::kViewRecords).is_ok());
  EXPECT_EQ(require_right(viewer, ResidentRight::kManageShares).code(), Code::kForbidden);
  EXPECT_EQ(require_right(viewer, ResidentRight::kPersonal).code(), Code::kForbidden);
  EXPECT_EQ(require_right(sharer, ResidentRight::kViewRecords).code(), Code::kForbidden);
  EXPECT_TRUE(require_right(sharer, ResidentRight::kManageShares).is_ok());
  EXPECT_EQ(require_right(sharer, ResidentRight::kPersonal).code(), Code::kForbidden);
}

TEST(ResidentAudit, NamesTheActorAndTheSubject) {
  ManualClock clock(from_unix_millis(1'764'800'000'000));
  const Resident self{"a1", "p1"};
  auto own = resident_audit_record(clock, self, {"book-record", "R", "Observation/o1", "read"},
                                   "10.0.0.1");
  EXPECT_EQ(own.client_id, "resident-account");
  EXPECT_EQ(own.patient_id, "p1");
  EXPECT_EQ(own.entities, "Account/a1 Observation/o1");
  EXPECT_EQ(own.detail, "read");
  EXPECT_EQ(own.action, "R");
  EXPECT_EQ(own.outcome, "0");
  EXPECT_EQ(own.source_ip, "10.0.0.1");
  EXPECT_EQ(own.time, clock.now());

  const Resident mother{"a2", "child", Resident::Proxy{"guardian", "Thi Mai Nguyen", true, true}};
  auto proxy = resident_audit_record(clock, mother, {"book-timeline", "R", "", "timeline"}, "");
  EXPECT_EQ(proxy.client_id, "resident-proxy");
  EXPECT_EQ(proxy.patient_id, "child");     // in the child's access log
  EXPECT_EQ(proxy.entities, "Account/a2");  // the mother's account acted
  EXPECT_EQ(proxy.detail, "proxy: Thi Mai Nguyen (guardian); timeline");
}

}  // namespace
}  // namespace hb::services
