// LocalSink: a transport for development and demos that delivers nowhere. Each message becomes
// one JSON line appended to a file in the data folder ({"id","time","channel","to","subject",
// "text"}), and the last `keep` messages are held in memory for an operator's view.
//
// The file holds recipients in clear: it is for development data, never for real patients.
//
// Thread-safety: send() and recent() are safe from any thread; guarded by mu_.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "notify/message.h"

namespace hb::notify {

struct LocalSinkOptions {
  std::string path;  // the JSON-lines file, created (mode 0600) if missing; "" = memory only
  std::size_t keep = 100;
  DeliveryPolicy policy;  // as the real transport of the channel would have it
};

struct SinkEntry {
  Time time{};
  Outgoing message;
};

class LocalSink final : public Transport {
 public:
  static Result<std::unique_ptr<LocalSink>> create(LocalSinkOptions options, const Clock& clock);

  // kUnavailable when the file cannot be written (the message is retried).
  Status send(const Outgoing& m) override;
  DeliveryPolicy policy() const override { return options_.policy; }

  // The messages kept in memory, oldest first.
  std::vector<SinkEntry> recent() const;

 private:
  LocalSink(LocalSinkOptions options, const Clock& clock)
      : options_(std::move(options)), clock_(clock) {}

  const LocalSinkOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::deque<SinkEntry> recent_;  // guarded by mu_
};

}  // namespace hb::notify
