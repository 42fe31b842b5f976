// The proxy-grant table of the SQLite store (store.h, "proxies"): what services/proxies.cpp relies
// on: a grant round-trips, only its rights, end and revocation change, and it is found both from
// the person who granted it and from the account that holds it.
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

class ProxyStoreTest : public SqliteStoreTest {
 protected:


  ProxyGrant grant(const std::string& id, const std::string& patient, const std::string& proxy,
                   Time created) {
    ProxyGrant g;
    g.id = id;
    g.patient_id = patient;
    g.proxy_account_id = proxy;
    g.kind = "carer";
    g.scopes = "view-records";
    g.created = created;
    g.ends_at = created + hours(24 * 30);
    g.granted_by = "acct-" + patient;
    return g;
  }

  Time t0_ = Time(seconds(1'800'000'000));
};

TEST_F(ProxyStoreTest, AGrantRoundTripsAndOnlyItsRightsEndAndRevocationChange) {
  ASSERT_TRUE(
      write([&](Writer& w) { return w.put_proxy_grant(grant("g1", "p1", "a2", t0_)); }).is_ok());
  ProxyGrant changed = grant("g1", "p-other", "a-other", t0_ + seconds(5));
  changed.scopes = "view-records manage-shares";
  changed.ends_at = t0_ + hours(48);
  changed.revoked_at = t0_ + hours(1);
  ASSERT_TRUE(write([&](Writer& w) { return w.put_proxy_grant(changed); }).is_ok());
  std::optional<ProxyGrant> got;
  ASSERT_TRUE(store_
                  ->read([&](Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(got, r.proxy_grant("g1"));
                    return Status::ok();
                  })
                  .is_ok());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->patient_id, "p1");  // who granted, and to whom, never change
  EXPECT_EQ(got->proxy_account_id, "a2");
  EXPECT_EQ(got->created, t0_);
  EXPECT_EQ(got->scopes, "view-records manage-shares");
  EXPECT_EQ(got->ends_at, t0_ + hours(48));
  EXPECT_EQ(got->revoked_at, t0_ + hours(1));
  EXPECT_EQ(got->kind, "carer");
}

TEST_F(ProxyStoreTest, GrantsAreFoundByThePersonAndByTheProxy) {
  ASSERT_TRUE(write([&](Writer& w) -> Status {
                HB_RETURN_IF_ERROR(w.put_proxy_grant(grant("old", "p1", "a2", t0_)));
                HB_RETURN_IF_ERROR(w.put_proxy_grant(grant("new", "p1", "a3", t0_ + seconds(10))));
                return w.put_proxy_grant(grant("other", "p2", "a2", t0_ + seconds(5)));
              }).is_ok());
  std::vector<ProxyGrant> of_p1, held_by_a2;
  ASSERT_TRUE(store_
                  ->read([&](Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(of_p1, r.proxy_grants_of("p1", 10));
                    HB_ASSIGN_OR_RETURN(held_by_a2, r.proxy_grants_held("a2", 10));
                    return Status::ok();
                  })
                  .is_ok());
  ASSERT_EQ(of_p1.size(), 2u);
  EXPECT_EQ(of_p1[0].id, "new");  // newest first
  EXPECT_EQ(of_p1[1].id, "old");
  ASSERT_EQ(held_by_a2.size(), 2u);
  for (const auto& g : held_by_a2) EXPECT_EQ(g.proxy_account_id, "a2");
  // A kind the table does not know is refused.
  ProxyGrant odd = grant("odd", "p1", "a2", t0_);
  odd.kind = "friend";
  EXPECT_FALSE(write([&](Writer& w) { return w.put_proxy_grant(odd); }).is_ok());
}

}  // namespace
}  // namespace hb::store
