// Accept-Encoding header values (http/content_coding.h), as any client sends them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/content_coding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  const bool gzip = hb::http::accepts_gzip(header);
  // Refusing gzip by name outweighs anything before it; naming it with weight 1 after the rest
  // accepts it (the last member for a coding is the one that counts).
  if (hb::http::accepts_gzip(std::string(header) + ",gzip;q=0")) __builtin_trap();
  if (!hb::http::accepts_gzip(std::string(header) + ",gzip")) __builtin_trap();
  (void)gzip;
  return 0;
}
