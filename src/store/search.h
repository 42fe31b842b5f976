// A search, as the store executes it: resource type, visibility, clauses, order and a page.
// Built by fhir/search.h from the request's query string; engines turn it into SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/types.h"

namespace hb::store {

// One value of a clause. The clause matches a resource when any of its values does.
struct SearchValue {
  // kToken: system/code; `any_system` when the query gave no "|" (code matches in any system);
  //         `no_system` when the query was "|code" (only codes without a system).
  // kReference: a = target type ("" = any type), b = target id.
  // kString: a = normalised text (prefix match) or a blind index (exact match, `exact`).
  // kDate: the query value's own period [lo, hi] and the comparison prefix.
  std::string a;
  std::string b;
  // Non-empty: this value matches index rows of this parameter rather than the clause's (a
  // person's `name` is found through the rows of `family` and `given` too: see
  // fhir/search_params.cpp). Same kind as the clause.
  std::string param;
  bool any_system = false;
  bool no_system = false;
  bool exact = false;
  enum class Prefix { kEq, kNe, kGt, kLt, kGe, kLe, kSa, kEb, kAp } prefix = Prefix::kEq;
  int64_t lo = 0;
  int64_t hi = 0;
};

// Clauses are ANDed.
struct SearchClause {
  std::string param;
  IndexKind kind = IndexKind::kToken;
  std::vector<SearchValue> any_of;
};

enum class SortKey { kNone, kLastUpdated, kDate };

struct SearchQuery {
  std::string type;
  // Visibility: only resources owned by this facility (empty = no restriction, for operators).
  std::string owner_facility;
  // Visibility of Patient resources for a facility: those it is linked to (see Writer::link_facility).
  std::string linked_facility;
  // With owner_facility: also the resources of patients who shared their records with this
  // facility (ConsentGrant.shared).
  std::string consented_facility;
  std::vector<std::string> ids;                 // _id (ORed), empty = any
  std::optional<int64_t> last_updated_lo;       // inclusive, unix ms
  std::optional<int64_t> last_updated_hi;       // inclusive, unix ms
  std::vector<SearchClause> clauses;
  // Restrict to one patient compartment ("" = any).
  std::string patient_id;

  SortKey sort = SortKey::kNone;
  std::string sort_param;   // for kDate: which date parameter
  bool descending = false;

  int count = 50;           // page size (1..1000)
  // Keyset cursor from a previous page: results strictly after this position in the sort order.
  std::optional<std::string> after;
  bool want_total = false;  // also count all matches (for _summary=count and Bundle.total)
  // Rows without their body (ResourceRow::body empty): for a caller that needs only which
  // resources match (a conditional request), not what they hold.
  bool ids_only = false;
};

struct SearchPage {
  std::vector<ResourceRow> rows;       // current versions, not deleted
  std::optional<std::string> next;     // cursor for the next page, if there are more
  std::optional<int64_t> total;        // when want_total
};

}  // namespace hb::store
