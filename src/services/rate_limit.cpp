#include "services/rate_limit.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace hb::services {

std::string address_key(std::string_view address) {
  const std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return "addr:" + text;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return "addr:" + text;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN];
  if (std::memcmp(v6.s6_addr, kMapped, sizeof kMapped) == 0) {
    std::memcpy(&v4, v6.s6_addr + 12, 4);
    if (inet_ntop(AF_INET, &v4, out, sizeof out) == nullptr) return "addr:" + text;
    return std::string("addr:") + out;
  }
  std::memset(v6.s6_addr + 8, 0, 8);  // the interface half
  if (inet_ntop(AF_INET6, &v6, out, sizeof out) == nullptr) return "addr:" + text;
  return std::string("addr:") + out + "/64";
}

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
