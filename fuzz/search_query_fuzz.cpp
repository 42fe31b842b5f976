// libFuzzer target: FHIR search query parsing (parse_search), R4 date periods (date_period), and
// index extraction from whatever JSON the input happens to be.
//
// Input layout: the first byte picks the resource type searched; the rest is a query string
// "k=v&k=v..." (already percent-decoded, as the http layer hands it over). The same bytes are also
// fed whole and per value to date_period, and to extract_index/patient_compartment when they parse
// as JSON. Nothing may crash, hang or throw; results must keep their invariants.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "fhir/search_params.h"

namespace {

const char* const kTypes[] = {"Patient",      "Observation",       "Encounter",
                              "Organization", "MedicationRequest", "AuditEvent",
                              "Condition",    "Appointment"};

void check_period(std::string_view text) {
  auto p = hb::fhir::date_period(text);
  if (p.is_ok() && p->first > p->second) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char* type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  const std::string_view query(reinterpret_cast<const char*>(data) + 1, size - 1);

  const hb::fhir::Blinder blind = [](std::string_view domain, std::string_view value) {
    std::string out = "h(";
    out.append(domain).append(":").append(value).append(")");
    return out;
  };

  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start <= query.size() && params.size() < 64) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view kv = query.substr(start, amp - start);
    const std::size_t eq = kv.find('=');
    if (eq == std::string_view::npos) {
      params.emplace_back(std::string(kv), "");
    } else {
      params.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
      check_period(kv.substr(eq + 1));
    }
    start = amp + 1;
  }

  auto parsed = hb::fhir::parse_search(type, params, blind);
  if (parsed.is_ok()) {
    const auto& q = parsed->query;
    if (q.count < 1 || q.count > 1000) std::abort();
    if (q.type != type) std::abort();
    for (const auto& clause : q.clauses) {
      if (clause.any_of.empty()) std::abort();
    }
  } else if (parsed.error().code() == hb::Code::kInvalid && parsed.error().problems().empty()) {
    std::abort();  // every invalid query names its parameter
  }

  check_period(query);

  auto json = hb::parse_json(query);
  if (json.is_ok()) {
    for (const auto& row : hb::fhir::extract_index(*json, blind)) {
      if (row.kind == hb::store::IndexKind::kDate && row.lo > row.hi) std::abort();
    }
    (void)hb::fhir::patient_compartment(*json);
  }
  return 0;
}
