// Server-assigned identifiers.
//
// Resource ids are random UUIDs (version 4, lower-case): valid FHIR ids ([A-Za-z0-9\-\.]{1,64}),
// unguessable, and safe to generate on many app servers without coordination.
#pragma once

#include <string>
#include <string_view>

namespace hb {

std::string new_uuid();
bool is_valid_fhir_id(std::string_view id);
// 8-4-4-4-12 hexadecimal digits (either case), whatever the version nibble: the form of an id a
// client may choose when it creates a resource by PUT (see docs/fhir-api.md, "Choosing ids").
bool is_uuid_shaped(std::string_view id);

}  // namespace hb
