// A keyed token-bucket rate limiter for guessable things (logins, token requests, passcodes).
//
// Each key has a bucket of `burst` tokens refilled at `per_minute` / 60 per second; a request
// takes one token or is refused. Time comes from the injected clock, so tests move time.
// Thread-safety: safe from any thread; memory is bounded by dropping idle full buckets.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

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
  // Gives back a token that allow() took, for a request that turned out not to count (a limit on
  // failures charges every attempt up front, so that attempts made at once cannot all pass a
  // check that none of them has charged yet, and refunds those that did not fail).
  void refund(const std::string& key);

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

// The limiters' key for a client address: "addr:" and the address for IPv4 (an IPv4-mapped IPv6
// address counts as its IPv4 one); for IPv6 its /64, "addr:2001:db8:1:2::/64", since one
// subscriber or host is commonly given a whole /64 and could otherwise spread guesses over 2^64
// addresses. Anything that is not an address ("demo", "") is used as it is.
std::string address_key(std::string_view address);

// A try charged to a limiter's key before the answer is checked, and given back when it goes out
// of scope unless kept (the answer was checked and wrong). A limit on failures that charged only
// after the check would let tries sent at once all pass a check that none had charged yet.
class Charge {
 public:
  [[nodiscard]] Charge(RateLimiter& limiter, std::string key);
  ~Charge();
  Charge(const Charge&) = delete;
  Charge& operator=(const Charge&) = delete;
  bool charged() const { return charged_; }  // false: the key had no try left
  void keep() { kept_ = true; }

 private:
  RateLimiter& limiter_;
  std::string key_;
  bool charged_ = false;
  bool kept_ = false;
};

// One check at a time for each key (a link, an account). Checking a guess reads its counts,
// compares, and writes the counts back; two checks at once would both read the same counts, and
// a burst of guesses would get past a lock that the first of them set. A check holds its key
// until it has written; another check of the same key meanwhile is refused (its caller answers
// "busy, try again", uncounted) rather than queued, so a burst cannot tie up the threads.
// Within one process (the store has one).
class InFlight {
 public:
  class Claim {
   public:
    ~Claim();
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    bool held() const { return held_; }  // false: another check holds the key

   private:
    friend class InFlight;
    Claim(InFlight& owner, std::string key);
    InFlight& owner_;
    std::string key_;
    bool held_ = false;
  };
  [[nodiscard]] Claim claim(std::string key) { return Claim(*this, std::move(key)); }

  // The same for several keys whose claims end together, later than one scope (a batch holds the
  // documents it replaces until every write is done): each held key is released once, when the
  // Claims ends.
  class Claims {
   public:
    explicit Claims(InFlight& owner) : owner_(owner) {}
    ~Claims();
    Claims(const Claims&) = delete;
    Claims& operator=(const Claims&) = delete;
    // Whether `key` is now held by this; false when another claim holds it (or this already does).
    [[nodiscard]] bool add(const std::string& key);

   private:
    InFlight& owner_;
    std::vector<std::string> held_;
  };

 private:
  std::mutex mu_;
  std::unordered_set<std::string> keys_;  // guarded by mu_
};

}  // namespace hb::services
