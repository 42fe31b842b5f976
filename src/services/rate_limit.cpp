#include "services/rate_limit.h"

#include <algorithm>
#include <utility>

namespace hb::services {

bool RateLimiter::allow(const std::string& key) {
  Time now = clock_.now();
  std::lock_guard lock(mu_);
  if (buckets_.size() > 100000) {
    // Forget buckets that have refilled completely: they carry no information.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double secs = std::chrono::duration<double>(now - it->second.updated).count();
      if (it->second.tokens + secs * rate_per_second_ >= burst_) it = buckets_.erase(it);
      else ++it;
    }
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  double secs = std::chrono::duration<double>(now - b.updated).count();
  if (secs > 0) b.tokens = std::min(burst_, b.tokens + secs * rate_per_second_);
  b.updated = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

bool RateLimiter::exhausted(const std::string& key) {
  Time now = clock_.now();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return false;
  double secs = std::chrono::duration<double>(now - it->second.updated).count();
  return std::min(burst_, it->second.tokens + secs * rate_per_second_) < 1.0;
}

void RateLimiter::refund(const std::string& key) {
  Time now = clock_.now();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return;  // forgotten: it had refilled completely
  Bucket& b = it->second;
  double secs = std::chrono::duration<double>(now - b.updated).count();
  if (secs > 0) b.tokens = std::min(burst_, b.tokens + secs * rate_per_second_);
  b.updated = now;
  b.tokens = std::min(burst_, b.tokens + 1.0);
}

Charge::Charge(RateLimiter& limiter, std::string key) : limiter_(limiter), key_(std::move(key)) {
  charged_ = limiter_.allow(key_);
}

Charge::~Charge() {
  if (charged_ && !kept_) limiter_.refund(key_);
}

InFlight::Claim::Claim(InFlight& owner, std::string key) : owner_(owner), key_(std::move(key)) {
  std::lock_guard lock(owner_.mu_);
  held_ = owner_.keys_.insert(key_).second;
}

InFlight::Claim::~Claim() {
  if (!held_) return;
  std::lock_guard lock(owner_.mu_);
  owner_.keys_.erase(key_);
}

InFlight::Claims::~Claims() {
  std::lock_guard lock(owner_.mu_);
  for (const std::string& key : held_) owner_.keys_.erase(key);
}

bool InFlight::Claims::add(const std::string& key) {
  std::lock_guard lock(owner_.mu_);
  if (!owner_.keys_.insert(key).second) return false;
  held_.push_back(key);
  return true;
}

}  // namespace hb::services
