#include "services/access_log.h"

#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "core/ids.h"
#include "core/utf8.h"
#include "notify/message.h"
#include "services/resident_audit.h"

namespace hb::services {
namespace {

constexpr const char* kRecipientClient = "smart-health-link";
constexpr const char* kDocumentLinkClient = "document-link";

std::string alerts_aad(const std::string& patient_id) { return "access-alerts/" + patient_id; }
std::string share_aad(const std::string& share_id) { return "share/" + share_id; }

bool starts_with(std::string_view s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// "2026-12-04 10:15 UTC": minutes are enough for a person, and say nothing more.
std::string readable_time(Time t) {
  const std::string s = format_instant(t);
  return s.substr(0, 10) + " " + s.substr(11, 5) + " UTC";
}

// The first reference of `type` in a space-separated entity list ("" when none).
std::string first_entity(const std::string& entities, std::string_view type) {
  std::size_t i = 0;
  while (i < entities.size()) {
    std::size_t j = entities.find(' ', i);
    if (j == std::string::npos) j = entities.size();
    std::string_view e(entities.data() + i, j - i);
    if (e.size() > type.size() + 1 && starts_with(e, type) && e[type.size()] == '/') {
      return std::string(e.substr(type.size() + 1));
    }
    i = j + 1;
  }
  return "";
}

// "Observation (3 records), Patient (1 record)": the kinds of records an event touched, counted.
// Shares and accounts are the means, not records, and are left out.
std::string what_of(const std::string& entities) {
  std::map<std::string, int> counts;
  std::vector<std::string> order;
  std::size_t i = 0;
  while (i < entities.size()) {
    std::size_t j = entities.find(' ', i);
    if (j == std::string::npos) j = entities.size();
    std::string e = entities.substr(i, j - i);
    i = j + 1;
    const auto slash = e.find('/');
    if (slash == std::string::npos || slash == 0) continue;
    std::string type = e.substr(0, slash);
    if (type == "Share" || type == "Account") continue;
    if (counts[type]++ == 0) order.push_back(type);
  }
  std::string out;
  for (const auto& t : order) {
    if (!out.empty()) out += ", ";
    out += t + " (" + std::to_string(counts[t]) + (counts[t] == 1 ? " record)" : " records)");
  }
  return out;
}

// What happened, in the log's words.
std::string action_of(const store::AuditRecord& a) {
  const std::string& t = a.event_type;
  if (t == "read" || t == "vread" || t == "history-instance" || t == "link-view") return "read";
  if (t == "search-type" || t == "search-system") return "search";
  if (t == "create" || t == "update" || t == "delete") return t;
  if (t == "share-opened" || t == "shl-manifest") return "share-opened";
  if (t == "share-create") return "share-created";
  if (t == "share-revoke") return "share-revoked";
  if (t == "share-list" || t == "access-log-read" || t == "notifications-read") return "read";
  if (t == "notifications-update") return "update";
  if (starts_with(t, "account-signup")) return "sign-up";
  if (t == "account-login-code") return "sign-in-code-sent";
  if (starts_with(t, "account-login")) return "sign-in";
  if (starts_with(t, "account-logout")) return "sign-out";
  if (t == "account-session-expired") return "session-ended";
  if (starts_with(t, "account-totp")) return "security-settings";
  if (starts_with(t, "account-")) return "read";
  if (t.find("break-glass") != std::string::npos) return "read";
  if (a.action == "C") return "create";
  if (a.action == "U") return "update";
  if (a.action == "D") return "delete";
  return "read";
}

std::string detail_after(const std::string& detail, std::string_view prefix) {
  return starts_with(detail, prefix) ? detail.substr(prefix.size()) : std::string();
}

// The reason a clinician gave for an emergency access. The records service writes the break-glass
// event's detail as "break-glass <read|vread|history|search>: <reason>" (engine.cpp,
// docs/health-book.md); the reason may itself hold ": ", so it is everything after the first.
std::string emergency_reason(const std::string& detail) {
  if (!starts_with(detail, "break-glass ")) return detail_after(detail, "reason: ");
  const auto colon = detail.find(": ");
  return colon == std::string::npos ? std::string() : detail.substr(colon + 2);
}

// An audit event that earns an alert: who opened the records, as a key (one alert per key per
// kAlertEvery) and as words for the message.
struct Opening {
  std::string accessor;     // facility:<id> | share:<id> | document-link:<id>
  std::string facility_id;  // for a facility: its name is looked up
  Time time{};
};

std::optional<Opening> opening_of(const store::AuditRecord& a) {
  if (a.patient_id.empty() || a.outcome != "0") return std::nullopt;
  const std::string& t = a.event_type;
  if (!a.facility_id.empty()) {
    const bool reads = t == "read" || t == "vread" || t == "history-instance" ||
                       t == "search-type" || t.find("break-glass") != std::string::npos;
    if (!reads) return std::nullopt;
    return Opening{"facility:" + a.facility_id, a.facility_id, a.time};
  }
  if (a.client_id == kRecipientClient) {
    if (t == "share-opened")
      return Opening{"share:" + first_entity(a.entities, "Share"), "", a.time};
    if (t == "shl-manifest") {
      return Opening{"document-link:" + first_entity(a.entities, "Document"), "", a.time};
    }
  }
  return std::nullopt;
}

}  // namespace

AccessLogService::AccessLogService(store::Store& store, Vault& vault, const Clock& clock,
                                   AccessLogOptions options, notify::Outbox* outbox)
    : store_(store), vault_(vault), clock_(clock), options_(std::move(options)), outbox_(outbox) {}

AccessLogService::~AccessLogService() { stop(); }

Result<Json> AccessLogService::access_log(const Resident& who, std::string_view cursor_text,
                                          std::string_view limit_text, const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(who, ResidentRight::kViewRecords));
  int64_t before = 0;
  if (!cursor_text.empty()) {
    auto [p, ec] =
        std::from_chars(cursor_text.data(), cursor_text.data() + cursor_text.size(), before);
    if (ec != std::errc() || p != cursor_text.data() + cursor_text.size() || before <= 0) {
      return Status(Code::kInvalid, "cursor must be the \"next\" value of a previous page",
                    {{"cursor", "not a cursor this server gave", "invalid"}});
    }
  }
  int limit = kDefaultLimit;
  if (!limit_text.empty()) {
    auto [p, ec] = std::from_chars(limit_text.data(), limit_text.data() + limit_text.size(), limit);
    if (ec != std::errc() || p != limit_text.data() + limit_text.size() || limit < 1 ||
        limit > kMaxLimit) {
      return Status(Code::kInvalid, "limit must be a number from 1 to 200",
                    {{"limit", "a number from 1 to 200", "invalid"}});
    }
  }
  Json events = Json::array();
  Json next = nullptr;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto rows, r.audit_newest(who.patient_id, before, limit));
    std::map<std::string, std::string> facility_names;
    std::map<std::string, std::string> share_labels;
    for (const auto& a : rows) {
      if (a.patient_id != who.patient_id) continue;  // the store's filter, checked again
      Json who_json;
      std::string why;
      if (!a.facility_id.empty()) {
        auto it = facility_names.find(a.facility_id);
        if (it == facility_names.end()) {
          HB_ASSIGN_OR_RETURN(auto f, r.facility_by_id(a.facility_id));
          it = facility_names.emplace(a.facility_id, f ? f->name : "A facility").first;
        }
        const bool emergency = a.event_type.find("break-glass") != std::string::npos;
        who_json = {{"kind", emergency ? "break-glass" : "facility"}, {"name", it->second}};
        why = emergency ? "emergency: " + emergency_reason(a.detail) : "treatment";
      } else if (a.client_id == kRecipientClient) {
        who_json = {{"kind", "share-recipient"}, {"name", detail_after(a.detail, "recipient: ")}};
        const std::string share_id = first_entity(a.entities, "Share");
        if (share_id.empty()) {
          why = "document link";
        } else {
          auto it = share_labels.find(share_id);
          if (it == share_labels.end()) {
            std::string label;
            HB_ASSIGN_OR_RETURN(auto s, r.share(share_id));
            if (s && s->patient_id == who.patient_id) {
              HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_read(r, who.patient_id));
              if (auto text = key.open(s->body, share_aad(s->id))) {
                if (auto body = parse_json(*text)) label = body->value("label", "");
              }
            }
            it = share_labels.emplace(share_id, label).first;
          }
          why = "share " + it->second;
        }
      } else if (a.client_id == kDocumentLinkClient) {
        who_json = {{"kind", "share-recipient"}, {"name", "Someone with your document's link"}};
        why = "document link";
      } else if (a.client_id == "resident-proxy") {
        // "proxy: <name> (<kind>); <what>" (services/resident_audit.h).
        std::string name = detail_after(a.detail, "proxy: ");
        name = name.substr(0, name.find("; "));
        who_json = {{"kind", "proxy"}, {"name", name}};
        why = "acting for you";
      } else if (starts_with(a.client_id, "resident-")) {
        who_json = {{"kind", "resident"}, {"name", "You"}};
        why = "your account";
      } else {
        who_json = {{"kind", "operator"}, {"name", "Healthbook operator"}};
        why = "operations";
      }
      Json e = {{"time", format_instant(a.time)},
                {"who", who_json},
                {"action", action_of(a)},
                {"what", what_of(a.entities)},
                {"why", why}};
      if (a.outcome != "0") e["outcome"] = "refused";
      events.push_back(std::move(e));
    }
    if (static_cast<int>(rows.size()) == limit) next = std::to_string(rows.back().seq);
    return Status::ok();
  }));
  audit_resident_action(store_, clock_, who, {"access-log-read", "R", "", "access log read"},
                        address);
  return Json{{"events", events}, {"next", next}};
}

Result<std::string> AccessLogService::registered_phone(store::Reader& r,
                                                       const std::string& patient_id) {
  HB_ASSIGN_OR_RETURN(auto row, r.current("Patient", patient_id));
  if (!row || row->deleted) return std::string();
  HB_ASSIGN_OR_RETURN(auto key,
                      vault_.key_for_read(r, Vault::owner_for(row->patient_id, row->facility_id)));
  HB_ASSIGN_OR_RETURN(auto text, key.open(row->body, Vault::aad(*row)));
  HB_ASSIGN_OR_RETURN(Json j, parse_json(text));
  return registered_mobile(j);
}

Result<AccessLogService::Contact> AccessLogService::contact(store::Reader& r,
                                                            const std::string& patient_id,
                                                            const store::AccessAlerts& prefs) {
  Contact c;
  if (prefs.sms) {
    HB_ASSIGN_OR_RETURN(c.phone, registered_phone(r, patient_id));
  }
  if (prefs.email && !prefs.email_sealed.empty()) {
    HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_read(r, patient_id));
    HB_ASSIGN_OR_RETURN(c.email, key.open(prefs.email_sealed, alerts_aad(patient_id)));
  }
  return c;
}

Result<Json> AccessLogService::notifications(const Resident& who, const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(who, ResidentRight::kPersonal));
  Json out;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto prefs, r.access_alerts(who.patient_id));
    store::AccessAlerts p = prefs.value_or(store::AccessAlerts{});
    HB_ASSIGN_OR_RETURN(std::string phone, registered_phone(r, who.patient_id));
    Json email = nullptr;
    if (!p.email_sealed.empty()) {
      HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_read(r, who.patient_id));
      HB_ASSIGN_OR_RETURN(std::string e, key.open(p.email_sealed, alerts_aad(who.patient_id)));
      email = e;
    }
    out = {{"onAccess", {{"sms", p.sms}, {"email", p.email}}},
           {"email", email},
           {"phoneRegistered", !phone.empty()}};
    return Status::ok();
  }));
  audit_resident_action(store_, clock_, who,
                        {"notifications-read", "R", "", "notification settings read"}, address);
  return out;
}

Result<Json> AccessLogService::set_notifications(const Resident& who, std::string_view request_json,
                                                 const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(who, ResidentRight::kPersonal));
  HB_ASSIGN_OR_RETURN(Json j, parse_json(request_json, JsonLimits{4 * 1024, 4}));
  std::vector<Problem> problems;
  bool sms = false, mail = false;
  std::string email;
  if (!j.is_object() || !j.contains("onAccess") || !j["onAccess"].is_object() ||
      !j["onAccess"].contains("sms") || !j["onAccess"]["sms"].is_boolean() ||
      !j["onAccess"].contains("email") || !j["onAccess"]["email"].is_boolean()) {
    return Status(
        Code::kInvalid,
        "the body must be {\"onAccess\": {\"sms\": bool, \"email\": bool}, "
        "\"email\": \"...\"}",
        {{"onAccess", "required: {\"sms\": true|false, \"email\": true|false}", "required"}});
  }
  sms = j["onAccess"]["sms"].get<bool>();
  mail = j["onAccess"]["email"].get<bool>();
  if (j.contains("email") && !j["email"].is_null()) {
    if (!j["email"].is_string() || !notify::is_email_address(j["email"].get<std::string>())) {
      problems.push_back({"email", "not an e-mail address", "invalid"});
    } else {
      email = j["email"].get<std::string>();
    }
  }
  if (mail && email.empty() && problems.empty()) {
    problems.push_back({"email", "required to send e-mails: an e-mail address", "required"});
  }
  if (sms) {
    std::string phone;
    HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
      HB_ASSIGN_OR_RETURN(phone, registered_phone(r, who.patient_id));
      return Status::ok();
    }));
    if (phone.empty()) {
      problems.push_back({"onAccess.sms",
                          "no mobile phone is registered for you; ask a facility "
                          "to record it, or use e-mail",
                          "business-rule"});
    }
  }
  if (!problems.empty()) {
    return Status(Code::kUnprocessable, "the notification settings have problems", problems);
  }
  const Time now = clock_.now();
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    store::AccessAlerts p{who.patient_id, sms, mail, "", now};
    if (!email.empty()) {
      HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_write(w, who.patient_id));
      p.email_sealed = key.seal(email, alerts_aad(who.patient_id));
    }
    HB_RETURN_IF_ERROR(w.put_access_alerts(p));
    return w.append_audit(resident_audit_record(
        clock_, who, {"notifications-update", "U", "", "notification settings changed"}, address));
  }));
  return notifications(who, address);
}

Result<int> AccessLogService::alert_pass() {
  std::lock_guard pass(pass_mu_);
  int queued = 0;
  for (;;) {
    int64_t cursor = 0;
    std::vector<store::AuditRecord> batch;
    HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
      HB_ASSIGN_OR_RETURN(cursor, r.access_alert_cursor());
      HB_ASSIGN_OR_RETURN(batch, r.audit("", "", cursor, kTailBatch));
      return Status::ok();
    }));
    if (batch.empty()) return queued;
    const int64_t last = batch.back().seq;

    // The first opening by each accessor of each patient's records in this batch.
    struct Alert {
      std::string patient_id;
      Opening opening;
    };
    std::vector<Alert> alerts;
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& a : batch) {
      auto o = opening_of(a);
      if (!o || !seen.emplace(a.patient_id, o->accessor).second) continue;
      alerts.push_back({a.patient_id, std::move(*o)});
    }
    // Who asked for alerts, how to reach them, and the facilities' names.
    std::map<std::string, Contact> contacts;
    std::map<std::string, std::string> facility_names;
    if (!alerts.empty()) {
      HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
        std::set<std::string> looked;
        for (const auto& al : alerts) {
          if (looked.insert(al.patient_id).second) {
            HB_ASSIGN_OR_RETURN(auto prefs, r.access_alerts(al.patient_id));
            if (prefs && (prefs->sms || prefs->email)) {
              HB_ASSIGN_OR_RETURN(contacts[al.patient_id], contact(r, al.patient_id, *prefs));
            }
          }
          const std::string& fid = al.opening.facility_id;
          if (!fid.empty() && contacts.count(al.patient_id) && !facility_names.count(fid)) {
            HB_ASSIGN_OR_RETURN(auto f, r.facility_by_id(fid));
            facility_names[fid] = f ? utf8_prefix(f->name, 100) : "a facility";
          }
        }
        return Status::ok();
      }));
    }
    const Time now = clock_.now();
    int sent_here = 0;
    HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
      sent_here = 0;
      HB_ASSIGN_OR_RETURN(int64_t cur, w.access_alert_cursor());
      if (cur >= last) return Status::ok();  // another server's pass took this batch
      for (const auto& al : alerts) {
        auto c = contacts.find(al.patient_id);
        if (c == contacts.end() || (c->second.phone.empty() && c->second.email.empty())) continue;
        HB_ASSIGN_OR_RETURN(auto prev, w.access_alert_sent(al.patient_id, al.opening.accessor));
        if (prev && now - *prev < kAlertEvery) continue;
        const std::string by = al.opening.facility_id.empty()
                                   ? std::string("someone you shared them with")
                                   : facility_names[al.opening.facility_id];
        const std::string text = "Healthbook: your health records were opened by " + by + " on " +
                                 readable_time(al.opening.time) +
                                 ". See your access log: " + options_.base_url + "/access-log";
        if (outbox_) {
          if (!c->second.phone.empty()) {
            notify::Message m;
            m.channel = notify::Channel::kSms;
            m.recipient = c->second.phone;
            m.text = text;
            m.patient_id = al.patient_id;
            HB_RETURN_IF_ERROR(outbox_->enqueue(w, m).status());
          }
          if (!c->second.email.empty()) {
            notify::Message m;
            m.channel = notify::Channel::kEmail;
            m.recipient = c->second.email;
            m.subject = "Your health records were opened";
            m.text = text +
                     "\n\nYou asked Healthbook for this message. You can turn it off in "
                     "your notification settings.";
            m.patient_id = al.patient_id;
            HB_RETURN_IF_ERROR(outbox_->enqueue(w, m).status());
          }
        }
        HB_RETURN_IF_ERROR(w.put_access_alert_sent(al.patient_id, al.opening.accessor, now));
        ++sent_here;
      }
      return w.set_access_alert_cursor(last);
    }));
    queued += sent_here;
    if (sent_here > 0 && outbox_) outbox_->wake();
    if (static_cast<int>(batch.size()) < kTailBatch) return queued;
  }
}

void AccessLogService::start() {
  worker_.start(
      [this] {
        auto done = alert_pass();
        if (!done) {
          // Logged without any patient data: the status names the store's failure only.
          std::fprintf(stderr, "access alerts: pass failed: %s\n", done.error().message().c_str());
        }
      },
      options_.poll);
}

void AccessLogService::stop() { worker_.stop(); }

}  // namespace hb::services
