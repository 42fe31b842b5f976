#include "services/proxies.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/ids.h"
#include "core/utf8.h"
#include "fhir/search_params.h"
#include "services/accounts.h"
#include "services/resident_audit.h"

namespace hb::services {
namespace {

constexpr std::string_view kViewRecords = "view-records";
constexpr std::string_view kManageShares = "manage-shares";

// v3 RoleCode relationships that make a contact someone who may act for a child.
bool guardian_relationship(const Json& contact) {
  static const std::set<std::string> kCodes = {"PRN", "NPRN", "MTH", "FTH", "ADOPTP", "GUARD"};
  if (!contact.contains("relationship") || !contact["relationship"].is_array()) return false;
  for (const Json& cc : contact["relationship"]) {
    if (!cc.is_object() || !cc.contains("coding") || !cc["coding"].is_array()) continue;
    for (const Json& c : cc["coding"]) {
      if (!c.is_object() || !c.contains("code") || !c["code"].is_string()) continue;
      const std::string system = c.value("system", "");
      if (system != "http://terminology.hl7.org/CodeSystem/v3-RoleCode") continue;
      if (kCodes.count(c["code"].get<std::string>())) return true;
    }
  }
  return false;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Json rights_json(const Resident::Proxy& p) {
  Json out = Json::array();
  if (p.kind == "guardian" || p.view_records) out.push_back(kViewRecords);
  if (p.kind == "guardian" || p.manage_shares) out.push_back(kManageShares);
  if (p.kind == "guardian") out.push_back("personal");
  return out;
}

bool has_word(const std::string& words, std::string_view w) {
  for (const auto& x : split_words(words)) {
    if (x == w) return true;
  }
  return false;
}

}  // namespace

ProxyService::ProxyService(store::Store& store, Vault& vault, const Clock& clock,
                           ProxyOptions options)
    : store_(store),
      vault_(vault),
      clock_(clock),
      options_(std::move(options)),
      carer_misses_(clock, kCarerMissesPerHour / 60.0, kCarerMissesPerHour) {}

std::optional<Time> ProxyService::guardian_until(std::string_view d, int age) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, day = 0;
  auto num = [&](std::size_t at, std::size_t n, auto& out) {
    auto [p, ec] = std::from_chars(d.data() + at, d.data() + at + n, out);
    return ec == std::errc() && p == d.data() + at + n;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, day)) return std::nullopt;
  using namespace std::chrono;
  const year_month_day born{year{y}, month{m}, std::chrono::day{day}};
  if (!born.ok()) return std::nullopt;
  year_month_day until{born.year() + years{age}, born.month(), born.day()};
  // 29 February in a year without one: the birthday is taken as 1 March.
  if (!until.ok()) until = year_month_day{until.year(), March, std::chrono::day{1}};
  return Time(sys_days(until));
}

Result<std::optional<ProxyService::Person>> ProxyService::person(store::Reader& r,
                                                                 const std::string& patient_id) {
  HB_ASSIGN_OR_RETURN(auto row, r.current("Patient", patient_id));
  if (!row || row->deleted) return std::optional<Person>();
  HB_ASSIGN_OR_RETURN(auto key,
                      vault_.key_for_read(r, Vault::owner_for(row->patient_id, row->facility_id)));
  HB_ASSIGN_OR_RETURN(auto text, key.open(row->body, Vault::aad(*row)));
  HB_ASSIGN_OR_RETURN(Json j, parse_json(text));
  Person p;
  p.patient_id = patient_id;
  p.name = person_display_name(j, options_.name_order);
  p.birth_date = j.value("birthDate", "");
  p.resource = std::move(j);
  return std::optional<Person>(std::move(p));
}

std::vector<std::string> ProxyService::national_ids(const Json& patient) const {
  std::vector<std::string> out;
  if (!patient.contains("identifier") || !patient["identifier"].is_array()) return out;
  for (const Json& i : patient["identifier"]) {
    if (!i.is_object() || !i.contains("value") || !i["value"].is_string()) continue;
    const std::string system = i.value("system", "");
    if (std::find(options_.national_id_systems.begin(), options_.national_id_systems.end(),
                  system) != options_.national_id_systems.end()) {
      out.push_back(system + "|" + i["value"].get<std::string>());
    }
  }
  return out;
}

std::optional<Time> ProxyService::guardian_of(const std::vector<std::string>& guardian_ids,
                                              const Person& child) const {
  if (guardian_ids.empty()) return std::nullopt;
  auto until = guardian_until(child.birth_date, options_.guardian_until_age);
  if (!until || clock_.now() >= *until) return std::nullopt;
  const Json& c = child.resource;
  if (!c.contains("contact") || !c["contact"].is_array()) return std::nullopt;
  for (const Json& contact : c["contact"]) {
    if (!contact.is_object() || !guardian_relationship(contact)) continue;
    // A contact whose period ended is no longer the child's guardian.
    if (contact.contains("period") && contact["period"].is_object() &&
        contact["period"].contains("end") && contact["period"]["end"].is_string()) {
      auto end = fhir::date_period(contact["period"]["end"].get<std::string>());
      if (!end || unix_millis(clock_.now()) > end->second) continue;
    }
    if (!contact.contains("extension") || !contact["extension"].is_array()) continue;
    for (const Json& e : contact["extension"]) {
      if (!e.is_object() || e.value("url", "") != kContactNationalId) continue;
      if (!e.contains("valueIdentifier") || !e["valueIdentifier"].is_object()) continue;
      const Json& id = e["valueIdentifier"];
      if (!id.contains("value") || !id["value"].is_string()) continue;
      const std::string key = id.value("system", "") + "|" + id["value"].get<std::string>();
      if (std::find(guardian_ids.begin(), guardian_ids.end(), key) != guardian_ids.end()) {
        return until;
      }
    }
  }
  return std::nullopt;
}

Result<std::optional<store::ProxyGrant>> ProxyService::live_carer_grant(
    store::Reader& r, const std::string& account_id, const std::string& patient_id) {
  HB_ASSIGN_OR_RETURN(auto held, r.proxy_grants_held(account_id, kListed));
  const Time now = clock_.now();
  for (auto& g : held) {
    if (g.patient_id == patient_id && g.proxy_account_id == account_id && g.kind == "carer" &&
        g.revoked_at == Time{} && now < g.ends_at) {
      return std::optional<store::ProxyGrant>(std::move(g));
    }
  }
  return std::optional<store::ProxyGrant>();
}

Result<Resident> ProxyService::act_for(const Resident& self, std::string_view acting_for) {
  if (acting_for.empty() || acting_for == self.patient_id) return self;
  // A proxy never acts for a third person through the person they act for.
  if (self.acting_for_other() || self.patient_id.empty()) return not_found("no such person");
  const std::string subject(acting_for.substr(0, 64));
  std::optional<Resident> out;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto me, person(r, self.patient_id));
    if (!me) return Status::ok();
    HB_ASSIGN_OR_RETURN(auto grant, live_carer_grant(r, self.account_id, subject));
    if (grant) {
      Resident::Proxy p{"carer", me->name, has_word(grant->scopes, kViewRecords),
                        has_word(grant->scopes, kManageShares)};
      out = Resident{self.account_id, subject, p};
      return Status::ok();
    }
    HB_ASSIGN_OR_RETURN(auto child, person(r, subject));
    if (child && guardian_of(national_ids(me->resource), *child)) {
      out = Resident{self.account_id, subject, Resident::Proxy{"guardian", me->name, true, true}};
    }
    return Status::ok();
  }));
  // No live relation reads exactly like a person who does not exist.
  if (!out) return not_found("no such person");
  return *out;
}

Result<Json> ProxyService::acting_for(const Resident& self, const std::string& address) {
  if (self.acting_for_other()) return forbidden("only the signed-in person may list this");
  Json me_json;
  Json people = Json::array();
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto me, person(r, self.patient_id));
    if (!me) return not_found("the person is no longer registered");
    me_json = {{"patientId", me->patient_id}, {"name", me->name}};
    std::set<std::string> seen{self.patient_id};
    // Children: the records that name one of my national ids on a guardian contact.
    const auto ids = national_ids(me->resource);
    for (const auto& id : ids) {
      auto blind = [this](std::string_view domain, std::string_view value) {
        return vault_.blind(domain, value);
      };
      HB_ASSIGN_OR_RETURN(auto parsed,
                          fhir::parse_search("Patient", {{"guardian-identifier", id}}, blind));
      HB_ASSIGN_OR_RETURN(auto page, r.search(parsed.query));
      for (const auto& row : page.rows) {
        if (!seen.insert(row.id).second) continue;
        HB_ASSIGN_OR_RETURN(auto child, person(r, row.id));
        if (!child) continue;
        auto until = guardian_of(ids, *child);
        if (!until) continue;
        Resident::Proxy p{"guardian", me->name, true, true};
        people.push_back({{"patientId", child->patient_id},
                          {"name", child->name},
                          {"kind", "guardian"},
                          {"rights", rights_json(p)},
                          {"until", format_instant(*until)}});
      }
    }
    HB_ASSIGN_OR_RETURN(auto held, r.proxy_grants_held(self.account_id, kListed));
    for (const auto& g : held) {
      if (g.revoked_at != Time{} || clock_.now() >= g.ends_at || g.kind != "carer") continue;
      if (!seen.insert(g.patient_id).second) continue;
      HB_ASSIGN_OR_RETURN(auto subject, person(r, g.patient_id));
      if (!subject) continue;
      Resident::Proxy p{"carer", me->name, has_word(g.scopes, kViewRecords),
                        has_word(g.scopes, kManageShares)};
      people.push_back({{"patientId", subject->patient_id},
                        {"name", subject->name},
                        {"kind", "carer"},
                        {"rights", rights_json(p)},
                        {"until", format_instant(g.ends_at)}});
    }
    return Status::ok();
  }));
  // Reading one's relations reads the names of others: it is in the reader's own log. The app
  // asks on every load, so an empty answer (most people) is not logged.
  if (!people.empty()) {
    audit_resident_action(store_, clock_, self, {"proxy-list", "R", "", "people I act for listed"},
                          address);
  }
  return Json{{"self", me_json}, {"people", people}};
}

Json ProxyService::grant_json(const store::ProxyGrant& g, const std::string& carer_name) const {
  const Time now = clock_.now();
  const char* status = g.revoked_at != Time{} ? "revoked" : now >= g.ends_at ? "ended" : "active";
  Json rights = Json::array();
  for (const auto& w : split_words(g.scopes)) rights.push_back(w);
  Json out = {{"id", g.id},
              {"name", carer_name},
              {"rights", rights},
              {"created", format_instant(g.created)},
              {"endsAt", format_instant(g.ends_at)},
              {"status", status}};
  if (g.revoked_at != Time{}) out["revokedAt"] = format_instant(g.revoked_at);
  return out;
}

Result<Json> ProxyService::grant_carer(const Resident& self, std::string_view body,
                                       const std::string& address) {
  if (self.acting_for_other()) return forbidden("only the person themself manages their carers");
  HB_ASSIGN_OR_RETURN(Json j, parse_json(body, JsonLimits{4096, 4}));
  std::vector<Problem> problems;
  if (!j.is_object()) {
    return Status(Code::kInvalid, "the body must be an object",
                  {{"", "{\"nationalId\", \"rights\", \"endsAt\"}", "structure"}});
  }
  std::string national_id;
  if (!j.contains("nationalId") || !j["nationalId"].is_string() ||
      j["nationalId"].get<std::string>().empty() ||
      j["nationalId"].get<std::string>().size() > 64) {
    problems.push_back({"nationalId", "required: the carer's national id", "required"});
  } else {
    national_id = j["nationalId"].get<std::string>();
  }
  std::string scopes;
  if (!j.contains("rights") || !j["rights"].is_array() || j["rights"].empty()) {
    problems.push_back(
        {"rights", "required: one or both of view-records, manage-shares", "required"});
  } else {
    bool view = false, manage = false, bad = false;
    for (const Json& r : j["rights"]) {
      const std::string w = r.is_string() ? r.get<std::string>() : "";
      if (w == kViewRecords) {
        view = true;
      } else if (w == kManageShares) {
        manage = true;
      } else {
        bad = true;
      }
    }
    if (bad) problems.push_back({"rights", "only view-records and manage-shares", "value"});
    if (view) scopes = std::string(kViewRecords);
    if (manage) scopes += std::string(scopes.empty() ? "" : " ") + std::string(kManageShares);
  }
  const Time now = clock_.now();
  Time ends{};
  if (!j.contains("endsAt") || !j["endsAt"].is_string()) {
    problems.push_back({"endsAt", "required: the date the rights end", "required"});
  } else {
    auto p = fhir::date_period(j["endsAt"].get<std::string>());
    if (!p) {
      problems.push_back({"endsAt", "a date such as 2027-06-30", "value"});
    } else {
      ends = from_unix_millis(p->second + 1);
      if (ends <= now) problems.push_back({"endsAt", "must be in the future", "value"});
      if (ends > now + std::chrono::days(kMaxCarerDays)) {
        problems.push_back({"endsAt", "at most two years ahead", "value"});
      }
    }
  }
  if (!problems.empty()) return Status(Code::kInvalid, "the grant has problems", problems);
  // Each try pays first and is paid back unless the id found no account: grants sent at once
  // cannot all pass a look at the count that none of them has added to yet.
  Charge charge(carer_misses_, self.account_id);
  if (!charge.charged()) {
    return Status(Code::kTooManyRequests,
                  "too many national ids without an account: try again in an hour");
  }

  store::ProxyGrant g;
  std::string carer_name;
  bool missed = false;  // the national id found no account
  Status written = store_.write_sync([&](store::Writer& w) -> Status {
    std::optional<std::string> carer_patient;
    for (const auto& system : options_.national_id_systems) {
      HB_ASSIGN_OR_RETURN(carer_patient, w.patient_by_identifier(
                                             vault_.blind("person", system + "|" + national_id)));
      if (carer_patient) break;
    }
    std::optional<store::Account> account;
    if (carer_patient) {
      HB_ASSIGN_OR_RETURN(account, w.account_by_patient(*carer_patient));
    }
    if (!account) {
      missed = true;
      return Status(Code::kUnprocessable, "the carer needs a Healthbook account",
                    {{"nationalId", "no Healthbook account has this national id", "not-found"}});
    }
    if (account->id == self.account_id) {
      return Status(Code::kUnprocessable, "you cannot be your own carer",
                    {{"nationalId", "this is your own national id", "business-rule"}});
    }
    HB_ASSIGN_OR_RETURN(auto carer, person(w, *carer_patient));
    carer_name = carer ? carer->name : "";
    HB_ASSIGN_OR_RETURN(auto mine, w.proxy_grants_of(self.patient_id, kListed));
    int active = 0;
    std::optional<store::ProxyGrant> existing;
    for (const auto& x : mine) {
      if (x.revoked_at != Time{} || now >= x.ends_at) continue;
      ++active;
      if (x.proxy_account_id == account->id) existing = x;
    }
    if (existing) {
      // A new grant to the same carer replaces the rights and the end date.
      g = *existing;
    } else {
      if (active >= kMaxActiveCarers) {
        return Status(Code::kConflict, "you have " + std::to_string(active) +
                                           " carers already, the most you may have");
      }
      g.id = new_uuid();
      g.patient_id = self.patient_id;
      g.proxy_account_id = account->id;
      g.kind = "carer";
      g.created = now;
      g.granted_by = self.account_id;
    }
    g.scopes = scopes;
    g.ends_at = ends;
    HB_RETURN_IF_ERROR(w.put_proxy_grant(g));
    return w.append_audit(
        resident_audit_record(clock_, self,
                              {"proxy-grant", existing ? "U" : "C", "Account/" + account->id,
                               "carer granted: " + scopes + " until " + format_instant(ends)},
                              address));
  });
  if (!written) {
    if (missed) charge.keep();
    return written;
  }
  return grant_json(g, carer_name);
}

Result<Json> ProxyService::carers(const Resident& self, const std::string& address) {
  if (self.acting_for_other()) return forbidden("only the person themself manages their carers");
  Json list = Json::array();
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto mine, r.proxy_grants_of(self.patient_id, kListed));
    for (const auto& g : mine) {
      if (g.patient_id != self.patient_id) continue;  // the store's filter, checked again
      std::string name;
      HB_ASSIGN_OR_RETURN(auto account, r.account(g.proxy_account_id));
      if (account) {
        HB_ASSIGN_OR_RETURN(auto p, person(r, account->patient_id));
        if (p) name = p->name;
      }
      list.push_back(grant_json(g, name));
    }
    return Status::ok();
  }));
  audit_resident_action(store_, clock_, self, {"proxy-carers", "R", "", "carers listed"}, address);
  return Json{{"carers", list}};
}

Result<Json> ProxyService::revoke_carer(const Resident& self, const std::string& id,
                                        const std::string& address) {
  if (self.acting_for_other()) return forbidden("only the person themself manages their carers");
  const Time now = clock_.now();
  std::optional<store::ProxyGrant> g;
  std::string name;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(g, w.proxy_grant(id));
    if (!g || g->patient_id != self.patient_id) {
      g.reset();
      return Status::ok();
    }
    HB_ASSIGN_OR_RETURN(auto account, w.account(g->proxy_account_id));
    if (account) {
      HB_ASSIGN_OR_RETURN(auto p, person(w, account->patient_id));
      if (p) name = p->name;
    }
    if (g->revoked_at != Time{}) return Status::ok();
    g->revoked_at = now;
    HB_RETURN_IF_ERROR(w.put_proxy_grant(*g));
    return w.append_audit(resident_audit_record(
        clock_, self, {"proxy-revoke", "U", "Account/" + g->proxy_account_id, "carer revoked"},
        address));
  }));
  // Another person's grant reads exactly like one that does not exist.
  if (!g) return not_found("you have no carer " + utf8_prefix(id, 64));
  return grant_json(*g, name);
}

}  // namespace hb::services
