// Builds the SMS and e-mail transports that the configuration ([sms], [email]) asks for.
//
// Thread-safety: the transports returned are safe from any thread (see each one's header).
#pragma once

#include <memory>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "notify/local_sink.h"
#include "notify/message.h"

namespace hb::notify {

struct Transports {
  std::unique_ptr<Transport> sms;
  std::unique_ptr<Transport> email;
  // The sinks among them (null when that channel goes out for real), for an operator's view.
  LocalSink* sms_sink = nullptr;
  LocalSink* email_sink = nullptr;
};

// Sinks write to <data_dir>/notify-sms.jsonl and <data_dir>/notify-email.jsonl.
// kInvalid naming the key when a setting is unusable.
Result<Transports> make_transports(const Config& config, const Clock& clock);

}  // namespace hb::notify
