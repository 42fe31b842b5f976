// The cookie of a browser that unlocked a document link (hb_link): "<expiry>.<MAC>", the expiry in
// Unix seconds (decimal, at most 12 digits) and the MAC (HMAC-SHA256, base64url without padding)
// over the link's token hash and that expiry text. The server recognises its own cookies and
// stores nothing for them (docs/documents.md).
//
// Thread-safety: stateless; safe from any thread (the key is immutable).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/hash.h"

namespace hb::documents {

struct DeviceCookie {
  std::string_view expires_text;  // the digits, as written (the MAC covers exactly these)
  int64_t expires = 0;            // Unix seconds
  std::string_view mac;           // 43 base64url characters
};

// The cookie's parts, or nullopt when the text is not of that form.
std::optional<DeviceCookie> parse_device_cookie(std::string_view cookie);

// A cookie for the link whose token hash is `token_hash`, valid until `expires` (Unix seconds).
std::string make_device_cookie(const crypto::HmacSha256& key, std::string_view token_hash,
                               int64_t expires);

// Whether `cookie` is one made under `key` for this link and, at `now`, not expired; one naming an
// expiry later than `latest` (which the server never makes) is refused too.
bool device_cookie_holds(const crypto::HmacSha256& key, std::string_view token_hash,
                         std::string_view cookie, int64_t now, int64_t latest);

}  // namespace hb::documents
