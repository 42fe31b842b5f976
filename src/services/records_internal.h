// Internals of the records service shared by its translation units (records.cpp for the REST
// interactions, bundles.cpp for transactions and batches). Not part of the public surface.
#pragma once

#include <map>
#include <set>
#include <tuple>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/aead.h"
#include "fhir/search_params.h"
#include "notify/outbox.h"
#include "services/rate_limit.h"
#include "services/records.h"

namespace hb::services::detail {

// The outcome of one write inside a transaction.
struct EntryResult {
  int status = 200;              // 200 ok, 201 created, 204 deleted
  std::string type;
  std::string id;
  int64_t version = 0;
  Time last_updated{};
  std::string text;              // the resource as stored (empty for deletes)
};

// How a create will land: a new resource, an existing match (conditional create), or a Patient
// that matched a person another facility already registered.
struct CreateTarget {
  enum class Kind { kNew, kExisting, kSamePerson } kind = Kind::kNew;
  std::string id;
};

// What one store write closure has learnt so far: data keys, patients checked visible, resolved
// conditional references, and the audit records to append when it ends (one per patient and
// action, naming every resource touched). Valid only inside that closure: none of it is committed
// yet, so none of it may outlive it.
struct TxCache {
  std::map<std::string, crypto::Aead256> keys;
  std::set<std::string> visible_patients;
  std::map<std::string, std::string> conditional;
  struct AuditKey {
    std::string action, subtype, patient;
    bool operator<(const AuditKey& o) const {
      return std::tie(action, subtype, patient) < std::tie(o.action, o.subtype, o.patient);
    }
  };
  std::map<AuditKey, std::string> audits;  // -> space-separated entities

  void audit(const char* action, const char* subtype, const std::string& patient, const std::string& entity) {
    auto& e = audits[AuditKey{action, subtype, patient}];
    if (e.size() > 60000) return;  // an audit row names at most this much; the row itself is still written
    if (!e.empty()) e.push_back(' ');
    e += entity;
  }
};

struct Engine {
  store::Store& store;
  Vault& vault;
  const Clock& clock;
  RecordsOptions options;
  fhir::Blinder blinder;
  // Refused attempts to link to a registered person, per facility: each refusal takes a token, and
  // a facility without tokens gets 429, so birth dates and names cannot be guessed by trying.
  mutable RateLimiter link_refusals;

  // Before any work: 429 when the facility has no link tries left (reads the allowance only).
  Status check_link_allowance(const Principal& who) const;
  // Inside a write, where an incoming Patient's identifiers turned out to be registered and before
  // anything is compared or said about them: 429 when the facility has no link tries left.
  // refuse_link charges a refusal and audits it (outcome 4), in the same write. Writes run one at a
  // time on the store's writer thread, so requests sent at once cannot all pass the check before
  // any of them is charged, whichever path (POST, PUT, a transaction or batch, issuance) they come
  // by. A speculation (speculation.h, on a handler thread) leaves the check to its replay on the
  // writer thread, and charges nothing: whatever it refuses is run again inside the writer.
  Status link_try_allowed(store::Writer& w, const Principal& who) const;
  Status refuse_link(const store::Writer& w, const Principal& who, Status refusal) const;

  Engine(store::Store& s, Vault& v, const Clock& c, RecordsOptions o);

  // Parsing and checking a request body as a resource of `type` ("" = any stored type).
  Result<Json> parse_resource(std::string_view body, const std::string& type) const;
  Status check_resource(const Json& resource, const std::string& type) const;

  // Sends the resident an SMS when a facility broke the glass on their records (null: none).
  notify::Outbox* outbox = nullptr;

  // Visibility of a stored row to a principal, for writes: its own resources and the Patients it
  // registered.
  Result<bool> visible(store::Reader& r, const Principal& who, const store::ResourceRow& row) const;
  // For reads: also the resources of patients who shared their records with the facility.
  Result<bool> readable(store::Reader& r, const Principal& who, const store::ResourceRow& row) const;
  // Break the glass: kInvalid unless who.emergency_reason (when set) is a usable reason.
  static Status check_emergency(const Principal& who);
  // Whether who may read `row` by breaking the glass: it gave a reason and has registered the
  // patient whose compartment the row is in.
  Result<bool> emergency_readable(store::Reader& r, const Principal& who,
                                  const store::ResourceRow& row) const;
  // After an emergency read: the audit naming the reason, and an SMS to the resident (at most one
  // per facility and patient an hour; no health data in it).
  void emergency_done(const Principal& who, const std::string& patient_id,
                      const std::string& entities, const char* subtype) const;
  // Decrypts a row on a committed read. Never call it inside a write closure: it caches the data
  // key, and a key that closure created may yet be rolled back. Use open_in_write there.
  Result<std::string> open_body(store::Reader& r, const store::ResourceRow& row) const;
  Result<std::string> open_in_write(store::Writer& w, const store::ResourceRow& row, TxCache& tx) const;
  // The owner's data key inside a write, remembered for the rest of that closure only.
  Result<const crypto::Aead256*> key_in_write(store::Writer& w, const std::string& owner, TxCache& tx) const;
  // kUnprocessable (naming `path`) unless Patient/<id> exists and this facility has registered it.
  Status require_patient(store::Writer& w, const Principal& who, const std::string& patient_id,
                         const std::string& path, TxCache& tx) const;
  // Restricts a search to what `who` may see: for writes (conditional matches) its own
  // resources; `for_read` adds those of patients who shared their records with it.
  void restrict(const Principal& who, store::SearchQuery& q, bool for_read = false) const;

  // Conditional search inside a transaction: ids of visible matches (at most 2 are fetched).
  Result<std::vector<std::string>> find(store::Reader& r, const Principal& who,
                                        const std::string& type, const QueryParams& params) const;
  // Rewrites references: urn:uuid placeholders from `mapping`, conditional references
  // ("Type?query") by searching. Problems are reported against `path`.
  Status resolve_references(store::Writer& w, const Principal& who, Json& node,
                            const std::map<std::string, std::string>& mapping,
                            const std::string& path, TxCache& tx) const;
  Status resolve_in(store::Writer& w, const Principal& who, Json& node,
                    const std::map<std::string, std::string>& mapping, std::string& path,
                    const std::string& base, TxCache& tx) const;

  Result<CreateTarget> create_target(store::Writer& w, const Principal& who,
                                     const std::string& type, const Json& resource,
                                     const std::optional<QueryParams>& if_none_exist,
                                     TxCache& tx) const;
  Result<EntryResult> apply_create(store::Writer& w, const Principal& who,
                                   const std::string& type, Json resource,
                                   const CreateTarget& target, TxCache& tx) const;
  Result<EntryResult> apply_update(store::Writer& w, const Principal& who,
                                   const std::string& type, const std::string& id, Json resource,
                                   const std::optional<std::string>& if_match, TxCache& tx) const;
  Result<EntryResult> apply_delete(store::Writer& w, const Principal& who,
                                   const std::string& type, const std::string& id, TxCache& tx) const;
  // A verifiable document's DocumentReference (an identifier of system kDocumentSystem) is written
  // by DocumentService only (Principal::issues_documents): kUnprocessable for anyone else who
  // would create one (`incoming`) or change or delete one (`prev`).
  Status guard_document_record(store::Writer& w, const Principal& who, const std::string& type,
                               const Json* incoming, const std::optional<store::ResourceRow>& prev,
                               TxCache& tx) const;
  // Appends the audit records a closure collected.
  Status flush_audits(store::Writer& w, const Principal& who, TxCache& tx) const;

  store::AuditRecord audit(const Principal& who, const char* action, const char* subtype,
                           const std::string& patient_id, const std::string& entities,
                           const std::string& detail) const;

  std::string fhir_base() const { return options.base_url + "/fhir"; }
};

// "W/\"3\"" -> 3; nullopt when malformed.
std::optional<int64_t> parse_etag(const std::string& etag);
std::string etag_of(int64_t version);

}  // namespace hb::services::detail

namespace hb::services {
struct RecordService::Impl : detail::Engine {
  using Engine::Engine;
};
}  // namespace hb::services
