// FHIR search: which parameters each stored resource type supports, the index rows a resource
// yields, and the parsing of a search query string into a store::SearchQuery.
//
// Supported parameters (the ones clients actually use): _id, _lastUpdated on every type;
// identifier, patient/subject, encounter, code, category, status, date per type where R4 defines
// them (paths from R4's SearchParameter definitions); name, family, given, birthdate, gender on
// Patient; name on Practitioner and Organization. Date values support eq, ne, gt, lt, ge, le, sa,
// eb, ap prefixes and partial dates (2024, 2024-05) as periods.
//
// Privacy: identifier values and person names never reach the index in clear text; they go
// through the Blinder (a keyed hash), so identifier search is exact and name search matches whole
// name parts or their prefixes (each prefix is blind-indexed separately).
//
// Identifier scheme (token rows, b blinded with domain "identifier"): an Identifier {S, V} yields
// one row (a=S, b=blind(|V)), S possibly "". Queries: `S|V` -> {a=S, b=blind(|V)}; `V` ->
// {any_system, b=blind(|V)}; `|V` -> {no_system, b=blind(|V)} (only system-less identifiers);
// `S|` -> {a=S, b=""}. For every token parameter an empty b with a non-empty a means "any code in
// system a". Names: kString rows a=blind(param, prefix) for each prefix of each normalised word,
// queried with exact=true; `name` rows only for the words of a HumanName's text that its family
// and given do not already index, and a `name` query also looks in the `family` and `given` rows.
// Details and the text normalisation are described at the top of search_params.cpp.
//
// Thread-safety: stateless functions over immutable tables.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "store/search.h"

namespace hb::fhir {

// Keyed hash used for blind indexes: (domain, value) -> opaque string.
using Blinder = std::function<std::string(std::string_view domain, std::string_view value)>;

// The resource types this server stores and serves through /fhir.
const std::vector<std::string>& stored_resource_types();
bool is_stored_type(std::string_view type);

struct SearchParamInfo {
  std::string name;
  std::string type;         // FHIR search param type: token | reference | date | string
  std::string description;  // for the CapabilityStatement
};
// Parameters supported for `type` (excluding _id and _lastUpdated, which apply to all).
const std::vector<SearchParamInfo>& search_params_for(std::string_view type);

// Index rows for a resource (current version).
std::vector<store::IndexRow> extract_index(const Json& resource, const Blinder& blind);

// The patient compartment a resource belongs to: the Patient's own id, or the id of the Patient
// it is about (subject/patient/beneficiary... per R4's patient CompartmentDefinition), if that
// reference is a literal "Patient/<id>". nullopt when none.
std::optional<std::string> patient_compartment(const Json& resource);

// Parses an R4 date, dateTime or instant into the period it covers, in unix milliseconds,
// inclusive: "2024" -> [2024-01-01T00:00:00.000Z, 2024-12-31T23:59:59.999Z]. Times without a zone
// are taken as UTC. kInvalid when malformed.
Result<std::pair<int64_t, int64_t>> date_period(std::string_view text);

struct Include {
  std::string source_type;  // e.g. "Observation"
  std::string param;        // e.g. "patient", "subject", "performer", "organization"
  std::string target_type;  // optional restriction ("" = any of Patient/Practitioner/Organization)
};

struct ParsedSearch {
  store::SearchQuery query;
  std::vector<Include> includes;
  bool summary_count = false;
  // Parameters that were not understood and were ignored (reported back in the Bundle).
  std::vector<std::string> ignored;
};

// Parses the query parameters (already percent-decoded, in order) of a search on `type`.
// Handles _id, _lastUpdated, _count (1..1000, default 50), _sort (date, -date, _lastUpdated,
// -_lastUpdated), _include (Type:param[:Target]), _summary=count, _total=accurate, _cursor, and
// every parameter in search_params_for(type), with modifiers :exact (string), :missing is not
// supported (ignored). Comma-separated values are ORed, repeated parameters are ANDed.
// kInvalid (with the parameter named) on malformed values; unknown parameters go to `ignored`.
Result<ParsedSearch> parse_search(std::string_view type,
                                  const std::vector<std::pair<std::string, std::string>>& params,
                                  const Blinder& blind);

}  // namespace hb::fhir
