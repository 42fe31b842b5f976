#include "store/sqlite_search.h"

#include <charconv>
#include <string_view>

namespace hb::store::sqlite {
namespace {

// The body is kept only with the version: fetched by seq (resource_versions' rowid) for the rows
// the page returns.
constexpr const char* kRowColumns =
    "r.type, r.id, r.version, r.patient_id, r.facility_id, r.last_updated, r.deleted, r.seq, ";
constexpr const char* kBodyColumn = "(SELECT v.body FROM resource_versions v WHERE v.seq = r.seq)";
// SearchQuery::ids_only: an empty body, and the version row is not read.
constexpr const char* kNoBodyColumn = "X''";

// The largest code point, UTF-8 encoded: every string that starts with `p` sorts below
// p + kMaxChar under SQLite's BINARY (memcmp) collation.
constexpr std::string_view kMaxChar = "\xF4\x8F\xBF\xBF";

struct Sql {
  std::string text;
  std::vector<SqlArg> args;

  Sql& operator<<(std::string_view s) {
    text += s;
    return *this;
  }
  Sql& arg(std::string v) {
    text += '?';
    args.emplace_back(std::move(v));
    return *this;
  }
  Sql& arg(int64_t v) {
    text += '?';
    args.emplace_back(v);
    return *this;
  }
  void append(const Sql& o) {
    text += o.text;
    args.insert(args.end(), o.args.begin(), o.args.end());
  }
};

const char* table_of(IndexKind k) {
  switch (k) {
    case IndexKind::kToken: return "idx_token";
    case IndexKind::kReference: return "idx_reference";
    case IndexKind::kDate: return "idx_date";
    case IndexKind::kString: return "idx_string";
  }
  return "idx_token";
}

// The condition one value puts on an index row aliased `x`.
void value_condition_x(IndexKind kind, const SearchValue& v, Sql& out) {
  using P = SearchValue::Prefix;
  switch (kind) {
    case IndexKind::kToken:
      if (v.any_system) {
        out << "x.code = ";
        out.arg(v.b);
      } else if (v.no_system) {
        out << "x.system = '' AND x.code = ";
        out.arg(v.b);
      } else if (v.b.empty() && !v.a.empty()) {
        out << "x.system = ";
        out.arg(v.a);
      } else {
        out << "x.system = ";
        out.arg(v.a) << " AND x.code = ";
        out.arg(v.b);
      }
      return;
    case IndexKind::kReference:
      if (!v.a.empty()) {
        out << "x.target_type = ";
        out.arg(v.a) << " AND ";
      }
      out << "x.target_id = ";
      out.arg(v.b);
      return;
    case IndexKind::kString:
      if (v.exact) {
        out << "x.value = ";
        out.arg(v.a);
      } else {
        out << "x.value >= ";
        out.arg(v.a) << " AND x.value < ";
        out.arg(v.a + std::string(kMaxChar));
      }
      return;
    case IndexKind::kDate:
      // The resource's period [x.lo, x.hi] against the query's [lo, hi].
      switch (v.prefix) {
        case P::kEq:
          out << "x.lo >= ";
          out.arg(v.lo) << " AND x.hi <= ";
          out.arg(v.hi);
          return;
        case P::kNe:
          out << "NOT (x.lo >= ";
          out.arg(v.lo) << " AND x.hi <= ";
          out.arg(v.hi) << ")";
          return;
        case P::kGt:
          out << "x.hi > ";
          out.arg(v.hi);
          return;
        case P::kLt:
          out << "x.lo < ";
          out.arg(v.lo);
          return;
        case P::kGe:
          out << "x.hi >= ";
          out.arg(v.lo);
          return;
        case P::kLe:
          out << "x.lo <= ";
          out.arg(v.hi);
          return;
        case P::kSa:
          out << "x.lo > ";
          out.arg(v.hi);
          return;
        case P::kEb:
          out << "x.hi < ";
          out.arg(v.lo);
          return;
        case P::kAp:
          out << "x.lo <= ";
          out.arg(v.hi) << " AND x.hi >= ";
          out.arg(v.lo);
          return;
      }
      return;
  }
}

// The same, for an index row aliased `alias` (one letter). The text holds only column names
// and placeholders: values are always bound.
void value_condition(IndexKind kind, const SearchValue& v, char alias, Sql& out) {
  Sql part;
  value_condition_x(kind, v, part);
  if (alias != 'x') {
    for (size_t i = 0; i + 1 < part.text.size(); ++i) {
      if (part.text[i] == 'x' && part.text[i + 1] == '.') part.text[i] = alias;
    }
  }
  out.append(part);
}

// The parameter whose index rows a value of clause c matches.
const std::string& param_of(const SearchClause& c, const SearchValue& v) {
  return v.param.empty() ? c.param : v.param;
}

// "AND EXISTS (an index row of clause c for the resource rid_expr)"; alias e.
void probe(const SearchClause& c, const char* rid_expr, Sql& out) {
  out << " AND EXISTS (SELECT 1 FROM " << table_of(c.kind) << " e WHERE e.rid = " << rid_expr;
  bool one_param = true;
  for (const auto& v : c.any_of) one_param = one_param && (v.param.empty() || v.param == c.param);
  if (one_param) {
    out << " AND e.param = ";
    out.arg(c.param);
  }
  out << " AND (";
  for (size_t j = 0; j < c.any_of.size(); ++j) {
    const SearchValue& v = c.any_of[j];
    if (j > 0) out << " OR ";
    out << "(";
    if (!one_param) {
      out << "e.param = ";
      out.arg(param_of(c, v)) << " AND ";
    }
    value_condition(c.kind, v, 'e', out);
    out << ")";
  }
  out << "))";
}

// Can this clause find its rows through the index table's by-value index?
int driver_rank(const SearchClause& c, bool in_compartment) {
  // Lower is better; 0 = cannot drive. Inside one patient's compartment every lookup is narrowed
  // by patient, and a reference (usually that same patient) says little more: a code says more.
  switch (c.kind) {
    case IndexKind::kReference: return in_compartment ? 3 : 1;
    case IndexKind::kString: {
      bool all_exact = true;
      for (const auto& v : c.any_of) all_exact = all_exact && v.exact;
      return all_exact ? 2 : 5;
    }
    case IndexKind::kToken: {
      for (const auto& v : c.any_of) {
        if (v.b.empty()) return 0;  // a system alone is not selective and has no index
      }
      return in_compartment ? 1 : 3;
    }
    case IndexKind::kDate: return 0;
  }
  return 0;
}

constexpr int kPatientRank = 4;  // the patient compartment beats a string prefix only

struct Cursor {
  std::optional<int64_t> key;  // NULL date key = rows without the parameter
  int64_t rid = 0;
  std::string id;
};

// Two characters: the sort key (r = creation, u = _lastUpdated, d = a date) and the direction.
std::string mode_of(const SearchQuery& q) {
  char m[2] = {'r', q.descending ? '-' : '+'};
  if (q.sort == SortKey::kLastUpdated) m[0] = 'u';
  if (q.sort == SortKey::kDate) m[0] = 'd';
  return std::string(m, 2);
}

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

Result<Cursor> parse_cursor(const SearchQuery& q, std::string_view s) {
  Status bad = invalid("malformed or foreign page cursor");
  std::string prefix = "v1:";
  prefix += mode_of(q);
  prefix += ':';
  if (s.substr(0, prefix.size()) != prefix) return bad;
  s.remove_prefix(prefix.size());
  Cursor c;
  if (q.sort == SortKey::kNone) {
    if (!parse_int(s, c.rid) || c.rid <= 0) return bad;
    return c;
  }
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return bad;
  std::string_view key = s.substr(0, colon);
  std::string_view id = s.substr(colon + 1);
  if (id.empty()) return bad;
  c.id = std::string(id);
  if (q.sort == SortKey::kDate && key == "~") return c;
  int64_t k = 0;
  if (!parse_int(key, k)) return bad;
  c.key = k;
  return c;
}

Status validate(const SearchQuery& q) {
  if (q.type.empty()) return invalid("search needs a resource type");
  if (q.count < 1 || q.count > 1000) return invalid("_count must be between 1 and 1000");
  if (q.ids.size() > 1000) return invalid("at most 1000 _id values");
  if (q.sort == SortKey::kDate && q.sort_param.empty()) {
    return invalid("sorting by a date needs the parameter");
  }
  for (const auto& c : q.clauses) {
    if (c.param.empty()) return invalid("search clause without a parameter");
    if (c.any_of.empty()) return invalid("search parameter " + c.param + " has no value");
    // 100 values a parameter, each at most 3 alternatives (a name's family and given rows)
    if (c.any_of.size() > 300) return invalid("search parameter " + c.param + " has too many values");
  }
  return Status::ok();
}

// The sort key expression of a date sort: earliest start ascending, latest end descending.
void date_key(const SearchQuery& q, Sql& out) {
  out << (q.descending ? "(SELECT MAX(d.hi)" : "(SELECT MIN(d.lo)")
      << " FROM idx_date d WHERE d.rid = r.rid AND d.param = ";
  out.arg(q.sort_param) << ")";
}

// FROM + WHERE for the filter shared by the page and the count.
void filters(const SearchQuery& q, Sql& out) {
  // Pick the driver.
  int best_rank = 100;
  int driver = -1;
  for (size_t i = 0; i < q.clauses.size(); ++i) {
    int rank = driver_rank(q.clauses[i], !q.patient_id.empty());
    if (rank != 0 && rank < best_rank) {
      best_rank = rank;
      driver = static_cast<int>(i);
    }
  }
  const bool by_ids = !q.ids.empty();
  const bool by_patient = !by_ids && !q.patient_id.empty() && best_rank > kPatientRank;
  if (by_ids || by_patient) driver = -1;

  out << " FROM resources r";
  // Without statistics the planner may prefer walking a type's rows in sort order; say which
  // access path is right. Unary + keeps a column's index out of consideration.
  if (by_ids) out << " INDEXED BY resources_by_id";
  if (by_patient) out << " INDEXED BY resources_by_patient";
  const char* plus = driver >= 0 ? "+" : "";
  out << " WHERE r.deleted = 0 AND " << plus << "r.type = ";
  out.arg(q.type);

  if (q.type == "Patient" && !q.linked_facility.empty()) {
    // A facility sees the Patient resources of the people it is linked to, whoever wrote them.
    out << " AND EXISTS (SELECT 1 FROM patient_facilities pf WHERE pf.patient_id = r.patient_id"
           " AND pf.facility_id = ";
    out.arg(q.linked_facility) << ")";
  } else if (!q.owner_facility.empty() && !q.consented_facility.empty()) {
    // Its own resources, and those of the patients who shared their records with it.
    out << " AND (r.facility_id = ";
    out.arg(q.owner_facility);
    out << " OR (r.patient_id <> '' AND EXISTS (SELECT 1 FROM consent_grants cg"
           " WHERE cg.patient_id = r.patient_id AND cg.facility_id = ";
    out.arg(q.consented_facility) << " AND cg.shared = 1)))";
  } else if (!q.owner_facility.empty()) {
    out << " AND r.facility_id = ";
    out.arg(q.owner_facility);
  }
  if (!q.patient_id.empty()) {
    out << " AND " << plus << "r.patient_id = ";
    out.arg(q.patient_id);
  }
  if (by_ids) {
    out << " AND r.id IN (";
    for (size_t i = 0; i < q.ids.size(); ++i) {
      if (i > 0) out << ", ";
      out.arg(q.ids[i]);
    }
    out << ")";
  }
  if (q.last_updated_lo) {
    out << " AND " << plus << "r.last_updated >= ";
    out.arg(*q.last_updated_lo);
  }
  if (q.last_updated_hi) {
    out << " AND " << plus << "r.last_updated <= ";
    out.arg(*q.last_updated_hi);
  }

  if (driver < 0) {
    for (const auto& c : q.clauses) probe(c, "r.rid", out);
    return;
  }
  // One indexed lookup per value of the driving clause; UNION ALL keeps each an index range.
  // With a single value the other clauses are probed inside the lookup too, so only matching
  // resources are ever read from the resources table.
  const SearchClause& d = q.clauses[static_cast<size_t>(driver)];
  const bool probe_inside = d.any_of.size() == 1;
  out << " AND r.rid IN (";
  for (size_t j = 0; j < d.any_of.size(); ++j) {
    if (j > 0) out << " UNION ALL ";
    out << "SELECT x.rid FROM " << table_of(d.kind) << " x WHERE x.type = ";
    out.arg(q.type) << " AND x.param = ";
    out.arg(param_of(d, d.any_of[j])) << " AND ";
    value_condition(d.kind, d.any_of[j], 'x', out);
    if (!q.patient_id.empty()) {
      out << " AND x.patient_id = ";
      out.arg(q.patient_id);
    }
    if (probe_inside) {
      for (size_t i = 0; i < q.clauses.size(); ++i) {
        if (static_cast<int>(i) != driver) probe(q.clauses[i], "x.rid", out);
      }
    }
  }
  out << ")";
  if (!probe_inside) {
    for (size_t i = 0; i < q.clauses.size(); ++i) {
      if (static_cast<int>(i) != driver) probe(q.clauses[i], "r.rid", out);
    }
  }
}

void cursor_condition(const SearchQuery& q, const Cursor& c, Sql& out) {
  const char* cmp = q.descending ? " < " : " > ";
  switch (q.sort) {
    case SortKey::kNone:
      out << " AND r.rid" << cmp;
      out.arg(c.rid);
      return;
    case SortKey::kLastUpdated:
      out << " AND (r.last_updated, r.id)" << cmp << "(";
      out.arg(*c.key) << ", ";
      out.arg(c.id) << ")";
      return;
    case SortKey::kDate:
      // Rows without the parameter come last in both directions.
      if (c.key) {
        out << " AND (";
        date_key(q, out);
        out << cmp;
        out.arg(*c.key) << " OR (";
        date_key(q, out);
        out << " = ";
        out.arg(*c.key) << " AND r.id" << cmp;
        out.arg(c.id) << ") OR ";
        date_key(q, out);
        out << " IS NULL)";
      } else {
        out << " AND ";
        date_key(q, out);
        out << " IS NULL AND r.id" << cmp;
        out.arg(c.id);
      }
      return;
  }
}

}  // namespace

Result<SearchSql> build_search_sql(const SearchQuery& q) {
  HB_RETURN_IF_ERROR(validate(q));
  std::optional<Cursor> cursor;
  if (q.after) {
    HB_ASSIGN_OR_RETURN(cursor, parse_cursor(q, *q.after));
  }
  Sql where;
  filters(q, where);

  Sql page;
  page << "SELECT " << kRowColumns << (q.ids_only ? kNoBodyColumn : kBodyColumn) << ", r.rid, ";
  if (q.sort == SortKey::kDate) {
    date_key(q, page);
  } else {
    page << "NULL";
  }
  page << " AS sk";
  page.append(where);
  if (cursor) cursor_condition(q, *cursor, page);
  const char* dir = q.descending ? " DESC" : "";
  switch (q.sort) {
    case SortKey::kNone:
      page << " ORDER BY r.rid" << dir;
      break;
    case SortKey::kLastUpdated:
      page << " ORDER BY r.last_updated" << dir << ", r.id" << dir;
      break;
    case SortKey::kDate:
      page << " ORDER BY sk" << dir << " NULLS LAST, r.id" << dir;
      break;
  }
  page << " LIMIT ";
  page.arg(static_cast<int64_t>(q.count) + 1);

  Sql count;
  count << "SELECT COUNT(*)";
  count.append(where);

  SearchSql out;
  out.page = {std::move(page.text), std::move(page.args)};
  out.count = {std::move(count.text), std::move(count.args)};
  return out;
}

std::string encode_cursor(const SearchQuery& q, int64_t rid, const std::string& id,
                          int64_t last_updated, std::optional<int64_t> date_key) {
  std::string c = "v1:";
  c += mode_of(q);
  c += ':';
  switch (q.sort) {
    case SortKey::kNone:
      c += std::to_string(rid);
      break;
    case SortKey::kLastUpdated:
      c += std::to_string(last_updated);
      c += ':';
      c += id;
      break;
    case SortKey::kDate:
      c += date_key ? std::to_string(*date_key) : std::string("~");
      c += ':';
      c += id;
      break;
  }
  return c;
}

}  // namespace hb::store::sqlite
