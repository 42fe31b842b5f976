// The rows Healthbook keeps, as plain values. Engines (SQLite, PostgreSQL) map them to tables;
// services build and read them. Nothing here knows SQL.
//
// Bodies of resources are stored already encrypted (see crypto/envelope.h); engines treat them as
// opaque bytes. Identifiers (national id, insurance number, phone) reach the store only as blind
// indexes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace hb::store {

struct Facility {
  std::string id;      // server-assigned uuid
  std::string code;    // interconnection code, unique
  std::string name;
  std::string kind;    // public-hospital | private-hospital | clinic | health-centre | laboratory | pharmacy
  std::string region;  // province / region code
  std::string status;  // active | suspended
  Time created{};
};

struct ApiClient {
  std::string client_id;    // server-assigned, printed once by `healthbook client add`
  std::string facility_id;
  std::string name;
  std::string jwks;         // inline JWK Set JSON text, or empty when jwks_url is set
  std::string jwks_url;     // https URL of the client's JWK Set, or empty
  std::string scopes;       // space-separated scopes the client may request
  std::string status;       // active | disabled
  Time created{};
};

// An issued access token. Only the SHA-256 of the token is stored.
struct AccessToken {
  std::string token_hash;   // hex SHA-256 of the bearer token
  std::string client_id;
  std::string facility_id;
  std::string scopes;       // space-separated, as granted
  Time expires{};
};

// One version of one resource.
struct ResourceRow {
  std::string type;
  std::string id;
  int64_t version = 0;       // 1, 2, 3 ... per resource
  std::string patient_id;    // the patient compartment this resource belongs to, "" if none
  std::string facility_id;   // the facility that owns (wrote) it
  Time last_updated{};
  bool deleted = false;      // a delete is a version with deleted = true and an empty body
  std::string body;          // encrypted JSON (opaque to the store)
  int64_t seq = 0;           // store-assigned global write sequence (read only)
};

// A search-index entry derived from a resource version. Replaced whenever the resource changes.
enum class IndexKind { kToken = 0, kReference = 1, kDate = 2, kString = 3 };

struct IndexRow {
  std::string param;        // search parameter name, e.g. "code"
  IndexKind kind = IndexKind::kToken;
  // kToken: a = system ("" if none), b = code (blind-indexed for identifiers)
  // kReference: a = target type, b = target id
  // kString: a = normalised text or its blind index, b = ""
  // kDate: lo/hi = the period covered, unix milliseconds, inclusive
  std::string a;
  std::string b;
  int64_t lo = 0;
  int64_t hi = 0;
};

// An audit event. Rows are appended, never updated or deleted.
struct AuditRecord {
  int64_t seq = 0;              // store-assigned
  std::string id;               // uuid, the AuditEvent id
  Time time{};
  std::string action;           // C | R | U | D | E (FHIR AuditEvent.action)
  std::string outcome;          // 0 success | 4 minor failure | 8 serious failure
  std::string event_type;       // rest | transaction | login ... (FHIR restful-interaction code)
  std::string client_id;        // who: the API client ("" for operators)
  std::string facility_id;      // on behalf of which facility
  std::string patient_id;       // whose data ("" when not patient data)
  std::string entities;         // space-separated "Type/id" references touched
  std::string detail;           // what: e.g. the search query or "read"; never health data
  std::string source_ip;
};

// ---- verifiable documents (SMART Health Cards) ---------------------------------------------------

// The key a facility signs health cards with: one per facility, made when it first issues.
struct IssuerKey {
  std::string facility_id;
  std::string kid;          // RFC 7638 thumbprint of the public key
  std::string sealed_key;   // PKCS#8 PEM, sealed under the facility's issuer data key
  Time created{};
};

// A document a facility issued (a medical certificate, a discharge summary, ...) and its card.
struct Document {
  std::string id;            // server-assigned uuid
  std::string facility_id;   // the issuer
  std::string facility_ref;  // the facility's own id for it: issuing again with it is idempotent
  std::string patient_id;
  std::string kind;          // e.g. mc-outpatient, discharge-summary (see services/documents.h)
  std::string status;        // active | revoked | superseded
  std::string card_hash;     // hex SHA-256 of the card's compact JWS (its transparency-log entry)
  std::string kid;           // the issuer key that signed the card
  std::string rid;           // SHC revocation id
  Time issued{};
  Time revoked{};            // when revoked or superseded (zero while active)
  std::string revoke_reason;
  std::string superseded_by; // the replacing document's id
  int64_t log_index = -1;    // the card's entry in the transparency log
  std::string body;          // sealed JSON (the card, the request, the receipt) under the patient's key
};

// The patient's link to a document (https://<host>/c/<token>): only the token's hash is kept, with
// the count of wrong birth dates given for it (see services/documents.h for the limits).
struct DocLink {
  std::string token_hash;   // hex SHA-256 of the token
  std::string document_id;
  std::string patient_id;
  Time created{};
  int failures_total = 0;   // wrong answers since the last right one
  int failures_window = 0;  // wrong answers in the window that started at window_start
  Time window_start{};
  Time locked_until{};      // zero when not locked for a while
  bool disabled = false;    // locked until the patient or the issuer reopens it
  bool show_diagnosis = false;
};

// A browser that unlocked a link: keeps access until `expires` (7 days after unlocking).
struct LinkDevice {
  std::string device_hash;  // hex SHA-256 of the cookie's value
  std::string token_hash;   // the link it unlocked
  Time unlocked{};
  Time expires{};
};
// ---- resident accounts (services/accounts.h) -------------------------------------------------

// A resident's account, linked to the Patient it proved to be. Secrets are stored only in forms
// that do not give them back: the password as an Argon2id string, the TOTP secret sealed under
// the patient's data key.
struct Account {
  std::string id;                   // uuid
  std::string patient_id;           // the linked person; one account per person
  std::string password_hash;        // Argon2id PHC string; "" = none (made by the eID login)
  std::string totp_sealed;          // sealed 160-bit TOTP secret; "" when not enrolled
  std::string totp_pending_sealed;  // a secret being enrolled (until confirmed with a code)
  int64_t totp_last_step = -1;      // the last TOTP time step accepted: never accepted again
  int failures = 0;                 // wrong passwords and second factors in the current window
  Time failures_window_start{};
  Time locked_until{};              // zero when not locked
  int locks = 0;                    // locks in a row since the last whole sign-in (each longer)
  Time created{};
};

// A one-time code sent by SMS (sign-up, or a login's second factor). The client holds a challenge
// token; the store keys the code by the token's SHA-256 and keeps only an HMAC of the code.
struct OneTimeCode {
  std::string challenge_hash;  // hex SHA-256 of the challenge token
  std::string purpose;         // signup | login
  std::string subject;         // signup: the matched patient id ("" when nothing matched);
                               // login: the hash of the session it completes
  std::string code_mac;        // hex HMAC-SHA256(codes key, challenge_hash 0x00 code)
  Time created{};
  Time expires{};
  int attempts = 0;            // wrong codes given
  bool used = false;           // a code works once
};

// A signed-in browser: only the hash of the cookie's token is stored.
struct AccountSession {
  std::string token_hash;   // hex SHA-256 of the cookie's value
  std::string account_id;
  std::string patient_id;
  Time created{};
  Time last_seen{};
  bool second_factor = false;  // full session only once the second factor was given
  int failures = 0;            // wrong second factors in this session
};
// ---- end resident accounts ----

// What a housekeeping sweep may forget (Writer::purge_expired): rows that no rule reads any more.
struct PurgeCutoffs {
  Time now{};                      // jtis, access tokens and device unlocks that expired before it
  Time codes_expired_before{};     // one-time codes that expired before it
  Time sessions_seen_before{};     // sessions unused since before it (past the idle timeout)
  Time sessions_created_before{};  // sessions opened before it (past the absolute lifetime)
  Time alerts_sent_before{};       // access-alert rate-limit marks older than it
};
// How many rows of each kind a sweep removed.
struct PurgeCounts {
  int64_t tokens = 0;  // jtis and access tokens
  int64_t codes = 0;
  int64_t sessions = 0;
  int64_t device_unlocks = 0;
  int64_t alert_marks = 0;
};

// ---- resident shares and access alerts (services/shares.h, services/access_log.h) ----------------

// A right one person gave another's account to act for them (services/proxies.h). Only carers are
// stored; a guardian follows from the child's Patient record.
struct ProxyGrant {
  std::string id;                // uuid
  std::string patient_id;        // whose data: the person who granted
  std::string proxy_account_id;  // who may act for them
  std::string kind;              // carer (guardian is reserved)
  std::string scopes;            // space-separated: view-records manage-shares
  Time created{};
  Time ends_at{};                // the right ends then
  Time revoked_at{};             // zero while not revoked
  std::string granted_by;        // the account that granted it
};

// A resident's SMART Health Link to records they chose. Only the SHA-256 of the manifest token is
// kept, and not the link key: the encrypted files in `body` cannot be opened with what is stored.
struct Share {
  std::string id;             // uuid, the resident's handle for it
  std::string patient_id;
  std::string account_id;     // the account that made it
  std::string token_hash;     // hex SHA-256 of the manifest URL's token
  Time created{};
  Time expires{};
  bool single_use = false;
  std::string passcode_hash;  // Argon2id PHC string; "" when the share has no passcode
  std::string status;         // active | revoked | used | disabled (expiry is read from `expires`)
  Time ended{};               // when it stopped being active (zero while active)
  int failures_total = 0;     // wrong passcodes since the last right one
  int failures_window = 0;    // wrong passcodes in the window that started at window_start
  Time window_start{};
  Time locked_until{};
  std::string body;           // sealed JSON under the patient's key: label, records, encrypted files
};

// One manifest request that was answered with the files.
struct ShareAccess {
  int64_t seq = 0;               // store-assigned
  std::string share_id;
  std::string patient_id;
  Time time{};
  std::string recipient_sealed;  // the recipient's self-description, sealed under the patient's key
};

// A resident's choice of notifications when their records are opened.
struct AccessAlerts {
  std::string patient_id;
  bool sms = false;          // to the phone a facility registered
  bool email = false;
  std::string email_sealed;  // the address, sealed under the patient's key ("" when none)
  Time updated{};
};
// ---- end resident shares ----

// ---- the resident's health book (services/book.h) ------------------------------------------

// One line of a patient's timeline: a summary of one resource in their compartment, written in the
// same transaction as the resource (and removed with it), so the timeline never opens the bodies.
// The summary (title, value, ...) is health data: it is sealed under the patient's data key.
struct TimelineRow {
  std::string patient_id;
  std::string ref;           // "Type/id" of the resource it summarises
  std::string facility_id;   // the facility that holds the resource
  std::string kind;          // visit | condition | result | ... (services/book.h)
  int64_t date = 0;          // unix ms: when it happened (the sort key, newest first)
  std::string sealed;        // sealed JSON summary; "" removes the row (the resource was deleted)
};

// A page of a patient's timeline, newest first.
struct TimelineQuery {
  std::string patient_id;
  std::vector<std::string> facility_ids;  // any of them (empty = every facility)
  std::vector<std::string> kinds;         // any of them (empty = every kind)
  std::optional<int64_t> from;            // date >= from (unix ms)
  std::optional<int64_t> to;              // date <= to (unix ms)
  // Keyset position: only rows strictly after (date, ref) in newest-first order.
  std::optional<std::pair<int64_t, std::string>> after;
  int limit = 50;
};

// The resident's decision about one facility: may it see records that other facilities hold?
// The Consent resource (FHIR) is the versioned record of it; this row is its lookup form.
struct ConsentGrant {
  std::string patient_id;
  std::string facility_id;
  bool shared = false;
  Time updated{};
};
// ---- end health book ----

// ---- notify: the outbox ----
// One notification waiting to be sent, being sent, or done with. Notifications never carry health
// data: the subject and body are a short fixed text and a link. But the link is a bearer secret
// (a certificate's /c/<token>, a sign-in code), and the recipient (a phone number or an e-mail
// address) is personal data: both reach the store only sealed by notify/, with a keyed hash of the
// recipient beside it for lookups and rate limits. A final mark (sent, dead) forgets them.
struct OutboxMessage {
  int64_t id = 0;                // store-assigned, increasing
  std::string channel;           // sms | email
  std::string patient_id;        // whom it is for ("" if not a patient)
  std::string recipient_sealed;  // AES-GCM sealed recipient (opaque to the store); "" once final
  std::string recipient_index;   // keyed hash of the recipient, hex
  std::string subject;           // e-mail subject ("" for SMS): a fixed text, in clear
  std::string body_sealed;       // AES-GCM sealed text (opaque to the store); "" once final
  std::string body;              // the text in clear: only in rows queued before schema step 17
  std::string status;            // queued | sending | sent | failed | dead (see OutboxMark)
  int attempts = 0;              // sends started so far
  Time next_attempt{};           // when it is next due (for sending: when the claim lapses)
  std::string last_error;        // why the last attempt failed; never personal data
  Time created{};
  std::optional<Time> sent_at;
  std::string dedupe_key;        // "" = none; else unique across the outbox
};

// The next state of an outbox message, written by the dispatcher.
//   queued  -> sending  (claimed: attempts + 1, next_attempt = when the claim lapses)
//   sending -> sent | failed (next_attempt = the retry time) | dead (given up)
//   failed  -> sending, and a sending whose claim lapsed (a crash mid-send) -> sending again.
//   sending -> queued  (released unsent, when the dispatcher stops mid-batch)
struct OutboxMark {
  std::string status;
  int attempts = 0;
  Time next_attempt{};
  std::string last_error;
  std::optional<Time> sent_at;
};
// ---- end notify ----

}  // namespace hb::store
