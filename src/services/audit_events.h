// Audit records rendered as FHIR AuditEvent resources (read-only through /fhir).
// A facility sees the events its own clients caused; the operator sees all.
#pragma once

#include "core/json.h"
#include "services/records.h"
#include "services/records_internal.h"
#include "store/types.h"

namespace hb::services {

Json audit_event_json(const store::AuditRecord& a, const std::string& fhir_base);
Result<FhirResult> read_audit_event(detail::Engine& e, const Principal& who, const std::string& id);
// Supports patient, _count and _cursor; other parameters are reported as ignored.
Result<FhirResult> search_audit_events(detail::Engine& e, const Principal& who,
                                       const QueryParams& query);

}  // namespace hb::services
