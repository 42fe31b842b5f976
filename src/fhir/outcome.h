// OperationOutcome: how every FHIR error is reported, one issue per problem with its path.
#pragma once

#include <string>

#include "core/json.h"
#include "core/status.h"

namespace hb::fhir {

// The http://hl7.org/fhir/issue-type code that fits a status code.
const char* issue_type_for(Code code);

// An OperationOutcome for a non-ok status: one issue per Problem (severity error, its
// issue_type or the code's, diagnostics = message, expression = [path]); a status without
// problems yields one issue carrying the status message.
Json operation_outcome(const Status& status);

// An OperationOutcome with one informational or warning issue.
Json operation_outcome_note(const std::string& severity, const std::string& code,
                            const std::string& text);

}  // namespace hb::fhir
