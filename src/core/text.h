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

}  // namespace hb
