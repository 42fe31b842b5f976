#include "core/clock.h"

#include <gtest/gtest.h>

#include "core/ids.h"

namespace hb {
namespace {

TEST(Clock, ManualClockMovesOnlyWhenTold) {
  ManualClock c;
  Time t0 = c.now();
  EXPECT_EQ(c.now(), t0);
  c.advance(std::chrono::hours(24 * 7));
  EXPECT_EQ(c.now() - t0, std::chrono::hours(24 * 7));
}

TEST(Clock, FormatsInstants) {
  EXPECT_EQ(format_instant(from_unix_millis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_instant(from_unix_millis(1'700'000'000'123)), "2023-11-14T22:13:20.123Z");
}

TEST(Ids, UuidsAreValidFhirIdsAndDistinct) {
  auto a = new_uuid();
  auto b = new_uuid();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(is_valid_fhir_id(a));
  EXPECT_EQ(a[14], '4');
  EXPECT_FALSE(is_valid_fhir_id(""));
  EXPECT_FALSE(is_valid_fhir_id("a/b"));
  EXPECT_FALSE(is_valid_fhir_id(std::string(65, 'a')));
}

}  // namespace
}  // namespace hb
