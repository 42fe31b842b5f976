// The outbox: notifications are queued in the store, in the same write as what they announce, and
// a dispatcher sends them through a Transport, retrying with backoff.
//
// Queueing: enqueue() runs inside the caller's store write closure, so a document and its
// notification commit together or not at all. It validates the message (E.164 for SMS, address
// syntax for e-mail), seals the recipient and the text with AES-256-GCM (the text holds a link
// that is a bearer secret), stores a keyed hash of the recipient beside (for rate limits), and
// wakes the dispatcher. Once a message is sent or dead the store forgets its text and recipient.
//
// Sending: one pass (dispatch_due) claims the messages that are due (status sending, attempts + 1,
// next_attempt = now + claim), sends each, and records the outcome: sent; failed, due again after
// an exponential backoff with jitter (first_retry, doubling, at most max_retry); or dead, when the
// transport refuses the message for good (kInvalid), or when it still fails at its deadline (its
// transport's DeliveryPolicy: give_up_after its queueing, 24 hours unless configured). A deadline
// rather than a number of attempts, so that a gateway outage of an hour loses nothing.
//
// Delivery is at least once. A claim is durable before its send starts, so a crash between send
// and mark leaves the message "sending"; once the claim lapses the next pass sends it again. A
// recipient may therefore, rarely, get the same notification twice; never none. The claim must
// outlast a transport's timeout, or a slow send could be claimed twice.
//
// Nothing personal is logged: logs name the message id, status and attempts only, and transport
// errors are stored with the recipient scrubbed out.
//
// Thread-safety: every public member is safe from any thread. enqueue() may run on the store's
// writer thread; it only takes a short lock to wake the dispatcher. Passes are serialised (one at
// a time, whether from the dispatcher thread or dispatch_due()). The store, transports and clock
// must outlive the Outbox.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/aead.h"
#include "notify/message.h"
#include "store/store.h"

namespace hb::notify {

// The keys that protect recipients and texts at rest.
struct OutboxKeys {
  std::string seal_key;   // 32 bytes, AES-256-GCM, for recipients and texts (each its own AAD)
  std::string index_key;  // at least 32 bytes, HMAC-SHA256 for the recipient index

  // Both derived from the 32-byte master secret with HKDF-SHA256 under labels of their own, so
  // neither weakens the master key's other uses.
  static Result<OutboxKeys> derive(std::string_view master_secret);
};

// How long to keep trying comes from each transport (DeliveryPolicy), beside its configuration.
struct OutboxOptions {
  std::chrono::milliseconds first_retry{1000};                   // after the first failure
  std::chrono::milliseconds max_retry{std::chrono::minutes(5)};  // the cap of the doubling
  double jitter = 0.2;  // a retry comes up to this fraction of its delay earlier (0 = exact)
  // How long a claim holds: longer than any transport's timeout.
  std::chrono::milliseconds claim{std::chrono::minutes(2)};
  // The dispatcher looks at the store at least this often, for messages other servers queued.
  std::chrono::milliseconds poll{std::chrono::seconds(30)};
  int batch = 32;  // messages claimed per pass
  // After a wake, the dispatcher waits this long before its pass, so that the messages of many
  // issuances share one claim and one commit instead of a pass each (0 = at once). Far inside
  // the 5 s in which a document's SMS must leave.
  std::chrono::milliseconds gather{20};
};

// The delay before the next try after `attempts` failed attempts (1, 2, ...): first_retry doubled
// attempts - 1 times, at most max_retry, then less `jitter * u` of itself (u in [0, 1)).
std::chrono::milliseconds backoff(int attempts, const OutboxOptions& o, double u);

struct Enqueued {
  int64_t id = 0;
  bool duplicate = false;  // the dedupe key was queued before; id is that message's
};

// What one pass did.
struct DispatchReport {
  int claimed = 0;
  int sent = 0;
  int retried = 0;  // failed, due again later
  int dead = 0;
  int released = 0;  // claimed but not sent because the outbox is stopping
};

class Outbox {
 public:
  // kInvalid on keys of the wrong size or options out of range.
  static Result<std::unique_ptr<Outbox>> create(store::Store& store, Transport& sms,
                                                Transport& email, const OutboxKeys& keys,
                                                const Clock& clock, OutboxOptions options = {});
  ~Outbox();  // stop()
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Queues `m` through `w`, the caller's write closure's Writer. kInvalid (every problem listed,
  // the recipient not echoed) for a bad message. A message whose dedupe key was queued before is
  // not queued again: ok, with duplicate = true. Errors from the store pass through; the caller's
  // closure should fail with them so that nothing it wrote is kept without its notification.
  Result<Enqueued> enqueue(store::Writer& w, const Message& m);

  // Starts the dispatcher thread (once). It wakes on enqueue(), at the next due time, and at
  // least every `poll`.
  void start();
  // Stops the dispatcher: the send in hand finishes and is recorded, messages claimed but not yet
  // sent are released (queued again); returns once the thread has ended. Idempotent.
  void stop();
  // Wakes the dispatcher, e.g. after another process queued something.
  void wake();

  // One pass, on the calling thread: claims what is due at clock.now(), sends, records.
  // kUnavailable after stop() (until start()).
  Result<DispatchReport> dispatch_due();

  // The keyed hash stored beside a recipient (for rate limits: Reader::outbox_count_to).
  std::string recipient_index(Channel c, std::string_view recipient) const;

  // For operators, newest first; recipients and texts are left out (sealed, index and body fields
  // empty).
  Result<std::vector<store::OutboxMessage>> list(const std::string& status, int64_t before_id,
                                                 int limit);

 private:
  Outbox(store::Store& store, Transport& sms, Transport& email, crypto::Aead256 seal,
         std::string index_key, const Clock& clock, OutboxOptions options);

  // Binds a sealed field ("recipient" or "body") to its channel and patient, so that neither opens
  // in another row or as the other field.
  std::string aad(std::string_view field, const std::string& channel,
                  const std::string& patient_id) const;
  // Sends one claimed message and returns its new state.
  store::OutboxMark attempt(const store::OutboxMessage& m);
  // When `m` is given up if it still fails: its transport's give_up_after from its queueing.
  Time deadline(const store::OutboxMessage& m) const;
  Result<std::optional<Time>> next_due();
  void run();

  store::Store& store_;
  Transport& sms_;
  Transport& email_;
  const crypto::Aead256 seal_;
  const std::string index_key_;
  const Clock& clock_;
  const OutboxOptions options_;
  const DeliveryPolicy sms_policy_;  // read once: a transport's policy is its configuration
  const DeliveryPolicy email_policy_;

  std::mutex pass_mu_;   // held for a whole pass: one at a time
  std::mt19937_64 rng_;  // jitter; guarded by pass_mu_

  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_; also read by passes, under mu_
  std::mutex life_mu_;     // serialises start() and stop()
  std::thread thread_;     // guarded by life_mu_
};

}  // namespace hb::notify
