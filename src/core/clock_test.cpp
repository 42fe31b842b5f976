#include "core/clock.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

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
  EXPECT_EQ(a[14], '7');                                                      // RFC 9562 version 7
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');  // variant 10
  EXPECT_FALSE(is_valid_fhir_id(""));
  EXPECT_FALSE(is_valid_fhir_id("a/b"));
  EXPECT_FALSE(is_valid_fhir_id(std::string(65, 'a')));
}

TEST(Ids, UuidsCarryTheirMillisecondInTheFirst48Bits) {
  const auto ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const int64_t before = ms();
  const std::string id = new_uuid();
  const int64_t after = ms();
  const int64_t stamp = std::stoll(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
  EXPECT_GE(stamp, before);
  EXPECT_LE(stamp, after);
  // Ids made in later milliseconds sort after earlier ones (what keeps B-tree inserts local).
  std::string next = new_uuid();
  while (next.substr(0, 13) == id.substr(0, 13)) next = new_uuid();
  EXPECT_LT(id, next);
}

// Ids draw their random bits from a per-thread pool: threads do not share bytes, and a forked
// child does not repeat the ids its parent makes next.
TEST(Ids, UuidsDoNotRepeatAcrossThreadsOrAFork) {
  std::vector<std::vector<std::string>> made(4);
  std::vector<std::thread> threads;
  for (auto& ids : made) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 5000; ++i) ids.push_back(new_uuid());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& ids : made) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 20000u);

  (void)new_uuid();  // this thread's pool is filled before the fork
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = new_uuid();
    const ssize_t n = write(fds[1], id.data(), id.size());
    _exit(n == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  const std::string mine = new_uuid();
  char buf[36];
  ASSERT_EQ(read(fds[0], buf, sizeof buf), 36);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  close(fds[0]);
  close(fds[1]);
  EXPECT_NE(std::string(buf, sizeof buf).substr(14), mine.substr(14));  // the random part
}

}  // namespace
}  // namespace hb
