// Clock: the one source of "now" for everything that expires, relocks or archives.
//
// Production code takes a Clock& and never calls std::chrono::system_clock directly, so tests can
// move time (7-day relock, token expiry, 3-month archive) instead of sleeping.
//
// Thread-safety: now() is safe from any thread for both implementations.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace hb {

using Time = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Time now() const override { return std::chrono::system_clock::now(); }
  static SystemClock& instance();
};

// A clock that stands still until told to move. Starts at a fixed, realistic instant.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start = Time(std::chrono::seconds(1'800'000'000)))
      : micros_(to_micros(start)) {}
  Time now() const override { return Time(std::chrono::microseconds(micros_.load())); }
  void set(Time t) { micros_.store(to_micros(t)); }
  void advance(std::chrono::microseconds d) { micros_.fetch_add(d.count()); }

 private:
  static int64_t to_micros(Time t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }
  std::atomic<int64_t> micros_;
};

// The system clock moved forward by an offset that only grows: for browser tests of a running
// server (7-day relocks, expiries), enabled by configuration, never in production.
class OffsetClock final : public Clock {
 public:
  Time now() const override {
    return std::chrono::system_clock::now() + std::chrono::microseconds(offset_micros_.load());
  }
  void advance(std::chrono::microseconds d) {
    if (d.count() > 0) offset_micros_.fetch_add(d.count());
  }

 private:
  std::atomic<int64_t> offset_micros_{0};
};

// Unix seconds and milliseconds, for tokens and storage.
int64_t unix_seconds(Time t);
int64_t unix_millis(Time t);
Time from_unix_millis(int64_t ms);

// FHIR instant text with millisecond precision in UTC, e.g. "2026-11-21T10:15:30.123Z".
std::string format_instant(Time t);

}  // namespace hb
