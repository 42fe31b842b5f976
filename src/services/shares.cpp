#include "services/shares.h"

#include <algorithm>
#include <map>

#include "core/ids.h"
#include "core/utf8.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "documents/health_card.h"
#include "documents/qr.h"
#include "documents/shlink.h"
#include "fhir/validate.h"
#include "services/resident_audit.h"

namespace hb::services {
namespace {

// The client_id of a share's recipients in the audit log.
constexpr const char* kRecipientClient = "smart-health-link";
constexpr std::size_t kMaxRecipient = 80;  // characters of the recipient kept and shown

std::string share_aad(const std::string& share_id) { return "share/" + share_id; }
std::string recipient_aad(const std::string& share_id) { return "share-recipient/" + share_id; }

bool valid_fhir_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  });
}

// The Healthbook document behind a DocumentReference (its "urn:healthbook:document" identifier).
std::string document_id_of(const Json& docref) {
  if (!docref.contains("identifier") || !docref["identifier"].is_array()) return "";
  for (const Json& i : docref["identifier"]) {
    if (i.is_object() && i.value("system", "") == "urn:healthbook:document" &&
        i.contains("value") && i["value"].is_string()) {
      return i["value"].get<std::string>();
    }
  }
  return "";
}

struct Request {
  std::vector<std::string> records;  // "Type/id", in the order given, without repeats
  std::string label;
  int64_t expires_in = 0;
  std::string passcode;  // "" = none
  bool single_use = false;
};

Result<Request> parse_request(std::string_view text) {
  HB_ASSIGN_OR_RETURN(Json j, parse_json(text, JsonLimits{64 * 1024, 4}));
  if (!j.is_object()) return invalid("the body must be a JSON object");
  Request out;
  std::vector<Problem> problems;
  if (!j.contains("records") || !j["records"].is_array() || j["records"].empty() ||
      j["records"].size() > ShareService::kMaxRecords) {
    problems.push_back({"records",
                        "required: an array of 1 to " + std::to_string(ShareService::kMaxRecords) +
                            " references such as \"Observation/abc\"",
                        "required"});
  } else {
    for (std::size_t i = 0; i < j["records"].size(); ++i) {
      const Json& ref = j["records"][i];
      const std::string path = "records[" + std::to_string(i) + "]";
      if (!ref.is_string()) {
        problems.push_back({path, "must be a string \"Type/id\"", "invalid"});
        continue;
      }
      const std::string s = ref.get<std::string>();
      const auto slash = s.find('/');
      const std::string type = slash == std::string::npos ? "" : s.substr(0, slash);
      const std::string id = slash == std::string::npos ? "" : s.substr(slash + 1);
      if (!fhir::is_resource_type(type) || type == "AuditEvent" || !valid_fhir_id(id)) {
        problems.push_back(
            {path, "\"" + utf8_prefix(s, 100) + "\" is not a reference to a record (\"Type/id\")",
             "invalid"});
        continue;
      }
      if (std::find(out.records.begin(), out.records.end(), s) == out.records.end()) {
        out.records.push_back(s);
      }
    }
  }
  if (!j.contains("label") || !j["label"].is_string() || j["label"].get<std::string>().empty() ||
      utf8_length(j["label"].get<std::string>()) > ShareService::kMaxLabel) {
    problems.push_back(
        {"label", "required: 1 to 80 characters, e.g. \"For my new GP\"", "required"});
  } else {
    out.label = j["label"].get<std::string>();
    if (out.label.find_first_of("\r\n") != std::string::npos) {
      problems.push_back({"label", "must be one line", "invalid"});
    }
  }
  if (!j.contains("expiresIn") || !j["expiresIn"].is_number_integer() ||
      j["expiresIn"].get<int64_t>() < ShareService::kMinExpiresIn ||
      j["expiresIn"].get<int64_t>() > ShareService::kMaxExpiresIn) {
    problems.push_back(
        {"expiresIn", "required: seconds, from 3600 (an hour) to 31536000 (a year)", "required"});
  } else {
    out.expires_in = j["expiresIn"].get<int64_t>();
  }
  if (j.contains("passcode") && !j["passcode"].is_null()) {
    const Json& p = j["passcode"];
    if (!p.is_string() || utf8_length(p.get<std::string>()) < ShareService::kMinPasscode ||
        p.get<std::string>().size() > ShareService::kMaxPasscode) {
      problems.push_back({"passcode", "6 to 64 characters, or leave it out", "invalid"});
    } else {
      out.passcode = p.get<std::string>();
    }
  }
  if (j.contains("singleUse") && !j["singleUse"].is_null()) {
    if (!j["singleUse"].is_boolean()) {
      problems.push_back({"singleUse", "must be true or false", "invalid"});
    } else {
      out.single_use = j["singleUse"].get<bool>();
    }
  }
  if (!problems.empty()) {
    const bool malformed = std::any_of(problems.begin(), problems.end(),
                                       [](const Problem& p) { return p.issue_type == "required"; });
    return Status(malformed ? Code::kInvalid : Code::kUnprocessable,
                  "the share request has problems", problems);
  }
  return out;
}

}  // namespace

ShareService::ShareService(store::Store& store, Vault& vault, DocumentService& documents,
                           const Clock& clock, ShareOptions options)
    : store_(store),
      vault_(vault),
      documents_(documents),
      clock_(clock),
      options_(std::move(options)),
      wrong_by_address_(clock, kWrongPerAddressHour / 60.0, kWrongPerAddressHour) {}

Result<Json> ShareService::open_body(store::Reader& r, const store::Share& s) {
  HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_read(r, s.patient_id));
  HB_ASSIGN_OR_RETURN(std::string text, key.open(s.body, share_aad(s.id)));
  return parse_json(text);
}

Json ShareService::share_json(const store::Share& s, const Json& body, const Json& accesses) const {
  std::string status = s.status;
  if (status == "active" && clock_.now() >= s.expires) status = "expired";
  return Json{{"id", s.id},
              {"label", body.value("label", "")},
              {"records", body.contains("records") ? body["records"] : Json::array()},
              {"created", format_instant(s.created)},
              {"expires", format_instant(s.expires)},
              {"singleUse", s.single_use},
              {"passcode", !s.passcode_hash.empty()},
              {"status", status},
              {"accesses", accesses},
              // The link is shown only when the share is made (the server does not keep it).
              {"shlink", nullptr},
              {"viewerUrl", nullptr},
              {"qrSvg", nullptr}};
}

Result<Json> ShareService::create(const Resident& who, std::string_view request_json,
                                  const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(who, ResidentRight::kManageShares));
  HB_ASSIGN_OR_RETURN(Request req, parse_request(request_json));
  const Time now = clock_.now();

  // The records, read from the resident's own compartment only. Another person's record is
  // refused in the same words as one that does not exist.
  Json entries = Json::array();
  std::vector<std::string> document_ids;
  std::vector<Problem> problems;
  int active = 0;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    for (std::size_t i = 0; i < req.records.size(); ++i) {
      const std::string& ref = req.records[i];
      const auto slash = ref.find('/');
      const std::string type = ref.substr(0, slash);
      const std::string id = ref.substr(slash + 1);
      HB_ASSIGN_OR_RETURN(auto row, r.current(type, id));
      if (!row || row->deleted || row->patient_id != who.patient_id) {
        problems.push_back({"records[" + std::to_string(i) + "]",
                            "there is no " + ref + " in your health book", "not-found"});
        continue;
      }
      HB_ASSIGN_OR_RETURN(
          auto key, vault_.key_for_read(r, Vault::owner_for(row->patient_id, row->facility_id)));
      HB_ASSIGN_OR_RETURN(std::string text, key.open(row->body, Vault::aad(*row)));
      HB_ASSIGN_OR_RETURN(Json resource, parse_fhir_json(text));
      if (type == "DocumentReference") {
        if (std::string d = document_id_of(resource); !d.empty()) document_ids.push_back(d);
      }
      entries.push_back({{"fullUrl", options_.base_url + "/fhir/" + ref}, {"resource", resource}});
    }
    HB_ASSIGN_OR_RETURN(auto mine, r.shares_of(who.patient_id, kListedShares));
    for (const auto& s : mine) active += s.status == "active" && s.expires > now;
    return Status::ok();
  }));
  if (!problems.empty()) {
    return Status(Code::kUnprocessable, "only records in your own health book can be shared",
                  problems);
  }
  if (active >= kMaxActiveShares) {
    return Status(Code::kUnprocessable,
                  "you have " + std::to_string(active) + " active shares; revoke some first",
                  {{"records", "too many active shares", "business-rule"}});
  }
  std::vector<std::string> cards;
  for (const auto& d : document_ids) {
    HB_ASSIGN_OR_RETURN(auto jws, documents_.active_card_of(who.patient_id, d));
    if (jws) cards.push_back(std::move(*jws));
  }

  // The files, encrypted under a key that leaves this function only inside the link.
  const std::string key = documents::new_shl_key();
  Json bundle = {{"resourceType", "Bundle"},
                 {"id", new_uuid()},
                 {"type", "collection"},
                 {"timestamp", format_instant(now)},
                 {"entry", entries}};
  Json files = Json::array();
  HB_ASSIGN_OR_RETURN(
      std::string fhir_file,
      documents::encrypt_shl_file(key, dump_json(bundle), documents::kContentTypeFhir, true));
  files.push_back(
      {{"contentType", std::string(documents::kContentTypeFhirR4)}, {"jwe", fhir_file}});
  for (const auto& jws : cards) {
    HB_ASSIGN_OR_RETURN(std::string card_file,
                        documents::encrypt_shl_file(key, documents::health_card_file({jws}),
                                                    documents::kContentTypeHealthCard));
    files.push_back(
        {{"contentType", std::string(documents::kContentTypeHealthCard)}, {"jwe", card_file}});
  }

  // 256 bits: a SMART Health Link's manifest URL must carry at least that much entropy.
  const std::string token = crypto::random_token(32);
  store::Share share;
  share.id = new_uuid();
  share.patient_id = who.patient_id;
  share.account_id = who.account_id;
  share.token_hash = crypto::sha256_hex(token);
  share.created = now;
  share.expires = now + std::chrono::seconds(req.expires_in);
  share.single_use = req.single_use;
  share.status = "active";
  if (!req.passcode.empty()) {
    HB_ASSIGN_OR_RETURN(share.passcode_hash,
                        crypto::hash_password(req.passcode, options_.passcode_cost));
  }

  documents::ShlPayload payload;
  payload.url = options_.base_url + "/shl/s/" + token;
  payload.key = key;
  payload.exp = unix_seconds(share.expires);
  payload.flag = req.passcode.empty() ? "" : "P";
  payload.label = req.label;
  payload.v = 1;
  HB_ASSIGN_OR_RETURN(std::string shlink, documents::encode_shlink(payload));
  HB_ASSIGN_OR_RETURN(std::string viewer,
                      documents::encode_shlink_with_viewer(options_.base_url + "/s", payload));

  Json records = Json::array();
  for (const auto& r : req.records) records.push_back(r);
  const Json body = {{"label", req.label}, {"records", records}, {"files", files}};
  std::string entities = "Share/" + share.id;
  for (const auto& r : req.records) entities += " " + r;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto dek, vault_.key_for_write(w, who.patient_id));
    share.body = dek.seal(dump_json(body), share_aad(share.id));
    HB_RETURN_IF_ERROR(w.put_share(share));
    // Made in the same transaction as the share: a share never exists without its audit event.
    return w.append_audit(resident_audit_record(
        clock_, who, {"share-create", "C", entities, "share created"}, address));
  }));

  Json out = share_json(share, body, Json::array());
  out["shlink"] = shlink;
  out["viewerUrl"] = viewer;
  if (auto qr = documents::make_text_qr(viewer)) out["qrSvg"] = documents::qr_svg(*qr);
  return out;
}

Result<Json> ShareService::list(const Resident& who, const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(who, ResidentRight::kManageShares));
  Json shares = Json::array();
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto mine, r.shares_of(who.patient_id, kListedShares));
    if (mine.empty()) return Status::ok();
    HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_read(r, who.patient_id));
    for (const auto& s : mine) {
      if (s.patient_id != who.patient_id) continue;  // the store's filter, checked again
      HB_ASSIGN_OR_RETURN(std::string text, key.open(s.body, share_aad(s.id)));
      HB_ASSIGN_OR_RETURN(Json body, parse_json(text));
      HB_ASSIGN_OR_RETURN(auto accesses, r.share_accesses(s.id, kListedAccesses));
      Json list = Json::array();
      for (const auto& a : accesses) {
        auto recipient = key.open(a.recipient_sealed, recipient_aad(s.id));
        list.push_back({{"time", format_instant(a.time)},
                        {"recipient", recipient ? *recipient : std::string()}});
      }
      shares.push_back(share_json(s, body, list));
    }
    return Status::ok();
  }));
  audit_resident_action(store_, clock_, who, {"share-list", "R", "", "shares listed"}, address);
  return Json{{"shares", shares}};
}

Result<Json> ShareService::revoke(const Resident& who, const std::string& share_id,
                                  const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(who, ResidentRight::kManageShares));
  const Time now = clock_.now();
  std::optional<store::Share> share;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(share, w.share(share_id));
    if (!share || share->patient_id != who.patient_id) {
      share.reset();
      return Status::ok();
    }
    if (share->status != "active") return Status::ok();
    share->status = "revoked";
    share->ended = now;
    HB_RETURN_IF_ERROR(w.put_share(*share));
    return w.append_audit(resident_audit_record(
        clock_, who, {"share-revoke", "U", "Share/" + share->id, "share revoked"}, address));
  }));
  // Another resident's share reads exactly like one that does not exist.
  if (!share) return not_found("you have no share " + utf8_prefix(share_id, 64));
  Json out;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(Json body, open_body(r, *share));
    HB_ASSIGN_OR_RETURN(auto accesses, r.share_accesses(share->id, kListedAccesses));
    HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_read(r, who.patient_id));
    Json list = Json::array();
    for (const auto& a : accesses) {
      auto recipient = key.open(a.recipient_sealed, recipient_aad(share->id));
      list.push_back({{"time", format_instant(a.time)},
                      {"recipient", recipient ? *recipient : std::string()}});
    }
    out = share_json(*share, body, list);
    return Status::ok();
  }));
  return out;
}

ShareAnswer ShareService::gone() const {
  return {404,
          {{"type", "about:blank"},
           {"status", 404},
           {"title", "not-found"},
           {"detail", "This link does not exist or is no longer active."}}};
}

ShareAnswer ShareService::refusal(const store::Share& s) const {
  const Time now = clock_.now();
  if (s.status != "active" || now >= s.expires) return gone();
  if (s.locked_until > now) {
    return {429,
            {{"type", "about:blank"},
             {"status", 429},
             {"title", "locked"},
             {"detail", "Too many wrong passcodes. Try again later."},
             {"retryAfter",
              std::chrono::duration_cast<std::chrono::seconds>(s.locked_until - now).count() + 1}}};
  }
  return passcode_needed(s, "This link needs the passcode its owner gave you.");
}

ShareAnswer ShareService::passcode_needed(const store::Share& s, const char* detail) const {
  // SMART Health Links: remainingAttempts are the passcodes left before the share is disabled
  // (kWrongInARow), not those before the hour's lock, which is our rate limit (429, refusal).
  return {401,
          {{"type", "about:blank"},
           {"status", 401},
           {"title", "passcode-required"},
           {"detail", detail},
           {"remainingAttempts", std::max(0, kWrongInARow - s.failures_total)}}};
}

Result<ShareAnswer> ShareService::manifest(const std::string& token, std::string_view request_json,
                                           const std::string& address) {
  HB_ASSIGN_OR_RETURN(Json j, parse_json(request_json, JsonLimits{8 * 1024, 4}));
  HB_ASSIGN_OR_RETURN(auto req, documents::ShlManifestRequest::from_json(j));
  if (token.size() != 43) return gone();
  const std::string hash = crypto::sha256_hex(token);
  if (!req.passcode) return answer(hash, req, address, nullptr);
  // A passcode is a guess. Passcodes sent at once do not share one look at the counts
  // (services/rate_limit.h): the address pays before the passcode is checked, and one passcode
  // for a share is checked at a time, up to its durable count.
  const ShareAnswer too_many{
      429,
      {{"type", "about:blank"},
       {"status", 429},
       {"title", "locked"},
       {"detail", "Too many wrong passcodes from this network. Try again later."},
       {"retryAfter", 120}}};
  Charge charge(wrong_by_address_, address_key(address));
  if (!charge.charged()) return too_many;
  const InFlight::Claim claim = checking_.claim(hash);
  if (!claim.held()) {
    return ShareAnswer{429,
                       {{"type", "about:blank"},
                        {"status", 429},
                        {"title", "busy"},
                        {"detail", "Another passcode for this link is being checked. Try again."},
                        {"retryAfter", 1}}};
  }
  return answer(hash, req, address, &charge);
}

Result<ShareAnswer> ShareService::answer(const std::string& hash,
                                         const documents::ShlManifestRequest& req,
                                         const std::string& address, Charge* charge) {
  std::optional<store::Share> share;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(share, r.share_by_token(hash));
    return Status::ok();
  }));
  if (!share) return gone();
  const Time now = clock_.now();
  if (share->status != "active" || now >= share->expires || share->locked_until > now) {
    return refusal(*share);
  }
  if (!share->passcode_hash.empty()) {
    // No passcode at all is not a guess: the client is told one is needed, nothing is counted.
    if (!req.passcode) return refusal(*share);
    if (!crypto::verify_password(*req.passcode, share->passcode_hash)) {
      if (charge) charge->keep();
      std::optional<store::Share> counted;
      bool wrong_counted = false;
      HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
        HB_ASSIGN_OR_RETURN(counted, w.share(share->id));
        if (!counted || counted->status != "active") return Status::ok();
        wrong_counted = true;
        if (now - counted->window_start >= std::chrono::hours(1)) {
          counted->window_start = now;
          counted->failures_window = 0;
        }
        ++counted->failures_window;
        ++counted->failures_total;
        if (counted->failures_window >= kWrongPerHour) {
          counted->locked_until = now + std::chrono::hours(1);
        }
        if (counted->failures_total >= kWrongInARow) {
          counted->status = "disabled";
          counted->ended = now;
        }
        return w.put_share(*counted);
      }));
      if (!counted) return gone();
      if (!wrong_counted) return refusal(*counted);  // ended meanwhile
      // Every wrong passcode is 401 with the passcodes left, the one that locks the share for the
      // hour or disables it (0 left) too: the lock (429) and the end (404) answer the requests
      // after it.
      return passcode_needed(*counted, "That is not the passcode for this link.");
    }
  }

  // Answered: recorded (and, for a single-use share, ended) in one transaction that re-reads the
  // share, so two requests at once cannot both use a single-use link.
  Json body;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(body, open_body(r, *share));
    return Status::ok();
  }));
  std::string entities = "Share/" + share->id;
  for (const auto& ref : body["records"]) entities += " " + ref.get<std::string>();
  const std::string recipient = utf8_prefix(req.recipient, kMaxRecipient);
  bool answered = false;
  std::optional<store::Share> locked_meanwhile;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto cur, w.share(share->id));
    if (!cur || cur->status != "active" || now >= cur->expires) return Status::ok();
    // Locked since it was read (by another server process: this one checks one passcode a share
    // at a time): the right passcode does not get past the lock either.
    if (cur->locked_until > now) {
      locked_meanwhile = *cur;
      return Status::ok();
    }
    cur->failures_total = 0;
    cur->failures_window = 0;
    cur->locked_until = Time{};
    if (cur->single_use) {
      cur->status = "used";
      cur->ended = now;
    }
    HB_RETURN_IF_ERROR(w.put_share(*cur));
    HB_ASSIGN_OR_RETURN(auto dek, vault_.key_for_write(w, cur->patient_id));
    HB_RETURN_IF_ERROR(w.add_share_access(
        {0, cur->id, cur->patient_id, now, dek.seal(recipient, recipient_aad(cur->id))}));
    store::AuditRecord a;
    a.id = new_uuid();
    a.time = now;
    a.action = "R";
    a.outcome = "0";
    a.event_type = "share-opened";
    a.client_id = kRecipientClient;
    a.patient_id = cur->patient_id;
    a.entities = entities;
    a.detail = "recipient: " + recipient;
    a.source_ip = address;
    HB_RETURN_IF_ERROR(w.append_audit(a));
    answered = true;
    return Status::ok();
  }));
  if (locked_meanwhile) return refusal(*locked_meanwhile);
  if (!answered) return gone();
  documents::ShlManifest manifest;
  for (const Json& f : body["files"]) {
    std::string jwe = f.value("jwe", "");
    if (req.embedded_length_max && static_cast<int64_t>(jwe.size()) > *req.embedded_length_max) {
      // Longer than the viewer takes embedded: a single-use, short-lived location.
      HB_ASSIGN_OR_RETURN(std::string location, documents_.shl_location(std::move(jwe)));
      manifest.files.push_back({f.value("contentType", ""), std::nullopt, std::move(location)});
    } else {
      manifest.files.push_back({f.value("contentType", ""), std::move(jwe), std::nullopt});
    }
  }
  return ShareAnswer{200, manifest.to_json()};
}

}  // namespace hb::services
