// Strict JSON parsing of outside bytes.
//
// nlohmann::json is the in-memory JSON type throughout Healthbook. Bytes that come from outside
// (HTTP bodies, JWTs, JWKs, config) go through parse_json(), which adds what the plain parser lacks:
// a nesting-depth limit (no stack exhaustion), rejection of duplicate object keys (RFC 8259 leaves
// them undefined and FHIR forbids them), and a size limit. Invalid UTF-8 is rejected.
//
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace hb {

using Json = nlohmann::json;

struct JsonLimits {
  std::size_t max_bytes = 16 * 1024 * 1024;
  std::size_t max_depth = 64;
};

// Parses exactly one JSON value (surrounding whitespace allowed). Errors are kInvalid (or
// kTooLarge for the size limit) with a message that says where the input went wrong.
Result<Json> parse_json(std::string_view text, const JsonLimits& limits = {});

// Compact serialisation; never throws (invalid UTF-8 in strings is replaced, which cannot happen
// for values that came from parse_json).
std::string dump_json(const Json& j);

}  // namespace hb
