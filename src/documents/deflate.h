// Raw DEFLATE (RFC 1951) as SMART Health Cards use it: the JWS payload is compressed without a
// zlib or gzip wrapper ("zip":"DEF"). Inflation is capped, so a small hostile payload cannot
// expand into gigabytes (zip bomb): inputs that would inflate past `max_output` are refused.
//
// Inflation is libdeflate's (whole buffer; zlib only to word why a stream is refused), deflation
// zlib's. Thread-safety: safe from any thread; each thread has its own decompressor and z_streams.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hb::documents {

// The default inflate cap: 1 MiB. A card that must fit one QR inflates to a few kB; a large
// document (International Patient Summary) to a few hundred kB.
inline constexpr std::size_t kMaxInflatedBytes = 1024 * 1024;

// Raw DEFLATE at the best compression level, with the smallest window (9 to 15 bits) that holds
// the input: for inputs of a few kB the same bytes as windowBits -15, at a fraction of the setup.
Result<std::string> deflate_raw(std::string_view data);

// Inflates raw DEFLATE. kInvalid if the data is not a complete raw DEFLATE stream (including
// trailing bytes after the final block); kTooLarge if the output would exceed max_output.
Result<std::string> inflate_raw(std::string_view data, std::size_t max_output = kMaxInflatedBytes);

// Inflates zlib-wrapped DEFLATE (RFC 1950). Used only to tell "zlib instead of raw DEFLATE" apart
// from plain corruption when a card fails to inflate; never accepted as a valid card.
Result<std::string> inflate_zlib(std::string_view data, std::size_t max_output = kMaxInflatedBytes);

}  // namespace hb::documents
