#include "services/housekeeping.h"

#include <cstdio>

namespace hb::services {

Housekeeping::Housekeeping(store::Store& store, const Clock& clock, HousekeepingOptions options)
    : store_(store), clock_(clock), options_(options) {}

Housekeeping::~Housekeeping() { stop(); }

store::PurgeCutoffs Housekeeping::cutoffs(Time now) const {
  store::PurgeCutoffs c;
  c.now = now;
  c.codes_expired_before = now - kGrace;
  c.sessions_seen_before = now - options_.session_idle - kGrace;
  c.sessions_created_before = now - options_.session_lifetime - kGrace;
  c.alerts_sent_before = now - kGrace;
  return c;
}

Result<store::PurgeCounts> Housekeeping::sweep() {
  const store::PurgeCutoffs c = cutoffs(clock_.now());
  store::PurgeCounts counts;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(counts, w.purge_expired(c));
    return Status::ok();
  }));
  return counts;
}

void Housekeeping::start() {
  std::lock_guard life(life_mu_);
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void Housekeeping::stop() {
  std::lock_guard life(life_mu_);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Housekeeping::run() {
  for (;;) {
    auto swept = sweep();
    if (!swept) {
      // The status names the store's failure only: no patient data.
      std::fprintf(stderr, "housekeeping: sweep failed: %s\n", swept.error().message().c_str());
    } else if (swept->tokens + swept->codes + swept->sessions + swept->device_unlocks +
                   swept->alert_marks > 0) {
      std::fprintf(stderr,
                   "housekeeping: forgot %lld tokens, %lld codes, %lld sessions, %lld device unlocks, "
                   "%lld alert marks\n",
                   static_cast<long long>(swept->tokens), static_cast<long long>(swept->codes),
                   static_cast<long long>(swept->sessions), static_cast<long long>(swept->device_unlocks),
                   static_cast<long long>(swept->alert_marks));
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, options_.every, [&] { return stopping_; })) return;
  }
}

}  // namespace hb::services
