// The FHIR REST interactions: create, read, vread, update, delete, history, search.
#include "services/records.h"

#include <ctime>
#include <set>

#include "core/ids.h"
#include "core/url.h"
#include "fhir/outcome.h"
#include "fhir/search_params.h"
#include "services/audit_events.h"
#include "services/records_internal.h"

namespace hb::services {

using detail::Engine;
using detail::EntryResult;


std::string http_date(Time t) {
  std::time_t secs = static_cast<std::time_t>(unix_seconds(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

namespace {

Status need(const Principal& who, const std::string& type, char perm) {
  if (!fhir::is_stored_type(type)) {
    return Status(Code::kNotFound, "unknown or unsupported resource type \"" + type + "\"");
  }
  if (!who.allows(type, perm)) {
    static const std::map<char, const char*> names = {
        {'c', "create"}, {'r', "read"}, {'u', "update"}, {'d', "delete"}, {'s', "search"}};
    return Status(Code::kForbidden, std::string("the access token's scopes do not allow ") +
                                        names.at(perm) + " on " + type);
  }
  return Status::ok();
}

FhirResult render(const Engine& e, const EntryResult& r) {
  FhirResult out;
  out.status = r.status;
  out.body = r.text;
  out.location = e.fhir_base() + "/" + r.type + "/" + r.id + "/_history/" + std::to_string(r.version);
  out.etag = detail::etag_of(r.version);
  out.last_modified = http_date(r.last_updated);
  return out;
}

Result<QueryParams> query_of(const std::string& raw) { return split_query(raw); }

// Rebuilds a query string without the named parameters.
std::string rebuild_query(const QueryParams& q, std::initializer_list<const char*> drop) {
  std::string out;
  for (const auto& [k, v] : q) {
    bool skip = false;
    for (const char* d : drop) skip |= k == d;
    if (skip) continue;
    if (!out.empty()) out.push_back('&');
    out += url_encode(k) + "=" + url_encode(v);
  }
  return out;
}

// A search on `patient=X` (or `subject=Patient/X`) is also a search of X's compartment; saying so
// lets the store use its exact (patient, type) index. The clause stays, so results are unchanged.
void narrow_to_compartment(store::SearchQuery& q) {
  // Appointments may name several patients as actors; their compartment is only the first.
  if (q.type == "Patient" || q.type == "Appointment" || !q.patient_id.empty()) return;
  for (const auto& c : q.clauses) {
    if (c.kind != store::IndexKind::kReference || c.any_of.size() != 1) continue;
    if (c.param != "patient" && c.param != "subject") continue;
    const auto& v = c.any_of[0];
    if (v.a == "Patient" && !v.b.empty()) {
      q.patient_id = v.b;
      return;
    }
  }
}

struct BundleWriter {
  std::string text;
  bool first_entry = true;

  void begin(const std::string& type, const std::optional<int64_t>& total, const Json& links,
             Time now) {
    text = R"({"resourceType":"Bundle","id":")" + new_uuid() + R"(","meta":{"lastUpdated":")" +
           format_instant(now) + R"("},"type":")" + type + "\"";
    if (total) text += ",\"total\":" + std::to_string(*total);
    if (!links.empty()) text += ",\"link\":" + dump_json(links);
    text += ",\"entry\":[";
  }
  // `resource` is already-serialised JSON; `extra` holds the other entry members.
  void entry(const std::string& full_url, const std::string& resource, const Json& extra) {
    if (!first_entry) text.push_back(',');
    first_entry = false;
    text += "{";
    bool comma = false;
    if (!full_url.empty()) {
      text += "\"fullUrl\":" + Json(full_url).dump();
      comma = true;
    }
    if (!resource.empty()) {
      if (comma) text.push_back(',');
      text += "\"resource\":" + resource;
      comma = true;
    }
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      if (comma) text.push_back(',');
      text += Json(it.key()).dump() + ":" + dump_json(*it);
      comma = true;
    }
    text += "}";
  }
  std::string finish() {
    if (first_entry) {
      // An empty "entry" array is not valid FHIR JSON: drop it.
      auto pos = text.rfind(",\"entry\":[");
      text.erase(pos);
      text += "}";
    } else {
      text += "]}";
    }
    return std::move(text);
  }
};

}  // namespace

RecordService::RecordService(store::Store& store, Vault& vault, const Clock& clock,
                             RecordsOptions options)
    : impl_(std::make_shared<Impl>(store, vault, clock, options)), options_(std::move(options)) {}

Result<FhirResult> RecordService::create(const Principal& who, const std::string& type,
                                         std::string_view body,
                                         const std::optional<std::string>& if_none_exist) {
  HB_RETURN_IF_ERROR(need(who, type, 'c'));
  if (type == "Patient") HB_RETURN_IF_ERROR(impl_->check_link_allowance(who));
  HB_ASSIGN_OR_RETURN(Json resource, impl_->parse_resource(body, type));
  std::optional<QueryParams> cond;
  if (if_none_exist) {
    std::string q = *if_none_exist;
    if (auto pos = q.find('?'); pos != std::string::npos) q = q.substr(pos + 1);
    HB_ASSIGN_OR_RETURN(cond, query_of(q));
  }
  EntryResult result;
  Engine& e = *impl_;
  Status s = e.store.write_sync([&](store::Writer& w) -> Status {
    detail::TxCache tx;
    HB_RETURN_IF_ERROR(e.resolve_references(w, who, resource, {}, type, tx));
    HB_ASSIGN_OR_RETURN(auto target, e.create_target(w, who, type, resource, cond, tx));
    HB_ASSIGN_OR_RETURN(result, e.apply_create(w, who, type, resource, target, tx));
    return e.flush_audits(w, who, tx);
  });
  HB_RETURN_IF_ERROR(s);
  return render(e, result);
}

Result<FhirResult> RecordService::read(const Principal& who, const std::string& type,
                                       const std::string& id) {
  HB_RETURN_IF_ERROR(need(who, type, 'r'));
  HB_RETURN_IF_ERROR(Engine::check_emergency(who));
  Engine& e = *impl_;
  if (type == "AuditEvent") return read_audit_event(e, who, id);
  std::optional<store::ResourceRow> row;
  std::string text;
  bool emergency = false;
  Status s = e.store.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(row, r.current(type, id));
    if (!row) return not_found(type + "/" + id + " is not known");
    HB_ASSIGN_OR_RETURN(bool ok, e.readable(r, who, *row));
    if (!ok) {
      HB_ASSIGN_OR_RETURN(ok, e.emergency_readable(r, who, *row));
      emergency = ok;
    }
    if (!ok) return not_found(type + "/" + id + " is not known");
    if (row->deleted) return Status(Code::kGone, type + "/" + id + " was deleted");
    HB_ASSIGN_OR_RETURN(text, e.open_body(r, *row));
    return Status::ok();
  });
  HB_RETURN_IF_ERROR(s);
  e.store.append_audit_async(e.audit(who, "R", "read", row->patient_id, type + "/" + id, "read"));
  if (emergency) e.emergency_done(who, row->patient_id, type + "/" + id, "read");
  EntryResult r{200, type, id, row->version, row->last_updated, std::move(text)};
  FhirResult out = render(e, r);
  out.location.clear();
  return out;
}

Result<FhirResult> RecordService::vread(const Principal& who, const std::string& type,
                                        const std::string& id, const std::string& version) {
  HB_RETURN_IF_ERROR(need(who, type, 'r'));
  HB_RETURN_IF_ERROR(Engine::check_emergency(who));
  auto v = detail::parse_etag(version);
  if (!v || *v < 1) return invalid("\"" + version + "\" is not a version id");
  Engine& e = *impl_;
  if (type == "AuditEvent") {
    if (*v != 1) return not_found("AuditEvent versions other than 1 do not exist");
    return read_audit_event(e, who, id);
  }
  std::optional<store::ResourceRow> row;
  std::string text;
  bool emergency = false;
  Status s = e.store.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto cur, r.current(type, id));
    if (!cur) return not_found(type + "/" + id + " is not known");
    HB_ASSIGN_OR_RETURN(bool ok, e.readable(r, who, *cur));
    if (!ok) {
      HB_ASSIGN_OR_RETURN(ok, e.emergency_readable(r, who, *cur));
      emergency = ok;
    }
    if (!ok) return not_found(type + "/" + id + " is not known");
    HB_ASSIGN_OR_RETURN(row, r.version(type, id, *v));
    if (!row) return not_found(type + "/" + id + " has no version " + std::to_string(*v));
    if (row->deleted) return Status(Code::kGone, type + "/" + id + " version " + std::to_string(*v) + " is a deletion");
    HB_ASSIGN_OR_RETURN(text, e.open_body(r, *row));
    return Status::ok();
  });
  HB_RETURN_IF_ERROR(s);
  e.store.append_audit_async(e.audit(who, "R", "vread", row->patient_id,
                                     type + "/" + id + "/_history/" + std::to_string(*v), "vread"));
  if (emergency) e.emergency_done(who, row->patient_id, type + "/" + id, "vread");
  FhirResult out = render(e, EntryResult{200, type, id, row->version, row->last_updated, std::move(text)});
  out.location.clear();
  return out;
}

Result<FhirResult> RecordService::update(const Principal& who, const std::string& type,
                                         const std::string& id, std::string_view body,
                                         const std::optional<std::string>& if_match) {
  HB_RETURN_IF_ERROR(need(who, type, 'u'));
  HB_ASSIGN_OR_RETURN(Json resource, impl_->parse_resource(body, type));
  Engine& e = *impl_;
  EntryResult result;
  Status s = e.store.write_sync([&](store::Writer& w) -> Status {
    detail::TxCache tx;
    // apply_update checks the create scope when the resource is new, after deciding whether this
    // client may learn that it is.
    HB_RETURN_IF_ERROR(e.resolve_references(w, who, resource, {}, type, tx));
    HB_ASSIGN_OR_RETURN(result, e.apply_update(w, who, type, id, resource, if_match, tx));
    return e.flush_audits(w, who, tx);
  });
  HB_RETURN_IF_ERROR(s);
  return render(e, result);
}

Result<FhirResult> RecordService::conditional_update(const Principal& who, const std::string& type,
                                                     const QueryParams& query,
                                                     std::string_view body,
                                                     const std::optional<std::string>& if_match) {
  HB_RETURN_IF_ERROR(need(who, type, 'u'));
  HB_RETURN_IF_ERROR(need(who, type, 's'));
  HB_ASSIGN_OR_RETURN(Json resource, impl_->parse_resource(body, type));
  Engine& e = *impl_;
  EntryResult result;
  Status s = e.store.write_sync([&](store::Writer& w) -> Status {
    detail::TxCache tx;
    HB_ASSIGN_OR_RETURN(auto ids, e.find(w, who, type, query));
    if (ids.size() > 1) {
      return Status(Code::kPreconditionFailed, "the conditional update matches more than one resource");
    }
    HB_RETURN_IF_ERROR(e.resolve_references(w, who, resource, {}, type, tx));
    if (ids.empty()) {
      if (!who.allows(type, 'c')) {
        return forbidden("conditional create needs the create scope on " + type);
      }
      std::string id;
      if (auto it = resource.find("id"); it != resource.end() && it->is_string()) {
        id = it->get<std::string>();
        HB_ASSIGN_OR_RETURN(result, e.apply_update(w, who, type, id, resource, if_match, tx));
        return e.flush_audits(w, who, tx);
      }
      HB_ASSIGN_OR_RETURN(auto target, e.create_target(w, who, type, resource, std::nullopt, tx));
      HB_ASSIGN_OR_RETURN(result, e.apply_create(w, who, type, resource, target, tx));
      return e.flush_audits(w, who, tx);
    }
    if (auto it = resource.find("id"); it != resource.end() && *it != ids[0]) {
      return Status(Code::kInvalid, "the resource id does not match the resource the search found",
                    {{type + ".id", "must be \"" + ids[0] + "\" or absent", "invalid"}});
    }
    resource["id"] = ids[0];
    HB_ASSIGN_OR_RETURN(result, e.apply_update(w, who, type, ids[0], resource, if_match, tx));
    return e.flush_audits(w, who, tx);
  });
  HB_RETURN_IF_ERROR(s);
  return render(e, result);
}

Status RecordService::set_document_status(store::Writer& w, const Principal& who, const std::string& type,
                                          const std::string& id, const std::string& status) {
  if (!who.issues_documents) return internal("set_document_status is for the documents service");
  Engine& e = *impl_;
  detail::TxCache tx;
  HB_ASSIGN_OR_RETURN(auto row, w.current(type, id));
  if (!row || row->deleted) return Status::ok();
  HB_ASSIGN_OR_RETURN(auto text, e.open_in_write(w, *row, tx));
  HB_ASSIGN_OR_RETURN(Json resource, parse_fhir_json(text));
  if (resource.value("status", "") == status) return Status::ok();
  resource["status"] = status;
  HB_RETURN_IF_ERROR(e.apply_update(w, who, type, id, std::move(resource), std::nullopt, tx).status());
  return e.flush_audits(w, who, tx);
}

Result<FhirResult> RecordService::remove(const Principal& who, const std::string& type,
                                         const std::string& id) {
  HB_RETURN_IF_ERROR(need(who, type, 'd'));
  Engine& e = *impl_;
  EntryResult result;
  Status s = e.store.write_sync([&](store::Writer& w) -> Status {
    detail::TxCache tx;
    HB_ASSIGN_OR_RETURN(result, e.apply_delete(w, who, type, id, tx));
    return e.flush_audits(w, who, tx);
  });
  HB_RETURN_IF_ERROR(s);
  FhirResult out;
  out.status = 204;
  out.etag = detail::etag_of(result.version);
  return out;
}

Result<FhirResult> RecordService::history(const Principal& who, const std::string& type,
                                          const std::string& id, const QueryParams& query) {
  HB_RETURN_IF_ERROR(need(who, type, 'r'));
  HB_RETURN_IF_ERROR(Engine::check_emergency(who));
  Engine& e = *impl_;
  int count = 50;
  bool emergency = false;
  int64_t before = 0;
  for (const auto& [k, v] : query) {
    if (k == "_count") {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 1000) {
        return Status(Code::kInvalid, "_count must be 1 to 1000", {{"_count", "must be 1 to 1000", "value"}});
      }
      count = static_cast<int>(n);
    } else if (k == "_cursor") {
      auto b = detail::parse_etag(v);
      if (!b) return Status(Code::kInvalid, "malformed _cursor", {{"_cursor", "malformed", "value"}});
      before = *b;
    }
  }
  std::vector<store::ResourceRow> rows;
  std::vector<std::string> texts;
  std::string patient_id;
  Status s = e.store.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto cur, r.current(type, id));
    if (!cur) return not_found(type + "/" + id + " is not known");
    HB_ASSIGN_OR_RETURN(bool ok, e.readable(r, who, *cur));
    if (!ok) {
      HB_ASSIGN_OR_RETURN(ok, e.emergency_readable(r, who, *cur));
      emergency = ok;
    }
    if (!ok) return not_found(type + "/" + id + " is not known");
    patient_id = cur->patient_id;
    HB_ASSIGN_OR_RETURN(rows, r.history(type, id, before, count + 1));
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(count); ++i) {
      if (rows[i].deleted) {
        texts.emplace_back();
      } else {
        HB_ASSIGN_OR_RETURN(auto t, e.open_body(r, rows[i]));
        texts.push_back(std::move(t));
      }
    }
    return Status::ok();
  });
  HB_RETURN_IF_ERROR(s);
  bool more = rows.size() > static_cast<size_t>(count);
  if (more) rows.resize(count);
  std::string self = e.fhir_base() + "/" + type + "/" + id + "/_history";
  Json links = Json::array({{{"relation", "self"}, {"url", self + (query.empty() ? "" : "?" + rebuild_query(query, {}))}}});
  if (more) {
    std::string q = rebuild_query(query, {"_cursor"});
    links.push_back({{"relation", "next"},
                     {"url", self + "?" + (q.empty() ? "" : q + "&") + "_cursor=" + std::to_string(rows.back().version)}});
  }
  BundleWriter b;
  b.begin("history", std::nullopt, links, e.clock.now());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    std::string url = type + "/" + id;
    const char* method = row.deleted ? "DELETE" : (row.version == 1 ? "POST" : "PUT");
    Json extra = {{"request", {{"method", method}, {"url", row.version == 1 && !row.deleted ? type : url}}},
                  {"response", {{"status", row.deleted ? "204" : (row.version == 1 ? "201" : "200")},
                                {"etag", detail::etag_of(row.version)},
                                {"lastModified", format_instant(row.last_updated)}}}};
    b.entry(e.fhir_base() + "/" + url, texts[i], extra);
  }
  // One audit row for each patient whose data the returned versions hold (a resource may have
  // moved between patients).
  std::set<std::string> patients;
  for (const auto& row : rows) patients.insert(row.patient_id);
  if (patients.empty()) patients.insert(patient_id);
  for (const auto& pid : patients) {
    e.store.append_audit_async(e.audit(who, "R", "history-instance", pid, type + "/" + id, "history"));
  }
  if (emergency) e.emergency_done(who, patient_id, type + "/" + id, "history");
  FhirResult out;
  out.body = b.finish();
  return out;
}

Result<FhirResult> RecordService::search(const Principal& who, const std::string& type,
                                         const QueryParams& query) {
  HB_RETURN_IF_ERROR(need(who, type, 's'));
  Engine& e = *impl_;
  if (type == "AuditEvent") return search_audit_events(e, who, query);
  HB_RETURN_IF_ERROR(Engine::check_emergency(who));
  HB_ASSIGN_OR_RETURN(auto parsed, fhir::parse_search(type, query, e.blinder));
  e.restrict(who, parsed.query, true);
  if (parsed.summary_count) parsed.query.want_total = true;
  narrow_to_compartment(parsed.query);
  // Breaking the glass opens one patient's records, never a facility-wide search.
  const bool glass = who.emergency_reason && !who.is_operator() && type != "Patient";
  if (glass && parsed.query.patient_id.empty()) {
    return Status(Code::kInvalid, "emergency access searches one patient's records: add patient=<id>",
                  {{"patient", "required with X-Healthbook-Break-Glass", "required"}});
  }
  bool emergency = false;

  store::SearchPage page;
  std::vector<std::string> texts;
  std::vector<std::pair<std::string, std::string>> included;  // (Type/id, text)
  std::vector<std::pair<std::string, std::string>> included_patients;  // (patient, Type/id)
  Status s = e.store.read([&](store::Reader& r) -> Status {
    if (parsed.summary_count) parsed.query.count = 1;
    if (glass) {
      HB_ASSIGN_OR_RETURN(bool linked, r.facility_linked(parsed.query.patient_id, who.facility_id));
      if (linked) {
        parsed.query.owner_facility.clear();
        parsed.query.consented_facility.clear();
      }
    }
    HB_ASSIGN_OR_RETURN(page, r.search(parsed.query));
    if (glass && parsed.query.owner_facility.empty()) {
      for (const auto& row : page.rows) {
        if (row.facility_id == who.facility_id) continue;
        HB_ASSIGN_OR_RETURN(bool shared, r.consent_shared(row.patient_id, who.facility_id));
        emergency |= !shared;
      }
    }
    if (parsed.summary_count) return Status::ok();
    std::set<std::string> seen;
    for (const auto& row : page.rows) {
      HB_ASSIGN_OR_RETURN(auto t, e.open_body(r, row));
      seen.insert(row.type + "/" + row.id);
      if (!parsed.includes.empty()) {
        HB_ASSIGN_OR_RETURN(Json j, parse_fhir_json(t));
        for (const auto& idx : fhir::extract_index(j, e.blinder)) {
          if (idx.kind != store::IndexKind::kReference) continue;
          for (const auto& inc : parsed.includes) {
            if (inc.param != idx.param) continue;
            if (!inc.target_type.empty() && inc.target_type != idx.a) continue;
            std::string key = idx.a + "/" + idx.b;
            if (!fhir::is_stored_type(idx.a) || seen.count(key)) continue;
            seen.insert(key);
            if (!who.allows(idx.a, 'r')) continue;
            HB_ASSIGN_OR_RETURN(auto target, r.current(idx.a, idx.b));
            if (!target || target->deleted) continue;
            HB_ASSIGN_OR_RETURN(bool ok, e.readable(r, who, *target));
            if (!ok) continue;
            HB_ASSIGN_OR_RETURN(auto tt, e.open_body(r, *target));
            included.emplace_back(key, std::move(tt));
            included_patients.emplace_back(target->patient_id, key);
          }
        }
      }
      texts.push_back(std::move(t));
    }
    return Status::ok();
  });
  HB_RETURN_IF_ERROR(s);

  std::string self = e.fhir_base() + "/" + type;
  std::string q = rebuild_query(query, {});
  Json links = Json::array({{{"relation", "self"}, {"url", self + (q.empty() ? "" : "?" + q)}}});
  if (page.next && !parsed.summary_count) {
    std::string base = rebuild_query(query, {"_cursor"});
    links.push_back({{"relation", "next"},
                     {"url", self + "?" + (base.empty() ? "" : base + "&") + "_cursor=" + url_encode(*page.next)}});
  }
  BundleWriter b;
  b.begin("searchset", page.total, links, e.clock.now());
  if (!parsed.summary_count) {
    for (size_t i = 0; i < page.rows.size(); ++i) {
      const auto& row = page.rows[i];
      b.entry(self + "/" + row.id, texts[i], {{"search", {{"mode", "match"}}}});
    }
    for (const auto& [key, text] : included) {
      b.entry(e.fhir_base() + "/" + key, text, {{"search", {{"mode", "include"}}}});
    }
  }
  if (!parsed.ignored.empty()) {
    std::string names;
    for (const auto& n : parsed.ignored) names += (names.empty() ? "" : ", ") + n;
    b.entry("", dump_json(fhir::operation_outcome_note("warning", "not-supported",
                                                      "search parameters ignored: " + names)),
            {{"search", {{"mode", "outcome"}}}});
  }
  // One audit record per patient whose data the search returned.
  // A count returns no resources, so its audit row names none.
  std::map<std::string, std::string> by_patient;
  auto note = [&](const std::string& pid, const std::string& entity) {
    auto& ents = by_patient[pid];
    if (!ents.empty()) ents.push_back(' ');
    ents += entity;
  };
  if (!parsed.summary_count) {
    for (const auto& row : page.rows) note(row.patient_id, row.type + "/" + row.id);
    for (const auto& [pid, key] : included_patients) note(pid, key);
  }
  // The audit names the parameters, not their values: values may identify a person.
  std::string detail = "search " + type;
  for (size_t i = 0; i < query.size() && detail.size() < 400; ++i) {
    detail += (i == 0 ? "?" : "&") + query[i].first;
  }
  if (by_patient.empty()) by_patient[""] = "";
  for (const auto& [pid, ents] : by_patient) {
    e.store.append_audit_async(e.audit(who, "E", "search-type", pid, ents, detail));
  }
  if (emergency) {
    e.emergency_done(who, parsed.query.patient_id, by_patient[parsed.query.patient_id], "search");
  }
  FhirResult out;
  out.body = b.finish();
  return out;
}

}  // namespace hb::services

namespace hb::services {

void RecordService::set_outbox(notify::Outbox* outbox) { impl_->outbox = outbox; }

Json RecordService::capability_statement() const {
  Json resources = Json::array();
  for (const auto& type : fhir::stored_resource_types()) {
    bool audit = type == "AuditEvent";
    Json interactions = Json::array();
    for (const char* code : audit ? std::vector<const char*>{"read", "vread", "search-type"}
                                  : std::vector<const char*>{"read", "vread", "update", "delete",
                                                             "history-instance", "create", "search-type"}) {
      interactions.push_back({{"code", code}});
    }
    Json params = Json::array({{{"name", "_id"}, {"type", "token"}},
                               {{"name", "_lastUpdated"}, {"type", "date"}}});
    if (audit) {
      params = Json::array({{{"name", "patient"}, {"type", "reference"}}});
    } else {
      for (const auto& p : fhir::search_params_for(type)) {
        Json j = {{"name", p.name}, {"type", p.type}};
        if (!p.description.empty()) j["documentation"] = p.description;
        params.push_back(std::move(j));
      }
    }
    Json r = {{"type", type},
              {"interaction", interactions},
              {"versioning", "versioned-update"},
              {"readHistory", true},
              {"updateCreate", !audit},
              {"conditionalCreate", !audit},
              {"conditionalUpdate", !audit},
              {"conditionalDelete", "not-supported"},
              {"searchParam", params}};
    if (!audit) {
      Json includes = Json::array();
      for (const auto& p : fhir::search_params_for(type)) {
        if (p.type == "reference") includes.push_back(type + ":" + p.name);
      }
      if (!includes.empty()) r["searchInclude"] = includes;
    }
    resources.push_back(std::move(r));
  }
  return {
      {"resourceType", "CapabilityStatement"},
      {"status", "active"},
      {"date", "2026-11-21"},
      {"publisher", "Healthbook"},
      {"kind", "instance"},
      {"software", {{"name", "Healthbook"}, {"version", "0.1.0"}}},
      {"implementation", {{"description", "Healthbook FHIR R4 records API"}, {"url", options_.base_url + "/fhir"}}},
      {"fhirVersion", "4.0.1"},
      {"format", Json::array({"application/fhir+json", "json"})},
      {"rest",
       Json::array({{{"mode", "server"},
                     {"security",
                      {{"service", Json::array({{{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/restful-security-service"},
                                                                          {"code", "SMART-on-FHIR"}}})}}})},
                       {"description", "SMART Backend Services: client_credentials with a private_key_jwt client assertion (ES384, RS384, ES256, RS256); see /.well-known/smart-configuration"}}},
                     {"resource", resources},
                     {"interaction", Json::array({{{"code", "transaction"}}, {{"code", "batch"}}})}}})}};
}

}  // namespace hb::services
