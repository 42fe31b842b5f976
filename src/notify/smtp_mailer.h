// SmtpMailer: sends e-mail notifications through an SMTP server (libcurl, smtp:// or smtps://).
//
// Each message is a complete RFC 5322 message: Date (from the injected clock), From, To,
// Message-ID (<uuid@the sender's domain>), Subject (RFC 2047 encoded when not ASCII), MIME 1.0,
// text/plain; charset=UTF-8 (7bit when the text is short-lined ASCII, else base64), CRLF line
// endings. libcurl does the SMTP dot-stuffing.
//
// TLS: smtps:// is TLS from the start; smtp:// upgrades with STARTTLS when the server offers it,
// and insists on it when a user is set, so a password never crosses the network in clear.
// A 550-553 reply (no such mailbox, address refused) is kInvalid (not retried); every other
// failure is temporary (kUnavailable).
//
// Thread-safety: send() is safe from any thread; each send uses its own connection.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "notify/message.h"

namespace hb::notify {

struct SmtpOptions {
  std::string url;   // smtp://host[:port] or smtps://host[:port]
  std::string from;  // the sender's address (a bare address, e.g. no-reply@healthbook.example)
  std::string user;  // "" = no authentication
  std::string password;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};  // the whole session
};

class SmtpMailer final : public Transport {
 public:
  // kInvalid naming what is wrong with the options. The clock dates the messages.
  static Result<std::unique_ptr<SmtpMailer>> create(SmtpOptions options, const Clock& clock);

  Status send(const Outgoing& m) override;

  // The message text sent for `m`, with `message_id` (without angle brackets).
  std::string render(const Outgoing& m, const std::string& message_id) const;

 private:
  SmtpMailer(SmtpOptions options, const Clock& clock)
      : options_(std::move(options)), clock_(clock) {}

  const SmtpOptions options_;
  const Clock& clock_;
};

// RFC 5322 date-time in UTC, e.g. "Sat, 15 Jan 2027 08:00:00 +0000".
std::string rfc5322_date(Time t);

}  // namespace hb::notify
