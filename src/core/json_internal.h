// Private to src/core and its tests and fuzz targets: the two halves of parse_json.
//
// parse_json first tries simdjson, which with the tree built from its document is several times
// faster than nlohmann's SAX parser; on anything it refuses or that the two might read differently
// it answers "not sure" and the full parser decides, with its own error messages.
// The differential tests and the fuzz target hold the fast path to the full parser's answers.
#pragma once

#include <optional>
#include <string_view>

#include "core/json.h"

namespace hb::detail {

// The tree, when simdjson accepts the text and it holds nothing the fast path leaves to the full
// parser; nullopt otherwise (invalid, or merely unusual: floating-point numbers, integers past 64
// bits, duplicate keys, nesting past max_depth). Whatever it returns, the full parser returns too,
// with the same value types.
std::optional<Json> parse_json_fast(std::string_view text, std::size_t max_depth);

// As parse_json_fast, into `out`, reusing its tree where it can (parse_json_into); false where
// parse_json_fast gives nullopt, with `out` then holding a partial tree.
bool parse_json_fast_into(std::string_view text, std::size_t max_depth, Json& out);

// Equal values of equal types all the way down (Json's == calls 1u and 1 equal): what the
// differential tests and the fuzz target compare the two parsers' trees with.
inline bool same_tree(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
      if (i.key() != j.key() || !same_tree(i.value(), j.value())) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!same_tree(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

// parse_json without the fast path.
Result<Json> parse_json_full(std::string_view text, const JsonLimits& limits = {});
// The same for parse_fhir_json: non-integer numbers kept as decimal texts.
Result<Json> parse_fhir_json_full(std::string_view text, const JsonLimits& limits = {});

}  // namespace hb::detail
