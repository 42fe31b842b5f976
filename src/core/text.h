// Small helpers for protocol text: header values, media types, parameters.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

namespace hb {

// `s` without the spaces and tabs around it (HTTP's optional whitespace, RFC 9110 §5.6.3).
std::string_view trim_ows(std::string_view s);

// `s` with ASCII letters lower-cased (for case-insensitive tokens: codings, media types).
std::string ascii_lower(std::string_view s);

// A content type's media type, without its parameters or the whitespace around it, lower-cased:
// "Application/FHIR+json; fhirVersion=4.0.1" -> "application/fhir+json".
std::string media_type(std::string_view content_type);

}  // namespace hb
