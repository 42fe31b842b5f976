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
#include <optional>
#include <string>
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

// As parse_json, into `out`, keeping the nodes of the tree `out` already holds where the new value
// has a member, item or string in the same place: a batch verifier parses many documents of one
// shape in a row, and reusing the last one's tree spares allocating and freeing most nodes. `out`
// ends equal to what parse_json returns, or null on an error (which is parse_json's). `text` must
// not point into `out`'s tree.
Status parse_json_into(std::string_view text, const JsonLimits& limits, Json& out);

// As parse_json, for FHIR: every non-integer number is kept as the exact text it was sent as, so
// that 1.50 stays 1.50 (FHIR decimals carry their precision in trailing zeros, and a double would
// drop them). Such a number is held in the tree as a decimal text (see below), which dump_json
// writes back as the number it was; integers stay integers.
Result<Json> parse_fhir_json(std::string_view text, const JsonLimits& limits = {});

// A decimal text: a string value made of a two-byte mark ("\0D", which no valid FHIR string can
// hold) and the number's JSON text. is_decimal_text is true only when what follows the mark is a
// JSON number.
Json make_decimal_text(std::string_view number);
bool is_decimal_text(const Json& j);
std::string_view decimal_text(const Json& j);  // the number's text; "" unless is_decimal_text
// RFC 8259 number syntax (no leading zeros, no '+', no bare '.', exponent with digits).
bool is_json_number(std::string_view s);

// The string member `key` of the JSON object in `text`, without building a tree (the text is
// still parsed and checked in full, by simdjson): nullopt when the text is not a JSON object or the
// member is absent or not a string. For reading one field of a large stored object.
std::optional<std::string> json_string_member(std::string_view text, std::string_view key);

// Frees a tree, children before parents, and leaves `j` null. nlohmann's destructor first moves
// every value of a tree onto a heap-allocated stack (so that a deep tree cannot overflow the call
// stack), which for a small document costs about a third of building it. Levels past 64 (parse_json
// never makes them, but a tree built in code might) are left to the destructor.
void free_json(Json& j);

// Compact serialisation; never throws. Decimal texts are written as the numbers they hold.
// Strings are written as UTF-8 (invalid UTF-8, which parse_json never lets in, is replaced).
std::string dump_json(const Json& j);

}  // namespace hb
