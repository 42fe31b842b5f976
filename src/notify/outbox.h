// The outbox: notifications are queued in the store, in the same write as what they announce, and
// a dispatcher sends them through a Transport, retrying with backoff.
//
// Queueing: enqueue() runs inside the caller's store write closure, so a document and its
// notification commit together or not at all. It validates the message (E.164 for SMS, address
// syntax for e-mail), seals the recipient and the text with AES-256-GCM (the text holds a link
// that is a bearer secret), stores a keyed hash of the recipient beside (for rate limits), and
// wakes the dispatcher. Once a message is sent or dead the store forgets its text and recipient.
//
// Sending: a pass claims the messages that are due in one write (status sending, attempts + 1,
// next_attempt = now + claim) and hands each to its channel's lane. A lane sends through its
// transport on as many threads as the transport's DeliveryPolicy allows at once (the SMS
// gateway's sms.concurrency, 8 by default), and records each outcome as soon as it is known: sent;
// failed, due again after an exponential backoff with jitter (first_retry, doubling, at most
// max_retry); or dead, when the transport refuses the message for good (kInvalid), or when it
// still fails at its deadline (the policy's give_up_after its queueing, 24 hours unless
// configured). A deadline rather than a number of attempts, so that a gateway outage of an hour
// loses nothing. In parallel, so that a gateway that takes 0.2 s an answer still gets a batch of
// sixty out within the 5 s, and a request that hangs until its timeout holds up only its thread.
//
// The dispatcher thread does not wait for a pass's sends before the next pass, so what is queued
// while a send hangs goes out through the lane's other threads. Each channel is claimed on its
// own, and a lane holds at most three rounds of claimed messages (three times its concurrency,
// waiting or in hand): so a mail server that hangs does not keep the SMS waiting, and a claimed
// message waits at most two of its transport's timeouts (SMTP 30 s) before its send starts, well
// inside its claim. One that still waited past its claim is not sent but left to be claimed again,
// so that it is not sent twice at once.
//
// Delivery is at least once. A claim is durable before its send starts, so a crash between send
// and mark leaves the message "sending"; once the claim lapses the next pass sends it again. A
// recipient may therefore, rarely, get the same notification twice; never none.
//
// Nothing personal is logged: logs name the message id, status and attempts only, and transport
// errors are stored with the recipient scrubbed out.
//
// Thread-safety: every public member is safe from any thread. enqueue() may run on the store's
// writer thread; it only takes a short lock to wake the dispatcher. Passes claim one at a time
// (whether from the dispatcher thread or dispatch_due()); sends run on the lanes' threads, at
// most a transport's concurrency at once. The store, transports and clock must outlive the
// Outbox; a transport's send() must not call stop().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
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

// How long to keep trying and how many to send at once come from each transport (DeliveryPolicy),
// beside its configuration.
struct OutboxOptions {
  std::chrono::milliseconds first_retry{1000};                   // after the first failure
  std::chrono::milliseconds max_retry{std::chrono::minutes(5)};  // the cap of the doubling
  double jitter = 0.2;  // a retry comes up to this fraction of its delay earlier (0 = exact)
  // How long a claim holds: longer than three of any transport's timeouts (see above).
  std::chrono::milliseconds claim{std::chrono::minutes(2)};
  // The dispatcher looks at the store at least this often, for messages other servers queued.
  std::chrono::milliseconds poll{std::chrono::seconds(30)};
  int batch = 32;  // messages claimed per pass and channel, at most
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

// What dispatch_due() did.
struct DispatchReport {
  int claimed = 0;
  int sent = 0;
  int retried = 0;  // failed, due again later
  int dead = 0;
  // Claimed but not sent: the outbox is stopping, or the message waited for a thread past its
  // claim (it is claimed again).
  int released = 0;
};

class Outbox {
 public:
  // kInvalid on keys of the wrong size, options out of range, or a transport's policy out of
  // range (give_up_after not positive, concurrency not 1 to 64).
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
  // Stops the dispatcher and the lanes: the sends in hand finish and are recorded, messages
  // claimed but not yet sent are released (queued again); returns once every thread has ended.
  // Idempotent.
  void stop();
  // Wakes the dispatcher, e.g. after another process queued something.
  void wake();

  // Passes for the caller: claims what is due at clock.now(), and returns once the lanes have sent
  // it and recorded the outcomes (in as many passes as the lanes' capacity needs). kUnavailable
  // after stop() (until start()).
  Result<DispatchReport> dispatch_due();

  // The keyed hash stored beside a recipient (for rate limits: Reader::outbox_count_to).
  std::string recipient_index(Channel c, std::string_view recipient) const;

  // For operators, newest first; recipients and texts are left out (sealed, index and body fields
  // empty).
  Result<std::vector<store::OutboxMessage>> list(const std::string& status, int64_t before_id,
                                                 int limit);

 private:
  struct Pass;
  // A claimed message on its way to its transport, and the pass that claimed it.
  struct Claimed {
    store::OutboxMessage message;  // as claimed: next_attempt is when the claim lapses
    std::shared_ptr<Pass> pass;
  };
  // One channel: its transport, and the threads that send through it.
  struct Lane {
    Lane(const char* channel, Transport& t, DeliveryPolicy p, const char* thread_name);
    const char* const channel;  // as stored: "sms" | "email"
    Transport& transport;
    const DeliveryPolicy policy;  // read once: a transport's policy is its configuration
    const int capacity;           // claimed messages it holds at most: three rounds
    const char* const thread_name;
    int held = 0;  // guarded by mu_: claimed, waiting or in hand
    // Guarded by mu_: a pass left due messages for want of room. The lane is claimed for again
    // once a round of room (its concurrency) is free, not a message at a time.
    bool behind = false;
    std::deque<Claimed> waiting;       // guarded by mu_: claimed, not yet taken by a thread
    std::condition_variable work;      // with mu_: a message is waiting, or the outbox stops
    std::vector<std::thread> threads;  // guarded by mu_; started with the lane's first message
  };

  Outbox(store::Store& store, Transport& sms, Transport& email, crypto::Aead256 seal,
         std::string index_key, const Clock& clock, OutboxOptions options);

  // Binds a sealed field ("recipient" or "body") to its channel and patient, so that neither opens
  // in another row or as the other field.
  std::string aad(std::string_view field, const std::string& channel,
                  const std::string& patient_id) const;
  Lane& lane(const std::string& channel);
  // When `m` is given up if it still fails: its transport's give_up_after from its queueing.
  Time deadline(const store::OutboxMessage& m) const;
  // Claims what is due, each channel as much as its lane has room for, and hands it to the lanes;
  // returns without waiting for the sends. Lapsed claims past their deadline become dead here.
  Result<std::shared_ptr<Pass>> claim_due();
  // A lane thread: takes the lane's messages one at a time until the outbox stops.
  void work(Lane& lane);
  // Sends one claimed message through its lane's transport and returns its new state.
  store::OutboxMark attempt(Lane& lane, const store::OutboxMessage& m);
  // Records that a claimed message ended as `status` (sent, failed, dead, released); `recorded`
  // is how writing it went. Called with mu_ held.
  void finish(Pass& pass, const std::string& status, const Status& recorded, int64_t id);
  // Queues claimed messages again, unsent (the outbox is stopping).
  void release(std::vector<Claimed> claimed);
  // The earliest due time among the channels whose lanes are not behind (a lane that is wakes the
  // dispatcher when it has room).
  Result<std::optional<Time>> next_due();
  void run();

  store::Store& store_;
  const crypto::Aead256 seal_;
  const std::string index_key_;
  const Clock& clock_;
  const OutboxOptions options_;

  std::mutex pass_mu_;  // held while a pass claims: one at a time

  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // jitter; guarded by rng_mu_

  std::mutex mu_;
  std::condition_variable cv_;      // with mu_: the dispatcher's wake, room in a lane, or stop
  std::condition_variable passes_;  // with mu_: a pass's last outcome was recorded
  bool woken_ = false;              // guarded by mu_
  bool retimed_ = false;     // guarded by mu_: a retry falls before the dispatcher's next look
  bool room_freed_ = false;  // guarded by mu_: a lane that was behind has room again
  Time next_look_{};         // guarded by mu_: when the dispatcher looks next
  bool stopping_ = false;    // guarded by mu_; also read by passes and lanes, under mu_
  Lane sms_lane_;
  Lane email_lane_;
  std::mutex life_mu_;  // serialises start() and stop()
  std::thread thread_;  // guarded by life_mu_
};

}  // namespace hb::notify
