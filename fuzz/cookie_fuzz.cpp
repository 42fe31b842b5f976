// Cookie headers (the resident's session cookie): any bytes, never a crash; a value found is
// always made of cookie octets and no longer than the limit.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/cookie.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view header(reinterpret_cast<const char*>(data), size);
  for (std::string_view name : {"hb_session", "hb_link", ""}) {
    auto v = hb::http::cookie_value(header, name);
    if (!v) continue;
    if (v->size() > 4096) std::abort();
    for (unsigned char c : *v) {
      if (c < 0x21 || c > 0x7e || c == ';' || c == ',' || c == '"' || c == '\\') std::abort();
    }
  }
  return 0;
}
