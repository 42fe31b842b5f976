// What a notification is, and the one interface every way of sending one implements.
//
// Notifications never carry health data: a short fixed text ("You have a new document") and a
// link, nothing about what the document says. The recipient (a phone number or an e-mail address)
// is personal data: it is sealed in the store (outbox.h) and never logged.
//
// Thread-safety: the value types are plain values. A Transport's send() is called from up to its
// policy's `concurrency` threads at once; implementations here are safe from any number.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hb::notify {

enum class Channel { kSms, kEmail };
const char* channel_name(Channel c);  // "sms" | "email", as stored

// A notification to queue (Outbox::enqueue).
struct Message {
  Channel channel = Channel::kSms;
  std::string recipient;   // SMS: E.164 ("+" then 8 to 15 digits); e-mail: an address
  std::string subject;     // e-mail only; must be empty for SMS
  std::string text;        // the body: UTF-8, a fixed text and a link
  std::string patient_id;  // whom it is for ("" if not a patient): crypto-shredding, sharding
  std::string dedupe_key;  // optional: a second message with the same key is not queued
};

// A notification as a Transport sends it: the recipient has been unsealed.
struct Outgoing {
  int64_t id = 0;  // the outbox id: for logs and as an idempotency hint to gateways
  Channel channel = Channel::kSms;
  std::string to;
  std::string subject;
  std::string text;
};

// How the outbox treats the messages of one transport. Each transport's configuration ([sms],
// [email]) sets it, beside the gateway it applies to.
struct DeliveryPolicy {
  // A message failing for a temporary reason is tried again until this long after it was queued
  // (the last try at that deadline), then given up (dead). Long enough that an outage of the
  // national SMS gateway for hours loses no certificate link.
  std::chrono::milliseconds give_up_after{std::chrono::hours(24)};
  // How many sends the outbox has in flight through the transport at once (1 to 64): while one
  // waits for a slow or hung gateway, the others go on.
  int concurrency = 1;
};

// Sends one notification. ok = accepted by the gateway or mail server. kInvalid = refused for
// good (the message will not be tried again); any other error is temporary and retried.
// Error messages must not contain the recipient or the text: they are stored and logged.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Status send(const Outgoing& m) = 0;
  // Read once, when the outbox is made.
  virtual DeliveryPolicy policy() const { return {}; }
};

// "+" then 8 to 15 digits, the first not 0 (ITU-T E.164).
bool is_e164(std::string_view phone);
// A plain addr-spec: dot-atom local part (at most 64 bytes) "@" a domain of at least two
// letter-digit-hyphen labels; at most 254 bytes. No quoted local parts, comments or IP literals.
bool is_email_address(std::string_view address);
bool is_valid_utf8(std::string_view s);

// Checks a message before it is queued; kInvalid listing every problem.
Status validate(const Message& m);

}  // namespace hb::notify
