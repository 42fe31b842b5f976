#include "crypto/encoding.h"

#include <array>
#include <cstdint>

namespace hb::crypto {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Reverse lookup: byte -> 6-bit value, or -1 for bytes outside the alphabet.
using Table = std::array<int8_t, 256>;

constexpr Table make_table(const char* alphabet) {
  Table t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}

constexpr Table kStdTable = make_table(kStd);
constexpr Table kUrlTable = make_table(kUrl);

// Sized once and written in place: push_back per character (a capacity check each) made this
// a twentieth of the log's CPU time, where each receipt encodes its proof's hashes.
std::string encode(std::string_view in, const char* alphabet, bool pad) {
  const std::size_t groups = in.size() / 3;
  const std::size_t rest = in.size() % 3;
  std::string out(groups * 4 + (rest == 0 ? 0 : pad ? 4 : rest + 1), '=');
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  char* o = out.data();
  for (std::size_t g = 0; g < groups; ++g, p += 3, o += 4) {
    const uint32_t v = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
    o[0] = alphabet[v >> 18];
    o[1] = alphabet[(v >> 12) & 63];
    o[2] = alphabet[(v >> 6) & 63];
    o[3] = alphabet[v & 63];
  }
  if (rest > 0) {  // the '=' the string was filled with stay where padding goes
    const uint32_t v = (uint32_t{p[0]} << 16) | (rest == 2 ? uint32_t{p[1]} << 8 : 0);
    o[0] = alphabet[v >> 18];
    o[1] = alphabet[(v >> 12) & 63];
    if (rest == 2) o[2] = alphabet[(v >> 6) & 63];
  }
  return out;
}

// Decodes unpadded base64 text (padding already removed by the caller). Rejects characters outside
// the alphabet, a length that no byte string encodes to (len % 4 == 1), and non-zero trailing bits,
// so that every accepted text is the one canonical encoding of its bytes.
//
// Four characters at a time into a string sized up front: verifying a health card decodes three
// JWS parts per card, and the byte-at-a-time loop with push_back was a visible share of it.
Result<std::string> decode_unpadded(std::string_view text, const Table& table, const char* what) {
  if (text.size() % 4 == 1) return invalid(std::string(what) + ": impossible length");
  const auto* const base = reinterpret_cast<const unsigned char*>(text.data());
  const auto* in = base;
  const std::size_t full = text.size() / 4;
  const std::size_t rest = text.size() % 4;  // 0, 2 or 3 characters: 0, 1 or 2 more bytes
  std::string out(full * 3 + (rest == 0 ? 0 : rest - 1), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  // A character outside the alphabet maps to -1; OR-ing the four values keeps the sign bit, so one
  // test per group finds it. The offset is then looked up for the message.
  auto bad_char = [&](std::size_t from) {
    std::size_t i = from;
    while (table[base[i]] >= 0) ++i;
    return invalid(std::string(what) + ": invalid character at offset " + std::to_string(i));
  };
  for (std::size_t g = 0; g < full; ++g, in += 4, o += 3) {
    const int32_t a = table[in[0]], b = table[in[1]], c = table[in[2]], d = table[in[3]];
    if ((a | b | c | d) < 0) return bad_char(g * 4);
    const uint32_t v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                       (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    o[0] = static_cast<unsigned char>(v >> 16);
    o[1] = static_cast<unsigned char>(v >> 8);
    o[2] = static_cast<unsigned char>(v);
  }
  if (rest == 0) return out;
  int32_t acc = 0;
  for (std::size_t k = 0; k < rest; ++k) {
    const int32_t x = table[in[k]];
    if (x < 0) return bad_char(full * 4);
    acc = (acc << 6) | x;
  }
  // 2 or 4 bits are left over for 3 or 2 characters; they must be zero.
  const int bits = rest == 2 ? 4 : 2;
  if ((acc & ((1 << bits) - 1)) != 0) {
    return invalid(std::string(what) + ": non-zero trailing bits (not canonical)");
  }
  acc >>= bits;
  if (rest == 2) {
    o[0] = static_cast<unsigned char>(acc);
  } else {
    o[0] = static_cast<unsigned char>(acc >> 8);
    o[1] = static_cast<unsigned char>(acc);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) { return encode(bytes, kUrl, false); }

Result<std::string> base64url_decode(std::string_view text) {
  // '=' is not in the table, so padding is rejected as an invalid character.
  return decode_unpadded(text, kUrlTable, "base64url");
}

std::string base64_encode(std::string_view bytes) { return encode(bytes, kStd, true); }

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return invalid("base64: length is not a multiple of 4");
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  // Any further '=' (three or more, or one in the middle) fails as an invalid character below.
  return decode_unpadded(text.substr(0, text.size() - pad), kStdTable, "base64");
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Result<std::string> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) return invalid("hex: odd length");
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = hex_value(text[i]);
    int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return invalid("hex: invalid character at offset " + std::to_string(i));
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

}  // namespace hb::crypto
