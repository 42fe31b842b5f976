#include "services/documents.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

#include "core/ids.h"
#include "core/utf8.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "documents/device_cookie.h"
#include "documents/health_card.h"
#include "documents/numeric.h"
#include "documents/qr.h"
#include "documents/request.h"
#include "documents/shlink.h"
#include "ledger/receipt.h"
#include "services/resident_audit.h"

namespace hb::services {
namespace {

using documents::Family;
using documents::Kind;
using documents::Request;
using documents::find_kind;
using documents::kKindSystem;
using documents::normalise_birth_date;

constexpr const char* kPatientRef = "urn:uuid:00000000-0000-4000-8000-000000000001";

Json period_of(const Request& r) { return {{"start", r.from}, {"end", r.to}}; }

// The patient's record: the Patient (found by identifier, or registered) and the DocumentReference.
// `replaces`: "DocumentReference/<id>" of the document this one replaces, or "".
// The DocumentReference and the records the document brings are always new: a document is issued
// once (the documents table holds one row per facility and documentId, and the replay answers a
// repeat), so there is nothing of its own to find, and a resource that a facility wrote through
// /fhir with the same identifier is not the document's record.
// The patient's name as the request gives it, with `text` as this deployment writes it: a verifier
// or FHIR client that shows `text` shows "Nguyễn Văn An", not "Văn An Nguyễn".
Json human_name(const Request& r, fhir::NameOrder order) {
  return {{"family", r.family},
          {"given", Json::array({r.given})},
          {"text", fhir::written_name(r.family, {r.given}, order)}};
}

Json record_bundle(const Request& r, const RecordsOptions& ro, const store::Facility& f,
                   const std::string& issued, const std::string& doc_id, const std::string& replaces) {
  Json ids = Json::array();
  std::string match;
  if (!r.national_id.empty() && !ro.national_id_systems.empty()) {
    ids.push_back({{"system", ro.national_id_systems[0]}, {"value", r.national_id}});
    match = "identifier=" + ro.national_id_systems[0] + "|" + r.national_id;
  }
  if (!r.insurance.empty() && !ro.insurance_systems.empty()) {
    ids.push_back({{"system", ro.insurance_systems[0]}, {"value", r.insurance}});
    if (match.empty()) match = "identifier=" + ro.insurance_systems[0] + "|" + r.insurance;
  }
  Json patient = {
      {"resourceType", "Patient"},
      {"identifier", std::move(ids)},
      {"name", Json::array({human_name(r, ro.name_order)})},
      {"birthDate", r.birth_date},
      {"telecom", Json::array({{{"system", "phone"}, {"value", r.phone}, {"use", "mobile"}}})}};
  std::string doc_system = "urn:healthbook:document:" + f.code;
  Json author = {{"display", r.doctor + (r.doctor_registration.empty() ? "" : " (" + r.doctor_registration + ")")}};
  Json docref = {{"resourceType", "DocumentReference"},
                 {"identifier", Json::array({{{"system", doc_system}, {"value", r.ref}},
                                             {{"system", "urn:healthbook:document"}, {"value", doc_id}}})},
                 {"status", "current"},
                 {"type", {{"coding", Json::array({{{"system", kKindSystem}, {"code", r.kind->code}, {"display", r.kind->label}}})},
                           {"text", r.kind->label}}},
                 {"subject", {{"reference", "urn:uuid:00000000-0000-4000-8000-000000000001"}}},
                 {"date", issued},
                 {"author", Json::array({author})},
                 {"custodian", {{"display", f.name}}},
                 {"description", r.kind->label},
                 {"content", Json::array({{{"attachment", {{"contentType", "application/smart-health-card"}, {"title", r.kind->label}}}}})}};
  if (r.kind->leave || r.kind->family == Family::kDischarge) docref["context"] = {{"period", period_of(r)}};
  if (!replaces.empty()) {
    docref["relatesTo"] = Json::array({{{"code", "replaces"}, {"target", {{"reference", replaces}}}}});
  }
  if (!r.summary.empty()) {
    docref["content"][0]["attachment"] = {{"contentType", "text/plain; charset=utf-8"},
                                          {"data", crypto::base64_encode(r.summary)},
                                          {"title", r.kind->label}};
  }
  Json entries =
      Json::array({{{"fullUrl", kPatientRef},
                    {"resource", std::move(patient)},
                    {"request", {{"method", "POST"}, {"url", "Patient"}, {"ifNoneExist", match}}}},
                   {{"resource", std::move(docref)},
                    {"request", {{"method", "POST"}, {"url", "DocumentReference"}}}}});
  for (size_t i = 0; i < r.clinical.size(); ++i) {
    Json res = r.clinical[i];
    res[res["resourceType"] == "Immunization" ? "patient" : "subject"] = {{"reference", kPatientRef}};
    res["identifier"] = Json::array({{{"system", doc_system}, {"value", r.ref + "/" + std::to_string(i)}}});
    if (res["resourceType"] == "ServiceRequest") {
      res["authoredOn"] = issued;
      res["requester"] = {{"display", author["display"]}};
    }
    if (res["resourceType"] == "Immunization") res["performer"] = Json::array({{{"actor", {{"display", f.name}}}}});
    std::string type = res["resourceType"];
    entries.push_back(
        {{"resource", std::move(res)}, {"request", {{"method", "POST"}, {"url", type}}}});
  }
  return {{"resourceType", "Bundle"}, {"type", "transaction"}, {"entry", std::move(entries)}};
}

// The card's content: what a verifier sees. No identifiers and no diagnosis: an employer checking
// a certificate learns the name, birth date, the leave and who issued it.
Json card_bundle(const Request& r, const store::Facility& f, const std::string& issued,
                 fhir::NameOrder order) {
  Json docref = {{"resourceType", "DocumentReference"},
                 {"status", "current"},
                 {"type", {{"coding", Json::array({{{"system", kKindSystem}, {"code", r.kind->code}}})}}},
                 {"subject", {{"reference", "resource:0"}}},
                 {"date", issued},
                 {"author", Json::array({{{"display", r.doctor}}})},
                 {"custodian", {{"display", f.name}}},
                 {"content", Json::array({{{"attachment", {{"contentType", "text/plain"}, {"title", r.kind->label}}}}})}};
  if (r.kind->leave || r.kind->family == Family::kDischarge) docref["context"] = {{"period", period_of(r)}};
  if (!r.summary.empty()) {
    docref["content"][0]["attachment"] = {{"contentType", "text/plain; charset=utf-8"},
                                          {"data", crypto::base64_encode(r.summary)}};
  }
  Json entries = Json::array({{{"fullUrl", "resource:0"},
                               {"resource",
                                {{"resourceType", "Patient"},
                                 {"name", Json::array({human_name(r, order)})},
                                 {"birthDate", r.birth_date}}}},
                              {{"fullUrl", "resource:1"}, {"resource", std::move(docref)}}});
  for (const Json& c : r.clinical) {
    Json res = c;
    res[res["resourceType"] == "Immunization" ? "patient" : "subject"] = {{"reference", "resource:0"}};
    if (res["resourceType"] == "ServiceRequest") {
      res["authoredOn"] = issued;
      res["requester"] = {{"display", r.doctor}};
    }
    if (res["resourceType"] == "Immunization") res["performer"] = Json::array({{{"actor", {{"display", f.name}}}}});
    entries.push_back({{"fullUrl", "resource:" + std::to_string(entries.size())}, {"resource", std::move(res)}});
  }
  return {{"resourceType", "Bundle"}, {"type", "collection"}, {"entry", std::move(entries)}};
}

// An identity number with all but its first and last four characters hidden.
std::string mask_id(const std::string& id) {
  if (id.size() <= 5) return std::string(id.size(), '*');
  return id.substr(0, 1) + std::string(id.size() - 5, '*') + id.substr(id.size() - 4);
}

std::string issuer_owner(const std::string& facility_id) { return "issuer:" + facility_id; }

// A document's entry in the transparency log (docs/transparency-log.md): the card's hash, who
// issued it, the kind and the time; never anything about the patient. Rebuilt byte for byte from
// the document row when its inclusion is checked.
std::string log_entry(const store::Document& d, const std::string& iss) {
  return dump_json(Json{{"v", 1}, {"op", "issue"}, {"card", d.card_hash}, {"iss", iss},
                        {"kind", d.kind}, {"time", format_instant(d.issued)}});
}
std::string issuer_aad(const std::string& facility_id) { return "issuer-key/" + facility_id; }
std::string document_aad(const store::Document& d) { return "document/" + d.id; }

// A card's QR text (shc:/...), derived from the card: bodies stored since 2026-12 keep only the
// card (the QR text doubled its size); earlier ones have it under "qr".
std::string qr_of(const Json& body) {
  const std::string card = body.value("card", "");
  if (card.empty()) return {};
  if (auto it = body.find("qr"); it != body.end() && it->is_string()) return it->get<std::string>();
  auto qr = documents::to_shc_numeric(card);
  return qr ? std::move(*qr) : std::string();
}

// The link's SMART Health Link file: for a card, encrypted now from the card with the link's
// key; for a document too large for a card, the encrypted FHIR Bundle stored at issuance (its
// only copy). Bodies stored before 2026-12 have the card's file too; either is a valid file.
// Empty when the document has none (bodies from before links were SMART Health Links have no
// key).
Result<std::string> shl_file_of(const Json& body) {
  if (auto it = body.find("shlFile"); it != body.end() && it->is_string()) return it->get<std::string>();
  const std::string card = body.value("card", "");
  const std::string key = body.value("shlKey", "");
  if (card.empty() || key.empty()) return std::string();
  return documents::encrypt_shl_file(key, documents::health_card_file({card}),
                                     documents::kContentTypeHealthCard);
}

// `qr`: the card's QR text when the caller has it (issuance), else derived from the card.
Json answer(const store::Document& d, const Json& body, const std::string& iss, std::string qr = {}) {
  if (qr.empty()) qr = qr_of(body);
  return {{"id", d.id},
          {"documentId", d.facility_ref},
          {"kind", d.kind},
          {"status", d.status},
          {"issued", format_instant(d.issued)},
          {"issuer", iss},
          {"patient", body.value("patient", "")},
          {"documentReference", body.value("documentReference", "")},
          {"card", body.value("card", "").empty() ? Json(nullptr)
                                                 : Json{{"jws", body.value("card", "")}, {"qr", std::move(qr)}}},
          {"transparencyLog", {{"index", d.log_index}, {"receipt", body.value("receipt", "")}}}};
}

// The patient's choice for a document: every link made since follows it, so any link tells.
bool shows_diagnosis(const std::vector<store::DocLink>& links) {
  return std::any_of(links.begin(), links.end(),
                     [](const store::DocLink& l) { return l.show_diagnosis; });
}

}  // namespace

DocumentService::DocumentService(store::Store& store, Vault& vault, RecordService& records,
                                 ledger::Log& log, const Clock& clock, DocumentOptions options,
                                 notify::Outbox* outbox)
    : store_(store),
      vault_(vault),
      records_(records),
      log_(log),
      clock_(clock),
      options_(std::move(options)),
      outbox_(outbox),
      device_mac_(
          crypto::hkdf_sha256(options_.rid_secret, "", "healthbook link-device cookies v1", 32)),
      wrong_by_address_(clock, kWrongPerAddressHour / 60.0, kWrongPerAddressHour) {}

Result<std::string> DocumentService::open_document_text(store::Reader& r,
                                                        const store::Document& d) {
  HB_ASSIGN_OR_RETURN(auto dek, vault_.key_for_read(r, d.patient_id));
  return dek.open(d.body, document_aad(d));
}

Result<Json> DocumentService::open_document(store::Reader& r, const store::Document& d) {
  HB_ASSIGN_OR_RETURN(auto text, open_document_text(r, d));
  // FHIR parsing: the request's decimals (lab values) keep their text.
  return parse_fhir_json(text);
}

Result<DocumentService::SigningKey> DocumentService::signing_key(const store::Facility& facility) {
  {
    std::lock_guard lock(keys_mu_);
    if (auto it = keys_.find(facility.id); it != keys_.end()) return it->second;
  }
  const std::string owner = issuer_owner(facility.id);
  std::optional<crypto::PrivateKey> key;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto stored, r.issuer_key(facility.id));
    if (!stored) return Status::ok();
    HB_ASSIGN_OR_RETURN(auto dek, vault_.key_for_read(r, owner));
    HB_ASSIGN_OR_RETURN(auto pem, dek.open(stored->sealed_key, issuer_aad(facility.id)));
    HB_ASSIGN_OR_RETURN(auto k, crypto::PrivateKey::from_pem(pem));
    key = std::move(k);
    return Status::ok();
  }));
  if (!key) {
    // First document of this facility: make its key. The write re-checks, so two first issues at
    // once end with one key, which both use.
    HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
      HB_ASSIGN_OR_RETURN(auto dek, vault_.key_for_write(w, owner));
      HB_ASSIGN_OR_RETURN(auto stored, w.issuer_key(facility.id));
      if (stored) {
        HB_ASSIGN_OR_RETURN(auto pem, dek.open(stored->sealed_key, issuer_aad(facility.id)));
        HB_ASSIGN_OR_RETURN(auto k, crypto::PrivateKey::from_pem(pem));
        key = std::move(k);
        return Status::ok();
      }
      HB_ASSIGN_OR_RETURN(auto fresh, crypto::PrivateKey::generate(crypto::KeyType::kEcP256));
      store::IssuerKey row{facility.id, fresh.public_key().thumbprint(),
                           dek.seal(fresh.to_pem(), issuer_aad(facility.id)), clock_.now()};
      HB_RETURN_IF_ERROR(w.put_issuer_key(row));
      key = std::move(fresh);
      return Status::ok();
    }));
    directory_changed();  // a new issuer (or a new key) to trust
  }
  std::string kid = key->public_key().thumbprint();
  std::lock_guard lock(keys_mu_);
  return keys_.emplace(facility.id, SigningKey{std::move(*key), std::move(kid)}).first->second;
}

// One document on its way through issue_all: what each step leaves for the next.
struct DocumentService::Issuing {
  Json request;                                   // the facility's request for this document
  std::optional<Result<IssuedDocument>> outcome;  // set once the document is answered
  std::optional<Request> req;
  std::string request_hash;
  std::optional<store::Document> replaced;  // the document this one replaces
  std::string replaced_record;              // "DocumentReference/<id>" of the replaced document
  store::Document doc;
  documents::IssuedCard card;
  std::string content_text;  // the FHIR Bundle, for a document too large for one QR code
  std::string link_token;
  store::DocLink link;
  Json body;
  Principal issuer;  // the caller, allowed to write the document's DocumentReference
  RecordService::Pending written;
};

namespace {

Status replacement_of_another_patient() {
  return Status(Code::kUnprocessable, "a replacement must be for the same patient",
                {{"replaces", "names a document of another patient", "invalid"}});
}

}  // namespace

Result<bool> DocumentService::names_person(store::Reader& r, const Request& req,
                                           const std::string& patient_id) {
  const RecordsOptions& o = records_.options();
  std::vector<std::string> ids;  // "<system>|<value>", as the records transaction sends them
  if (!req.national_id.empty() && !o.national_id_systems.empty()) {
    ids.push_back(o.national_id_systems[0] + "|" + req.national_id);
  }
  if (!req.insurance.empty() && !o.insurance_systems.empty()) {
    ids.push_back(o.insurance_systems[0] + "|" + req.insurance);
  }
  bool found = false;
  for (const std::string& id : ids) {
    HB_ASSIGN_OR_RETURN(auto registered, r.patient_by_identifier(vault_.blind("person", id)));
    if (!registered) continue;
    if (*registered != patient_id) return false;
    found = true;
  }
  return found;
}

Status DocumentService::may_issue(const Principal& who) const {
  if (!who.allows("DocumentReference", 'c')) {
    return forbidden("issuing documents needs the create scope on DocumentReference");
  }
  if (who.facility_id.empty()) return forbidden("documents are issued by facilities");
  return Status::ok();
}

Result<IssuedDocument> DocumentService::replayed(store::Reader& r, const store::Document& d,
                                                 const std::string& request_hash,
                                                 const std::string& iss) {
  HB_ASSIGN_OR_RETURN(Json body, open_document(r, d));
  if (body.value("requestHash", "") != request_hash) {
    return Status(Code::kConflict,
                  "documentId " + d.facility_ref + " was used for a different document",
                  {{"documentId", "already names another document of this facility", "duplicate"}});
  }
  return IssuedDocument{200, answer(d, body, iss)};
}

Result<IssuedDocument> DocumentService::issue(const Principal& who, std::string_view request_json) {
  HB_RETURN_IF_ERROR(may_issue(who));
  HB_ASSIGN_OR_RETURN(Json j, parse_fhir_json(request_json, JsonLimits{kMaxRequestBytes, 16}));
  std::vector<Issuing> one(1);
  one[0].request = std::move(j);
  HB_RETURN_IF_ERROR(issue_all(who, one));
  return std::move(*one[0].outcome);
}

Result<std::vector<Result<IssuedDocument>>> DocumentService::issue_batch(
    const Principal& who, std::string_view request_json) {
  HB_RETURN_IF_ERROR(may_issue(who));
  HB_ASSIGN_OR_RETURN(Json j, parse_fhir_json(request_json, JsonLimits{kMaxBatchBytes, 17}));
  HB_ASSIGN_OR_RETURN(std::vector<Json> requests, documents::take_batch_requests(j));
  std::vector<Issuing> items(requests.size());
  for (size_t i = 0; i < items.size(); ++i) {
    Json& request = requests[i];
    // Each document within the limit a request of its own has.
    if (dump_json(request).size() > kMaxRequestBytes) {
      items[i].outcome =
          Status(Code::kTooLarge, "a document request is larger than " +
                                      std::to_string(kMaxRequestBytes / 1024) + " KiB");
    } else {
      items[i].request = std::move(request);
    }
  }
  HB_RETURN_IF_ERROR(issue_all(who, items));
  std::vector<Result<IssuedDocument>> out;
  out.reserve(items.size());
  for (auto& it : items) out.push_back(std::move(*it.outcome));
  return out;
}

Status DocumentService::issue_all(const Principal& who, std::vector<Issuing>& items) {
  const Time now = clock_.now();
  std::map<std::string, size_t> by_ref;     // a documentId's first request in this call
  std::map<std::string, size_t> replacing;  // a replaced documentId's first request in this call
  for (size_t i = 0; i < items.size(); ++i) {
    Issuing& it = items[i];
    if (it.outcome) continue;
    auto req = documents::parse_document_request(it.request, now);
    if (!req) {
      it.outcome = req.error();
      continue;
    }
    if (!by_ref.emplace(req->ref, i).second) {
      it.outcome = Status(
          Code::kConflict, "documentId " + req->ref + " appears more than once in this batch",
          {{"documentId",
            "already names request " + std::to_string(by_ref[req->ref]) + " of this batch",
            "duplicate"}});
      continue;
    }
    if (!req->replaces.empty()) {
      auto [first, fresh] = replacing.emplace(req->replaces, i);
      if (!fresh) {
        it.outcome = Status(Code::kUnprocessable, "a document is replaced once",
                            {{"replaces",
                              req->replaces + " is already replaced by request " +
                                  std::to_string(first->second) + " of this batch",
                              "invalid"}});
        continue;
      }
    }
    it.req = std::move(*req);
    it.request_hash = crypto::sha256_hex(dump_json(it.request));
  }

  // The documents to replace are held until their replacements are stored: the log records the
  // replacement before the store does, so nothing else may change them in between (see
  // changing_). Declared before the writes' wait below, so it is released after it.
  InFlight::Claims replacing_claims(changing_);
  for (Issuing& it : items) {
    if (it.outcome || it.req->replaces.empty()) continue;
    // Replacing changes the replaced document as revoking does (onto the CRL, superseded).
    if (!who.allows("DocumentReference", 'u')) {
      it.outcome = forbidden("replacing a document needs the update scope on DocumentReference");
      continue;
    }
    if (!replacing_claims.add(who.facility_id + "|" + it.req->replaces)) {
      it.outcome =
          Status(Code::kConflict,
                 "the document to replace is being revoked or replaced by another request; "
                 "try again",
                 {{"replaces", "being changed by another request", "conflict"}});
    }
  }

  // What the store already holds: the facility, documents issued before under the same ids
  // (idempotency), and the documents to replace.
  std::optional<store::Facility> facility;
  std::string iss;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(facility, r.facility_by_id(who.facility_id));
    if (!facility) return forbidden("unknown facility");
    iss = issuer_url(facility->code);
    for (Issuing& it : items) {
      if (it.outcome) continue;
      HB_ASSIGN_OR_RETURN(auto existing, r.document_by_ref(who.facility_id, it.req->ref));
      if (existing) {
        it.outcome = replayed(r, *existing, it.request_hash, iss);
        continue;
      }
      if (it.req->replaces.empty()) continue;
      HB_ASSIGN_OR_RETURN(it.replaced, r.document_by_ref(who.facility_id, it.req->replaces));
      if (!it.replaced || it.replaced->status != "active") {
        it.outcome = Status(
            Code::kUnprocessable,
            "the document to replace is not an active document of this facility",
            {{"replaces", "no active document " + it.req->replaces + " issued here", "not-found"}});
        continue;
      }
      // A replacement corrects a document; it does not turn it into another one. A verifier
      // holding the old card is told "superseded" and sent to the new one, which must answer the
      // same question (sick leave, not a referral). Another kind is a new document, and the old
      // one is revoked if it was wrong.
      if (it.replaced->kind != it.req->kind->code) {
        it.outcome =
            Status(Code::kUnprocessable, "a replacement must be of the same kind",
                   {{"replaces",
                     "names a " + it.replaced->kind + " document; a replacement must be a " +
                         it.replaced->kind + " too (issue a " + it.req->kind->code +
                         " as a new document, and revoke the old one if it was wrong)",
                     "invalid"}});
        continue;
      }
      // Checked here as well as when stored: the log is told of the replacement before the
      // store is, and must not record one that the store then refuses.
      HB_ASSIGN_OR_RETURN(bool same_person, names_person(r, *it.req, it.replaced->patient_id));
      if (!same_person) {
        it.outcome = replacement_of_another_patient();
        continue;
      }
      HB_ASSIGN_OR_RETURN(Json old_body, open_document(r, *it.replaced));
      it.replaced_record = old_body.value("documentReference", "");
    }
    return Status::ok();
  }));

  std::vector<Issuing*> to_issue;
  for (Issuing& it : items) {
    if (!it.outcome) to_issue.push_back(&it);
  }
  if (to_issue.empty()) return Status::ok();
  HB_ASSIGN_OR_RETURN(SigningKey signing, signing_key(*facility));

  // The writer's closures refer to the items: however this call ends (an exception included),
  // it waits for every queued write first.
  struct WaitForWrites {
    std::vector<Issuing*>& items;
    ~WaitForWrites() {
      for (Issuing* it : items) it->written.wait();
    }
  } wait_for_writes{to_issue};

  // In chunks: while the store's writer stores one chunk, this thread signs and logs the next.
  for (size_t from = 0; from < to_issue.size(); from += kIssueChunk) {
    const size_t to = std::min(to_issue.size(), from + kIssueChunk);
    std::vector<Issuing*> chunk;
    std::vector<std::string> entries;
    std::vector<size_t> first_entry;  // chunk[k]'s first entry in `entries`
    for (size_t k = from; k < to; ++k) {
      Issuing& it = *to_issue[k];
      sign(it, *facility, signing, iss);
      if (it.outcome) continue;
      chunk.push_back(&it);
      first_entry.push_back(entries.size());
      entries.push_back(log_entry(it.doc, iss));
      if (it.replaced) {
        entries.push_back(dump_json(Json{{"v", 1},
                                         {"op", "supersede"},
                                         {"card", it.replaced->card_hash},
                                         {"by", it.doc.card_hash},
                                         {"iss", iss},
                                         {"time", format_instant(it.doc.issued)}}));
      }
    }
    if (chunk.empty()) continue;
    // The cards' hashes are in the log, durably, before the documents exist anywhere else: a
    // card that is shown is always provable, and an entry whose document then failed to store
    // proves nothing about anyone (it holds no patient data). One append for the chunk: one
    // fsync and one checkpoint.
    auto appended = log_.append(entries);
    if (!appended) {
      for (Issuing* it : chunk) it->outcome = appended.error();
      continue;
    }
    for (size_t k = 0; k < chunk.size(); ++k) {
      Issuing& it = *chunk[k];
      const ledger::Appended& a = (*appended)[first_entry[k]];
      it.doc.log_index = static_cast<int64_t>(a.index);
      it.issuer = who;
      submit(it, *facility, a.receipt);
    }
  }

  bool any_written = false;
  bool any_replaced = false;
  for (Issuing* p : to_issue) {
    Issuing& it = *p;
    if (it.outcome) continue;
    Status written = it.written.get();
    if (written) {
      any_written = true;
      any_replaced = any_replaced || it.replaced.has_value();
      Json out = answer(it.doc, it.body, iss, std::move(it.card.qr_text));
      out["link"] = options_.base_url + "/c/" + it.link_token;
      it.outcome = IssuedDocument{201, std::move(out)};
      continue;
    }
    it.outcome = std::move(written);
    if (it.outcome->error().code() == Code::kConflict) {
      // The same documentId, issued at the same moment by another request of this facility.
      Status read = store_.read([&](store::Reader& r) -> Status {
        HB_ASSIGN_OR_RETURN(auto raced, r.document_by_ref(who.facility_id, it.req->ref));
        if (raced) it.outcome = replayed(r, *raced, it.request_hash, iss);
        return Status::ok();
      });
      if (!read) it.outcome = read;
    }
  }
  // enqueue() woke the dispatcher, but perhaps while a write was prepared on this thread (see
  // speculation.h), before it was stored: wake it again now that the SMS is there to send.
  if (outbox_ && any_written) outbox_->wake();
  if (any_replaced) directory_changed();  // the replaced cards' rids join the CRL
  return Status::ok();
}

void DocumentService::sign(Issuing& it, const store::Facility& facility, const SigningKey& signing,
                           const std::string& iss) {
  store::Document& doc = it.doc;
  doc.id = new_uuid();
  doc.facility_id = facility.id;
  doc.facility_ref = it.req->ref;
  doc.kind = it.req->kind->code;
  doc.status = "active";
  doc.kid = signing.kid;
  doc.rid = documents::revocation_id(options_.rid_secret, signing.kid, doc.id);
  doc.issued = clock_.now();

  documents::IssueOptions io;
  io.iss = iss;
  io.rid = doc.rid;
  io.kid = signing.kid;
  const Json content =
      card_bundle(*it.req, facility, format_instant(doc.issued), records_.options().name_order);
  auto issued_card = documents::issue_health_card(content, signing.key, io, clock_);
  if (issued_card) {
    it.card = std::move(*issued_card);
    doc.card_hash = crypto::sha256_hex(it.card.jws);
  } else if (issued_card.error().code() == Code::kTooLarge) {  // documents too large for one QR
    it.content_text = dump_json(content);                      // code go by link only
    doc.card_hash = crypto::sha256_hex(it.content_text);
  } else {
    it.outcome = issued_card.error();
  }
}

void DocumentService::submit(Issuing& it, const store::Facility& facility,
                             const std::string& receipt) {
  store::Document& doc = it.doc;
  // The patient's link: only its hash is stored; the token goes to the patient (and, this once,
  // to the issuing facility, which may print it).
  // 256 bits: the link is also a SMART Health Link manifest URL, which needs that much entropy.
  it.link_token = crypto::random_token(32);
  const std::string shl_key = documents::new_shl_key();
  it.link.token_hash = crypto::sha256_hex(it.link_token);
  it.link.document_id = doc.id;
  it.link.created = doc.issued;

  // The card's QR text and the link's file for a card are derived when needed (qr_of,
  // shl_file_of): stored, they were half of every document row. The SMART Health Link's label is
  // cut between characters (at 60 bytes, a Vietnamese name lost half a letter).
  std::string label = utf8_prefix("Document from " + facility.name, documents::kMaxShlLabelChars);
  it.body = {{"requestHash", it.request_hash},
             {"request", std::move(it.request)},  // not read again
             {"card", it.card.jws},
             {"receipt", receipt},
             {"details", it.req->details},
             {"shlKey", shl_key},
             {"label", std::move(label)}};
  if (it.card.jws.empty()) {  // the link's file is the document's only copy of its FHIR Bundle
    auto file = documents::encrypt_shl_file(shl_key, it.content_text, documents::kContentTypeFhir);
    if (!file) {
      it.outcome = file.error();
      return;
    }
    it.body["shlFile"] = std::move(*file);
  }
  Json bundle = record_bundle(*it.req, records_.options(), facility, format_instant(doc.issued),
                              doc.id, it.replaced_record);
  // Only this service writes a verifiable document's DocumentReference (see Principal).
  it.issuer.issues_documents = true;
  Issuing* p = &it;
  it.written = records_.transaction_json_async(
      it.issuer, std::move(bundle),
      [this, p](store::Writer& w, const std::vector<std::string>& refs) -> Status {
        Issuing& it = *p;
        store::Document& doc = it.doc;
        if (refs.size() < 2 || refs[0].rfind("Patient/", 0) != 0)
          return internal("unexpected transaction result");
        doc.patient_id = refs[0].substr(8);
        it.body["patient"] = refs[0];
        it.body["documentReference"] = refs[1];
        // The results, vaccination or referral the document brought: they follow a revocation.
        Json clinical = Json::array();
        for (size_t i = 2; i < refs.size(); ++i) {
          if (!refs[i].empty()) clinical.push_back(refs[i]);
        }
        if (clinical.empty())
          it.body.erase("clinicalRecords");
        else
          it.body["clinicalRecords"] = std::move(clinical);
        HB_ASSIGN_OR_RETURN(auto dek, vault_.key_for_write(w, doc.patient_id));
        doc.body = dek.seal(dump_json(it.body), document_aad(doc));
        HB_RETURN_IF_ERROR(w.put_document(doc));
        it.link.patient_id = doc.patient_id;
        HB_RETURN_IF_ERROR(w.put_doc_link(it.link));
        if (outbox_) {
          // No health data in the message: not the kind, not the facility; a link and what it needs.
          notify::Message sms;
          sms.channel = notify::Channel::kSms;
          sms.recipient = it.req->phone;
          // A replacement says so: the patient may have forwarded the old link already, and
          // that one now says "superseded".
          sms.text = std::string(it.replaced ? "Healthbook: a corrected document replaces an "
                                               "earlier one. Open it with your date of birth: "
                                             : "Healthbook: you have a new document. Open it with "
                                               "your date of birth: ") +
                     options_.base_url + "/c/" + it.link_token;
          sms.patient_id = doc.patient_id;
          sms.dedupe_key = "document:" + doc.id;
          HB_RETURN_IF_ERROR(outbox_->enqueue(w, sms).status());
        }
        if (it.replaced) {
          HB_ASSIGN_OR_RETURN(auto old, w.document(it.replaced->id));
          if (!old || old->status != "active")
            return conflict("the replaced document changed meanwhile");
          if (old->patient_id != doc.patient_id) return replacement_of_another_patient();
          old->status = "superseded";
          old->superseded_by = doc.id;
          old->revoked = doc.issued;
          old->revoke_reason = "superseded";
          HB_RETURN_IF_ERROR(w.put_document(*old));
          if (it.replaced_record.rfind("DocumentReference/", 0) == 0) {
            HB_RETURN_IF_ERROR(records_.set_document_status(
                w, it.issuer, "DocumentReference", it.replaced_record.substr(18), "superseded"));
          }
        }
        return Status::ok();
      });
}

LinkResult DocumentService::refusal(const store::DocLink& state, Asker asker) const {
  LinkResult r;
  const Time now = clock_.now();
  if (state.disabled) {
    r.status = 410;
    r.body = {{"title", "disabled"},
              {"detail",
               "This link was turned off after too many wrong answers. The patient can "
               "turn it back on, signed in to Healthbook (My documents), or ask the "
               "clinic that issued the document to."}};
  } else if (state.locked_until > now) {
    r.status = 429;
    r.body = {
        {"title", "locked"},
        {"detail", "Too many wrong answers. Try again later."},
        {"limit", "link"},
        {"retryAfter",
         std::chrono::duration_cast<std::chrono::seconds>(state.locked_until - now).count() + 1}};
  } else {
    const bool fresh_window = now - state.window_start >= std::chrono::hours(1);
    const int in_window = fresh_window ? 0 : state.failures_window;
    const int before_disabled = kWrongInTotal - state.failures_total;
    const int remaining = asker == Asker::kShlViewer
                              ? before_disabled
                              : std::min(kWrongPerHour - in_window, before_disabled);
    r.status = 401;
    r.body = {{"title", "birth-date-required"},
              {"detail", "Enter the date of birth of the person this document is for."},
              {"remainingAttempts", std::max(0, remaining)}};
  }
  r.body["status"] = r.status;
  r.body["type"] = "about:blank";
  return r;
}

LinkResult DocumentService::wrong_answer(const store::DocLink& state, Asker asker) const {
  LinkResult r;
  if (asker == Asker::kShlViewer) {
    // SMART Health Links: every wrong passcode is 401 with the attempts left before the link is
    // disabled, the one that sets the hour's lock or disables it too. The lock (429) and the end
    // (404) answer the requests after it.
    store::DocLink counted = state;
    counted.disabled = false;
    counted.locked_until = Time{};
    r = refusal(counted, asker);
  } else {
    r = refusal(state, asker);
  }
  if (r.status == 401) r.body["detail"] = "That is not the date of birth for this document.";
  return r;
}

void DocumentService::audit_link_read(const char* event, const char* client, const std::string& patient_id,
                                      const std::string& document_id, std::string detail,
                                      const std::string& address) {
  store::AuditRecord a;
  a.id = new_uuid();
  a.time = clock_.now();
  a.action = "R";
  a.outcome = "0";
  a.event_type = event;
  a.client_id = client;
  a.patient_id = patient_id;
  a.entities = "Document/" + document_id;
  a.detail = std::move(detail);
  a.source_ip = address;
  store_.append_audit_async(std::move(a));
}

std::string DocumentService::device_cookie(const std::string& token_hash, Time expires) const {
  return documents::make_device_cookie(device_mac_, token_hash, unix_seconds(expires));
}

bool DocumentService::device_cookie_holds(const std::string& token_hash,
                                          std::string_view cookie) const {
  const int64_t now = unix_seconds(clock_.now());
  // A cookie names its own expiry, but only this service makes them, never further ahead (with
  // five minutes for a server clock set back meanwhile).
  const int64_t latest = now + std::chrono::seconds(kDeviceLifetime).count() + 300;
  return documents::device_cookie_holds(device_mac_, token_hash, cookie, now, latest);
}

Result<std::optional<store::DocLink>> DocumentService::unlocked(const std::string& token_hash,
                                                                const std::string& device_token) {
  std::optional<store::DocLink> out;
  if (device_token.empty()) return out;
  // A signed cookie speaks for itself; one without a '.' is a random token from before them.
  const bool signed_cookie = device_token.find('.') != std::string::npos;
  if (signed_cookie && !device_cookie_holds(token_hash, device_token)) return out;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    if (!signed_cookie) {
      HB_ASSIGN_OR_RETURN(auto device, r.link_device(crypto::sha256_hex(device_token)));
      if (!device || device->token_hash != token_hash || device->expires <= clock_.now()) {
        return Status::ok();
      }
    }
    HB_ASSIGN_OR_RETURN(out, r.doc_link(token_hash));
    return Status::ok();
  }));
  if (out && out->disabled) out.reset();
  return out;
}

// What a document shows its patient (and whoever they gave the link to): the link page's and the
// resident's own view. The diagnosis only when `show_diagnosis`; a revocation's reason only in the
// resident's view (resident_document).
Json DocumentService::document_view(const store::Document& doc, const std::optional<store::Facility>& facility,
                                    const Json& body, bool show_diagnosis) {
  const Json& req = body["request"];
  const Kind* kind = find_kind(req.value("kind", ""));
  const Json& p = req["patient"];
  Json view = {
      {"kind", doc.kind},
      {"label", kind ? kind->label : doc.kind},
      {"status", doc.status},
      {"patient",
       {{"name", fhir::written_name(p.value("family", ""), {p.value("given", "")},
                                    records_.options().name_order)},
        {"maskedId", mask_id(p.value("nationalId", p.value("insuranceNumber", "")))}}},
      {"facility",
       {{"name", facility ? facility->name : ""}, {"code", facility ? facility->code : ""}}},
      {"doctor", req.contains("doctor") ? req["doctor"].value("name", "") : std::string()},
      {"issued", format_instant(doc.issued)},
      {"qr", qr_of(body)},
      {"showDiagnosis", show_diagnosis}};
  if (req.contains("leave")) view["leave"] = req["leave"];
  if (body.contains("details") && !body["details"].is_null()) view["details"] = body["details"];
  if (body.value("card", "").empty()) view["linkOnly"] = true;  // too large for a QR card
  if (show_diagnosis && req.contains("diagnosis")) view["diagnosis"] = req["diagnosis"];
  // The QR code itself is drawn by the page from "qr": choosing its mask cost about 3 ms of
  // server CPU per document, the most of a first view (docs/benchmarks.md, step 8).
  return view;
}

Result<Json> DocumentService::link_view(const store::DocLink& link, const std::string& token,
                                        const std::string& address, bool latest, const Opened* opened) {
  std::optional<store::Document> row;
  Json read_body;
  std::optional<store::Facility> facility;
  // Whether the diagnosis shows is the patient's choice for the document shown: a replacement
  // reached through a replaced document's link follows the replacement's own choice, never the
  // old link's (the patient chose for the old diagnosis, not for whatever replaced it).
  bool show_diagnosis = link.show_diagnosis;
  if (!opened || latest || opened->doc.id != link.document_id) opened = nullptr;
  // An opened document is shown as the birth-date check's snapshot saw it, status included: a
  // revocation committed after that snapshot is ordered after this answer, as if it had come a
  // moment later. Reading it again cost a sixth of an unlock (every commit empties a reader's
  // page cache in WAL mode, so each read goes back to the file).
  if (!opened) {
    HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
      HB_ASSIGN_OR_RETURN(row, r.document(link.document_id));
      if (!row) return internal("a link names a missing document");
      for (int hops = 0; latest && row->status == "superseded" && !row->superseded_by.empty() && hops < 100;
           ++hops) {
        HB_ASSIGN_OR_RETURN(auto next, r.document(row->superseded_by));
        if (!next || next->patient_id != row->patient_id) break;
        row = std::move(next);
      }
      if (row->id != link.document_id) {
        HB_ASSIGN_OR_RETURN(auto own_links, r.doc_links_of(row->id));
        show_diagnosis = shows_diagnosis(own_links);
      }
      HB_ASSIGN_OR_RETURN(read_body, open_document(r, *row));
      HB_ASSIGN_OR_RETURN(facility, r.facility_by_id(row->facility_id));
      return Status::ok();
    }));
  }
  const store::Document* doc = opened ? &opened->doc : &*row;
  const Json& body = opened ? opened->body : read_body;
  if (opened) facility = opened->facility;
  Json view = document_view(*doc, facility, body, show_diagnosis);
  // The holder of a replaced document's link may open its replacement through the same link.
  if (doc->status == "superseded") view["supersededBy"] = "/c/" + token + "?latest";
  // The same document for any SMART Health Link viewer: the manifest URL is this link's, the
  // passcode is the birth date.
  // Only while the document holds: a SMART Health Link viewer has no way to say "revoked".
  if (body.contains("shlKey") && !latest && doc->status == "active") {
    documents::ShlPayload shl;
    shl.url = options_.base_url + "/shl/" + token;
    shl.key = body.value("shlKey", "");
    shl.flag = "P";
    shl.label = body.value("label", "");
    shl.v = 1;
    if (auto text = documents::encode_shlink_with_viewer(options_.base_url + "/c/" + token, shl)) {
      view["shlink"] = *text;
    }
  }
  // Reading a patient's document through their link is an access to their data.
  audit_link_read("link-view", "document-link", link.patient_id, doc->id, "document link", address);
  return view;
}

Result<LinkResult> DocumentService::open_link(const std::string& token, const std::string& device_token,
                                              const std::string& address, bool latest) {
  const std::string hash = crypto::sha256_hex(token);
  HB_ASSIGN_OR_RETURN(auto link, unlocked(hash, device_token));
  if (link) {
    HB_ASSIGN_OR_RETURN(Json view, link_view(*link, token, address, latest));
    return LinkResult{200, std::move(view), {}};
  }
  std::optional<store::DocLink> state;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(state, r.doc_link(hash));
    return Status::ok();
  }));
  if (!state) {
    std::lock_guard lock(unknown_mu_);
    auto it = unknown_links_.find(hash);
    state = it != unknown_links_.end() ? it->second : store::DocLink{};
  }
  return refusal(*state, Asker::kPage);
}

namespace {

LinkResult too_many_from_address() {
  return LinkResult{429,
                    {{"type", "about:blank"},
                     {"status", 429},
                     {"title", "locked"},
                     {"detail", "Too many wrong answers from this network. Try again later."},
                     {"limit", "address"},
                     {"retryAfter", 120}},
                    {}};
}

}  // namespace

Result<DocumentService::Attempt> DocumentService::check_birth_date(const std::string& token,
                                                                   std::string_view birth_date,
                                                                   const std::string& address,
                                                                   Asker asker) {
  const std::string hash = crypto::sha256_hex(token);
  const Time now = clock_.now();
  Attempt out;
  const std::string by_address = address_key(address);
  if (wrong_by_address_.exhausted(by_address)) {
    out.refused = too_many_from_address();
    return out;
  }
  const std::string given = normalise_birth_date(birth_date);
  if (given.empty() && asker == Asker::kPage) {
    // The same for every link, known or not, so it tells nothing; a typing slip costs no attempt.
    out.refused = LinkResult{400, {{"type", "about:blank"}, {"status", 400}, {"title", "not a date"},
                                   {"detail", "Enter the date of birth as YYYY-MM-DD or DD/MM/YYYY."}}, {}};
    return out;
  }
  // Answers sent at once do not share one look at the counts (services/rate_limit.h): the
  // address pays before the answer is checked, and one answer for a link (or for a link that
  // does not exist: the same) is checked at a time, up to its durable count.
  Charge charge(wrong_by_address_, by_address);
  if (!charge.charged()) {
    out.refused = too_many_from_address();
    return out;
  }
  const InFlight::Claim claim = checking_.claim(hash);
  if (!claim.held()) {
    out.refused =
        LinkResult{429,
                   {{"type", "about:blank"},
                    {"status", 429},
                    {"title", "busy"},
                    {"detail", "Another answer for this document is being checked. Try again."},
                    {"retryAfter", 1}},
                   {}};
    return out;
  }
  std::optional<store::DocLink> link;
  bool right = false;  // a known link, and its birth date
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(link, r.doc_link(hash));
    if (!link) return Status::ok();
    HB_ASSIGN_OR_RETURN(auto doc, r.document(link->document_id));
    if (!doc) return internal("a link names a missing document");
    HB_ASSIGN_OR_RETURN(auto body, open_document(r, *doc));
    const std::string stored_birth = body["request"]["patient"].value("birthDate", "");
    right = !given.empty() && crypto::equal_constant_time(given, stored_birth);
    // The issuer, for the page a right answer opens (in this snapshot: see link_view).
    std::optional<store::Facility> facility;
    if (right) {
      HB_ASSIGN_OR_RETURN(facility, r.facility_by_id(doc->facility_id));
    }
    out.opened = Opened{std::move(*doc), std::move(body), std::move(facility)};
    return Status::ok();
  }));
  // An unknown link is treated as a known one whose birth date is never given right.
  store::DocLink state = link ? *link : store::DocLink{};
  if (!link) {
    std::lock_guard lock(unknown_mu_);
    if (auto it = unknown_links_.find(hash); it != unknown_links_.end()) state = it->second;
  }
  if (state.disabled || state.locked_until > now) {
    out.refused = refusal(state, asker);
    return out;
  }
  if (right) {
    // The hour's count starts over, durably before the browser is let in; the total stays
    // (kWrongInTotal is over the link's life).
    // The row is read again in the write and only its counts change: the patient's choices and
    // a reopening by the issuer, written meanwhile by other requests, stay.
    const bool reset = state.failures_window != 0 || state.locked_until != Time{};
    state.failures_window = 0;
    state.locked_until = Time{};
    if (reset) {
      HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
        HB_ASSIGN_OR_RETURN(auto cur, w.doc_link(hash));
        if (!cur) return Status::ok();
        cur->failures_window = 0;
        cur->locked_until = Time{};
        state = *cur;
        return w.put_doc_link(*cur);
      }));
    }
    out.link = state;
    return out;
  }
  // Wrong (or unknown): count it, durably for a real link, before answering.
  charge.keep();
  auto count_wrong = [&](store::DocLink& l) {
    if (now - l.window_start >= std::chrono::hours(1)) {
      l.window_start = now;
      l.failures_window = 0;
    }
    ++l.failures_window;
    ++l.failures_total;
    if (l.failures_window >= kWrongPerHour) l.locked_until = now + std::chrono::hours(1);
    if (l.failures_total >= kWrongInTotal) l.disabled = true;
  };
  // Each wrong answer leaves an audit event for the operators (guessing shows there, by address),
  // written durably before the answer for an unknown link as for a known one: the two then take
  // about the same time, as well as giving the same words (a known link's count is durable).
  store::AuditRecord attempt;
  attempt.id = new_uuid();
  attempt.time = now;
  attempt.action = "E";
  attempt.outcome = "4";
  attempt.event_type = "link-wrong-answer";
  attempt.client_id = asker == Asker::kShlViewer ? "smart-health-link" : "document-link";
  attempt.detail = link ? "wrong birth date" : "unknown link";
  attempt.source_ip = address;
  if (link) {
    HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
      HB_ASSIGN_OR_RETURN(auto cur, w.doc_link(hash));
      if (!cur) return internal("a link vanished");
      count_wrong(*cur);
      state = *cur;
      HB_RETURN_IF_ERROR(w.put_doc_link(*cur));
      return w.append_audit(attempt);
    }));
  } else {
    count_wrong(state);
    {
      std::lock_guard lock(unknown_mu_);
      if (unknown_links_.size() > 100000) unknown_links_.clear();  // bounded memory
      unknown_links_[hash] = state;
    }
    HB_RETURN_IF_ERROR(
        store_.write_sync([&](store::Writer& w) -> Status { return w.append_audit(attempt); }));
  }
  out.refused = wrong_answer(state, asker);
  return out;
}

Result<LinkResult> DocumentService::unlock_link(const std::string& token, std::string_view birth_date,
                                                const std::string& address) {
  HB_ASSIGN_OR_RETURN(Attempt a, check_birth_date(token, birth_date, address, Asker::kPage));
  if (a.refused) return std::move(*a.refused);
  const std::string device_token =
      device_cookie(a.link->token_hash, clock_.now() + kDeviceLifetime);
  HB_ASSIGN_OR_RETURN(Json view, link_view(*a.link, token, address, false, a.opened ? &*a.opened : nullptr));
  return LinkResult{200, std::move(view), device_token};
}

Result<LinkResult> DocumentService::shl_manifest(const std::string& token, std::string_view request_json,
                                                 const std::string& address) {
  HB_ASSIGN_OR_RETURN(Json j, parse_json(request_json, JsonLimits{8 * 1024, 4}));
  HB_ASSIGN_OR_RETURN(auto req, documents::ShlManifestRequest::from_json(j));
  HB_ASSIGN_OR_RETURN(
      Attempt a, check_birth_date(token, req.passcode.value_or(""), address, Asker::kShlViewer));
  if (a.refused) {
    LinkResult r = std::move(*a.refused);
    // SMART Health Links: a link that no longer works is 404.
    if (r.status == 410) r.status = 404;
    r.body["status"] = r.status;
    return r;
  }
  if (!a.opened) return internal("a right birth date for a link without its document");
  if (a.opened->doc.status != "active") {
    // SMART Health Links: a link that is no longer active is 404. Its page (/c/<token>) still says
    // why: revoked, or replaced and by what.
    return LinkResult{404, {{"type", "about:blank"}, {"title", "no longer active"}, {"status", 404},
                            {"detail", "This document was " + a.opened->doc.status +
                                           " by the clinic that issued it. Open the link in a browser to see more."}},
                      {}};
  }
  const Json& body = a.opened->body;
  HB_ASSIGN_OR_RETURN(std::string file, shl_file_of(body));
  if (file.empty()) return internal("the document has no SMART Health Link file");
  audit_link_read("shl-manifest", "smart-health-link", a.link->patient_id, a.link->document_id,
                  "recipient: " + utf8_prefix(req.recipient, 200), address);
  // The file is a health card, or for a link-only document (no card) its FHIR Bundle.
  const bool card = !body.value("card", "").empty();
  documents::ShlManifest manifest;
  const std::string type(card ? documents::kContentTypeHealthCard : documents::kContentTypeFhirR4);
  if (req.embedded_length_max && static_cast<int64_t>(file.size()) > *req.embedded_length_max) {
    HB_ASSIGN_OR_RETURN(std::string location, shl_location(std::move(file)));
    manifest.files.push_back({type, std::nullopt, std::move(location)});
  } else {
    manifest.files.push_back({type, std::move(file), std::nullopt});
  }
  return LinkResult{200, manifest.to_json(), {}};
}

Result<std::string> DocumentService::shl_location(std::string jwe) {
  const std::string token = crypto::random_token(32);
  const Time now = clock_.now();
  std::lock_guard lock(locations_mu_);
  if (locations_.size() >= kMaxLocations) {
    std::erase_if(locations_, [&](const auto& e) { return e.second.expires <= now; });
  }
  if (locations_.size() >= kMaxLocations) {
    return Status(Code::kUnavailable, "too many files are waiting to be fetched; try again in a few minutes");
  }
  locations_[crypto::sha256_hex(token)] = Location{std::move(jwe), now + kLocationLifetime};
  return options_.base_url + "/shl/file/" + token;
}

std::optional<std::string> DocumentService::shl_location_file(const std::string& token) {
  const std::string hash = crypto::sha256_hex(token);
  const Time now = clock_.now();
  std::lock_guard lock(locations_mu_);
  auto it = locations_.find(hash);
  if (it == locations_.end()) return std::nullopt;
  std::optional<std::string> out;
  if (it->second.expires > now) out = std::move(it->second.file);
  locations_.erase(it);  // single use
  return out;
}

Result<std::optional<std::string>> DocumentService::active_card_of(const std::string& patient_id,
                                                                   const std::string& document_id) {
  std::optional<std::string> out;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto d, r.document(document_id));
    if (!d || d->patient_id != patient_id || d->status != "active") return Status::ok();
    HB_ASSIGN_OR_RETURN(auto body, open_document(r, *d));
    std::string jws = body.value("card", "");
    if (!jws.empty()) out = std::move(jws);
    return Status::ok();
  }));
  return out;
}

Status DocumentService::link_preferences_refusal() const {
  return forbidden("only the patient, signed in to Healthbook, chooses whether the link shows the "
                   "diagnosis (My documents)");
}

Result<std::pair<store::Document, store::Facility>> DocumentService::own_document(
    const Principal& who, const std::string& facility_ref) {
  std::optional<store::Document> d;
  std::optional<store::Facility> f;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(d, r.document_by_ref(who.facility_id, facility_ref));
    HB_ASSIGN_OR_RETURN(f, r.facility_by_id(who.facility_id));
    return Status::ok();
  }));
  // Only the issuing facility finds its documents by its own ids: another facility gets 404.
  if (!d || !f) return not_found("this facility has no document " + facility_ref);
  return std::pair(std::move(*d), std::move(*f));
}

Result<Json> DocumentService::revoke(const Principal& who, const std::string& facility_ref,
                                     std::string_view request_json) {
  if (!who.allows("DocumentReference", 'u')) {
    return forbidden("revoking documents needs the update scope on DocumentReference");
  }
  HB_ASSIGN_OR_RETURN(Json j, parse_json(request_json, JsonLimits{8 * 1024, 4}));
  HB_ASSIGN_OR_RETURN(const std::string reason, documents::parse_revocation(j));
  // One change of a document at a time, from its check to its write (see changing_).
  const InFlight::Claim claim = changing_.claim(who.facility_id + "|" + facility_ref);
  if (!claim.held()) {
    return Status(Code::kConflict,
                  "the document is being revoked or replaced by another request; try again");
  }
  HB_ASSIGN_OR_RETURN(auto own, own_document(who, facility_ref));
  const store::Document* d = &own.first;
  const store::Facility* f = &own.second;
  if (d->status == "revoked") return status_of(*d, *f);
  if (d->status != "active") return Status(Code::kConflict, "the document was replaced; revoke its replacement");
  std::string record;  // "DocumentReference/<id>"
  std::vector<std::string> clinical;  // "Observation/<id>", ... (documents issued since 2026-12)
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(Json body, open_document(r, *d));
    record = body.value("documentReference", "");
    if (auto c = body.find("clinicalRecords"); c != body.end() && c->is_array()) {
      for (const Json& ref : *c) {
        if (ref.is_string()) clinical.push_back(ref.get<std::string>());
      }
    }
    return Status::ok();
  }));
  Principal issuer = who;
  issuer.issues_documents = true;
  const Time now = clock_.now();
  // The reason stays with the document (the patient sees it); the public log says only that the
  // card was revoked, and when.
  Json entry = {{"v", 1}, {"op", "revoke"}, {"card", d->card_hash}, {"iss", issuer_url(f->code)},
                {"time", format_instant(now)}};
  HB_RETURN_IF_ERROR(log_.append(dump_json(entry)).status());
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto cur, w.document(d->id));
    if (!cur) return internal("document vanished");
    if (cur->status != "active") return Status::ok();
    cur->status = "revoked";
    cur->revoked = now;
    cur->revoke_reason = reason;
    HB_RETURN_IF_ERROR(w.put_document(*cur));
    // The patient's record says so too: FHIR has no "revoked"; a void document is entered in
    // error, and so are the results, vaccination or referral it brought.
    for (const std::string& ref : clinical) {
      const size_t slash = ref.find('/');
      if (slash == std::string::npos) continue;
      HB_RETURN_IF_ERROR(
          records_.set_document_status(w, issuer, ref.substr(0, slash), ref.substr(slash + 1), "entered-in-error"));
    }
    if (record.rfind("DocumentReference/", 0) != 0) return Status::ok();
    return records_.set_document_status(w, issuer, "DocumentReference", record.substr(18), "entered-in-error");
  }));
  directory_changed();  // a new rid on the facility's CRL
  HB_ASSIGN_OR_RETURN(auto revoked, own_document(who, facility_ref));
  return status_of(revoked.first, revoked.second);
}

Result<Json> DocumentService::reopen_link(const Principal& who, const std::string& facility_ref) {
  if (!who.allows("DocumentReference", 'u')) {
    return forbidden("reopening a document's link needs the update scope on DocumentReference");
  }
  HB_ASSIGN_OR_RETURN(auto own, own_document(who, facility_ref));
  const store::Document* d = &own.first;
  int reopened = 0;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto links, w.doc_links_of(d->id));
    for (auto& l : links) {
      if (!l.disabled && l.locked_until <= clock_.now() && l.failures_total == 0) continue;
      l.disabled = false;
      l.locked_until = Time{};
      l.failures_total = 0;
      l.failures_window = 0;
      HB_RETURN_IF_ERROR(w.put_doc_link(l));
      ++reopened;
    }
    return Status::ok();
  }));
  audit_issuer_access(who, "document-link-reopen", "U", *d,
                      "reopened " + std::to_string(reopened) + " link(s)");
  HB_ASSIGN_OR_RETURN(Json out, status_of(own.first, own.second));
  out["linksReopened"] = reopened;
  return out;
}

void DocumentService::audit_issuer_access(const Principal& who, const char* event,
                                          const char* action, const store::Document& d,
                                          std::string detail) {
  store::AuditRecord a;
  a.id = new_uuid();
  a.time = clock_.now();
  a.action = action;
  a.outcome = "0";
  a.event_type = event;
  a.client_id = who.client_id;
  a.facility_id = who.facility_id;
  a.patient_id = d.patient_id;
  a.entities = "Document/" + d.id;
  a.detail = std::move(detail);
  a.source_ip = who.remote_address;
  store_.append_audit_async(std::move(a));
}

Result<Json> DocumentService::status(const Principal& who, const std::string& facility_ref) {
  // The delivery, the revocation's reason and the replacement are the patient's data too.
  if (!who.allows("DocumentReference", 'r')) {
    return forbidden("reading a document's status needs the read scope on DocumentReference");
  }
  HB_ASSIGN_OR_RETURN(auto own, own_document(who, facility_ref));
  HB_ASSIGN_OR_RETURN(Json out, status_of(own.first, own.second));
  audit_issuer_access(who, "document-status", "R", own.first, "document status");
  return out;
}

Result<Json> DocumentService::status_of(const store::Document& doc,
                                        const store::Facility& facility) {
  const store::Document* d = &doc;
  const store::Facility* f = &facility;
  Json out = {{"id", d->id},         {"documentId", d->facility_ref}, {"kind", d->kind},
              {"status", d->status}, {"issued", format_instant(d->issued)}, {"issuer", issuer_url(f->code)},
              {"transparencyLog", {{"index", d->log_index}}}};
  if (d->status != "active") {
    out["revoked"] = format_instant(d->revoked);
    out["reason"] = d->revoke_reason;
  }
  // Delivery of the patient's SMS, as the outbox recorded it.
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    if (!d->superseded_by.empty()) {
      // The replacement by the facility's own id for it, which its other calls take.
      HB_ASSIGN_OR_RETURN(auto by, r.document(d->superseded_by));
      if (by) out["supersededBy"] = by->facility_ref;
    }
    HB_ASSIGN_OR_RETURN(auto m, r.outbox_by_dedupe("document:" + d->id));
    if (m) {
      out["delivery"] = {{"channel", m->channel}, {"status", m->status}, {"attempts", m->attempts}};
      if (m->sent_at) out["delivery"]["sent"] = format_instant(*m->sent_at);
      // Why the last try failed (stored with the number scrubbed out: notify/outbox.h) and, while
      // the outbox keeps trying, when it tries next.
      if (!m->last_error.empty()) out["delivery"]["lastError"] = m->last_error;
      if (m->status == "queued" || m->status == "failed") {
        out["delivery"]["nextAttempt"] = format_instant(m->next_attempt);
      }
    }
    return Status::ok();
  }));
  return out;
}

Result<std::string> DocumentService::card_png(const Principal& who, const std::string& facility_ref) {
  if (!who.allows("DocumentReference", 'r')) {
    return forbidden("reading a document's card needs the read scope on DocumentReference");
  }
  std::string qr_text;
  std::optional<store::Document> d;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(d, r.document_by_ref(who.facility_id, facility_ref));
    if (!d) return not_found("this facility has no document " + facility_ref);
    HB_ASSIGN_OR_RETURN(auto body, open_document(r, *d));
    qr_text = qr_of(body);
    return Status::ok();
  }));
  if (qr_text.empty()) return not_found("this document is too large for a QR card; share it by its link");
  // The card holds the patient's name, birth date and the document's contents.
  audit_issuer_access(who, "document-card", "R", *d, "document card as a QR code");
  HB_ASSIGN_OR_RETURN(auto qr, documents::make_shc_qr(qr_text));
  return documents::qr_png(qr, 6);
}

Result<Json> DocumentService::jwks(const std::string& facility_code) {
  std::optional<store::Facility> f;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(f, r.facility_by_code(facility_code));
    return Status::ok();
  }));
  if (!f) return not_found("no issuer " + facility_code);
  bool has_key = false;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto k, r.issuer_key(f->id));
    has_key = k.has_value();
    return Status::ok();
  }));
  Json keys = Json::array();
  if (has_key) {
    HB_ASSIGN_OR_RETURN(auto signing, signing_key(*f));
    Json jwk = signing.key.public_key().to_jwk();
    jwk["kid"] = signing.kid;
    jwk["use"] = "sig";
    jwk["alg"] = "ES256";
    // Revocation is supported for this key: verifiers fetch <iss>/.well-known/crl/<kid>.json
    // when its version is newer than the one they hold.
    HB_ASSIGN_OR_RETURN(Json list, crl(facility_code, jwk["kid"].get<std::string>()));
    jwk["crlVersion"] = list["ctr"];
    keys.push_back(std::move(jwk));
  }
  return Json{{"keys", keys}};
}

Result<Json> DocumentService::crl(const std::string& facility_code, const std::string& kid) {
  Json rids = Json::array();
  bool known = false;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto f, r.facility_by_code(facility_code));
    if (!f) return Status::ok();
    HB_ASSIGN_OR_RETURN(auto k, r.issuer_key(f->id));
    if (!k || k->kid != kid) return Status::ok();
    known = true;
    HB_ASSIGN_OR_RETURN(auto docs, r.revoked_documents(f->id, kid));
    // A rid names one document's card and is never reused, so it is listed without a time limit.
    for (const auto& d : docs) rids.push_back(d.rid);
    return Status::ok();
  }));
  if (!known) return not_found("no key " + kid + " for issuer " + facility_code);
  // ctr starts at 1 and grows with every revocation (the list only ever grows).
  return Json{{"kid", kid}, {"method", "rid"}, {"ctr", rids.size() + 1}, {"rids", rids}};
}

Result<Json> DocumentService::superseded_rids(const std::string& facility_code) {
  Json rids = Json::array();
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto f, r.facility_by_code(facility_code));
    if (!f) return Status::ok();
    HB_ASSIGN_OR_RETURN(auto k, r.issuer_key(f->id));
    if (!k) return Status::ok();
    HB_ASSIGN_OR_RETURN(auto docs, r.revoked_documents(f->id, k->kid));
    for (const auto& d : docs) {
      if (d.status == "superseded") rids.push_back(d.rid);
    }
    return Status::ok();
  }));
  return rids;
}

Result<Json> DocumentService::issuer_directory() {
  HB_ASSIGN_OR_RETURN(auto dir, directory());
  return dir->json;
}

void DocumentService::directory_changed() {
  std::lock_guard lock(directory_mu_);
  directory_.reset();
  ++directory_generation_;
}

Result<std::shared_ptr<const DocumentService::Directory>> DocumentService::directory() {
  uint64_t generation = 0;
  {
    std::lock_guard lock(directory_mu_);
    if (directory_ && clock_.now() - directory_->built < kDirectoryLifetime) return directory_;
    generation = directory_generation_;
  }
  auto dir = std::make_shared<Directory>();
  dir->built = clock_.now();
  HB_ASSIGN_OR_RETURN(dir->json, build_issuer_directory());
  auto parsed = documents::IssuerDirectory::from_json(dir->json);
  if (parsed) {
    dir->parsed = std::make_shared<const documents::IssuerDirectory>(std::move(*parsed));
  } else {
    dir->problem = parsed.error().message();
  }
  std::lock_guard lock(directory_mu_);
  // A change since this build began may be missing from it: use it for this call only.
  if (generation == directory_generation_) directory_ = dir;
  return std::shared_ptr<const Directory>(dir);
}

Result<Json> DocumentService::build_issuer_directory() {
  std::vector<store::Facility> facilities;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(facilities, r.list_facilities());
    return Status::ok();
  }));
  Json issuers = Json::array();
  for (const auto& f : facilities) {
    HB_ASSIGN_OR_RETURN(Json keys, jwks(f.code));
    if (keys["keys"].empty()) continue;
    Json crls = Json::array();
    for (const auto& k : keys["keys"]) {
      HB_ASSIGN_OR_RETURN(Json c, crl(f.code, k["kid"].get<std::string>()));
      crls.push_back(std::move(c));
    }
    Json entry = {{"iss", issuer_url(f.code)}, {"name", f.name}, {"jwks", keys}, {"crls", crls}};
    HB_ASSIGN_OR_RETURN(Json superseded, superseded_rids(f.code));
    if (!superseded.empty()) entry["superseded"] = std::move(superseded);
    issuers.push_back(std::move(entry));
  }
  return Json{{"issuers", issuers}};
}

namespace {
std::string proved_key(const store::Document& d) {
  return d.id + " " + std::to_string(d.log_index);
}
}  // namespace

bool DocumentService::proved(const store::Document& d) {
  const std::string key = proved_key(d);
  std::lock_guard lock(proved_mu_);
  return proved_.count(key) != 0;
}

void DocumentService::remember_proved(const store::Document& d) {
  std::string key = proved_key(d);
  std::lock_guard lock(proved_mu_);
  if (proved_.size() >= kProvedCapacity) proved_.clear();
  proved_.insert(std::move(key));
}

namespace {
// The stored document of a card: by the hash of its JWS as issued, which the transparency log names
// (docs/transparency-log.md). An ECDSA signature's twin (r, n - s) verifies as well, so a card may
// come back with either: the text given, then its twin.
Result<std::optional<store::Document>> document_of_card(store::Reader& r, const std::string& jws) {
  HB_ASSIGN_OR_RETURN(auto doc, r.document_by_card(crypto::sha256_hex(jws)));
  if (doc) return doc;
  auto twin = documents::signature_twin(jws);
  if (!twin) return doc;
  return r.document_by_card(crypto::sha256_hex(*twin));
}
}  // namespace

Result<Json> DocumentService::verify(std::string_view card_text) {
  HB_ASSIGN_OR_RETURN(auto dir, directory());
  if (!dir->parsed) {
    // Our own issuers must always form a valid directory (https issuer URLs); a plain-http public
    // URL (development) cannot, and verification says so.
    return Status(Code::kUnavailable, "this server's issuers cannot be trusted: " + dir->problem);
  }
  const documents::IssuerDirectory& directory = *dir->parsed;
  std::optional<store::Document> doc;
  documents::VerifyOptions opts;
  opts.copy_bundle = false;  // the answer takes the bundle out of the verdict's claims instead
  opts.transparency_check = [&](const documents::Verdict& v) -> Status {
    std::string receipt;
    std::string iss;
    bool known = false;  // proved before: only the row (its status) is read
    HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
      HB_ASSIGN_OR_RETURN(doc, document_of_card(r, v.jws));
      if (!doc || doc->log_index < 0) return Status::ok();
      if ((known = proved(*doc))) return Status::ok();
      HB_ASSIGN_OR_RETURN(auto f, r.facility_by_id(doc->facility_id));
      iss = f ? issuer_url(f->code) : "";
      // Only the receipt: the body's tree (the issuance request, the card, the details) is not
      // needed, and building it took a third of a verification's time.
      HB_ASSIGN_OR_RETURN(auto text, open_document_text(r, *doc));
      receipt = json_string_member(text, "receipt").value_or("");
      return Status::ok();
    }));
    if (!doc || doc->log_index < 0)
      return not_found("the card is not in this server's transparency log");
    if (known) return Status::ok();
    // Inclusion, proved: the document's receipt (an inclusion proof against a signed checkpoint)
    // must verify for the log entry that names this card.
    const std::string entry = log_entry(*doc, iss);
    auto included =
        ledger::verify_receipt(receipt, entry, log_.verifier(), log_.origin(), &checkpoints_);
    if (!included) return not_found("the card's inclusion in the transparency log does not verify");
    remember_proved(*doc);
    return Status::ok();
  };
  documents::Verdict v = documents::verify_health_card(card_text, directory, clock_, opts);
  if (!doc && !v.jws.empty() && v.outcome == documents::Outcome::kRevoked) {
    // Revoked by the CRL before the log was consulted: the document, for the answer to name.
    HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
      HB_ASSIGN_OR_RETURN(doc, document_of_card(r, v.jws));
      return Status::ok();
    }));
  }
  // Our own records are newer than the revocation lists of a directory built a moment ago; what
  // they say is said as the lists would (the same verdict as `healthbook verify` with a current
  // directory).
  if (doc && doc->status == "revoked" && v.valid()) documents::mark_revoked(v, false);
  if (doc && doc->status == "superseded") documents::mark_revoked(v, true);
  Json out = documents::verdict_json(v);
  // The document as the log and the issuer know it. Not its replacement: that is an id inside this
  // server, which tells a verifier nothing (the holder gets the new card from the issuer).
  if (doc) {
    out["document"] = {{"kind", doc->kind},
                       {"status", doc->status},
                       {"issued", format_instant(doc->issued)},
                       {"transparencyLogIndex", doc->log_index}};
  }
  return out;
}

// ---- the resident's own documents --------------------------------------------------------------
//
// A signed-in resident reaches exactly the documents whose patient is theirs; any other id reads
// as not found, the same as an unknown one.

namespace {

// The state of a document's links, as one word for its patient: "open" when any link answers a
// birth date now, "locked" when the open ones are all in their hour, "disabled" when every link
// needs reopening.
Json links_state(const std::vector<store::DocLink>& links, Time now) {
  Json out = {{"count", links.size()}};
  bool any_open = false, any_locked = false;
  Time until{};
  for (const auto& l : links) {
    if (l.disabled) continue;
    if (l.locked_until > now) {
      any_locked = true;
      until = std::max(until, l.locked_until);
    } else {
      any_open = true;
    }
  }
  if (links.empty() || any_open) {
    out["state"] = "open";
  } else if (any_locked) {
    out["state"] = "locked";
    out["lockedUntil"] = format_instant(until);
  } else {
    out["state"] = "disabled";
  }
  return out;
}

}  // namespace

Result<std::pair<store::Document, std::optional<store::Facility>>> DocumentService::residents_document(
    store::Reader& r, const Resident& me, const std::string& document_id) {
  if (me.patient_id.empty()) return forbidden("no person is linked to this account");
  HB_ASSIGN_OR_RETURN(auto doc, r.document(document_id));
  if (!doc || doc->patient_id != me.patient_id) return not_found("you have no document " + document_id);
  HB_ASSIGN_OR_RETURN(auto facility, r.facility_by_id(doc->facility_id));
  return std::make_pair(std::move(*doc), std::move(facility));
}

Result<Json> DocumentService::resident_documents(const Resident& me, const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(me, ResidentRight::kViewRecords));
  if (me.patient_id.empty()) return forbidden("no person is linked to this account");
  Json list = Json::array();
  const Time now = clock_.now();
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto docs, r.documents_of_patient(me.patient_id));
    std::map<std::string, std::optional<store::Facility>> facilities;
    for (const auto& d : docs) {
      auto f = facilities.find(d.facility_id);
      if (f == facilities.end()) {
        HB_ASSIGN_OR_RETURN(auto fac, r.facility_by_id(d.facility_id));
        f = facilities.emplace(d.facility_id, std::move(fac)).first;
      }
      HB_ASSIGN_OR_RETURN(auto links, r.doc_links_of(d.id));
      const Kind* kind = find_kind(d.kind);
      Json item = {{"id", d.id},
                   {"kind", d.kind},
                   {"label", kind ? kind->label : d.kind},
                   {"status", d.status},
                   {"issued", format_instant(d.issued)},
                   {"facility", {{"code", f->second ? f->second->code : ""},
                                 {"name", f->second ? f->second->name : ""}}},
                   {"links", links_state(links, now)}};
      if (!d.superseded_by.empty()) item["supersededBy"] = d.superseded_by;
      list.push_back(std::move(item));
    }
    return Status::ok();
  }));
  audit_resident_action(store_, clock_, me, {"resident-documents", "R", "", "documents listed"},
                        address);
  return Json{{"documents", std::move(list)}};
}

Result<Json> DocumentService::resident_document(const Resident& me, const std::string& document_id,
                                                const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(me, ResidentRight::kViewRecords));
  std::optional<std::pair<store::Document, std::optional<store::Facility>>> found;
  Json body;
  std::vector<store::DocLink> links;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(found, residents_document(r, me, document_id));
    HB_ASSIGN_OR_RETURN(body, open_document(r, found->first));
    HB_ASSIGN_OR_RETURN(links, r.doc_links_of(document_id));
    return Status::ok();
  }));
  const store::Document& doc = found->first;
  // The patient always sees their own diagnosis; the link page shows it only when they chose so.
  Json view = document_view(doc, found->second, body, true);
  // The facility's reason for a revocation is free text, which may say something of the patient's
  // health: the patient reads it here, signed in; the link page, which the patient may have
  // forwarded to an employer, says only that the document was revoked.
  if (doc.status == "revoked") view["revokedReason"] = doc.revoke_reason;
  view["id"] = doc.id;
  view["links"] = links_state(links, clock_.now());
  view["showDiagnosis"] = shows_diagnosis(links);
  if (!doc.superseded_by.empty()) view["supersededBy"] = doc.superseded_by;
  if (!body.value("card", "").empty()) view["card"] = body["card"];
  if (body.contains("receipt")) view["receipt"] = body["receipt"];
  audit_resident_action(store_, clock_, me,
                        {"resident-document-view", "R", "Document/" + doc.id, "document viewed"},
                        address);
  return view;
}

Result<Json> DocumentService::resident_reopen_links(const Resident& me, const std::string& document_id,
                                                    const std::string& address) {
  // A link is a way to share the document: a carer needs the right to manage shares.
  HB_RETURN_IF_ERROR(require_right(me, ResidentRight::kManageShares));
  int reopened = 0;
  Json state;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto found, residents_document(w, me, document_id));
    HB_ASSIGN_OR_RETURN(auto links, w.doc_links_of(document_id));
    for (auto& l : links) {
      if (!l.disabled && l.locked_until <= clock_.now() && l.failures_total == 0) continue;
      l.disabled = false;
      l.locked_until = Time{};
      l.failures_total = 0;
      l.failures_window = 0;
      HB_RETURN_IF_ERROR(w.put_doc_link(l));
      ++reopened;
    }
    state = links_state(links, clock_.now());
    return Status::ok();
  }));
  audit_resident_action(store_, clock_, me,
                        {"resident-link-reopen", "U", "Document/" + document_id,
                         std::to_string(reopened) + " link(s) reopened"},
                        address);
  return Json{{"linksReopened", reopened}, {"links", state}};
}

Result<Json> DocumentService::resident_new_link(const Resident& me, const std::string& document_id,
                                                const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(me, ResidentRight::kManageShares));
  const std::string token = crypto::random_token(32);
  store::DocLink link;
  link.token_hash = crypto::sha256_hex(token);
  link.document_id = document_id;
  link.patient_id = me.patient_id;
  link.created = clock_.now();
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto found, residents_document(w, me, document_id));
    if (found.first.status != "active") {
      return Status(Code::kConflict, "this document is " + found.first.status +
                                         ": a new link would show a document that no longer holds");
    }
    HB_ASSIGN_OR_RETURN(auto links, w.doc_links_of(document_id));
    link.show_diagnosis = shows_diagnosis(links);
    if (links.size() >= kMaxLinksPerDocument) {
      return Status(Code::kConflict, "this document has " + std::to_string(links.size()) +
                                         " links already, the most it may have");
    }
    return w.put_doc_link(link);
  }));
  audit_resident_action(store_, clock_, me,
                        {"resident-link-new", "C", "Document/" + document_id, "new link made"},
                        address);
  return Json{{"link", options_.base_url + "/c/" + token}};
}

Result<Json> DocumentService::resident_set_preferences(const Resident& me, const std::string& document_id,
                                                       bool show_diagnosis, const std::string& address) {
  // Showing the diagnosis to whoever holds a link is sharing it: a carer needs that right.
  HB_RETURN_IF_ERROR(require_right(me, ResidentRight::kManageShares));
  int changed = 0;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    changed = 0;
    HB_ASSIGN_OR_RETURN(auto found, residents_document(w, me, document_id));
    (void)found;
    HB_ASSIGN_OR_RETURN(auto links, w.doc_links_of(document_id));
    for (auto& l : links) {
      if (l.show_diagnosis == show_diagnosis) continue;
      l.show_diagnosis = show_diagnosis;
      HB_RETURN_IF_ERROR(w.put_doc_link(l));
      ++changed;
    }
    return Status::ok();
  }));
  audit_resident_action(store_, clock_, me,
                        {"resident-link-preferences", "U", "Document/" + document_id,
                         std::string(show_diagnosis ? "diagnosis shown" : "diagnosis hidden") + " on " +
                             std::to_string(changed) + " link(s)"},
                        address);
  return resident_document(me, document_id, address);
}

}  // namespace hb::services
