#include "services/resident_audit.h"

#include "core/ids.h"

namespace hb::services {

store::AuditRecord resident_audit_record(const Clock& clock, const Resident& who,
                                         ResidentAction action, const std::string& address) {
  store::AuditRecord a;
  a.id = new_uuid();
  a.time = clock.now();
  a.action = std::move(action.action);
  a.outcome = "0";
  a.event_type = std::move(action.event);
  a.client_id = who.proxy ? "resident-proxy" : "resident-account";
  a.patient_id = who.patient_id;
  // The agent: the account that acted, whoever's data it was.
  a.entities = "Account/" + who.account_id + (action.entities.empty() ? "" : " " + action.entities);
  a.detail = who.proxy
                 ? "proxy: " + who.proxy->name + " (" + who.proxy->kind + "); " + action.detail
                 : std::move(action.detail);
  a.source_ip = address;
  return a;
}

void audit_resident_action(store::Store& store, const Clock& clock, const Resident& who,
                           ResidentAction action, const std::string& address) {
  store.append_audit_async(resident_audit_record(clock, who, std::move(action), address));
}

}  // namespace hb::services
