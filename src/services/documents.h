// Verifiable documents: a facility's system issues a medical certificate (and, later, discharge
// summaries, results, referrals, vaccination records) for a patient through one JSON call; the
// patient's record gets it as FHIR (Patient + DocumentReference, in one transaction with the
// document row), the document gets a SMART Health Card signed with the facility's own issuer key,
// and the card's hash goes into the transparency log before the call is answered.
//
// Issuers: one per facility, iss = <public URL>/issuers/<code>; its key is made on first issue,
// kept sealed under a data key of owner "issuer:<facility id>", and published at
// <iss>/.well-known/jwks.json; revocations at <iss>/.well-known/crl/<kid>.json.
//
// The request format is in docs/documents.md. Issuing again with the same facility document id
// and the same content returns the first document; different content under the same id is 409.
//
// Thread-safety: safe from any number of threads.
#pragma once

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "documents/issuer_directory.h"
#include "documents/request.h"
#include "documents/verify.h"
#include "ledger/log.h"
#include "ledger/receipt.h"
#include "notify/outbox.h"
#include "services/principal.h"
#include "services/rate_limit.h"
#include "services/records.h"
#include "services/vault.h"
#include "store/store.h"

namespace hb::services {

struct DocumentOptions {
  std::string base_url;     // public URL, e.g. https://healthbook.example
  // Derived from the master key: the key of revocation ids (SHC rid), and, through HKDF, of the
  // cookies of browsers that unlocked a link.
  std::string rid_secret;
};

// The answer to a link request: 200 with the document view, or a refusal (401 with
// remainingAttempts, 429 with retryAfter seconds, 410 disabled) in problem+json members.
struct LinkResult {
  int status = 200;
  Json body;
  std::string device_token;  // set when a browser just unlocked the link: its cookie's value
};

struct IssuedDocument {
  int status = 201;         // 201 issued now, 200 the same request issued before
  Json body;                // the answer to the facility (see docs/documents.md)
};

class DocumentService {
 public:
  // `outbox` (may be null: no notifications) sends the patient their link by SMS, queued in the
  // same transaction as the document.
  DocumentService(store::Store& store, Vault& vault, RecordService& records, ledger::Log& log,
                  const Clock& clock, DocumentOptions options, notify::Outbox* outbox = nullptr);

  // Issues a document from the JSON request. kInvalid/kUnprocessable with every problem for a bad
  // request; kForbidden without the DocumentReference create scope; kConflict for a reused id.
  Result<IssuedDocument> issue(const Principal& who, std::string_view request_json);

  // Issues many documents in one call, for a laboratory's night run or a vaccination campaign:
  // {"documents": [request, ...]}, at most kMaxBatch. Each document is issued on its own terms, as
  // by issue() (its own idempotency, its own errors), and the answer has one result per request,
  // in order: the document (201, or 200 when issued before) or its error. A documentId that
  // appears twice is refused the second time. The documents share log appends (one fsync and one
  // checkpoint for up to kIssueChunk of them) and commit together in few store groups. An error
  // of the call itself (the scope, a malformed batch) is returned, and nothing is issued.
  Result<std::vector<Result<IssuedDocument>>> issue_batch(const Principal& who,
                                                          std::string_view request_json);
  static constexpr std::size_t kMaxBatch = documents::kMaxBatch;
  static constexpr std::size_t kMaxRequestBytes = 64 * 1024;       // one document's request
  static constexpr std::size_t kMaxBatchBytes = 16 * 1024 * 1024;  // a batch's

  // Revokes one of the facility's own documents: {"reason": "..."}. The card goes on the key's
  // CRL, the revocation into the transparency log, and the patient's link says revoked.
  Result<Json> revoke(const Principal& who, const std::string& facility_ref, std::string_view request_json);

  // Opens a document's link again after too many wrong birth dates disabled or locked it (the
  // issuing facility, e.g. after the patient called; the patient has resident_reopen_links).
  Result<Json> reopen_link(const Principal& who, const std::string& facility_ref);

  // The issuing facility's view of one of its documents, by its own document id.
  Result<Json> status(const Principal& who, const std::string& facility_ref);

  // The card of one of the facility's documents as a PNG QR code (for printing at the counter).
  Result<std::string> card_png(const Principal& who, const std::string& facility_ref);

  // Public: a facility's issuer keys (JWK Set) and a key's revocation list; kNotFound for an
  // unknown facility or kid.
  Result<Json> jwks(const std::string& facility_code);
  Result<Json> crl(const std::string& facility_code, const std::string& kid);
  // Public: every issuer of this server in the trusted-issuer directory format (for offline
  // verification with `healthbook verify --issuers`).
  Result<Json> issuer_directory();

  // Public: verifies a card (shc:/ text, compact JWS or .smart-health-card file) against this
  // server's issuers, revocations and transparency log.
  Result<Json> verify(std::string_view card_text);

  // The patient's link https://<host>/c/<token>. The birth date unlocks it; a browser that
  // unlocked it keeps access for kDeviceLifetime, with a cookie that says so itself (the link's
  // token hash and the expiry under a MAC; nothing is stored, so an unlock writes nothing unless
  // it clears wrong answers). Cookies from before 2026-12-06 are random tokens whose hashes are in
  // link_devices; they are still honoured until they expire. Limits: kWrongPerHour wrong answers
  // for a link lock it for an hour; kWrongInTotal wrong answers over the link's life (right answers
  // in between do not clear them) disable it until the patient or the issuer reopens it;
  // kWrongPerAddressHour wrong answers from one client address in an hour stop that address for a
  // while. An unknown link answers exactly like a known one with a wrong birth date (its tries are
  // counted in memory), so links cannot be probed. On the page's own API (unlock_link) an answer
  // that is not a date at all is refused (400) without counting; a SMART Health Link viewer's
  // passcode counts as the protocol says. Answers sent at once cannot share a count: the answers
  // for one link are checked one at a time (another sent meanwhile is told to try again, 429
  // "busy", and costs nothing), and an address is charged before its answer is checked (a right
  // answer gets the charge back).
  static constexpr int kWrongPerHour = 5;
  static constexpr int kWrongInTotal = 20;
  static constexpr int kWrongPerAddressHour = 30;
  static constexpr std::chrono::hours kDeviceLifetime{24 * 7};

  // `latest`: the newest document in the chain of replacements that starts at the link's own.
  Result<LinkResult> open_link(const std::string& token, const std::string& device_token,
                               const std::string& address, bool latest = false);
  Result<LinkResult> unlock_link(const std::string& token, std::string_view birth_date,
                                 const std::string& address);
  // SMART Health Links: the manifest of the link's document for a viewer, which sends
  // {"recipient", "passcode"} (the birth date, counted as on the page): 200 {"files": [...]};
  // a wrong passcode 401 {"remainingAttempts"}: as the spec says, the attempts left before the
  // link is disabled (kWrongInTotal over its life), not before the hour's lock, and 401 also for
  // the wrong passcode that locks the link for the hour or disables it (remainingAttempts 0);
  // 429 with retryAfter while the hour's lock holds (our rate limit); 404 once disabled.
  // With "embeddedLengthMax" below the file's length, the file is not embedded but given as a
  // `location`: https://<host>/shl/file/<256-bit token>, which serves it once, within
  // kLocationLifetime (the SMART Health Links rule for short-lived, single-use locations).
  Result<LinkResult> shl_manifest(const std::string& token, std::string_view request_json,
                                  const std::string& address);
  static constexpr std::chrono::minutes kLocationLifetime{10};
  static constexpr std::size_t kMaxLocations = 10000;
  // The file behind a location (GET /shl/file/<token>): the JWE, once; nullopt when the token is
  // unknown, used or expired.
  std::optional<std::string> shl_location_file(const std::string& token);
  // Keeps a JWE for one fetch within kLocationLifetime and gives its location URL (also for the
  // residents' shares, ShareService). kUnavailable while kMaxLocations wait.
  Result<std::string> shl_location(std::string jwe);
  // Whether the link page shows the diagnosis is the patient's choice, made signed in
  // (resident_set_preferences): whoever holds a link and the birth date may be the employer it
  // was forwarded to. Over the link itself (POST /api/v1/links/<token>/preferences) the answer is
  // this refusal, 403 for everyone, whatever the link, device or choice.
  Status link_preferences_refusal() const;

  // The signed-in resident's own documents (their patient's, nothing else; another person's id
  // reads as not found). All audited.
  //   resident_documents: every document, newest first, with the state of its links
  //     ("open", "locked" until a time, "disabled").
  //   resident_document: one document as the link page shows it, with the diagnosis (it is the
  //     patient's own), the card and its transparency-log receipt.
  //   resident_reopen_links: the patient's way to open links that wrong birth dates locked or
  //     disabled (the issuing facility has reopen_link).
  //   resident_new_link: a fresh https://<host>/c/<token> for the document (for instance to send
  //     an employer), protected by the birth date like the first; at most kMaxLinksPerDocument;
  //     only for an active document. It shows the diagnosis as the document's links do.
  //   resident_set_preferences: whether every link of the document shows the diagnosis
  //     ({"showDiagnosis": bool}); answers as resident_document, whose "showDiagnosis" says it.
  static constexpr std::size_t kMaxLinksPerDocument = 10;
  Result<Json> resident_documents(const Resident& me, const std::string& address);
  Result<Json> resident_document(const Resident& me, const std::string& document_id,
                                 const std::string& address);
  Result<Json> resident_reopen_links(const Resident& me, const std::string& document_id,
                                     const std::string& address);
  Result<Json> resident_new_link(const Resident& me, const std::string& document_id,
                                 const std::string& address);
  Result<Json> resident_set_preferences(const Resident& me, const std::string& document_id,
                                        bool show_diagnosis, const std::string& address);
  // The SMART Health Card (compact JWS) of the patient's document `document_id`, for a resident
  // who shares it: nullopt when the document is not the patient's, is no longer active, or has no
  // card (too large for one QR code).
  Result<std::optional<std::string>> active_card_of(const std::string& patient_id,
                                                    const std::string& document_id);

  std::string issuer_url(const std::string& facility_code) const {
    return options_.base_url + "/issuers/" + facility_code;
  }

 private:
  // A facility's issuer key and its kid (the RFC 7638 thumbprint, worked out once: deriving it
  // goes through OpenSSL's encoders and cost a sixth of an issuance).
  struct SigningKey {
    crypto::PrivateKey key;
    std::string kid;
  };
  Result<SigningKey> signing_key(const store::Facility& facility);
  // Issuance, for one document (issue) or many (issue_batch), in steps: read what the store holds
  // for every request, then in chunks of kIssueChunk sign the cards (sign), append them to the log
  // together, and hand each document to the store's writer (submit); then wait for them all. Each
  // request ends with an outcome; the Status is an error of the whole call.
  struct Issuing;
  static constexpr std::size_t kIssueChunk = 64;
  Status may_issue(const Principal& who) const;
  Status issue_all(const Principal& who, std::vector<Issuing>& items);
  void sign(Issuing& it, const store::Facility& facility, const SigningKey& signing,
            const std::string& iss);
  void submit(Issuing& it, const store::Facility& facility, const std::string& receipt);
  // The answer for a request issued before: the same document, or kConflict when the same
  // documentId came with other content.
  Result<IssuedDocument> replayed(store::Reader& r, const store::Document& d,
                                  const std::string& request_hash, const std::string& iss);
  // Whether the person a request names (by national id or insurance number) is the registered
  // person `patient_id`: the patient the records transaction will find for it. False when they
  // name another person or nobody registered yet.
  Result<bool> names_person(store::Reader& r, const documents::Request& req,
                            const std::string& patient_id);
  // The issuing facility's view of a document (status, which reads it first, checks the scope).
  Result<Json> status_of(const store::Document& d, const store::Facility& f);
  // The audit event of a facility's access to one of its documents outside the records service
  // (its status, its card, its link reopened): the patient's access log shows it.
  void audit_issuer_access(const Principal& who, const char* event, const char* action,
                           const store::Document& d, std::string detail);
  // One of the facility's own documents by its id for it, with the facility; kNotFound otherwise.
  Result<std::pair<store::Document, store::Facility>> own_document(const Principal& who,
                                                                   const std::string& facility_ref);
  // A document's sealed body (request, card, receipt, link file), opened with the patient's key:
  // as JSON text, and parsed.
  Result<std::string> open_document_text(store::Reader& r, const store::Document& d);
  Result<Json> open_document(store::Reader& r, const store::Document& d);
  // A browser's cookie for a link it unlocked (documents/device_cookie.h).
  std::string device_cookie(const std::string& token_hash, Time expires) const;
  // Whether `cookie` is such a cookie for this link, unexpired.
  bool device_cookie_holds(const std::string& token_hash, std::string_view cookie) const;
  // The document behind a link, if the device holds access to it (nullopt: ask for the birth date).
  Result<std::optional<store::DocLink>> unlocked(const std::string& token_hash, const std::string& device_token);
  // A document and its opened body, as a read found them.
  struct Opened {
    store::Document doc;
    Json body;
    std::optional<store::Facility> facility;  // the document's issuer
  };
  // The link's page. `opened`: the link's own document and its issuer, read in the same snapshot
  // as the birth-date check (unlock); nothing is read again.
  Result<Json> link_view(const store::DocLink& link, const std::string& token, const std::string& address,
                         bool latest = false, const Opened* opened = nullptr);
  // Who answers a link's birth date: the page's own API (unlock_link, open_link) or a SMART Health
  // Link viewer with its passcode (shl_manifest). For the page an answer that is no date is refused
  // without counting, and remainingAttempts are those before the hour's lock (what a person at
  // the page needs to know); for a viewer every passcode counts, and remainingAttempts are those
  // before the link is disabled (the SMART Health Links meaning).
  enum class Asker { kPage, kShlViewer };
  // The answer to a link that is not opened: 410 disabled, 429 locked, else 401 asking for the
  // birth date with remainingAttempts.
  LinkResult refusal(const store::DocLink& state, Asker asker) const;
  // The answer to a wrong birth date, counted into `state`. The page is told at once when that
  // answer locked or disabled the link (429, 410); a viewer gets 401 with the attempts left (0 for
  // the answer that disabled it), as the spec asks of every wrong passcode, and the lock or the
  // end with its next request.
  LinkResult wrong_answer(const store::DocLink& state, Asker asker) const;
  // An audit event of the patient's: someone read their document through its link.
  void audit_link_read(const char* event, const char* client, const std::string& patient_id,
                       const std::string& document_id, std::string detail, const std::string& address);
  struct Attempt {
    std::optional<LinkResult> refused;  // set when the answer is a refusal
    std::optional<store::DocLink> link;  // set when the birth date was right (counters reset)
    std::optional<Opened> opened;  // the link's document, when the link is known
  };
  // Checks a birth date for a link and counts a wrong one (durably for a real link); a right one
  // that clears the hour's wrong answers writes that too. Both are durable before it returns.
  // For a viewer (Asker::kShlViewer) an answer that is no date counts as a wrong one; for the
  // page it is refused (400) and not counted.
  Result<Attempt> check_birth_date(const std::string& token, std::string_view birth_date,
                                   const std::string& address, Asker asker);

  // The issuer directory, built once and kept until this service issues a first card for a
  // facility, revokes or replaces a card, or kDirectoryLifetime passes (facilities and revocations
  // written by another process: the command line). Verifying a card then parses no keys.
  struct Directory {
    Json json;
    std::shared_ptr<const documents::IssuerDirectory> parsed;  // null: not a valid directory
    std::string problem;                                       // why, when parsed is null
    Time built{};
  };
  static constexpr std::chrono::seconds kDirectoryLifetime{5};
  Result<std::shared_ptr<const Directory>> directory();
  Result<Json> build_issuer_directory();
  // The rids of the facility's replaced (superseded) cards: the directory's "superseded".
  Result<Json> superseded_rids(const std::string& facility_code);
  void directory_changed();
  Json document_view(const store::Document& doc, const std::optional<store::Facility>& facility,
                     const Json& body, bool show_diagnosis);
  Result<std::pair<store::Document, std::optional<store::Facility>>> residents_document(
      store::Reader& r, const Resident& me, const std::string& document_id);

  store::Store& store_;
  Vault& vault_;
  RecordService& records_;
  ledger::Log& log_;
  const Clock& clock_;
  DocumentOptions options_;
  notify::Outbox* outbox_;
  crypto::HmacSha256 device_mac_;  // device cookies' key (see device_cookie)
  RateLimiter wrong_by_address_;
  InFlight checking_;  // the token hashes of the links whose answer is being checked now
  // "<facility id>|<documentId>" of the documents being revoked or replaced now. A change is
  // checked, then appended to the public log, then stored: two changes of one document at once
  // would both pass the check, and the log would record a revocation or replacement the store
  // then refused. The second is refused instead ("try again").
  InFlight changing_;
  std::mutex unknown_mu_;
  std::map<std::string, store::DocLink> unknown_links_;  // by token hash; guarded by unknown_mu_
  struct Location {
    std::string file;  // the JWE
    Time expires;
  };
  std::mutex locations_mu_;
  std::map<std::string, Location> locations_;  // by token hash; guarded by locations_mu_
  std::mutex keys_mu_;
  std::map<std::string, SigningKey> keys_;  // by facility id; guarded by keys_mu_
  ledger::CheckpointCache checkpoints_;  // receipts' checkpoints that verified
  // Documents whose inclusion in the log verified here, as "<document id> <log index>". The proof
  // is a function of what never changes once a document is issued (its row's card hash, kind,
  // time and index, its issuer, the receipt in its sealed body), so it holds for good; the status
  // is still read for every verification. Bounded: when full it starts again empty.
  static constexpr std::size_t kProvedCapacity = 65536;
  bool proved(const store::Document& d);
  void remember_proved(const store::Document& d);
  std::mutex proved_mu_;
  std::unordered_set<std::string> proved_;  // guarded by proved_mu_
  std::mutex directory_mu_;
  std::shared_ptr<const Directory> directory_;  // guarded by directory_mu_; null = build again
  uint64_t directory_generation_ = 0;           // guarded by directory_mu_; bumped on changes
};

}  // namespace hb::services
