#include "core/utf8.h"

namespace hb {
namespace {

bool starts_character(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

}  // namespace

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += starts_character(c);
  return n;
}

std::string utf8_prefix(std::string_view s, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (starts_character(s[i]) && chars++ == max_chars) return std::string(s.substr(0, i));
  }
  return std::string(s);
}

}  // namespace hb
