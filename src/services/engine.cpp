// The write and visibility rules of the records service (see records.h for the policy).
#include <algorithm>
#include <cctype>
#include <set>

#include "core/ids.h"
#include "core/url.h"
#include "core/utf8.h"
#include "fhir/validate.h"
#include "services/accounts.h"
#include "services/book.h"
#include "services/records_internal.h"
#include "services/speculation.h"

namespace hb::services::detail {
namespace {

// Lower-cased, whitespace-collapsed text for comparing names.
std::string fold(std::string_view s) {
  std::string out;
  bool space = false;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isspace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

// The family name and first given name of the first usable HumanName, folded.
std::pair<std::string, std::string> main_name(const Json& patient) {
  auto it = patient.find("name");
  if (it == patient.end() || !it->is_array()) return {};
  const Json* chosen = nullptr;
  for (const auto& n : *it) {
    if (n.is_object() && n.value("use", "") == "official") {
      chosen = &n;
      break;
    }
  }
  if (!chosen && !it->empty() && (*it)[0].is_object()) chosen = &(*it)[0];
  if (!chosen) return {};
  std::string family = chosen->contains("family") && (*chosen)["family"].is_string()
                           ? fold((*chosen)["family"].get<std::string>())
                           : "";
  std::string given;
  if (auto g = chosen->find("given"); g != chosen->end() && g->is_array() && !g->empty() &&
                                      (*g)[0].is_string()) {
    given = fold((*g)[0].get<std::string>());
  }
  return {family, given};
}

}  // namespace

Engine::Engine(store::Store& s, Vault& v, const Clock& c, RecordsOptions o)
    : store(s), vault(v), clock(c), options(std::move(o)), link_refusals(c, 20, 20) {
  blinder = [this](std::string_view domain, std::string_view value) {
    return vault.blind(domain, value);
  };
}

std::optional<int64_t> parse_etag(const std::string& etag) {
  std::string_view s = etag;
  if (s.rfind("W/", 0) == 0) s.remove_prefix(2);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string etag_of(int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

Status Engine::check_resource(const Json& resource, const std::string& type) const {
  if (!resource.is_object()) return invalid("the body must be a JSON object (a FHIR resource)");
  auto rt = resource.find("resourceType");
  if (rt == resource.end() || !rt->is_string()) {
    return Status(Code::kInvalid, "missing resourceType",
                  {{"resourceType", "a resource must name its resourceType", "required"}});
  }
  const std::string& name = rt->get_ref<const std::string&>();
  if (!fhir::is_resource_type(name)) {
    return Status(Code::kInvalid, "unknown resource type \"" + name + "\"",
                  {{"resourceType", "\"" + name + "\" is not an R4 resource type", "not-supported"}});
  }
  if (!type.empty() && name != type) {
    return Status(Code::kInvalid, "resourceType \"" + name + "\" does not match the URL (" + type + ")",
                  {{"resourceType", "expected " + type, "invalid"}});
  }
  if (!fhir::is_stored_type(name) || name == "AuditEvent") {
    return Status(Code::kUnprocessable, "this server does not store " + name + " resources",
                  {{"resourceType", name + " is not writable here", "not-supported"}});
  }
  return fhir::validate_resource(resource);
}

Result<Json> Engine::parse_resource(std::string_view body, const std::string& type) const {
  HB_ASSIGN_OR_RETURN(Json j, parse_fhir_json(body, options.json_limits));
  HB_RETURN_IF_ERROR(check_resource(j, type));
  return j;
}

Result<bool> Engine::visible(store::Reader& r, const Principal& who,
                             const store::ResourceRow& row) const {
  if (who.is_operator() || row.facility_id == who.facility_id) return true;
  if (row.type == "Patient") return r.facility_linked(row.id, who.facility_id);
  return false;
}

Result<bool> Engine::readable(store::Reader& r, const Principal& who,
                              const store::ResourceRow& row) const {
  HB_ASSIGN_OR_RETURN(bool ok, visible(r, who, row));
  if (ok || row.type == "Patient" || row.patient_id.empty()) return ok;
  // The resident decided that this facility may see the records other facilities hold.
  return r.consent_shared(row.patient_id, who.facility_id);
}

Status Engine::check_emergency(const Principal& who) {
  if (!who.emergency_reason) return Status::ok();
  const std::string& reason = *who.emergency_reason;
  bool blank = std::all_of(reason.begin(), reason.end(),
                           [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
  bool control = std::any_of(reason.begin(), reason.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (blank || reason.size() > 500 || control) {
    return Status(Code::kInvalid,
                  "emergency access needs a reason: X-Healthbook-Break-Glass: <why, in up to 500 "
                  "characters of one line>",
                  {{"X-Healthbook-Break-Glass", blank ? "empty" : "too long or not one line", "required"}});
  }
  return Status::ok();
}

Result<bool> Engine::emergency_readable(store::Reader& r, const Principal& who,
                                        const store::ResourceRow& row) const {
  if (!who.emergency_reason || who.is_operator() || row.patient_id.empty()) return false;
  return r.facility_linked(row.patient_id, who.facility_id);
}

void Engine::emergency_done(const Principal& who, const std::string& patient_id,
                            const std::string& entities, const char* subtype) const {
  std::string reason = who.emergency_reason.value_or("");
  store.append_audit_async(
      audit(who, "R", "break-glass", patient_id, entities, std::string("break-glass ") + subtype + ": " + reason));
  if (!outbox) return;
  // The resident hears of it by SMS: who, not what. One message per facility and patient an hour.
  Time now = clock.now();
  Status s = store.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto prow, w.current("Patient", patient_id));
    if (!prow || prow->deleted) return Status::ok();
    HB_ASSIGN_OR_RETURN(auto key, vault.key_for_write(w, patient_id));
    HB_ASSIGN_OR_RETURN(auto text, key.open(prow->body, Vault::aad(*prow)));
    HB_ASSIGN_OR_RETURN(Json patient, parse_fhir_json(text));
    std::string phone = registered_mobile(patient);
    if (phone.empty()) return Status::ok();
    HB_ASSIGN_OR_RETURN(auto facility, w.facility_by_id(who.facility_id));
    notify::Message sms;
    sms.channel = notify::Channel::kSms;
    sms.recipient = phone;
    sms.patient_id = patient_id;
    sms.text = "Healthbook: a clinician at " +
               (facility ? utf8_prefix(facility->name, 80) : std::string("a facility")) +
               " opened your records in an emergency. See your access log.";
    sms.dedupe_key = "break-glass:" + patient_id + ":" + who.facility_id + ":" +
                     std::to_string(unix_seconds(now) / 3600);
    return outbox->enqueue(w, sms).status();
  });
  if (s) {
    outbox->wake();
  } else {
    // The read was already audited; a failed notice must not undo it. No personal data here.
    store.append_audit_async(audit(who, "E", "break-glass", patient_id, "", "resident notice failed"));
  }
}

Result<std::string> Engine::open_body(store::Reader& r, const store::ResourceRow& row) const {
  HB_ASSIGN_OR_RETURN(auto key, vault.key_for_read(r, Vault::owner_for(row.patient_id, row.facility_id)));
  return key.open(row.body, Vault::aad(row));
}

Result<const crypto::Aead256*> Engine::key_in_write(store::Writer& w, const std::string& owner,
                                                    TxCache& tx) const {
  auto it = tx.keys.find(owner);
  if (it == tx.keys.end()) {
    HB_ASSIGN_OR_RETURN(auto key, vault.key_for_write(w, owner));
    it = tx.keys.emplace(owner, std::move(key)).first;
  }
  return &it->second;
}

Result<std::string> Engine::open_in_write(store::Writer& w, const store::ResourceRow& row,
                                          TxCache& tx) const {
  HB_ASSIGN_OR_RETURN(const crypto::Aead256* key,
                      key_in_write(w, Vault::owner_for(row.patient_id, row.facility_id), tx));
  return key->open(row.body, Vault::aad(row));
}

Status Engine::require_patient(store::Writer& w, const Principal& who, const std::string& patient_id,
                               const std::string& path, TxCache& tx) const {
  if (tx.visible_patients.count(patient_id)) return Status::ok();
  HB_ASSIGN_OR_RETURN(auto prow, w.current("Patient", patient_id));
  bool ok = prow && !prow->deleted;
  if (ok) {
    HB_ASSIGN_OR_RETURN(ok, visible(w, who, *prow));
  }
  if (!ok) {
    return Status(Code::kUnprocessable, "the resource names a patient that is not known here",
                  {{path, "Patient/" + patient_id + " is not a patient this facility has registered", "not-found"}});
  }
  tx.visible_patients.insert(patient_id);
  return Status::ok();
}

void Engine::restrict(const Principal& who, store::SearchQuery& q, bool for_read) const {
  if (who.is_operator()) return;
  if (q.type == "Patient") {
    q.linked_facility = who.facility_id;
  } else {
    q.owner_facility = who.facility_id;
    if (for_read) q.consented_facility = who.facility_id;
  }
}

Result<std::vector<std::string>> Engine::find(store::Reader& r, const Principal& who,
                                              const std::string& type,
                                              const QueryParams& params) const {
  if (!who.allows(type, 's')) {
    return forbidden("a conditional request searches " + type + ", which needs the search scope");
  }
  HB_ASSIGN_OR_RETURN(auto parsed, fhir::parse_search(type, params, blinder));
  if (!parsed.ignored.empty()) {
    return Status(Code::kInvalid, "unknown search parameter \"" + parsed.ignored[0] + "\" in a conditional request");
  }
  if (parsed.query.clauses.empty() && parsed.query.ids.empty()) {
    return invalid("a conditional request needs at least one search parameter");
  }
  restrict(who, parsed.query);
  parsed.query.count = 2;
  parsed.query.ids_only = true;  // which resources, not what they hold
  HB_ASSIGN_OR_RETURN(auto page, r.search(parsed.query));
  std::vector<std::string> ids;
  for (auto& row : page.rows) ids.push_back(row.id);
  return ids;
}

Status Engine::resolve_references(store::Writer& w, const Principal& who, Json& node,
                                  const std::map<std::string, std::string>& mapping,
                                  const std::string& path, TxCache& tx) const {
  // One path buffer for the whole walk, extended and cut back in place: building a new string per
  // element cost more than the rest of the walk.
  std::string buffer = path;
  buffer.reserve(256);
  return resolve_in(w, who, node, mapping, buffer, fhir_base() + "/", tx);
}

Status Engine::resolve_in(store::Writer& w, const Principal& who, Json& node,
                          const std::map<std::string, std::string>& mapping, std::string& path,
                          const std::string& base, TxCache& tx) const {
  if (node.is_array()) {
    const size_t len = path.size();
    for (size_t i = 0; i < node.size(); ++i) {
      if (!node[i].is_object() && !node[i].is_array()) continue;
      path.push_back('[');
      path += std::to_string(i);
      path.push_back(']');
      Status s = resolve_in(w, who, node[i], mapping, path, base, tx);
      path.resize(len);
      HB_RETURN_IF_ERROR(s);
    }
    return Status::ok();
  }
  if (!node.is_object()) return Status::ok();
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it.key() == "reference" && it->is_string()) {
      if (it->get_ref<const std::string&>().rfind(base, 0) == 0) {
        *it = it->get_ref<const std::string&>().substr(base.size());
      }
      const std::string& ref = it->get_ref<const std::string&>();
      if ((ref.rfind("http://", 0) == 0 || ref.rfind("https://", 0) == 0) &&
          ref.find("/Patient/") != std::string::npos) {
        return Status(Code::kUnprocessable, "patients on other servers cannot be referenced",
                      {{path + ".reference", "use Patient/<id> or a conditional reference for a patient registered here", "not-supported"}});
      }
      if (auto m = mapping.find(ref); m != mapping.end()) {
        *it = m->second;
        continue;
      }
      if (ref.rfind("urn:uuid:", 0) == 0) {
        return Status(Code::kUnprocessable, "unresolved reference " + ref,
                      {{path + ".reference", "\"" + ref + "\" names no entry of this Bundle", "not-found"}});
      }
      auto q = ref.find('?');
      if (q != std::string::npos && ref.find('/') > q) {
        if (auto hit = tx.conditional.find(ref); hit != tx.conditional.end()) {
          *it = hit->second;
          continue;
        }
        std::string type = ref.substr(0, q);
        if (!fhir::is_stored_type(type)) {
          return Status(Code::kUnprocessable, "conditional reference to an unknown type",
                        {{path + ".reference", "\"" + type + "\" is not a stored resource type", "not-supported"}});
        }
        HB_ASSIGN_OR_RETURN(auto params, split_query(std::string_view(ref).substr(q + 1)));
        auto ids = find(w, who, type, params);
        if (!ids) {
          Status s = ids.error();
          return Status(s.code(), s.message(), {{path + ".reference", s.message(), "invalid"}});
        }
        if (ids->empty()) {
          return Status(Code::kUnprocessable, "conditional reference matches nothing",
                        {{path + ".reference", "\"" + ref + "\" matches no resource", "not-found"}});
        }
        if (ids->size() > 1) {
          return Status(Code::kPreconditionFailed, "conditional reference matches more than one resource",
                        {{path + ".reference", "\"" + ref + "\" matches several resources", "multiple-matches"}});
        }
        std::string resolved = type + "/" + (*ids)[0];
        tx.conditional.emplace(ref, resolved);
        *it = std::move(resolved);
      }
    } else {
      if (!it->is_object() && !it->is_array()) continue;
      const size_t len = path.size();
      path.push_back('.');
      path += it.key();
      Status s = resolve_in(w, who, *it, mapping, path, base, tx);
      path.resize(len);
      HB_RETURN_IF_ERROR(s);
    }
  }
  return Status::ok();
}

store::AuditRecord Engine::audit(const Principal& who, const char* action, const char* subtype,
                                 const std::string& patient_id, const std::string& entities,
                                 const std::string& detail) const {
  store::AuditRecord a;
  a.id = new_uuid();
  a.time = clock.now();
  a.action = action;
  a.outcome = "0";
  a.event_type = subtype;
  a.client_id = who.client_id;
  a.facility_id = who.facility_id;
  a.patient_id = patient_id;
  a.entities = entities;
  a.detail = detail;
  a.source_ip = who.remote_address;
  return a;
}

namespace {

struct PersonIds {
  std::vector<std::pair<std::string, std::string>> ids;  // (system, value)
};

PersonIds person_ids(const Json& patient, const RecordsOptions& o) {
  PersonIds out;
  auto it = patient.find("identifier");
  if (it == patient.end() || !it->is_array()) return out;
  for (const auto& ident : *it) {
    if (!ident.is_object()) continue;
    std::string system = ident.value("system", "");
    std::string value = ident.value("value", "");
    if (system.empty() || value.empty()) continue;
    bool person = std::find(o.national_id_systems.begin(), o.national_id_systems.end(), system) !=
                      o.national_id_systems.end() ||
                  std::find(o.insurance_systems.begin(), o.insurance_systems.end(), system) !=
                      o.insurance_systems.end();
    if (person) out.ids.emplace_back(system, value);
  }
  return out;
}

std::string person_index(const Engine& e, const std::string& system, const std::string& value) {
  return e.vault.blind("person", system + "|" + value);
}

// The registered people an incoming Patient's national ids and insurance numbers belong to.
Result<std::set<std::string>> registered_people(const Engine& e, store::Reader& r,
                                                const Json& resource) {
  std::set<std::string> found;
  for (const auto& [system, value] : person_ids(resource, e.options).ids) {
    HB_ASSIGN_OR_RETURN(auto pid, r.patient_by_identifier(person_index(e, system, value)));
    if (pid) found.insert(*pid);
  }
  return found;
}

// Linking a facility to a registered person needs more than an identifier, which others may know:
// the incoming Patient must give the birth date and the family and first given name, and they must
// match the stored ones. The refusal is the same whatever differs or is missing, so it cannot be
// used to guess a person's details one field at a time.
Status same_person(const Json& stored, const Json& incoming) {
  auto sb = stored.contains("birthDate") && stored["birthDate"].is_string() ? stored["birthDate"].get<std::string>() : "";
  auto ib = incoming.contains("birthDate") && incoming["birthDate"].is_string() ? incoming["birthDate"].get<std::string>() : "";
  auto [sf, sg] = main_name(stored);
  auto [inf, ig] = main_name(incoming);
  bool complete = !ib.empty() && !inf.empty() && !ig.empty();
  bool same = sb == ib && sf == inf && sg == ig;
  if (complete && same) return Status::ok();
  return Status(Code::kConflict,
                "these identifiers are registered to a person; to link to them, send the same birth "
                "date, family name and first given name. Nothing was merged",
                {{"Patient.identifier",
                  "registered to a person whose birth date or name differ from (or are missing in) "
                  "this resource",
                  "conflict"}});
}

}  // namespace

Result<CreateTarget> Engine::create_target(store::Writer& w, const Principal& who,
                                           const std::string& type, const Json& resource,
                                           const std::optional<QueryParams>& if_none_exist,
                                           TxCache& tx) const {
  if (if_none_exist) {
    HB_ASSIGN_OR_RETURN(auto ids, find(w, who, type, *if_none_exist));
    if (ids.size() > 1) {
      return Status(Code::kPreconditionFailed, "If-None-Exist matches more than one resource");
    }
    if (ids.size() == 1) return CreateTarget{CreateTarget::Kind::kExisting, ids[0]};
  }
  if (type == "Patient") {
    HB_ASSIGN_OR_RETURN(const std::set<std::string> found, registered_people(*this, w, resource));
    if (!found.empty()) HB_RETURN_IF_ERROR(link_try_allowed(w, who));
    if (found.size() > 1) {
      return refuse_link(
          w, who,
          Status(Code::kConflict, "the identifiers belong to different registered people",
                 {{"Patient.identifier", "identifiers of two different people; nothing was merged",
                   "conflict"}}));
    }
    if (found.size() == 1) {
      HB_ASSIGN_OR_RETURN(auto row, w.current("Patient", *found.begin()));
      if (!row) return internal("an identifier is bound to a person with no record");
      if (row->deleted) {
        // Only the facility that registered the person may register them again.
        if (!who.is_operator() && row->facility_id != who.facility_id) {
          return refuse_link(
              w, who,
              Status(Code::kConflict,
                     "these identifiers belong to a record that was deleted; nothing was merged",
                     {{"Patient.identifier", "registered to a deleted record", "conflict"}}));
        }
      } else {
        HB_ASSIGN_OR_RETURN(auto text, open_in_write(w, *row, tx));
        HB_ASSIGN_OR_RETURN(auto stored, parse_fhir_json(text));
        if (Status same = same_person(stored, resource); !same) {
          return refuse_link(w, who, std::move(same));
        }
      }
      return CreateTarget{CreateTarget::Kind::kSamePerson, *found.begin()};
    }
  }
  return CreateTarget{CreateTarget::Kind::kNew, new_uuid()};
}

namespace {

// Writes one version of a resource: meta, compartment checks, person links, index, encryption,
// audit. `prev` is the current row (nullopt for a new resource).
Result<EntryResult> write_version(const Engine& e, store::Writer& w, const Principal& who,
                                  const std::string& type, const std::string& id, Json resource,
                                  const std::optional<store::ResourceRow>& prev, TxCache& tx,
                                  bool keep_source = false) {
  Time now = e.clock.now();
  int64_t version = prev ? prev->version + 1 : 1;
  resource["id"] = id;
  Json& meta = resource["meta"];
  if (!meta.is_object()) meta = Json::object();
  meta["versionId"] = std::to_string(version);
  meta["lastUpdated"] = format_instant(now);
  // meta.source names the registering facility; a merge by another facility keeps it.
  if (!keep_source && !who.facility_code.empty()) meta["source"] = "urn:healthbook:facility:" + who.facility_code;

  std::string patient_id;
  if (type == "Patient") {
    patient_id = id;
  } else if (auto pid = fhir::patient_compartment(resource)) {
    patient_id = *pid;
    HB_RETURN_IF_ERROR(e.require_patient(w, who, patient_id, type + ".subject", tx));
  }

  // Every patient the resource names (subject, performer, actor, ...) must be one this facility
  // has registered, not only the one whose compartment it lands in.
  auto index = fhir::extract_index(resource, e.blinder);
  for (const auto& ix : index) {
    if (ix.kind != store::IndexKind::kReference || ix.a != "Patient" || ix.b == id) continue;
    HB_RETURN_IF_ERROR(e.require_patient(w, who, ix.b, type + "." + ix.param, tx));
  }

  store::ResourceRow row;
  row.type = type;
  row.id = id;
  row.version = version;
  row.patient_id = patient_id;
  // The owner stays the facility that created the resource.
  row.facility_id = prev ? prev->facility_id : (who.is_operator() ? std::string() : who.facility_id);
  if (row.facility_id.empty()) row.facility_id = who.facility_id;
  row.last_updated = now;
  std::string text = dump_json(resource);
  HB_ASSIGN_OR_RETURN(const crypto::Aead256* key,
                      e.key_in_write(w, Vault::owner_for(row.patient_id, row.facility_id), tx));
  row.body = key->seal(text, Vault::aad(row));
  HB_RETURN_IF_ERROR(w.put_resource(row, index));

  // The patient's timeline line, in the same transaction (services/book.h).
  const std::string ref = type + "/" + id;
  if (prev && !prev->patient_id.empty() && prev->patient_id != patient_id) {
    HB_RETURN_IF_ERROR(w.put_timeline({prev->patient_id, ref, "", "", 0, ""}));
  }
  if (!patient_id.empty() && type != "Patient") {
    if (auto sum = summarise(type, resource, now)) {
      store::TimelineRow t{patient_id, ref, row.facility_id, sum->kind, sum->date,
                           key->seal(dump_json(sum->fields), timeline_aad(patient_id, ref))};
      HB_RETURN_IF_ERROR(w.put_timeline(t));
    }
  }

  if (type == "Patient") {
    for (const auto& [system, value] : person_ids(resource, e.options).ids) {
      std::string bi = person_index(e, system, value);
      HB_ASSIGN_OR_RETURN(auto owner, w.patient_by_identifier(bi));
      if (owner && *owner != id) {
        HB_RETURN_IF_ERROR(e.link_try_allowed(w, who));
        return e.refuse_link(
            w, who,
            Status(Code::kConflict, "an identifier is registered to another person",
                   {{"Patient.identifier", system + " identifier is registered to another person",
                     "conflict"}}));
      }
      if (!owner) HB_RETURN_IF_ERROR(w.bind_identifier(bi, id));
    }
    if (!who.facility_id.empty()) HB_RETURN_IF_ERROR(w.link_facility(id, who.facility_id, now));
  }

  tx.audit(prev ? "U" : "C", prev ? "update" : "create", patient_id, type + "/" + id);

  EntryResult r;
  r.status = prev && !prev->deleted ? 200 : 201;
  r.type = type;
  r.id = id;
  r.version = version;
  r.last_updated = now;
  r.text = std::move(text);
  return r;
}

// Adds the incoming Patient's identifiers that the stored one lacks; returns the merged resource,
// or nullopt when nothing is new.
std::optional<Json> merge_identifiers(const Json& stored, const Json& incoming, const RecordsOptions& o) {
  auto in = incoming.find("identifier");
  if (in == incoming.end() || !in->is_array()) return std::nullopt;
  Json merged = stored;
  Json& ids = merged["identifier"];
  if (!ids.is_array()) ids = Json::array();
  bool changed = false;
  // Only national ids and insurance numbers join the shared record: a facility's own record
  // numbers would tell every other facility where the person is treated.
  Json person_only = Json::array();
  for (const auto& [system, value] : person_ids(incoming, o).ids) {
    person_only.push_back({{"system", system}, {"value", value}});
  }
  for (const auto& ident : person_only) {
    bool have = std::any_of(ids.begin(), ids.end(), [&](const Json& x) {
      return x.value("system", "") == ident.value("system", "") &&
             x.value("value", "") == ident.value("value", "");
    });
    if (!have) {
      ids.push_back(ident);
      changed = true;
    }
  }
  if (!changed) return std::nullopt;
  return merged;
}

}  // namespace

namespace {

constexpr const char* kDocumentSystem = "urn:healthbook:document";

bool names_a_document(const Json& resource) {
  auto ids = resource.find("identifier");
  if (ids == resource.end() || !ids->is_array()) return false;
  return std::any_of(ids->begin(), ids->end(), [](const Json& i) {
    return i.is_object() && i.value("system", "") == kDocumentSystem;
  });
}

}  // namespace

Status Engine::guard_document_record(store::Writer& w, const Principal& who, const std::string& type,
                                     const Json* incoming, const std::optional<store::ResourceRow>& prev,
                                     TxCache& tx) const {
  if (type != "DocumentReference" || who.issues_documents) return Status::ok();
  auto refuse = [&](const std::string& what) {
    return Status(Code::kUnprocessable,
                  what + " is the record of a verifiable document, which changes only through the "
                         "documents API: replace it (POST /api/v1/documents with \"replaces\") or revoke "
                         "it (POST /api/v1/documents/<documentId>/revoke), so that the change reaches the "
                         "transparency log and the card's verifiers",
                  {{"DocumentReference.identifier",
                    "system " + std::string(kDocumentSystem) +
                        " is reserved: the document changes through POST /api/v1/documents (\"replaces\") "
                        "or POST /api/v1/documents/<documentId>/revoke",
                    "business-rule"}});
  };
  if (incoming != nullptr && names_a_document(*incoming)) return refuse("a DocumentReference naming " + std::string(kDocumentSystem));
  if (prev && !prev->deleted) {
    HB_ASSIGN_OR_RETURN(auto text, open_in_write(w, *prev, tx));
    HB_ASSIGN_OR_RETURN(auto stored, parse_fhir_json(text));
    if (names_a_document(stored)) return refuse("DocumentReference/" + prev->id);
  }
  return Status::ok();
}

Result<EntryResult> Engine::apply_create(store::Writer& w, const Principal& who,
                                         const std::string& type, Json resource,
                                         const CreateTarget& target, TxCache& tx) const {
  if (target.kind == CreateTarget::Kind::kNew) {
    if (!who.allows(type, 'c')) return forbidden("creating a " + type + " needs the create scope");
    HB_RETURN_IF_ERROR(guard_document_record(w, who, type, &resource, std::nullopt, tx));
    HB_ASSIGN_OR_RETURN(auto existing, w.current(type, target.id));
    if (existing) return Status(Code::kConflict, type + "/" + target.id + " already exists");
    return write_version(*this, w, who, type, target.id, std::move(resource), std::nullopt, tx);
  }
  HB_ASSIGN_OR_RETURN(auto row, w.current(type, target.id));
  if (!row) return internal("matched resource vanished");
  if (target.kind == CreateTarget::Kind::kSamePerson) {
    if (row->deleted) {
      // The person was deleted earlier; their identifiers still name them: restore.
      return write_version(*this, w, who, type, target.id, std::move(resource), row, tx);
    }
    HB_ASSIGN_OR_RETURN(auto text, open_in_write(w, *row, tx));
    HB_ASSIGN_OR_RETURN(auto stored, parse_fhir_json(text));
    if (auto merged = merge_identifiers(stored, resource, options)) {
      HB_ASSIGN_OR_RETURN(auto r, write_version(*this, w, who, type, target.id, std::move(*merged), row, tx, true));
      r.status = 200;
      return r;
    }
    HB_RETURN_IF_ERROR(w.link_facility(target.id, who.facility_id, clock.now()));
    tx.audit("E", "create", target.id, "Patient/" + target.id);
    EntryResult r{200, type, target.id, row->version, row->last_updated, std::move(text)};
    return r;
  }
  // Conditional create that matched: nothing is written, but the match is returned (a read).
  HB_ASSIGN_OR_RETURN(auto text, open_in_write(w, *row, tx));
  tx.audit("R", "read", row->patient_id, type + "/" + target.id);
  return EntryResult{200, type, target.id, row->version, row->last_updated, std::move(text)};
}

Result<EntryResult> Engine::apply_update(store::Writer& w, const Principal& who,
                                         const std::string& type, const std::string& id,
                                         Json resource,
                                         const std::optional<std::string>& if_match, TxCache& tx) const {
  if (!is_valid_fhir_id(id)) return invalid("\"" + id + "\" is not a valid resource id");
  if (auto body_id = resource.find("id"); body_id != resource.end()) {
    if (!body_id->is_string() || body_id->get_ref<const std::string&>() != id) {
      return Status(Code::kInvalid, "the resource id does not match the URL",
                    {{type + ".id", "must be \"" + id + "\"", "invalid"}});
    }
  } else {
    return Status(Code::kInvalid, "an update must carry the resource id",
                  {{type + ".id", "missing; must be \"" + id + "\"", "required"}});
  }
  HB_ASSIGN_OR_RETURN(auto prev, w.current(type, id));
  const bool mine = prev && (who.is_operator() || prev->facility_id == who.facility_id);
  bool seen = mine;
  if (prev && !mine) {
    HB_ASSIGN_OR_RETURN(seen, visible(w, who, *prev));
  }
  // A client creates at an id of its choosing only if the id is a UUID. Ids such as
  // "patient-<national id>" would otherwise let any facility learn, by trying to create one,
  // whether someone else holds it; so an id it cannot see and could not create gets the same
  // answer whether or not it exists.
  if (!seen && !is_uuid_shaped(id)) {
    return Status(Code::kNotFound,
                  type + "/" + id + " is not known here. To create a resource at an id of your choosing, "
                  "use a UUID as the id; or POST it, or PUT " + type + "?identifier=system|value");
  }
  if (prev && !mine) {
    // Another facility's resource, or a shared Patient that only its registering facility may
    // change. (The same answer either way, so it says nothing about whose it is.)
    return Status(Code::kForbidden, "this facility may not change " + type + "/" + id);
  }
  if (!prev && !who.allows(type, 'c')) {
    return forbidden("creating " + type + "/" + id + " needs the create scope on " + type);
  }
  if (if_match) {
    auto want = parse_etag(*if_match);
    if (!want) return invalid("malformed If-Match header");
    if (!prev || prev->version != *want) {
      return Status(Code::kPreconditionFailed,
                    "version conflict: If-Match " + *if_match + " but the current version is " +
                        (prev ? etag_of(prev->version) : std::string("none")));
    }
  }
  HB_RETURN_IF_ERROR(guard_document_record(w, who, type, &resource, prev, tx));
  if (!prev && type == "Patient") {
    // Update-as-create of a Patient: the person may already be registered under another id. The
    // refusal is one and the same whether the details match or not (comparing them here would
    // confirm a guessed birth date without a link), and costs a link try like any.
    HB_ASSIGN_OR_RETURN(const std::set<std::string> found, registered_people(*this, w, resource));
    if (!found.empty()) {
      HB_RETURN_IF_ERROR(link_try_allowed(w, who));
      return refuse_link(
          w, who,
          Status(Code::kConflict,
                 "these identifiers are registered to a person; POST the Patient to link to them, "
                 "with the same birth date, family name and first given name. Nothing was merged",
                 {{"Patient.identifier", "registered to a person; POST to link", "conflict"}}));
    }
  }
  return write_version(*this, w, who, type, id, std::move(resource), prev, tx);
}

Result<EntryResult> Engine::apply_delete(store::Writer& w, const Principal& who,
                                         const std::string& type, const std::string& id,
                                         TxCache& tx) const {
  HB_ASSIGN_OR_RETURN(auto prev, w.current(type, id));
  if (!prev) return not_found(type + "/" + id + " is not known");
  HB_ASSIGN_OR_RETURN(bool ok, visible(w, who, *prev));
  if (!ok) return not_found(type + "/" + id + " is not known");
  if (!who.is_operator() && prev->facility_id != who.facility_id) {
    return Status(Code::kForbidden, "only the facility that created " + type + "/" + id + " may delete it");
  }
  if (prev->deleted) return EntryResult{204, type, id, prev->version, prev->last_updated, {}};
  HB_RETURN_IF_ERROR(guard_document_record(w, who, type, nullptr, prev, tx));
  store::ResourceRow row;
  row.type = type;
  row.id = id;
  row.version = prev->version + 1;
  row.patient_id = prev->patient_id;
  row.facility_id = prev->facility_id;
  row.last_updated = clock.now();
  row.deleted = true;
  HB_RETURN_IF_ERROR(w.put_resource(row, {}));
  if (!prev->patient_id.empty()) {
    HB_RETURN_IF_ERROR(w.put_timeline({prev->patient_id, type + "/" + id, "", "", 0, ""}));
  }
  tx.audit("D", "delete", prev->patient_id, type + "/" + id);
  return EntryResult{204, type, id, row.version, row.last_updated, {}};
}

Status Engine::check_link_allowance(const Principal& who) const {
  if (!who.is_operator() && link_refusals.exhausted("facility:" + who.facility_id)) {
    return Status(Code::kTooManyRequests,
                  "too many refused attempts to link to registered people; try again later");
  }
  return Status::ok();
}

Status Engine::link_try_allowed(store::Writer& w, const Principal& who) const {
  if (who.is_operator()) return Status::ok();
  auto check = [this, key = "facility:" + who.facility_id]() -> Status {
    if (!link_refusals.exhausted(key)) return Status::ok();
    return Status(Code::kTooManyRequests,
                  "too many refused attempts to link to registered people; try again later");
  };
  // A speculation's link goes through only if its replay, on the writer thread, finds tries left:
  // else speculations sent at once, none charged, would say which of them guessed right.
  if (auto* spec = dynamic_cast<Speculation*>(&w)) {
    spec->check_at_replay(std::move(check));
    return Status::ok();
  }
  return check();
}

Status Engine::refuse_link(const store::Writer& w, const Principal& who, Status refusal) const {
  if (dynamic_cast<const Speculation*>(&w) != nullptr) return refusal;
  if (!who.is_operator()) link_refusals.allow("facility:" + who.facility_id);
  // Queued beside the write, not in it: the write is about to be rolled back with this refusal.
  store::AuditRecord a = audit(who, "E", "create", "", "", "refused: patient link");
  a.outcome = "4";
  store.append_audit_async(std::move(a));
  return refusal;
}

Status Engine::flush_audits(store::Writer& w, const Principal& who, TxCache& tx) const {
  for (const auto& [key, entities] : tx.audits) {
    HB_RETURN_IF_ERROR(w.append_audit(audit(who, key.action.c_str(), key.subtype.c_str(), key.patient, entities, key.subtype)));
  }
  tx.audits.clear();
  return Status::ok();
}

}  // namespace hb::services::detail
