// The resident's health book: their timeline of everything every facility holds about them, each
// record in full, and their consent to connect facilities. docs/health-book.md has the routes.
//
// Rules:
//  - a resident reaches only their own Patient compartment (Resident::patient_id), from every
//    facility: consent governs what facilities see, never what residents see of themselves. A
//    record of another person reads exactly like one that does not exist (kNotFound);
//  - the timeline is served from summary rows (store::TimelineRow) written in the same
//    transaction as each record (see summarise()), sealed under the patient's data key: a page
//    opens at most `limit` small summaries, never the resources themselves;
//  - consent is a FHIR R4 Consent per resident (scope patient-privacy, a base "deny" provision and
//    one nested permit or deny per facility the resident decided about), versioned like every
//    resource, with a store::ConsentGrant per facility beside it for the access checks in the
//    records service (records.h): a facility the resident shared with may read and search the
//    records other facilities hold about them;
//  - every read (timeline, record, connections) and every consent change writes an audit event
//    naming the resident's account; consent changes in the same transaction as the change.
//
// Thread-safety: safe from any number of threads; all state lives in the store.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "services/accounts.h"
#include "services/records.h"
#include "services/vault.h"
#include "store/store.h"

namespace hb::services {

// The kinds of timeline entries, in the order the API lists them.
const std::vector<std::string>& timeline_kinds();

// A resource's timeline line before it is sealed: its kind, when it happened, and the summary
// members of the API's entry (title, summary, status, date, and value or document when they
// apply).
struct TimelineSummary {
  std::string kind;
  int64_t date = 0;  // unix ms
  Json fields;
};

// The summary of a resource in a patient's compartment, or nullopt for types the timeline does
// not show (Patient, Consent, ...). `last_updated` is the date when the resource gives none.
std::optional<TimelineSummary> summarise(const std::string& type, const Json& resource,
                                         Time last_updated);
// Associated data of a sealed timeline summary: binds it to its patient and resource.
std::string timeline_aad(const std::string& patient_id, const std::string& ref);

// "H", "L" (or the interpretation's own code, e.g. "HH", "A") when an Observation is out of range,
// "" otherwise. `interpretation` is the Observation's interpretation code if it gave one.
std::string result_flag(const std::string& interpretation, std::optional<double> value,
                        std::optional<double> low, std::optional<double> high);

class BookService {
 public:
  static constexpr int kDefaultLimit = 50;
  static constexpr int kMaxLimit = 200;

  BookService(store::Store& store, Vault& vault, const Clock& clock);

  // GET /api/v1/me/timeline. Query: facility (codes), kind (repeatable or comma list), from, to
  // (FHIR dates), q (words in title or summary), limit (1..200), cursor. kInvalid naming the
  // parameter for a bad one.
  Result<Json> timeline(const Resident& who, const QueryParams& query, const std::string& address);

  // GET /api/v1/me/records/<type>/<id>: the resource as FHIR JSON text; kNotFound unless it is in
  // the resident's own compartment (and not deleted).
  Result<std::string> record(const Resident& who, const std::string& type, const std::string& id,
                             const std::string& address);

  // GET /api/v1/me/connections: every facility that registered the resident or holds a record of
  // theirs, whether it holds records, and whether the resident shares with it.
  Result<Json> connections(const Resident& who, const std::string& address);
  // PUT /api/v1/me/connections/<code> {"shared": true|false}. kNotFound for a facility that does
  // not know the resident; the new Consent version and the grant commit together with the audit.
  Result<Json> set_connection(const Resident& who, const std::string& facility_code,
                              std::string_view body, const std::string& address);

  // The id of the resident's Consent resource (one per person, versioned).
  static std::string consent_id(const std::string& patient_id);

 private:
  store::Store& store_;
  Vault& vault_;
  const Clock& clock_;
};

}  // namespace hb::services
