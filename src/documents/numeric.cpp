#include "documents/numeric.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hb::documents {
namespace {

// The 8 bytes as they stand in memory, read as a little-endian number.
std::uint64_t le64(std::uint64_t x) {
  if constexpr (std::endian::native == std::endian::big) x = __builtin_bswap64(x);
  return x;
}

constexpr std::string_view kPrefix = "shc:/";

Status fail(Reason* out, Reason r, std::string message) {
  if (out) *out = r;
  return invalid(std::move(message));
}

// Reads a positive decimal (no sign, no leading zero) up to the next '/'.
bool read_number(std::string_view& s, int& value) {
  std::size_t slash = s.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash > 4 || s[0] == '0') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + slash, value);
  if (ec != std::errc() || p != s.data() + slash) return false;
  s.remove_prefix(slash + 1);
  return true;
}

// Whether N chunks are more than needed, judged from one non-final chunk: balanced chunks of
// this size make a JWS of about N * part_len characters, which may fit in fewer chunks.
bool too_many_chunks(int total, std::size_t part_len) {
  std::size_t estimate = static_cast<std::size_t>(total) * part_len;
  std::size_t needed = (estimate + kMaxChunkJws - 1) / kMaxChunkJws;
  return needed < static_cast<std::size_t>(total);
}

// Eight digits (four pairs) to four JWS characters in one 64-bit word: whether all eight are
// digits, each pair at most 77, and the characters (pair + 45) written to out. What it writes when
// it returns false does not matter: the caller then reports the first defect.
bool decode_eight(const char* in, char* out) {
  constexpr std::uint64_t kOnes = 0x0101010101010101;
  std::uint64_t x;
  std::memcpy(&x, in, 8);
  x = le64(x);
  // Digits are 0x30..0x39: high nibble 3, and adding 6 keeps it 3.
  const bool digits = (x & (0xF0 * kOnes)) == 0x30 * kOnes &&
                      ((x + 0x06 * kOnes) & (0xF0 * kOnes)) == 0x30 * kOnes;
  const std::uint64_t d = x & (0x0F * kOnes);
  // Byte 2k is the first digit of pair k, byte 2k+1 the second: one pair per 16-bit lane.
  constexpr std::uint64_t kLanes = 0x00FF00FF00FF00FF;
  const std::uint64_t pairs = (d & kLanes) * 10 + ((d >> 8) & kLanes);  // each lane <= 99
  // A lane of 78 or more reaches bit 15 when 0x8000 - 78 is added (99 + 0x7FB2 still fits).
  const bool in_range = ((pairs + 0x7FB27FB27FB27FB2) & 0x8000800080008000) == 0;
  const std::uint64_t chars = pairs + 0x002D002D002D002D;
  for (int k = 0; k < 4; ++k) out[k] = static_cast<char>((chars >> (16 * k)) & 0xFF);
  return digits && in_range;
}

#if defined(__SSE2__)
// Sixteen digits (eight pairs) to eight JWS characters with SSE2, which every x86-64 has: the same
// tests as decode_eight on twice the digits, in a quarter of the instructions.
bool decode_sixteen(const char* in, char* out) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
  const __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
  // A digit is 0..9 after the subtraction, as an unsigned byte (a byte below '0' wraps to >= 208).
  const __m128i nine = _mm_set1_epi8(9);
  const __m128i digits = _mm_cmpeq_epi8(_mm_max_epu8(d, nine), nine);
  // Little-endian 16-bit lanes: the low byte is the first digit of a pair, the high byte the
  // second.
  const __m128i first = _mm_and_si128(d, _mm_set1_epi16(0x00FF));
  const __m128i second = _mm_srli_epi16(d, 8);
  // At most 255 * 10 + 255 even for non-digits: a positive 16-bit lane.
  const __m128i pairs = _mm_add_epi16(_mm_mullo_epi16(first, _mm_set1_epi16(10)), second);
  const __m128i over = _mm_cmpgt_epi16(pairs, _mm_set1_epi16(77));
  const __m128i chars =
      _mm_packus_epi16(_mm_add_epi16(pairs, _mm_set1_epi16(45)), _mm_setzero_si128());
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), chars);
  return _mm_movemask_epi8(digits) == 0xFFFF && _mm_movemask_epi8(over) == 0;
}
#endif

}  // namespace

Result<std::string> to_shc_numeric(std::string_view jws) {
  std::string out(kPrefix);
  out.reserve(kPrefix.size() + 2 * jws.size());
  for (char c : jws) {
    int v = static_cast<unsigned char>(c) - 45;
    if (v < 0 || v > 77) return invalid("character outside the shc:/ numeric alphabet");
    out += static_cast<char>('0' + v / 10);
    out += static_cast<char>('0' + v % 10);
  }
  return out;
}

Result<ShcChunk> parse_shc_text(std::string_view text, Reason* reason) {
  if (!text.starts_with(kPrefix)) {
    return fail(reason, Reason::kBadQrHeader, "QR text does not start with \"shc:/\"");
  }
  std::string_view rest = text.substr(kPrefix.size());
  ShcChunk chunk;
  if (rest.find('/') != std::string_view::npos) {
    if (!read_number(rest, chunk.index) || !read_number(rest, chunk.total)) {
      return fail(reason, Reason::kBadChunkHeader, "malformed chunk header \"shc:/C/N/\"");
    }
    if (chunk.total < 2) {
      return fail(reason, Reason::kBadChunkHeader,
                  "chunk header says " + std::to_string(chunk.total) +
                      " chunk(s); a card in one QR has no chunk header");
    }
    if (chunk.index < 1 || chunk.index > chunk.total) {
      return fail(reason, Reason::kBadChunkHeader,
                  "chunk index " + std::to_string(chunk.index) + " is outside 1.." +
                      std::to_string(chunk.total));
    }
  }
  if (rest.empty()) return fail(reason, Reason::kMalformedNumeric, "no digits after the header");
  if (rest.size() % 2 != 0) {
    // Text with a non-digit is refused for that, whatever its length ("shc:/567629abc" is not a
    // card with a digit missing): the pair that holds it, as below for an even length.
    if (const std::size_t bad = rest.find_first_not_of("0123456789");
        bad != std::string_view::npos) {
      return fail(
          reason, Reason::kMalformedNumeric,
          "non-digit at position " + std::to_string(text.size() - rest.size() + bad / 2 * 2));
    }
    return fail(reason, Reason::kMalformedNumeric,
                "odd number of digits (" + std::to_string(rest.size()) + ")");
  }
  // Written in place into a string sized up front (a card is a few thousand digits, and this runs
  // for every card a verifier scans), sixteen or eight digits at a time; the slow loop below runs
  // only to name the first bad pair.
  chunk.jws_part.resize(rest.size() / 2);
  char* out = chunk.jws_part.data();
  bool clean = true;
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= rest.size(); i += 16, out += 8) {
    clean &= decode_sixteen(rest.data() + i, out);
  }
#endif
  for (; i + 8 <= rest.size(); i += 8, out += 4) {
    clean &= decode_eight(rest.data() + i, out);
  }
  for (; i < rest.size(); i += 2) {
    const unsigned a = static_cast<unsigned char>(rest[i]) - unsigned{'0'};
    const unsigned b = static_cast<unsigned char>(rest[i + 1]) - unsigned{'0'};
    const unsigned v = a * 10 + b;
    // Unsigned wrap-around makes a byte below '0' huge, so one test covers both bounds.
    clean &= (a <= 9) & (b <= 9) & (v <= 77);
    *out++ = static_cast<char>(v + 45);
  }
  // Positions are in the whole text, chunk header included.
  const std::size_t at = text.size() - rest.size();
  for (std::size_t i = 0; !clean && i < rest.size(); i += 2) {
    char a = rest[i], b = rest[i + 1];
    if (a < '0' || a > '9' || b < '0' || b > '9') {
      return fail(reason, Reason::kMalformedNumeric,
                  "non-digit at position " + std::to_string(at + i));
    }
    int v = (a - '0') * 10 + (b - '0');
    if (v > 77) {
      return fail(reason, Reason::kMalformedNumeric,
                  "digit pair " + std::to_string(v) + " at position " + std::to_string(at + i) +
                      " is over 77");
    }
  }
  if (chunk.total > 1 && chunk.jws_part.size() > kMaxChunkJws) {
    return fail(reason, Reason::kBadChunkHeader,
                "chunk holds " + std::to_string(chunk.jws_part.size()) +
                    " JWS characters, over the 1191 allowed per chunk");
  }
  if (chunk.total > 1 && chunk.index < chunk.total &&
      too_many_chunks(chunk.total, chunk.jws_part.size())) {
    return fail(reason, Reason::kChunkTooSmall,
                "chunk " + std::to_string(chunk.index) + "/" + std::to_string(chunk.total) +
                    " holds only " + std::to_string(chunk.jws_part.size()) +
                    " JWS characters: the card would fit in fewer QR codes");
  }
  return chunk;
}

Result<std::string> assemble_shc_chunks(const std::vector<std::string_view>& texts,
                                        Reason* reason) {
  if (texts.empty()) return fail(reason, Reason::kUnsupportedInput, "no QR text given");
  std::vector<ShcChunk> chunks;
  for (std::string_view t : texts) {
    HB_ASSIGN_OR_RETURN(ShcChunk c, parse_shc_text(t, reason));
    chunks.push_back(std::move(c));
  }
  const int total = chunks[0].total;
  if (total == 1) {
    if (chunks.size() != 1) {
      return fail(reason, Reason::kBadChunkHeader, "several QR texts, but the first is unchunked");
    }
    return std::move(chunks[0].jws_part);
  }
  std::vector<const ShcChunk*> slot(static_cast<std::size_t>(total), nullptr);
  for (const ShcChunk& c : chunks) {
    if (c.total != total) {
      return fail(reason, Reason::kBadChunkHeader, "chunks disagree on the number of chunks");
    }
    auto& s = slot[static_cast<std::size_t>(c.index - 1)];
    if (s)
      return fail(reason, Reason::kBadChunkHeader,
                  "chunk " + std::to_string(c.index) + " given twice");
    s = &c;
  }
  std::string jws;
  for (int i = 0; i < total; ++i) {
    if (!slot[static_cast<std::size_t>(i)]) {
      return fail(
          reason, Reason::kMissingChunk,
          "chunk " + std::to_string(i + 1) + " of " + std::to_string(total) + " is missing");
    }
    jws += slot[static_cast<std::size_t>(i)]->jws_part;
  }
  std::size_t needed = (jws.size() + kMaxChunkJws - 1) / kMaxChunkJws;
  if (needed < static_cast<std::size_t>(total)) {
    return fail(reason, Reason::kChunkTooSmall,
                "a " + std::to_string(jws.size()) + "-character JWS needs " +
                    std::to_string(needed) + " chunk(s), not " + std::to_string(total));
  }
  return jws;
}

}  // namespace hb::documents
