#include "crypto/otp.h"

#include <openssl/hmac.h>

#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace hb::crypto {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string base32_encode(std::string_view bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<std::string> base32_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    int v = -1;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a';
    else if (ch >= '2' && ch <= '7')
      v = ch - '2' + 26;
    if (v < 0) return invalid("not base32");
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  // Leftover bits must be zero padding of the last character, and fewer than one character's worth.
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) return invalid("not base32 (trailing bits)");
  return out;
}

std::string hotp(std::string_view secret, uint64_t counter, int digits) {
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), msg, sizeof msg, mac,
            &len) ||
      len != 20) {
    ossl::fatal("hotp");
  }
  // RFC 4226 section 5.3: dynamic truncation.
  const int offset = mac[19] & 0x0f;
  const uint32_t bin = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                       (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                       (static_cast<uint32_t>(mac[offset + 2]) << 8) |
                       static_cast<uint32_t>(mac[offset + 3]);
  if (digits < 6) digits = 6;
  if (digits > 8) digits = 8;
  uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  std::string out = std::to_string(bin % mod);
  return std::string(static_cast<size_t>(digits) - out.size(), '0') + out;
}

uint64_t totp_step(Time t, int period_seconds) {
  const int64_t s = unix_seconds(t);
  return s < 0 ? 0 : static_cast<uint64_t>(s) / static_cast<uint64_t>(period_seconds);
}

std::string totp(std::string_view secret, Time t, int digits, int period_seconds) {
  return hotp(secret, totp_step(t, period_seconds), digits);
}

int64_t totp_match(std::string_view secret, std::string_view code, Time t, int window, int digits,
                   int period_seconds) {
  const uint64_t step = totp_step(t, period_seconds);
  int64_t found = -1;
  for (int d = -window; d <= window; ++d) {
    if (d < 0 && step < static_cast<uint64_t>(-d)) continue;
    const uint64_t s = step + static_cast<uint64_t>(static_cast<int64_t>(d));
    // Every step is computed and compared, so the time taken does not say which one matched.
    if (equal_constant_time(hotp(secret, s, digits), code) && found < 0)
      found = static_cast<int64_t>(s);
  }
  return found;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::string_view secret) {
  return "otpauth://totp/" + percent_encode(issuer) + ":" + percent_encode(account) +
         "?secret=" + base32_encode(secret) + "&issuer=" + percent_encode(issuer) +
         "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace hb::crypto
