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

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/json.h"
#include "crypto/keys.h"
#include "documents/issuer_directory.h"
#include "documents/verify.h"
#include "ledger/log.h"
#include "services/principal.h"
#include "services/records.h"
#include "services/vault.h"
#include "store/store.h"

namespace hb::services {

struct DocumentOptions {
  std::string base_url;     // public URL, e.g. https://healthbook.example
  std::string rid_secret;   // key for revocation ids (SHC rid); derived from the master key
};

struct IssuedDocument {
  int status = 201;         // 201 issued now, 200 the same request issued before
  Json body;                // the answer to the facility (see docs/documents.md)
};

class DocumentService {
 public:
  DocumentService(store::Store& store, Vault& vault, RecordService& records, ledger::Log& log,
                  const Clock& clock, DocumentOptions options);

  // Issues a document from the JSON request. kInvalid/kUnprocessable with every problem for a bad
  // request; kForbidden without the DocumentReference create scope; kConflict for a reused id.
  Result<IssuedDocument> issue(const Principal& who, std::string_view request_json);

  // The issuing facility's view of one of its documents, by its own document id.
  Result<Json> status(const Principal& who, const std::string& facility_ref);

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

  std::string issuer_url(const std::string& facility_code) const {
    return options_.base_url + "/issuers/" + facility_code;
  }

 private:
  Result<crypto::PrivateKey> signing_key(const store::Facility& facility);

  store::Store& store_;
  Vault& vault_;
  RecordService& records_;
  ledger::Log& log_;
  const Clock& clock_;
  DocumentOptions options_;
  std::mutex keys_mu_;
  std::map<std::string, crypto::PrivateKey> keys_;  // by facility id; guarded by keys_mu_
};

}  // namespace hb::services
