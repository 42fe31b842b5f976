#include "services/audit_events.h"

#include <map>
#include <sstream>

#include "core/ids.h"
#include "core/url.h"
#include "fhir/outcome.h"

namespace hb::services {

Json audit_event_json(const store::AuditRecord& a, const std::string& fhir_base) {
  static const std::map<std::string, std::string> actions = {
      {"C", "create"}, {"R", "read"}, {"U", "update"}, {"D", "delete"}, {"E", "execute"}};
  Json agent = {{"requestor", true}};
  if (!a.client_id.empty()) {
    agent["who"] = {{"identifier", {{"system", "urn:healthbook:client"}, {"value", a.client_id}}}};
  }
  if (!a.facility_id.empty()) {
    agent["extension"] = Json::array({{{"url", "urn:healthbook:facility"}, {"valueString", a.facility_id}}});
  }
  if (!a.source_ip.empty()) agent["network"] = {{"address", a.source_ip}, {"type", "2"}};
  Json ev = {{"resourceType", "AuditEvent"},
             {"id", a.id},
             {"meta", {{"versionId", "1"}, {"lastUpdated", format_instant(a.time)}}},
             {"type",
              {{"system", "http://terminology.hl7.org/CodeSystem/audit-event-type"},
               {"code", "rest"},
               {"display", "RESTful Operation"}}},
             {"action", a.action},
             {"recorded", format_instant(a.time)},
             {"outcome", a.outcome},
             {"agent", Json::array({agent})},
             {"source", {{"observer", {{"display", "healthbook"}}}}}};
  if (!a.event_type.empty()) {
    ev["subtype"] = Json::array({{{"system", "http://hl7.org/fhir/restful-interaction"}, {"code", a.event_type}}});
  }
  if (!a.detail.empty()) ev["outcomeDesc"] = a.detail;
  Json entities = Json::array();
  if (!a.patient_id.empty()) {
    entities.push_back({{"what", {{"reference", "Patient/" + a.patient_id}}},
                        {"type", {{"system", "http://terminology.hl7.org/CodeSystem/audit-entity-type"}, {"code", "1"}}},
                        {"role", {{"system", "http://terminology.hl7.org/CodeSystem/object-role"}, {"code", "1"}}}});
  }
  std::istringstream ents(a.entities);
  std::string ref;
  int n = 0;
  while (ents >> ref && n++ < 100) {
    if (ref == "Patient/" + a.patient_id) continue;
    entities.push_back({{"what", {{"reference", ref}}}});
  }
  if (!entities.empty()) ev["entity"] = std::move(entities);
  (void)fhir_base;
  return ev;
}

Result<FhirResult> read_audit_event(detail::Engine& e, const Principal& who, const std::string& id) {
  std::optional<store::AuditRecord> rec;
  HB_RETURN_IF_ERROR(e.store.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(rec, r.audit_by_id(id));
    return Status::ok();
  }));
  if (!rec || (!who.is_operator() && rec->facility_id != who.facility_id)) {
    return not_found("AuditEvent/" + id + " is not known");
  }
  FhirResult out;
  out.body = dump_json(audit_event_json(*rec, e.fhir_base()));
  out.etag = "W/\"1\"";
  out.last_modified = http_date(rec->time);
  return out;
}

Result<FhirResult> search_audit_events(detail::Engine& e, const Principal& who,
                                       const QueryParams& query) {
  int count = 50;
  int64_t after = 0;
  std::string patient;
  std::vector<std::string> ignored;
  for (const auto& [k, v] : query) {
    if (k == "_count") {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 1000) {
        return Status(Code::kInvalid, "_count must be 1 to 1000", {{"_count", "must be 1 to 1000", "value"}});
      }
      count = static_cast<int>(n);
    } else if (k == "_cursor") {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 0) return Status(Code::kInvalid, "malformed _cursor", {{"_cursor", "malformed", "value"}});
      after = n;
    } else if (k == "patient") {
      patient = v.rfind("Patient/", 0) == 0 ? v.substr(8) : v;
    } else {
      ignored.push_back(k);
    }
  }
  std::vector<store::AuditRecord> recs;
  HB_RETURN_IF_ERROR(e.store.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(recs, r.audit(who.is_operator() ? "" : who.facility_id, patient, after, count + 1));
    return Status::ok();
  }));
  bool more = recs.size() > static_cast<size_t>(count);
  if (more) recs.resize(count);
  std::string self = e.fhir_base() + "/AuditEvent";
  Json links = Json::array({{{"relation", "self"}, {"url", self}}});
  if (more) {
    std::string q;
    for (const auto& [k, v] : query) {
      if (k == "_cursor") continue;
      q += url_encode(k) + "=" + url_encode(v) + "&";
    }
    links.push_back({{"relation", "next"}, {"url", self + "?" + q + "_cursor=" + std::to_string(recs.back().seq)}});
  }
  Json bundle = {{"resourceType", "Bundle"},
                 {"id", new_uuid()},
                 {"meta", {{"lastUpdated", format_instant(e.clock.now())}}},
                 {"type", "searchset"},
                 {"link", links}};
  Json entries = Json::array();
  for (const auto& a : recs) {
    entries.push_back({{"fullUrl", self + "/" + a.id},
                       {"resource", audit_event_json(a, e.fhir_base())},
                       {"search", {{"mode", "match"}}}});
  }
  if (!ignored.empty()) {
    std::string names;
    for (const auto& n : ignored) names += (names.empty() ? "" : ", ") + n;
    entries.push_back({{"resource", fhir::operation_outcome_note("warning", "not-supported", "search parameters ignored: " + names)},
                       {"search", {{"mode", "outcome"}}}});
  }
  if (!entries.empty()) bundle["entry"] = std::move(entries);
  FhirResult out;
  out.body = dump_json(bundle);
  return out;
}

}  // namespace hb::services
