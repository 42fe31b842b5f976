// Housekeeping: forgets what no rule reads any more, so that expired secrets do not pile up in
// the store: remembered assertion jtis and access tokens, one-time codes, resident sessions past
// their idle timeout or lifetime, device unlocks of certificate links, and access-alert marks.
//
// The cutoffs follow the rules that read those rows: a row goes only once it no longer works, and
// those that tell a user something are kept kGrace longer, so the answer stays the same meanwhile
// (an expired session still says "session expired" the next morning, a replayed code "used";
// after that, "not signed in" and "expired"):
//   - one-time codes: kGrace after they expire;
//   - sessions: kGrace after AccountService refuses them (idle timeout or absolute lifetime);
//   - jtis, access tokens and device unlocks of certificate links: once expired;
//   - access-alert marks: after kGrace (the alert limit is one per hour).
// Each sweep is one write; only the counts are logged.
//
// Thread-safety: sweep() from any thread; start()/stop() run a sweep every `every` on a thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace hb::services {

struct HousekeepingOptions {
  std::chrono::seconds session_idle{std::chrono::minutes(30)};   // AccountOptions::idle
  std::chrono::seconds session_lifetime{std::chrono::hours(12)};  // AccountOptions::lifetime
  std::chrono::seconds every{std::chrono::minutes(10)};
};

class Housekeeping {
 public:
  static constexpr std::chrono::hours kGrace{24};

  Housekeeping(store::Store& store, const Clock& clock, HousekeepingOptions options);
  ~Housekeeping();

  // The cutoffs for a sweep at `now`.
  store::PurgeCutoffs cutoffs(Time now) const;
  // One sweep, now.
  Result<store::PurgeCounts> sweep();

  void start();
  void stop();

 private:
  void run();

  store::Store& store_;
  const Clock& clock_;
  HousekeepingOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::mutex life_mu_;     // serialises start() and stop()
  std::thread thread_;     // guarded by life_mu_
};

}  // namespace hb::services
