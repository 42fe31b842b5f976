// Residents' shares: a resident picks records from their own health book and shares them as a
// SMART Health Link (docs/sharing.md), with an expiry, an optional passcode, optional single use
// and a label; lists their shares with every access; revokes any at once.
//
// What a share holds: a FHIR collection Bundle of the chosen resources, as they were when shared,
// and the SMART Health Cards of the chosen verifiable documents that are still active, each as a
// JWE (dir + A256GCM) under a random 32-byte key that travels only in the shlink payload. The
// server keeps the SHA-256 of the manifest token and not the key, so the link is shown once, when
// the share is made: nothing stored (even with the master key) opens a share's files. The files,
// label, record list and recipients are sealed under the patient's data key besides, so
// crypto-shredding a patient erases their shares too.
//
// Rules, enforced here and not in handlers: a share holds only records of the resident's own
// compartment (another person's id is refused exactly like an id that does not exist, and nothing
// is made); only the resident who owns a share lists or revokes it (another resident gets 404).
// A manifest request is answered while the share is active and unexpired; a single-use share
// ends with its first answered request; wrong passcodes are limited as on document links
// (kWrongPerHour lock the share for an hour, kWrongInARow disable it). Every answered request is
// recorded (time, recipient) and is an audit event of the patient's ("share-opened").
//
// Thread-safety: safe from any number of threads; all durable state lives in the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/json.h"
#include "crypto/password.h"
#include "documents/shlink.h"
#include "services/accounts.h"
#include "services/documents.h"
#include "services/rate_limit.h"
#include "services/vault.h"
#include "store/store.h"

namespace hb::services {

struct ShareOptions {
  std::string base_url;  // public URL: the manifest is <base>/shl/s/<token>, the viewer <base>/s
  crypto::PasswordCost passcode_cost;  // Argon2id cost of stored passcodes
};

// An answer to a SMART Health Link client: 200 with the manifest, or a refusal in problem+json
// members (401 with remainingAttempts before the share is disabled, for every wrong passcode; 404
// no longer active; 429 with retryAfter while locked).
struct ShareAnswer {
  int status = 200;
  Json body;
};

class ShareService {
 public:
  static constexpr int64_t kMinExpiresIn = 3600;      // an hour
  static constexpr int64_t kMaxExpiresIn = 31536000;  // a year
  static constexpr std::size_t kMaxRecords = 100;
  static constexpr std::size_t kMaxLabel = 80;  // characters (the SHL payload's limit)
  static constexpr std::size_t kMinPasscode = 6;
  static constexpr std::size_t kMaxPasscode = 64;
  static constexpr int kMaxActiveShares = 100;  // per resident
  static constexpr int kWrongPerHour = DocumentService::kWrongPerHour;
  static constexpr int kWrongInARow = 20;  // wrong passcodes without a right one between
  static constexpr int kWrongPerAddressHour = DocumentService::kWrongPerAddressHour;
  static constexpr int kListedShares = 200;   // newest first
  static constexpr int kListedAccesses = 50;  // per share, newest first

  ShareService(store::Store& store, Vault& vault, DocumentService& documents, const Clock& clock,
               ShareOptions options);

  // POST /api/v1/me/shares. The 201 body (docs/sharing.md) is the only one that carries the link:
  // "shlink", "viewerUrl" and "qrSvg". kInvalid / kUnprocessable listing every problem.
  Result<Json> create(const Resident& who, std::string_view request_json,
                      const std::string& address);
  // GET /api/v1/me/shares: {"shares": [...]}, newest first, with their accesses.
  Result<Json> list(const Resident& who, const std::string& address);
  // DELETE /api/v1/me/shares/<id>: the share, revoked (again: unchanged). kNotFound unless the
  // resident's own.
  Result<Json> revoke(const Resident& who, const std::string& share_id, const std::string& address);

  // POST /shl/s/<token> from any SMART Health Link client: {"recipient", "passcode"?}.
  Result<ShareAnswer> manifest(const std::string& token, std::string_view request_json,
                               const std::string& address);

 private:
  // A share's sealed body, opened: label, records ("Type/id"), files ({contentType, jwe}).
  Result<Json> open_body(store::Reader& r, const store::Share& s);
  Json share_json(const store::Share& s, const Json& body, const Json& accesses) const;
  // 404 for a share that is not active or expired, 429 while the hour's lock holds, else 401
  // asking for the passcode (passcode_needed).
  ShareAnswer refusal(const store::Share& s) const;
  // 401 with `detail` and remainingAttempts: the wrong passcodes the share takes before it is
  // disabled, whether or not the hour's lock holds.
  ShareAnswer passcode_needed(const store::Share& s, const char* detail) const;
  ShareAnswer gone() const;
  // The manifest's answer for the share whose token has this hash; `charge`: the address's charge
  // for the passcode the request carries (kept when it is wrong), null when it carries none.
  Result<ShareAnswer> answer(const std::string& hash, const documents::ShlManifestRequest& req,
                             const std::string& address, Charge* charge);

  store::Store& store_;
  Vault& vault_;
  DocumentService& documents_;
  const Clock& clock_;
  ShareOptions options_;
  RateLimiter wrong_by_address_;
  InFlight checking_;  // the token hashes of the shares whose passcode is being checked
};

}  // namespace hb::services
