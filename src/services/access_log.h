// The resident's access log and access alerts (docs/sharing.md).
//
// Access log: the audit events of the resident's own patient, newest first, made readable: who
// (a facility by its name, a share's recipient, the resident), what they did, which records (by
// kind and count), and why (treatment, an emergency with its reason, a share by its label). It is
// built from the store's audit rows filtered by the resident's patient id and nothing else, so it
// never holds another person's data.
//
// Access alerts: a resident may ask for an SMS (to the phone a facility registered) and/or an
// e-mail each time a facility or a share's recipient opens their records. A tailer follows the
// audit log (a cursor in the store, so nothing is missed or sent twice across restarts) and queues
// notifications through the outbox: at most one per accessor (a facility, a share, a document
// link) per patient per kAlertEvery. The text names the facility and the date, never any health
// data: "Healthbook: your health records were opened by <facility> on <date>. See your access
// log: <url>".
//
// How audit rows are read (a convention for every service that audits a patient's data):
// facility_id set -> a facility (kind "break-glass" when the event type holds "break-glass");
// client_id "smart-health-link" -> a share's recipient; "document-link" -> someone with a
// document's link; client_id starting "resident-" -> the resident ("resident-proxy": a proxy).
//
// Thread-safety: safe from any number of threads. start() runs the tailer on a thread of its own
// until stop() (or destruction).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/clock.h"
#include "core/json.h"
#include "notify/outbox.h"
#include "services/accounts.h"
#include "services/vault.h"
#include "store/store.h"

namespace hb::services {

struct AccessLogOptions {
  std::string base_url;                  // alerts point to <base>/access-log
  std::chrono::milliseconds poll{1000};  // how often the tailer looks for new audit events
};

class AccessLogService {
 public:
  static constexpr int kDefaultLimit = 50;
  static constexpr int kMaxLimit = 200;
  static constexpr std::chrono::hours kAlertEvery{1};
  static constexpr int kTailBatch = 500;

  // `outbox` may be null: alerts are then never sent (their choice is still kept).
  AccessLogService(store::Store& store, Vault& vault, const Clock& clock, AccessLogOptions options,
                   notify::Outbox* outbox);
  ~AccessLogService();
  AccessLogService(const AccessLogService&) = delete;
  AccessLogService& operator=(const AccessLogService&) = delete;

  // GET /api/v1/me/access-log?cursor=&limit=: {"events": [...], "next": cursor | null}.
  // kInvalid for a malformed cursor or a limit outside 1..kMaxLimit.
  Result<Json> access_log(const Resident& who, std::string_view cursor, std::string_view limit,
                          const std::string& address);

  // GET/PUT /api/v1/me/notifications: {"onAccess": {"sms", "email"}, "email", "phoneRegistered"}.
  Result<Json> notifications(const Resident& who, const std::string& address);
  Result<Json> set_notifications(const Resident& who, std::string_view request_json,
                                 const std::string& address);

  // One pass of the tailer on the calling thread: every audit event after the cursor, in
  // batches; returns how many alerts were queued.
  Result<int> alert_pass();
  void start();
  void stop();

 private:
  struct Contact {
    std::string phone;  // E.164 or ""
    std::string email;  // or ""
  };
  Result<Contact> contact(store::Reader& r, const std::string& patient_id,
                          const store::AccessAlerts& prefs);
  Result<std::string> registered_phone(store::Reader& r, const std::string& patient_id);
  void run();

  store::Store& store_;
  Vault& vault_;
  const Clock& clock_;
  AccessLogOptions options_;
  notify::Outbox* outbox_;

  std::mutex pass_mu_;  // one pass at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::mutex life_mu_;     // serialises start() and stop()
  std::thread thread_;     // guarded by life_mu_
};

}  // namespace hb::services
