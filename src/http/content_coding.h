// Content codings (RFC 9110 §8.4.1): whether a request accepts gzip, and gzip (RFC 1952) itself,
// for responses compressed on the fly.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace hb::http {

// Whether an Accept-Encoding value allows gzip (RFC 9110 §12.5.3): "gzip" or "x-gzip", or "*"
// when gzip is not listed, with a weight above 0 ("gzip;q=0" refuses it). An empty value (or no
// header: pass "") is false, so a client that did not ask gets the identity coding.
bool accepts_gzip(std::string_view accept_encoding);

// The gzip member of `data`, at zlib's default level.
Result<std::string> gzip(std::string_view data);

}  // namespace hb::http
