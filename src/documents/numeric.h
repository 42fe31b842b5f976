// The "shc:/" numeric form of a SMART Health Card, as carried in a QR code.
//
// Each JWS character c becomes two decimal digits, (c - 45) zero-padded, so the whole JWS can use
// the QR numeric mode. Chunked cards ("shc:/C/N/<digits>", deprecated since SHC 1.3) are read for
// compatibility but never produced.
//
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "documents/reason.h"

namespace hb::documents {

// Longest JWS that fits one version-22 QR code at error correction level L ("shc:/" in byte mode,
// 2 x 1195 digits in numeric mode: 8,043 of the 8,048 data bits), and the spec's threshold for
// splitting a JWS. Levels M, Q and H hold less, so from text alone (no picture, no level) this is
// the one limit that never refuses a card that fits some valid code.
inline constexpr std::size_t kMaxSingleQrJws = 1195;
// Longest JWS piece allowed in one chunk of a (deprecated) chunked card.
inline constexpr std::size_t kMaxChunkJws = 1191;

// "shc:/" + digits. Characters outside '-'..'z' (which a JWS never holds) are refused.
Result<std::string> to_shc_numeric(std::string_view jws);

// One scanned QR text, decoded.
struct ShcChunk {
  int index = 1;  // C, 1-based
  int total = 1;  // N; 1 for an unchunked card
  std::string jws_part;
};

// Decodes one "shc:/..." text exactly as scanned (no surrounding whitespace). On error, *reason
// (if given) says which defect: kBadQrHeader, kBadChunkHeader or kMalformedNumeric.
Result<ShcChunk> parse_shc_text(std::string_view text, Reason* reason = nullptr);

// Reassembles a card from all its scanned QR texts, in any order. One unchunked text gives its
// JWS. Errors: those of parse_shc_text, plus kBadChunkHeader (mixed totals, duplicates),
// kMissingChunk and kChunkTooSmall (chunks smaller than needed: the card would fit in fewer).
Result<std::string> assemble_shc_chunks(const std::vector<std::string_view>& texts,
                                        Reason* reason = nullptr);

}  // namespace hb::documents
