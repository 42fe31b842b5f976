// The records service: the FHIR R4 REST interactions behind /fhir, with every rule that protects
// patient data enforced here rather than in handlers.
//
// Access rules (for facility clients):
//  - a resource is owned by the facility that created it; other facilities cannot see it (it reads
//    as not found), unless the resident shared their records with the reading facility (consent,
//    services/book.h): then it may read and search them, never change them;
//  - break the glass: a facility may read another facility's records of a patient it registered
//    without consent by giving a reason (Principal::emergency_reason); a search must then name the
//    patient. Each such access is audited with the reason and the resident gets an SMS;
//  - a Patient is one person shared by every facility that registered them: a facility sees a
//    Patient once it has sent that person (matched by national id or insurance number);
//  - a resource in a patient compartment may only be written for a Patient the facility sees;
//  - every interaction needs the matching SMART scope (c r u d s) for its resource type.
// Every read and write of patient data appends an audit record: writes in the same transaction as
// the data, reads asynchronously (see store::Store::append_audit_async).
//
// Thread-safety: safe from any thread; all state lives in the store.
#pragma once

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "fhir/human_name.h"
#include "notify/outbox.h"
#include "services/principal.h"
#include "services/vault.h"
#include "store/store.h"

namespace hb::services {

struct RecordsOptions {
  std::string base_url;                    // e.g. "http://localhost:8080"; /fhir is appended
  std::vector<std::string> national_id_systems;
  std::vector<std::string> insurance_systems;
  JsonLimits json_limits;
  fhir::NameOrder name_order = fhir::NameOrder::kFamilyFirst;  // patients.name_order
};

// What an interaction produced, ready to render as HTTP.
struct FhirResult {
  int status = 200;
  std::string body;            // application/fhir+json; empty for 204
  std::string location;        // Location / Content-Location
  std::string etag;            // W/"<version>"
  std::string last_modified;   // RFC 7231 date
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

class RecordService {
 public:
  RecordService(store::Store& store, Vault& vault, const Clock& clock, RecordsOptions options);

  Result<FhirResult> create(const Principal& who, const std::string& type, std::string_view body,
                            const std::optional<std::string>& if_none_exist);
  Result<FhirResult> read(const Principal& who, const std::string& type, const std::string& id);
  Result<FhirResult> vread(const Principal& who, const std::string& type, const std::string& id,
                           const std::string& version);
  Result<FhirResult> update(const Principal& who, const std::string& type, const std::string& id,
                            std::string_view body, const std::optional<std::string>& if_match);
  // PUT Type?search: 0 matches creates, 1 updates it, more is 412.
  Result<FhirResult> conditional_update(const Principal& who, const std::string& type,
                                        const QueryParams& query, std::string_view body,
                                        const std::optional<std::string>& if_match);
  Result<FhirResult> remove(const Principal& who, const std::string& type, const std::string& id);
  Result<FhirResult> history(const Principal& who, const std::string& type, const std::string& id,
                             const QueryParams& query);
  Result<FhirResult> search(const Principal& who, const std::string& type,
                            const QueryParams& query);
  // A transaction (all or nothing) or batch (each entry on its own) Bundle.
  Result<FhirResult> bundle(const Principal& who, std::string_view body);

  // A transaction Bundle, built by the caller, whose writes commit together with the caller's own
  // (`also`, run in the same store transaction after the entries, given "Type/id" of each entry in
  // order; "" for entries that wrote nothing). For services that keep rows beside the FHIR record.
  // No response Bundle is made: `also` is where the caller learns what was written.
  using AlsoWrite = std::function<Status(store::Writer&, const std::vector<std::string>& written)>;
  Status transaction_json_with(const Principal& who, Json bundle, AlsoWrite also);
  // The same, without waiting: checked and prepared on this thread, then queued for the store's
  // writer, so that many transactions given at once commit in few groups (batch issuance). The
  // writer replays the prepared rows (store::Store::write_rerunnable); a replay that is stale
  // when the writer comes to it, or fails otherwise, is run again the ordinary way by
  // Pending::get, as transaction_json_with does. `also` (and what it refers to) must live until
  // get() or wait() returns.
  class Pending {
   public:
    Pending() = default;
    // The transaction's status once it is durable, or its error. Once only.
    Status get();
    // Waits until the writer is done with the queued write, without its status (for a caller
    // that must not leave while the writer may still use what `also` refers to).
    void wait() const;
    bool valid() const { return written_.valid(); }

   private:
    friend class RecordService;
    struct State;
    std::shared_ptr<State> state_;
    std::future<Status> written_;
  };
  Pending transaction_json_async(const Principal& who, Json bundle, AlsoWrite also);

  // Inside the caller's write: sets the status of a verifiable document's DocumentReference
  // ("superseded", "entered-in-error"), or of a record the document brought (an Observation, an
  // Immunization, a ServiceRequest), as a new version. `who` must have issues_documents set.
  // Nothing when the resource is gone (deleted before such records were guarded).
  Status set_document_status(store::Writer& w, const Principal& who, const std::string& type,
                             const std::string& id, const std::string& status);

  // Where break-the-glass notices to residents go (null: none). Set before serving.
  void set_outbox(notify::Outbox* outbox);

  Json capability_statement() const;
  const RecordsOptions& options() const { return options_; }

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  RecordsOptions options_;
};

// RFC 7231 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(Time t);

}  // namespace hb::services
