// Percent-encoding and query strings (RFC 3986), shared by the HTTP server and by services that
// read URLs inside resources (conditional references such as "Patient?identifier=a|b").
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace hb {

// kInvalid on a malformed %-escape or on invalid UTF-8 in the result.
Result<std::string> url_decode(std::string_view s, bool plus_as_space);
// "a=1&b=2" -> decoded pairs in order; empty pieces are skipped; "a" alone gives ("a", "").
Result<std::vector<std::pair<std::string, std::string>>> split_query(std::string_view raw);
// Encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view s);
bool valid_utf8(std::string_view s);

}  // namespace hb
