// Proxies: one person acting for another under their own login (docs/proxies.md).
//
// Two relations let the signed-in resident reach someone else's data:
//  - guardian: a facility recorded the resident as a parent or guardian on the child's Patient
//    (Patient.contact with a v3 RoleCode relationship such as PRN, MTH, FTH or GUARD and the
//    contact-national-id extension holding the guardian's national id). It is read from the
//    child's record on every request, so it lasts exactly as long as the record says and the child
//    is younger than `guardian_until_age` (by birthDate, on the injected clock). A guardian has
//    every right but managing the child's carers;
//  - carer: an adult granted another account holder rights (view-records, manage-shares) until an
//    end date (at most kMaxCarerDays ahead), and may revoke them at any time (store::ProxyGrant).
//    A carer never changes consent or settings and never manages carers.
//
// act_for() turns the person a request names (the X-Healthbook-Acting-For header) into a Resident
// only when such a relation is live; an id without one is refused exactly like an unknown id
// (kNotFound), so the header alone never reaches anyone. The rights are then enforced by each
// resident service (require_right in principal.h), and every action is audited as the proxy's
// for the subject (services/resident_audit.h).
//
// Thread-safety: safe from any number of threads; all state lives in the store.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "fhir/human_name.h"
#include "services/principal.h"
#include "services/rate_limit.h"
#include "services/vault.h"
#include "store/store.h"

namespace hb::services {

struct ProxyOptions {
  std::vector<std::string> national_id_systems;  // where a national id is looked up
  int guardian_until_age = 16;                   // a guardian acts until the child's birthday
  fhir::NameOrder name_order = fhir::NameOrder::kFamilyFirst;  // how names are written
};

class ProxyService {
 public:
  // The extension on Patient.contact that names the contact's national id (valueIdentifier).
  static constexpr const char* kContactNationalId =
      "https://healthbook.example/fhir/StructureDefinition/contact-national-id";
  static constexpr int kMaxCarerDays = 731;  // two years
  static constexpr int kMaxActiveCarers = 20;
  static constexpr int kListed = 100;
  // National ids that find no account, per granting account per hour: the answer tells whether a
  // national id has an account, so guessing at it is limited like every other guess.
  static constexpr int kCarerMissesPerHour = 10;

  ProxyService(store::Store& store, Vault& vault, const Clock& clock, ProxyOptions options);

  // The person a request acts on. `acting_for` empty or the signed-in person's own patient id:
  // `self`. Otherwise the named person with the proxy's rights, when `self` (not already a proxy)
  // is their guardian or a live carer; kNotFound ("no such person") when not.
  Result<Resident> act_for(const Resident& self, std::string_view acting_for);

  // GET /api/v1/me/acting-for: {"self": {patientId, name}, "people": [{patientId, name, kind,
  // rights, until}]}: everyone the signed-in person may act for now.
  Result<Json> acting_for(const Resident& self, const std::string& address);

  // POST /api/v1/me/carers {"nationalId", "rights": [...], "endsAt"}: 201 with the carer. The
  // carer must hold an account (422 otherwise; after kCarerMissesPerHour of those, 429 until the
  // limit refills, a try every 6 minutes). Only the person themself (not a proxy) manages their
  // carers.
  Result<Json> grant_carer(const Resident& self, std::string_view body, const std::string& address);
  // GET /api/v1/me/carers: {"carers": [...]}, newest first, every state.
  Result<Json> carers(const Resident& self, const std::string& address);
  // DELETE /api/v1/me/carers/<id>: ends the grant at once (again: unchanged). kNotFound unless the
  // person's own.
  Result<Json> revoke_carer(const Resident& self, const std::string& id,
                            const std::string& address);

  // When a child born on `birth_date` (YYYY-MM-DD) stops having a guardian act for them: the
  // `age`th birthday, 00:00 UTC (29 February births: 1 March). nullopt when the date is partial
  // or malformed (no guardian then: the age cannot be told).
  static std::optional<Time> guardian_until(std::string_view birth_date, int age);

 private:
  struct Person {
    std::string patient_id;
    std::string name;
    std::string birth_date;
    Json resource;
  };
  Result<std::optional<Person>> person(store::Reader& r, const std::string& patient_id);
  // The (system|value) national ids of a person's record.
  std::vector<std::string> national_ids(const Json& patient) const;
  // When the guardian relation of `guardian_ids` to `child` ends, nullopt when there is none now.
  std::optional<Time> guardian_of(const std::vector<std::string>& guardian_ids,
                                  const Person& child) const;
  Result<std::optional<store::ProxyGrant>> live_carer_grant(store::Reader& r,
                                                            const std::string& account_id,
                                                            const std::string& patient_id);
  Json grant_json(const store::ProxyGrant& g, const std::string& carer_name) const;

  store::Store& store_;
  Vault& vault_;
  const Clock& clock_;
  ProxyOptions options_;
  RateLimiter carer_misses_;  // by account id
};

}  // namespace hb::services
