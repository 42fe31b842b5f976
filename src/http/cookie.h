// Reading cookies from a request's Cookie header (RFC 6265 section 5.4 form: "a=1; b=2").
// Outside bytes: fuzzed by fuzz/cookie_fuzz.cpp.
//
// Thread-safety: stateless.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hb::http {

// The value of the first cookie named `name` in a Cookie header, or nullopt. Names compare
// exactly; surrounding spaces are dropped; a value in double quotes loses them. Values with
// characters outside RFC 6265's cookie-octet set (controls, space, '"', ',', ';', '\') and values
// longer than 4096 bytes count as absent.
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

}  // namespace hb::http
