// Turns a SearchQuery into SQL for the SQLite engine, and encodes/decodes page cursors.
//
// Private to src/store; exposed in a header so tests can check query plans.
//
// Plan shape: one clause "drives" (its index rows are found by value, `rid IN (...)`) and every
// other clause is a correlated EXISTS probe on the index table's (rid, param, ...) key.
// The
// driver is picked by expected selectivity, not left to the planner, which has no statistics:
// _id list, then a reference, then an exact string, then a token with a code, then the patient
// compartment, then a string prefix; dates never drive. With a patient compartment, the
// driver's index lookup is narrowed by patient too, and a token with a code goes first: the
// (type, param, code, patient) index then finds exactly the matches. When the driver has one
// value, the other clauses are probed inside its lookup, before any resource row is read.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"
#include "store/search.h"

namespace hb::store::sqlite {

using SqlArg = std::variant<int64_t, std::string>;

struct BuiltSql {
  std::string sql;
  std::vector<SqlArg> args;  // in order of the `?` placeholders
};

// Result columns of `page`: see kSearchColumns in the .cpp — 0..8 the ResourceRow fields
// (type, id, version, patient_id, facility_id, last_updated, deleted, seq, body), 9 rid,
// 10 the sort key (NULL unless sorting by a date parameter).
struct SearchSql {
  BuiltSql page;   // at most count + 1 rows, after the cursor, in sort order
  BuiltSql count;  // COUNT(*) of the same filter, without the cursor
};

// kInvalid for an empty type, a clause with no values, count out of 1..1000, a kDate sort without
// a parameter, or a malformed cursor (including one made for another sort order).
Result<SearchSql> build_search_sql(const SearchQuery& q);

// The cursor that continues after a row, for the query's sort order.
std::string encode_cursor(const SearchQuery& q, int64_t rid, const std::string& id,
                          int64_t last_updated, std::optional<int64_t> date_key);

}  // namespace hb::store::sqlite
