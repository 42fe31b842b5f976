// Lengths and cuts of UTF-8 text in characters (Unicode code points), not bytes: limits that the
// standards and our formats state in characters (a SMART Health Link's label, a shown recipient)
// hold for Vietnamese text too, which takes two to four bytes a letter.
//
// The text is expected to be valid UTF-8 (core/url.h valid_utf8). On other bytes these still
// never cut inside a multi-byte sequence that starts well; they count every byte that is not a
// continuation byte as a character.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hb {

// The number of characters in `s`.
std::size_t utf8_length(std::string_view s);

// The first `max_chars` characters of `s` (all of it when it is no longer), never ending inside
// a character: cutting a fixed number of bytes can leave half of "ệ", which shows as U+FFFD.
std::string utf8_prefix(std::string_view s, std::size_t max_chars);

}  // namespace hb
