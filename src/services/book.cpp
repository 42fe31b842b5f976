// The resident's health book (see book.h for the rules): timeline summaries, the timeline and
// record reads, and consent to connect facilities.
#include "services/book.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include "core/ids.h"
#include "core/utf8.h"
#include "crypto/encoding.h"
#include "fhir/search_params.h"
#include "fhir/validate.h"
#include "services/resident_audit.h"

namespace hb::services {
namespace {

constexpr const char* kFacilitySystem = "urn:healthbook:facility";
constexpr const char* kDocumentSystem = "urn:healthbook:document";

// ---- reading FHIR elements --------------------------------------------------------------------

const Json* member(const Json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string string_of(const Json& j, std::string_view key) {
  const Json* m = member(j, key);
  return m && m->is_string() && !is_decimal_text(*m) ? m->get<std::string>() : std::string();
}

// A number as sent (an integer, or a FHIR decimal kept as its text).
std::optional<double> number_of(const Json* j) {
  if (!j) return std::nullopt;
  if (is_decimal_text(*j)) return std::strtod(std::string(decimal_text(*j)).c_str(), nullptr);
  if (j->is_number()) return j->get<double>();
  return std::nullopt;
}

// What a CodeableConcept says to a person: its text, else a coding's display, else a code.
std::string concept_text(const Json* cc) {
  if (!cc || !cc->is_object()) return "";
  if (auto t = string_of(*cc, "text"); !t.empty()) return t;
  if (const Json* codings = member(*cc, "coding"); codings && codings->is_array()) {
    for (const Json& c : *codings) {
      if (auto d = string_of(c, "display"); !d.empty()) return d;
    }
    for (const Json& c : *codings) {
      if (auto d = string_of(c, "code"); !d.empty()) return d;
    }
  }
  return "";
}

// The first element of an array member (or the member itself when it is not an array).
const Json* first(const Json& j, std::string_view key) {
  const Json* m = member(j, key);
  if (m && m->is_array()) return m->empty() ? nullptr : &(*m)[0];
  return m;
}

std::string first_code(const Json* cc) {
  if (!cc) return "";
  const Json* codings = member(*cc, "coding");
  if (!codings || !codings->is_array()) return "";
  for (const Json& c : *codings) {
    if (auto code = string_of(c, "code"); !code.empty()) return code;
  }
  return "";
}

// The first of several date elements the resource has (a dateTime, or a Period's start).
std::string first_date(const Json& r, std::initializer_list<const char*> paths) {
  for (const char* p : paths) {
    std::string_view path = p;
    auto dot = path.find('.');
    if (dot == std::string_view::npos) {
      if (auto s = string_of(r, path); !s.empty()) return s;
    } else if (const Json* outer = member(r, path.substr(0, dot))) {
      if (auto s = string_of(*outer, path.substr(dot + 1)); !s.empty()) return s;
    }
  }
  return "";
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim_space(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// An Observation's value, unit, reference range and flag.
Json observation_value(const Json& r, std::string& summary) {
  std::optional<double> low, high, value;
  Json out = Json::object();
  if (const Json* q = member(r, "valueQuantity"); q && q->is_object()) {
    if (const Json* v = member(*q, "value"); v && number_of(v)) {
      out["value"] = *v;
      value = number_of(v);
    }
    std::string unit = string_of(*q, "unit");
    if (unit.empty()) unit = string_of(*q, "code");
    if (!unit.empty()) out["unit"] = unit;
  }
  if (const Json* range = first(r, "referenceRange"); range && range->is_object()) {
    if (const Json* l = member(*range, "low"); l && number_of(member(*l, "value"))) {
      out["low"] = (*l)["value"];
      low = number_of(member(*l, "value"));
    }
    if (const Json* h = member(*range, "high"); h && number_of(member(*h, "value"))) {
      out["high"] = (*h)["value"];
      high = number_of(member(*h, "value"));
    }
  }
  std::string flag = result_flag(first_code(first(r, "interpretation")), value, low, high);
  if (!flag.empty()) out["flag"] = flag;
  if (out.contains("value")) {
    summary =
        std::string(out["value"].is_string() ? decimal_text(out["value"]) : out["value"].dump());
    if (out.contains("unit")) summary += " " + out["unit"].get<std::string>();
    return out;
  }
  // A result that is not a quantity: its text goes in the summary.
  if (auto s = string_of(r, "valueString"); !s.empty()) summary = s;
  if (auto s = concept_text(member(r, "valueCodeableConcept")); !s.empty()) summary = s;
  if (const Json* b = member(r, "valueBoolean"); b && b->is_boolean())
    summary = b->get<bool>() ? "yes" : "no";
  if (!flag.empty()) return Json{{"flag", flag}};
  return nullptr;
}

// ---- cursors ----------------------------------------------------------------------------------

std::string encode_cursor(int64_t date, const std::string& ref) {
  return crypto::base64url_encode(std::to_string(date) + "|" + ref);
}

std::optional<std::pair<int64_t, std::string>> decode_cursor(std::string_view text) {
  auto raw = crypto::base64url_decode(text);
  if (!raw) return std::nullopt;
  auto bar = raw->find('|');
  if (bar == std::string::npos || bar == 0 || bar + 1 >= raw->size()) return std::nullopt;
  char* end = nullptr;
  std::string num = raw->substr(0, bar);
  long long d = std::strtoll(num.c_str(), &end, 10);
  if (*end) return std::nullopt;
  return std::make_pair(static_cast<int64_t>(d), raw->substr(bar + 1));
}

Status bad_param(const std::string& name, const std::string& why) {
  return Status(Code::kInvalid, "bad query parameter " + name + ": " + why, {{name, why, "value"}});
}

// Comma lists and repeats alike.
void split_into(const std::string& value, std::vector<std::string>& out) {
  size_t i = 0;
  while (i <= value.size()) {
    size_t j = value.find(',', i);
    if (j == std::string::npos) j = value.size();
    std::string v = trim_space(std::string_view(value).substr(i, j - i));
    if (!v.empty()) out.push_back(v);
    i = j + 1;
  }
}

Json facility_json(const store::Facility& f) { return {{"code", f.code}, {"name", f.name}}; }

Json consent_resource(const std::string& patient_id, const std::vector<store::ConsentGrant>& grants,
                      const std::map<std::string, store::Facility>& facilities, Time now) {
  Json nested = Json::array();
  for (const auto& g : grants) {
    auto f = facilities.find(g.facility_id);
    if (f == facilities.end()) continue;
    nested.push_back(
        {{"type", g.shared ? "permit" : "deny"},
         {"period", {{"start", format_instant(g.updated)}}},
         {"actor",
          Json::array(
              {{{"role",
                 {{"coding",
                   Json::array(
                       {{{"system", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"},
                         {"code", "IRCP"},
                         {"display", "information recipient"}}})}}},
                {"reference",
                 {{"identifier", {{"system", kFacilitySystem}, {"value", f->second.code}}},
                  {"display", f->second.name}}}}})}});
  }
  Json provision = {{"type", "deny"}};
  if (!nested.empty()) provision["provision"] = nested;
  return {
      {"resourceType", "Consent"},
      {"id", BookService::consent_id(patient_id)},
      {"status", "active"},
      {"scope",
       {{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/consentscope"},
                                 {"code", "patient-privacy"}}})}}},
      {"category",
       Json::array({{{"coding", Json::array({{{"system", "http://loinc.org"},
                                              {"code", "59284-0"},
                                              {"display", "Patient Consent"}}})}},
                    {{"coding",
                      Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"},
                                    {"code", "INFA"},
                                    {"display", "information access"}}})}}})},
      {"patient", {{"reference", "Patient/" + patient_id}}},
      {"dateTime", format_instant(now)},
      {"performer", Json::array({{{"reference", "Patient/" + patient_id}}})},
      {"policyRule",
       {{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"},
                                 {"code", "OPTIN"}}})},
        {"text",
         "Records a facility holds are shared with another facility only "
         "where the person permits it"}}},
      {"provision", provision}};
}

}  // namespace

// ---- summaries --------------------------------------------------------------------------------

const std::vector<std::string>& timeline_kinds() {
  static const std::vector<std::string> kinds = {
      "visit",        "condition", "result",   "medication", "allergy",
      "immunization", "procedure", "document", "referral",   "appointment"};
  return kinds;
}

std::string timeline_aad(const std::string& patient_id, const std::string& ref) {
  return "timeline\n" + patient_id + "\n" + ref;
}

std::string result_flag(const std::string& interpretation, std::optional<double> value,
                        std::optional<double> low, std::optional<double> high) {
  if (!interpretation.empty()) {
    // The facility's own interpretation wins; "N" (normal) and the like are not flags.
    static const std::set<std::string> flags = {"H", "L", "HH", "LL", "HU", "LU", "A", "AA"};
    return flags.count(interpretation) ? interpretation : "";
  }
  if (!value) return "";
  if (low && *value < *low) return "L";
  if (high && *value > *high) return "H";
  return "";
}

std::optional<TimelineSummary> summarise(const std::string& type, const Json& r,
                                         Time last_updated) {
  TimelineSummary s;
  std::string title, summary, status = string_of(r, "status"), date;
  Json value = nullptr, document = nullptr;
  if (type == "Encounter") {
    s.kind = "visit";
    title = concept_text(first(r, "type"));
    if (title.empty()) title = concept_text(member(r, "serviceType"));
    if (title.empty()) title = "Visit";
    summary = join({concept_text(first(r, "reasonCode")),
                    string_of(r.value("class", Json::object()), "display")},
                   " · ");
    date = first_date(r, {"period.start", "period.end"});
  } else if (type == "Condition") {
    s.kind = "condition";
    title = concept_text(member(r, "code"));
    status = first_code(member(r, "clinicalStatus"));
    summary = concept_text(member(r, "severity"));
    if (const Json* note = first(r, "note"))
      summary = join({summary, string_of(*note, "text")}, " · ");
    date = first_date(r, {"onsetDateTime", "onsetPeriod.start", "recordedDate"});
  } else if (type == "Observation" || type == "DiagnosticReport") {
    s.kind = "result";
    title = concept_text(member(r, "code"));
    if (type == "Observation") {
      value = observation_value(r, summary);
    } else {
      summary = string_of(r, "conclusion");
    }
    date =
        first_date(r, {"effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued"});
  } else if (type == "MedicationRequest" || type == "MedicationStatement") {
    s.kind = "medication";
    title = concept_text(member(r, "medicationCodeableConcept"));
    if (title.empty()) title = string_of(r.value("medicationReference", Json::object()), "display");
    if (const Json* d = first(r, "dosageInstruction")) summary = string_of(*d, "text");
    if (const Json* d = first(r, "dosage"); d && summary.empty()) summary = string_of(*d, "text");
    date =
        first_date(r, {"authoredOn", "effectiveDateTime", "effectivePeriod.start", "dateAsserted"});
  } else if (type == "AllergyIntolerance") {
    s.kind = "allergy";
    title = concept_text(member(r, "code"));
    status = first_code(member(r, "clinicalStatus"));
    std::vector<std::string> parts;
    if (const Json* reaction = first(r, "reaction"))
      parts.push_back(concept_text(first(*reaction, "manifestation")));
    parts.push_back(string_of(r, "criticality"));
    summary = join(parts, " · ");
    date = first_date(r, {"onsetDateTime", "recordedDate", "lastOccurrence"});
  } else if (type == "Immunization") {
    s.kind = "immunization";
    title = concept_text(member(r, "vaccineCode"));
    if (const Json* dose = first(r, "protocolApplied")) {
      if (const Json* n = member(*dose, "doseNumberPositiveInt"); n && n->is_number_integer()) {
        summary = "dose " + std::to_string(n->get<int64_t>());
      }
    }
    date = first_date(r, {"occurrenceDateTime", "recorded"});
  } else if (type == "Procedure") {
    s.kind = "procedure";
    title = concept_text(member(r, "code"));
    summary = concept_text(first(r, "reasonCode"));
    date = first_date(r, {"performedDateTime", "performedPeriod.start"});
  } else if (type == "DocumentReference" || type == "Composition") {
    s.kind = "document";
    title = type == "Composition" ? string_of(r, "title") : string_of(r, "description");
    if (title.empty()) title = concept_text(member(r, "type"));
    summary = string_of(r.value("custodian", Json::object()), "display");
    date = first_date(r, {"date", "context.period"});
    if (const Json* ids = member(r, "identifier"); ids && ids->is_array()) {
      for (const Json& i : *ids) {
        if (string_of(i, "system") == kDocumentSystem && !string_of(i, "value").empty()) {
          document = {{"id", string_of(i, "value")}, {"kind", first_code(member(r, "type"))}};
        }
      }
    }
  } else if (type == "ServiceRequest") {
    s.kind = "referral";
    title = concept_text(member(r, "code"));
    if (title.empty()) title = "Referral";
    summary = join({concept_text(first(r, "reasonCode")),
                    string_of(r.value("requester", Json::object()), "display")},
                   " · ");
    date = first_date(r, {"authoredOn", "occurrenceDateTime", "occurrencePeriod.start"});
  } else if (type == "Appointment") {
    s.kind = "appointment";
    title = string_of(r, "description");
    if (title.empty()) title = concept_text(member(r, "appointmentType"));
    if (title.empty()) title = concept_text(first(r, "serviceType"));
    if (title.empty()) title = "Appointment";
    summary = join({concept_text(first(r, "reasonCode")), string_of(r, "comment")}, " · ");
    date = first_date(r, {"start", "created"});
  } else {
    return std::nullopt;
  }
  if (title.empty()) title = type;
  s.date = unix_millis(last_updated);
  if (!date.empty()) {
    if (auto p = fhir::date_period(date)) {
      s.date = p->first;
    } else {
      date.clear();
    }
  }
  if (date.empty()) date = format_instant(last_updated);
  s.fields = {{"title", title}, {"summary", summary}, {"status", status}, {"date", date}};
  if (!value.is_null()) s.fields["value"] = std::move(value);
  if (!document.is_null()) s.fields["document"] = std::move(document);
  return s;
}

// ---- the service ------------------------------------------------------------------------------

BookService::BookService(store::Store& store, Vault& vault, const Clock& clock)
    : store_(store), vault_(vault), clock_(clock) {}

std::string BookService::consent_id(const std::string& patient_id) {
  return "consent-" + patient_id;
}

Result<Json> BookService::timeline(const Resident& who, const QueryParams& query,
                                   const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(who, ResidentRight::kViewRecords));
  store::TimelineQuery q;
  q.patient_id = who.patient_id;
  q.limit = kDefaultLimit;
  std::vector<std::string> codes, kinds;
  std::string words;
  for (const auto& [k, v] : query) {
    if (k == "facility") {
      split_into(v, codes);
    } else if (k == "kind") {
      split_into(v, kinds);
    } else if (k == "from" || k == "to") {
      auto p = fhir::date_period(v);
      if (!p) return bad_param(k, "a date such as 2026-11-20 or 2026-11-20T09:30:00+07:00");
      if (k == "from")
        q.from = p->first;
      else
        q.to = p->second;
    } else if (k == "q") {
      if (v.size() > 200) return bad_param(k, "at most 200 characters");
      words = lower(trim_space(v));
    } else if (k == "limit") {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > kMaxLimit)
        return bad_param(k, "a number from 1 to 200");
      q.limit = static_cast<int>(n);
    } else if (k == "cursor") {
      auto c = decode_cursor(v);
      if (!c) return bad_param(k, "not a cursor this server gave");
      q.after = std::move(c);
    } else {
      return bad_param(k, "unknown parameter");
    }
  }
  const auto& known = timeline_kinds();
  for (const auto& kind : kinds) {
    if (std::find(known.begin(), known.end(), kind) == known.end()) {
      return bad_param(
          "kind",
          "\"" + utf8_prefix(kind, 40) +
              "\" is not one of visit, condition, result, "
              "medication, allergy, immunization, procedure, document, referral, appointment");
    }
  }
  q.kinds = kinds;
  const int want = q.limit;

  Json entries = Json::array();
  Json facilities = Json::array();
  std::optional<std::string> next;
  std::string refs;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    std::map<std::string, store::Facility> by_id;
    HB_ASSIGN_OR_RETURN(auto all, r.list_facilities());
    for (auto& f : all) by_id.emplace(f.id, f);
    for (const auto& code : codes) {
      auto it = std::find_if(all.begin(), all.end(), [&](const auto& f) { return f.code == code; });
      // An unknown code matches nothing (its id cannot occur).
      q.facility_ids.push_back(it == all.end() ? "unknown:" + utf8_prefix(code, 40) : it->id);
    }
    HB_ASSIGN_OR_RETURN(auto held, r.timeline_facilities(who.patient_id));
    for (const auto& id : held) {
      if (auto f = by_id.find(id); f != by_id.end()) facilities.push_back(facility_json(f->second));
    }
    HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_read(r, who.patient_id));
    // Without words: one page of rows, one more to know whether there is a next page. With words
    // the summaries are sealed, so rows are opened in batches until the page is full.
    q.limit = words.empty() ? want + 1 : std::max(want + 1, 200);
    for (;;) {
      HB_ASSIGN_OR_RETURN(auto rows, r.timeline(q));
      for (const auto& row : rows) {
        if (static_cast<int>(entries.size()) == want) {
          next = encode_cursor(q.after->first, q.after->second);
          return Status::ok();
        }
        q.after = std::make_pair(row.date, row.ref);
        HB_ASSIGN_OR_RETURN(auto text, key.open(row.sealed, timeline_aad(who.patient_id, row.ref)));
        HB_ASSIGN_OR_RETURN(Json fields, parse_fhir_json(text));
        if (!words.empty()) {
          std::string hay = lower(fields.value("title", "") + "\n" + fields.value("summary", ""));
          if (hay.find(words) == std::string::npos) continue;
        }
        Json e = {{"id", row.ref}, {"kind", row.kind}};
        for (auto it = fields.begin(); it != fields.end(); ++it) e[it.key()] = *it;
        if (auto f = by_id.find(row.facility_id); f != by_id.end()) {
          e["facility"] = facility_json(f->second);
        } else {
          e["facility"] = nullptr;
        }
        if (e.contains("document") && e["document"].is_object()) {
          // The card, its QR and status, for the resident (http/book_api.h).
          e["document"]["link"] = "/api/v1/me/documents/" + e["document"].value("id", "");
        }
        if (refs.size() < 8000) refs += (refs.empty() ? "" : " ") + row.ref;
        entries.push_back(std::move(e));
      }
      if (static_cast<int>(rows.size()) < q.limit) return Status::ok();
    }
  }));
  // One audit event per page: the resident read these records of theirs.
  audit_resident_action(store_, clock_, who, {"book-timeline", "R", refs, "timeline"}, address);
  Json kinds_json = Json::array();
  for (const auto& k : timeline_kinds()) kinds_json.push_back(k);
  return Json{{"entries", std::move(entries)},
              {"next", next ? Json(*next) : Json(nullptr)},
              {"facilities", std::move(facilities)},
              {"kinds", std::move(kinds_json)}};
}

Result<std::string> BookService::record(const Resident& who, const std::string& type,
                                        const std::string& id, const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(who, ResidentRight::kViewRecords));
  const std::string ref = type + "/" + id;
  if (!fhir::is_resource_type(type) || !is_valid_fhir_id(id))
    return not_found(utf8_prefix(ref, 100) + " is not known");
  std::string text;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto row, r.current(type, id));
    // Another person's record reads exactly like one that does not exist.
    if (!row || row->deleted || row->patient_id != who.patient_id)
      return not_found(ref + " is not known");
    HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_read(r, who.patient_id));
    HB_ASSIGN_OR_RETURN(text, key.open(row->body, Vault::aad(*row)));
    return Status::ok();
  }));
  audit_resident_action(store_, clock_, who, {"book-record", "R", ref, "read"}, address);
  return text;
}

Result<Json> BookService::connections(const Resident& who, const std::string& address) {
  HB_RETURN_IF_ERROR(require_right(who, ResidentRight::kViewRecords));
  Json list = Json::array();
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto linked, r.patient_facilities(who.patient_id));
    HB_ASSIGN_OR_RETURN(auto held, r.timeline_facilities(who.patient_id));
    HB_ASSIGN_OR_RETURN(auto grants, r.consent_grants(who.patient_id));
    std::vector<std::string> ids = linked;
    for (const auto& h : held) {
      if (std::find(ids.begin(), ids.end(), h) == ids.end()) ids.push_back(h);
    }
    for (const auto& id : ids) {
      HB_ASSIGN_OR_RETURN(auto f, r.facility_by_id(id));
      if (!f) continue;
      bool holds = std::find(held.begin(), held.end(), id) != held.end();
      bool shared = std::any_of(grants.begin(), grants.end(),
                                [&](const auto& g) { return g.facility_id == id && g.shared; });
      list.push_back(
          {{"code", f->code}, {"name", f->name}, {"holdsRecords", holds}, {"shared", shared}});
    }
    return Status::ok();
  }));
  audit_resident_action(
      store_, clock_, who,
      {"book-connections", "R", "Consent/" + consent_id(who.patient_id), "connections"}, address);
  return Json{{"facilities", std::move(list)}};
}

Result<Json> BookService::set_connection(const Resident& who, const std::string& facility_code,
                                         std::string_view body, const std::string& address) {
  // Consent is the person's own decision: theirs, or their guardian's, never a carer's.
  HB_RETURN_IF_ERROR(require_right(who, ResidentRight::kPersonal));
  HB_ASSIGN_OR_RETURN(Json j, parse_json(body, JsonLimits{4096, 4}));
  if (!j.is_object() || !j.contains("shared") || !j["shared"].is_boolean() || j.size() != 1) {
    return Status(Code::kInvalid, "the body must be {\"shared\": true} or {\"shared\": false}",
                  {{"shared", "required: true or false", "required"}});
  }
  const bool shared = j["shared"].get<bool>();
  const std::string cid = consent_id(who.patient_id);
  Json answer;
  Status s = store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto f, w.facility_by_code(facility_code));
    if (!f)
      return not_found("no facility " + utf8_prefix(facility_code, 40) + " holds your records");
    HB_ASSIGN_OR_RETURN(auto linked, w.patient_facilities(who.patient_id));
    HB_ASSIGN_OR_RETURN(auto held, w.timeline_facilities(who.patient_id));
    if (std::find(linked.begin(), linked.end(), f->id) == linked.end() &&
        std::find(held.begin(), held.end(), f->id) == held.end()) {
      return not_found("no facility " + utf8_prefix(facility_code, 40) + " holds your records");
    }
    const Time now = clock_.now();
    HB_RETURN_IF_ERROR(w.put_consent_grant({who.patient_id, f->id, shared, now}));
    HB_ASSIGN_OR_RETURN(auto grants, w.consent_grants(who.patient_id));
    std::map<std::string, store::Facility> facilities;
    for (const auto& g : grants) {
      HB_ASSIGN_OR_RETURN(auto gf, w.facility_by_id(g.facility_id));
      if (gf) facilities.emplace(g.facility_id, *gf);
    }
    // The Consent: a new version holding every decision the resident has made.
    HB_ASSIGN_OR_RETURN(auto prev, w.current("Consent", cid));
    Json consent = consent_resource(who.patient_id, grants, facilities, now);
    store::ResourceRow row;
    row.type = "Consent";
    row.id = cid;
    row.version = prev ? prev->version + 1 : 1;
    row.patient_id = who.patient_id;
    row.facility_id = "";
    row.last_updated = now;
    consent["meta"] = {{"versionId", std::to_string(row.version)},
                       {"lastUpdated", format_instant(now)},
                       {"source", "urn:healthbook:resident"}};
    HB_RETURN_IF_ERROR(fhir::validate_resource(consent));
    HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_write(w, who.patient_id));
    row.body = key.seal(dump_json(consent), Vault::aad(row));
    HB_RETURN_IF_ERROR(w.put_resource(row, {}));
    HB_RETURN_IF_ERROR(w.append_audit(
        resident_audit_record(clock_, who,
                              {"book-consent", "U", "Consent/" + cid,
                               std::string(shared ? "shared with " : "withdrawn from ") + f->code},
                              address)));
    answer = {{"code", f->code},
              {"name", f->name},
              {"holdsRecords", std::find(held.begin(), held.end(), f->id) != held.end()},
              {"shared", shared},
              {"consent", {{"id", "Consent/" + cid}, {"version", row.version}}}};
    return Status::ok();
  });
  HB_RETURN_IF_ERROR(s);
  return answer;
}

}  // namespace hb::services
