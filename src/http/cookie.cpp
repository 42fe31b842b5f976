#include "http/cookie.h"

#include "core/text.h"

namespace hb::http {
namespace {

bool cookie_octets(std::string_view v) {
  for (unsigned char c : v) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\') return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  size_t i = 0;
  while (i <= header.size()) {
    size_t j = header.find(';', i);
    if (j == std::string_view::npos) j = header.size();
    std::string_view pair = trim_ows(header.substr(i, j - i));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && trim_ows(pair.substr(0, eq)) == name) {
      std::string_view v = trim_ows(pair.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (v.size() > 4096 || !cookie_octets(v)) return std::nullopt;
      return std::string(v);
    }
    i = j + 1;
  }
  return std::nullopt;
}

}  // namespace hb::http
