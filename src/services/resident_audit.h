// The one audit record of a resident's action on a person's data, shared by every resident service
// (book, shares, access log, documents), so each names the actor and the subject the same way.
//
// The record: client_id "resident-account" when a person acts for themself, "resident-proxy" when
// a guardian or carer acts for them; patient_id the subject (so it is in the subject's access
// log); entities "Account/<acting account>" first, then what was touched; detail, for a proxy,
// "proxy: <name> (<kind>); " before the action's own words (the access log shows the name).
// Never health data: the caller's detail says what happened, not what was in it.
//
// Thread-safety: as store::Store::append_audit_async.
#pragma once

#include <string>

#include "core/clock.h"
#include "services/principal.h"
#include "store/store.h"

namespace hb::services {

struct ResidentAction {
  std::string event;     // e.g. "resident-timeline", "share-create"
  std::string action;    // C | R | U | D | E
  std::string entities;  // space-separated "Type/id" touched ("" when none)
  std::string detail;    // what happened, in words
};

// The audit record of `action` by `who` (not yet appended): for callers that write it in the
// same transaction as the change.
store::AuditRecord resident_audit_record(const Clock& clock, const Resident& who,
                                         ResidentAction action, const std::string& address);

// Appends the record after the caller's transaction (reads, and changes already committed).
void audit_resident_action(store::Store& store, const Clock& clock, const Resident& who,
                           ResidentAction action, const std::string& address);

}  // namespace hb::services
