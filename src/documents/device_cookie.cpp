#include "documents/device_cookie.h"

#include <algorithm>

#include "crypto/encoding.h"

namespace hb::documents {
namespace {

constexpr std::size_t kMaxDigits = 12;
constexpr std::size_t kMacLength = 43;  // 32 bytes in base64url without padding

std::string mac_input(std::string_view token_hash, std::string_view expires_text) {
  std::string in = "link-device\n";
  in.append(token_hash).append("\n").append(expires_text);
  return in;
}

std::string mac_text(const crypto::HmacSha256& key, std::string_view token_hash,
                     std::string_view expires_text) {
  return crypto::base64url_encode(key.mac(mac_input(token_hash, expires_text)));
}

bool base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::optional<DeviceCookie> parse_device_cookie(std::string_view cookie) {
  const std::size_t dot = cookie.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > kMaxDigits) return std::nullopt;
  DeviceCookie c;
  c.expires_text = cookie.substr(0, dot);
  c.mac = cookie.substr(dot + 1);
  if (!std::all_of(c.expires_text.begin(), c.expires_text.end(),
                   [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return std::nullopt;
  }
  if (c.mac.size() != kMacLength || !std::all_of(c.mac.begin(), c.mac.end(), base64url_char)) {
    return std::nullopt;
  }
  for (char ch : c.expires_text) c.expires = c.expires * 10 + (ch - '0');  // 12 digits: no overflow
  return c;
}

std::string make_device_cookie(const crypto::HmacSha256& key, std::string_view token_hash,
                               int64_t expires) {
  const std::string at = std::to_string(expires);
  return at + "." + mac_text(key, token_hash, at);
}

bool device_cookie_holds(const crypto::HmacSha256& key, std::string_view token_hash,
                         std::string_view cookie, int64_t now, int64_t latest) {
  auto c = parse_device_cookie(cookie);
  if (!c) return false;
  if (!crypto::equal_constant_time(c->mac, mac_text(key, token_hash, c->expires_text))) {
    return false;
  }
  return c->expires > now && c->expires <= latest;
}

}  // namespace hb::documents
