#include "notify/outbox.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <future>

#include "core/text.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace hb::notify {
namespace {

using std::chrono::milliseconds;

constexpr size_t kMaxError = 300;
constexpr int kMaxConcurrency = 64;
// A lane holds at most this many rounds of its concurrency in claimed messages (outbox.h).
constexpr int kRoundsHeld = 3;

// Transport errors are stored and logged; a gateway that echoes the number must not put it there.
std::string scrub(std::string error, const std::string& recipient) {
  if (!recipient.empty()) {
    for (size_t at = error.find(recipient); at != std::string::npos;
         at = error.find(recipient, at)) {
      error.replace(at, recipient.size(), "<recipient>");
    }
  }
  if (error.size() > kMaxError) error.resize(kMaxError);
  return error;
}

}  // namespace

// What one pass claimed; the lanes fill in the outcomes.
struct Outbox::Pass {
  DispatchReport report;  // guarded by Outbox::mu_
  int outstanding = 0;    // guarded by Outbox::mu_: claimed messages whose outcome is not in yet
  Status first_error;     // guarded by Outbox::mu_: the first outcome that could not be recorded
  bool full = false;      // it claimed as many as it could take: more may be due
};

Result<OutboxKeys> OutboxKeys::derive(std::string_view master_secret) {
  if (master_secret.size() != 32) return invalid("the master secret must be 32 bytes");
  OutboxKeys k;
  k.seal_key = crypto::hkdf_sha256(master_secret, "", "healthbook notify recipient seal v1", 32);
  k.index_key = crypto::hkdf_sha256(master_secret, "", "healthbook notify recipient index v1", 32);
  return k;
}

milliseconds backoff(int attempts, const OutboxOptions& o, double u) {
  const int64_t cap = o.max_retry.count();
  int64_t d = o.first_retry.count();
  for (int i = 1; i < attempts && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  u = std::clamp(u, 0.0, 1.0);
  const double cut = std::clamp(o.jitter, 0.0, 1.0) * u * static_cast<double>(d);
  return milliseconds(d - static_cast<int64_t>(std::floor(cut)));
}

Result<std::unique_ptr<Outbox>> Outbox::create(store::Store& store, Transport& sms,
                                               Transport& email, const OutboxKeys& keys,
                                               const Clock& clock, OutboxOptions options) {
  HB_ASSIGN_OR_RETURN(crypto::Aead256 seal, crypto::Aead256::create(keys.seal_key));
  if (keys.index_key.size() < 32) return invalid("the recipient index key must be 32 bytes");
  for (const Transport* t : {&sms, &email}) {
    const DeliveryPolicy p = t->policy();
    if (p.give_up_after.count() <= 0 || p.concurrency < 1 || p.concurrency > kMaxConcurrency) {
      return invalid("a transport's delivery policy is out of range");
    }
  }
  if (options.batch < 1 || options.first_retry.count() <= 0 ||
      options.max_retry < options.first_retry || options.claim.count() <= 0 ||
      options.poll.count() <= 0 || options.gather.count() < 0 ||
      options.gather > std::chrono::seconds(1) ||
      !(options.jitter >= 0.0 && options.jitter <= 1.0)) {
    return invalid("outbox options out of range");
  }
  return std::unique_ptr<Outbox>(
      new Outbox(store, sms, email, std::move(seal), keys.index_key, clock, options));
}

Outbox::Outbox(store::Store& store, Transport& sms, Transport& email, crypto::Aead256 seal,
               std::string index_key, const Clock& clock, OutboxOptions options)
    : store_(store),
      seal_(std::move(seal)),
      index_key_(std::move(index_key)),
      clock_(clock),
      options_(options),
      sms_lane_("sms", sms, sms.policy(), "hb-notify-sms"),
      email_lane_("email", email, email.policy(), "hb-notify-mail") {
  std::string seed = crypto::random_bytes(8);
  uint64_t s = 0;
  std::memcpy(&s, seed.data(), sizeof s);
  rng_.seed(s);
}

Outbox::~Outbox() { stop(); }

Outbox::Lane::Lane(const char* channel, Transport& t, DeliveryPolicy p, const char* thread_name)
    : channel(channel),
      transport(t),
      policy(p),
      capacity(kRoundsHeld * p.concurrency),
      thread_name(thread_name) {}

std::string Outbox::aad(std::string_view field, const std::string& channel,
                        const std::string& patient_id) const {
  std::string a = "healthbook outbox ";
  a += field;
  a.push_back('\0');
  a += channel;
  a.push_back('\0');
  a += patient_id;
  return a;
}

std::string Outbox::recipient_index(Channel c, std::string_view recipient) const {
  // Addresses compare without case (in practice, if not by RFC 5321); numbers are digits.
  std::string data = channel_name(c);
  data.push_back('\0');
  data += c == Channel::kEmail ? ascii_lower(recipient) : std::string(recipient);
  return crypto::hex_encode(crypto::hmac_sha256(index_key_, data));
}

Result<Enqueued> Outbox::enqueue(store::Writer& w, const Message& m) {
  HB_RETURN_IF_ERROR(validate(m));
  const Time now = clock_.now();
  store::OutboxMessage row;
  row.channel = channel_name(m.channel);
  row.patient_id = m.patient_id;
  row.recipient_sealed = seal_.seal(m.recipient, aad("recipient", row.channel, m.patient_id));
  row.recipient_index = recipient_index(m.channel, m.recipient);
  row.subject = m.subject;
  // The text holds the link, a bearer secret (a certificate's /c/<token>, a sign-in code).
  row.body_sealed = seal_.seal(m.text, aad("body", row.channel, m.patient_id));
  row.next_attempt = now;
  row.created = now;
  row.dedupe_key = m.dedupe_key;
  Result<int64_t> id = w.outbox_enqueue(row);
  if (!id.is_ok()) {
    if (id.error().code() != Code::kConflict || m.dedupe_key.empty()) return id.error();
    HB_ASSIGN_OR_RETURN(auto earlier, w.outbox_by_dedupe(m.dedupe_key));
    if (!earlier) return id.error();
    return Enqueued{earlier->id, true};
  }
  // The dispatcher flushes the store before it looks, so it sees this write once it commits (or
  // nothing, if the caller's closure fails).
  wake();
  return Enqueued{*id, false};
}

Outbox::Lane& Outbox::lane(const std::string& channel) {
  return channel == "email" ? email_lane_ : sms_lane_;
}

Time Outbox::deadline(const store::OutboxMessage& m) const {
  const Lane& l = m.channel == "email" ? email_lane_ : sms_lane_;
  return m.created + l.policy.give_up_after;
}

void Outbox::wake() {
  {
    std::lock_guard<std::mutex> l(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

store::OutboxMark Outbox::attempt(Lane& lane, const store::OutboxMessage& m) {
  store::OutboxMark mark;
  mark.attempts = m.attempts;
  Status result;
  Result<std::string> to =
      seal_.open(m.recipient_sealed, aad("recipient", m.channel, m.patient_id));
  // Messages queued before the text was sealed (schema step 17) have it in `body`.
  Result<std::string> text = m.body_sealed.empty()
                                 ? Result<std::string>(m.body)
                                 : seal_.open(m.body_sealed, aad("body", m.channel, m.patient_id));
  std::string recipient;
  if (!to.is_ok()) {
    result = invalid("cannot open the sealed recipient (wrong key?)");
  } else if (!text.is_ok()) {
    result = invalid("cannot open the sealed text (wrong key?)");
  } else {
    recipient = std::move(*to);
    Outgoing out;
    out.id = m.id;
    out.channel = m.channel == "email" ? Channel::kEmail : Channel::kSms;
    out.to = recipient;
    out.subject = m.subject;
    out.text = std::move(*text);
    try {
      result = lane.transport.send(out);
    } catch (const std::exception& e) {
      result = internal(std::string("the transport threw: ") + e.what());
    } catch (...) {
      result = internal("the transport threw");
    }
  }
  const Time now = clock_.now();
  if (result.is_ok()) {
    mark.status = "sent";
    mark.next_attempt = now;
    mark.sent_at = now;
    return mark;
  }
  mark.last_error =
      scrub(std::string(code_name(result.code())) + ": " + result.message(), recipient);
  const Time give_up = deadline(m);
  if (result.code() == Code::kInvalid || now >= give_up) {
    mark.status = "dead";
    mark.next_attempt = now;
    return mark;
  }
  double u;
  {
    std::lock_guard<std::mutex> l(rng_mu_);
    u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }
  mark.status = "failed";
  // The last try falls on the deadline itself, not a backoff short of it.
  mark.next_attempt = std::min(now + backoff(m.attempts, options_, u), give_up);
  return mark;
}

Result<std::shared_ptr<Outbox::Pass>> Outbox::claim_due() {
  std::lock_guard<std::mutex> one_at_a_time(pass_mu_);
  Lane* const lanes[] = {&sms_lane_, &email_lane_};
  int room[2];
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return Status(Code::kUnavailable, "the outbox is stopping");
    for (int i = 0; i < 2; ++i) {
      const Lane& lane = *lanes[i];
      room[i] = lane.behind ? 0 : std::min(options_.batch, lane.capacity - lane.held);
    }
  }
  bool left[2] = {false, false};  // as many due as there was room: maybe more
  auto pass = std::make_shared<Pass>();
  const Time now = clock_.now();
  std::vector<store::OutboxMessage> claimed;
  std::vector<store::OutboxMessage> expired;  // lapsed claims past their deadline
  // May run twice (write_rerunnable): it starts afresh and keeps nothing but what it found.
  Status s = store_.write_rerunnable_sync([&](store::Writer& w) -> Status {
    claimed.clear();
    expired.clear();
    pass->full = false;
    for (int i = 0; i < 2; ++i) {
      if (room[i] <= 0) continue;  // behind: its messages wait in the store for a round of room
      HB_ASSIGN_OR_RETURN(auto due, w.outbox_due(now, lanes[i]->channel, room[i]));
      left[i] = static_cast<int>(due.size()) >= room[i];
      pass->full = pass->full || left[i];
      for (store::OutboxMessage& m : due) {
        store::OutboxMark mark;
        // A message still "sending" when it is due had its claim lapse: the process died mid-send,
        // and past the deadline there is no next try to make up for that one.
        const bool give_up = m.status == "sending" && now >= deadline(m);
        if (give_up) {
          mark = {
              "dead", m.attempts, now, "gave up: the outcome of the last attempt is unknown", {}};
        } else {
          mark = {"sending", m.attempts + 1, now + options_.claim, m.last_error, {}};
        }
        Status c = w.outbox_mark(m.id, m.attempts, mark);
        if (c.code() == Code::kConflict) continue;  // another dispatcher took it
        HB_RETURN_IF_ERROR(c);
        m.attempts = mark.attempts;
        m.status = mark.status;
        m.next_attempt = mark.next_attempt;
        (give_up ? expired : claimed).push_back(std::move(m));
      }
    }
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  pass->report.claimed = static_cast<int>(claimed.size());
  pass->report.dead = static_cast<int>(expired.size());
  for (const auto& m : expired) {
    spdlog::warn("notify: message {} dead after {} attempts", m.id, m.attempts);
  }
  std::vector<Claimed> unsent;
  {
    std::lock_guard<std::mutex> l(mu_);
    pass->outstanding = static_cast<int>(claimed.size());
    for (store::OutboxMessage& m : claimed) {
      Claimed c{std::move(m), pass};
      if (stopping_) {  // stop() came while this pass claimed; its lanes take nothing more
        unsent.push_back(std::move(c));
        continue;
      }
      Lane& to = lane(c.message.channel);
      to.waiting.push_back(std::move(c));
      ++to.held;
      for (int i = static_cast<int>(to.threads.size()); i < to.policy.concurrency; ++i) {
        to.threads.emplace_back([this, &to] {
          pthread_setname_np(pthread_self(), to.thread_name);
          work(to);
        });
      }
      to.work.notify_one();
    }
    // A lane that left due messages and has less than a round of room is behind: it is claimed
    // for again when its threads have freed a round (work()), not a message at a time.
    for (int i = 0; i < 2; ++i) {
      Lane& lane = *lanes[i];
      if (left[i] && lane.held > lane.capacity - lane.policy.concurrency) lane.behind = true;
    }
  }
  release(std::move(unsent));
  return pass;
}

void Outbox::work(Lane& lane) {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    lane.work.wait(l, [&] { return stopping_ || !lane.waiting.empty(); });
    if (stopping_) return;  // stop() releases what still waits
    Claimed c = std::move(lane.waiting.front());
    lane.waiting.pop_front();
    l.unlock();
    const store::OutboxMessage& m = c.message;
    store::OutboxMark mark;
    std::string outcome = "released";
    Status recorded;
    if (clock_.now() >= m.next_attempt) {
      // It waited for a thread past its claim (every one held by a slow send), so a pass may have
      // claimed it again: sent here, it could go twice at once. The next pass takes it afresh.
      spdlog::warn("notify: message {} waited past its claim; left for the next pass", m.id);
    } else {
      mark = attempt(lane, m);
      outcome = mark.status;
      if (mark.status == "sent") {
        // One line a pass at info (finish): a line a message was ~1,500 lines a second under load.
        spdlog::debug("notify: message {} sent ({} attempts)", m.id, m.attempts);
      } else {
        spdlog::warn("notify: message {} {} after attempt {}: {}", m.id, mark.status, m.attempts,
                     mark.last_error);
      }
      // Written as soon as it is known (group commit merges the lanes' writes), so a crash re-sends
      // as little as possible.
      const int from = m.attempts;
      const int64_t id = m.id;
      recorded = store_
                     .write_rerunnable([id, from, mark](store::Writer& w) {
                       return w.outbox_mark(id, from, mark);
                     })
                     .get();
    }
    l.lock();
    if (--lane.held <= lane.capacity - lane.policy.concurrency && lane.behind) {
      lane.behind = false;
      room_freed_ = true;  // a round of room: the dispatcher claims this channel again
      cv_.notify_one();
    }
    if (outcome == "failed" && mark.next_attempt < next_look_) {
      retimed_ = true;  // the dispatcher would sleep past this retry
      cv_.notify_one();
    }
    finish(*c.pass, outcome, recorded, m.id);
  }
}

void Outbox::finish(Pass& pass, const std::string& status, const Status& recorded, int64_t id) {
  if (status == "sent") {
    ++pass.report.sent;
  } else if (status == "dead") {
    ++pass.report.dead;
  } else if (status == "failed") {
    ++pass.report.retried;
  } else {
    ++pass.report.released;
  }
  if (!recorded.is_ok()) {
    // kConflict: the claim lapsed and another pass took the message over; its outcome is that
    // pass's.
    spdlog::error("notify: recording the outcome of message {} failed: {}", id,
                  recorded.to_string());
    if (pass.first_error.is_ok() && recorded.code() != Code::kConflict) pass.first_error = recorded;
  }
  if (--pass.outstanding > 0) return;
  if (pass.report.sent > 0) spdlog::info("notify: {} sent in this pass", pass.report.sent);
  passes_.notify_all();
}

void Outbox::release(std::vector<Claimed> claimed) {
  std::vector<std::future<Status>> marks;
  for (const Claimed& c : claimed) {
    const store::OutboxMessage& m = c.message;
    const store::OutboxMark mark{"queued", m.attempts - 1, clock_.now(), m.last_error, {}};
    const int from = m.attempts;
    const int64_t id = m.id;
    marks.push_back(store_.write_rerunnable(
        [id, from, mark](store::Writer& w) { return w.outbox_mark(id, from, mark); }));
  }
  for (size_t i = 0; i < claimed.size(); ++i) {
    Status recorded = marks[i].get();
    std::lock_guard<std::mutex> l(mu_);
    finish(*claimed[i].pass, "released", recorded, claimed[i].message.id);
  }
}

Result<DispatchReport> Outbox::dispatch_due() {
  DispatchReport total;
  // A pass claims at most what the lanes hold; the next one what they left.
  for (bool first = true;; first = false) {
    Result<std::shared_ptr<Pass>> claimed = claim_due();
    if (!claimed.is_ok()) {
      // Stopped after a pass: that pass's outcomes are the answer.
      if (!first && claimed.error().code() == Code::kUnavailable) return total;
      return claimed.error();
    }
    const Pass& pass = **claimed;
    std::unique_lock<std::mutex> l(mu_);
    passes_.wait(l, [&] { return pass.outstanding == 0; });
    if (!pass.first_error.is_ok()) return pass.first_error;
    total.claimed += pass.report.claimed;
    total.sent += pass.report.sent;
    total.retried += pass.report.retried;
    total.dead += pass.report.dead;
    total.released += pass.report.released;
    if (!pass.full) return total;
  }
}

Result<std::optional<Time>> Outbox::next_due() {
  std::vector<const char*> channels;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const Lane* lane : {&sms_lane_, &email_lane_}) {
      if (!lane->behind) channels.push_back(lane->channel);
    }
  }
  std::optional<Time> next;
  Status s = store_.read([&](store::Reader& r) -> Status {
    for (const char* channel : channels) {
      HB_ASSIGN_OR_RETURN(std::optional<Time> due, r.outbox_next_due(channel));
      if (due && (!next || *due < *next)) next = due;
    }
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  return next;
}

Result<std::vector<store::OutboxMessage>> Outbox::list(const std::string& status, int64_t before_id,
                                                       int limit) {
  std::vector<store::OutboxMessage> out;
  Status s = store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(out, r.outbox_list(status, before_id, limit));
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  for (auto& m : out) {
    m.recipient_sealed.clear();
    m.recipient_index.clear();
    m.body_sealed.clear();
    m.body.clear();  // a message queued before step 17 has its link here
  }
  return out;
}

void Outbox::start() {
  std::lock_guard<std::mutex> life(life_mu_);
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = false;
    woken_ = true;  // look once at start: messages may have waited while we were down
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "hb-notify");
    run();
  });
}

void Outbox::stop() {
  std::lock_guard<std::mutex> life(life_mu_);
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // No pass hands the lanes anything from here; each thread finishes and records its send.
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (Lane* lane : {&sms_lane_, &email_lane_}) {
      lane->work.notify_all();
      for (std::thread& t : lane->threads) threads.push_back(std::move(t));
      lane->threads.clear();
    }
  }
  for (std::thread& t : threads) t.join();
  std::vector<Claimed> unsent;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (Lane* lane : {&sms_lane_, &email_lane_}) {
      for (Claimed& c : lane->waiting) unsent.push_back(std::move(c));
      lane->waiting.clear();
      lane->held = 0;
      lane->behind = false;
    }
  }
  release(std::move(unsent));
}

void Outbox::run() {
  std::unique_lock<std::mutex> l(mu_);
  bool look = true;  // claim in this round (false: a retry only moved when to look next)
  while (!stopping_) {
    const bool woken = std::exchange(woken_, false);
    if (woken && options_.gather.count() > 0) {
      // Let the messages of the issuances running now join this pass; their wakes are this one.
      if (cv_.wait_for(l, options_.gather, [&] { return stopping_; })) break;
      woken_ = false;
    }
    // From here until the wait below, a retry the lanes record sooner than the next look, and room
    // freed in a full lane, are seen.
    retimed_ = false;
    room_freed_ = false;
    next_look_ = Time::max();
    l.unlock();
    // A wake comes from inside a write closure, before its commit: wait for that group, so the
    // pass sees the message (or, if the closure failed, rightly does not).
    if (woken) (void)store_.flush();
    milliseconds wait = options_.poll;
    bool more = false;
    if (woken || look) {
      Result<std::shared_ptr<Pass>> pass = claim_due();
      if (!pass.is_ok()) {
        spdlog::error("notify: dispatch failed: {}", pass.error().to_string());
        wait = milliseconds(1000);
      } else {
        more = (*pass)->full;
      }
    }
    if (more) {
      wait = milliseconds(0);  // more may be due right now
    } else if (Result<std::optional<Time>> next = next_due(); next.is_ok() && next->has_value()) {
      auto until = std::chrono::duration_cast<milliseconds>(**next - clock_.now());
      // A message due now that this pass did not take is claimed elsewhere: look again soon.
      wait = std::clamp(until, milliseconds(50), wait);
    }
    l.lock();
    look = true;
    if (wait.count() > 0) {
      next_look_ = clock_.now() + wait;
      cv_.wait_for(l, wait, [&] { return stopping_ || woken_ || retimed_ || room_freed_; });
      look = !retimed_ || room_freed_;
    }
  }
}

}  // namespace hb::notify
