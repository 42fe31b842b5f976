// A keyed token-bucket rate limiter for guessable things (logins, token requests, passcodes).
//
// Each key has a bucket of `burst` tokens refilled at `per_minute` / 60 per second; a request
// takes one token or is refused. Time comes from the injected clock, so tests move time.
// Thread-safety: safe from any thread; memory is bounded by dropping idle full buckets.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace hb::services {

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, double per_minute, double burst)
      : clock_(clock), rate_per_second_(per_minute / 60.0), burst_(burst) {}

  // True if the request may proceed (takes a token).
  bool allow(const std::string& key);
  // True if the key has no token left now (takes nothing): for limits charged only on failures.
  bool exhausted(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    Time updated;
  };
  const Clock& clock_;
  double rate_per_second_;
  double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace hb::services
