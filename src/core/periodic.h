// A background thread that runs one function now and then every `every` until stopped: the
// shape of the server's tailers and sweepers (services/access_log.h, services/housekeeping.h).
// The period is wall time between passes, not business time: what a pass decides (what expired,
// what is due) comes from the injected Clock it reads.
//
// Thread-safety: start() and stop() from any thread (serialised); stop() waits for a pass in
// progress and is called by the destructor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace hb {

class Periodic {
 public:
  Periodic() = default;
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;
  ~Periodic() { stop(); }

  // Runs `pass` at once and then every `every`; a second start() while running does nothing.
  void start(std::function<void()> pass, std::chrono::milliseconds every);
  void stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::mutex life_mu_;     // serialises start() and stop()
  std::thread thread_;     // guarded by life_mu_
};

}  // namespace hb
