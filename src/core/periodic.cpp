#include "core/periodic.h"

namespace hb {

void Periodic::start(std::function<void()> pass, std::chrono::milliseconds every) {
  std::lock_guard life(life_mu_);
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this, pass = std::move(pass), every] {
    for (;;) {
      pass();
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, every, [&] { return stopping_; })) return;
    }
  });
}

void Periodic::stop() {
  std::lock_guard life(life_mu_);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace hb
