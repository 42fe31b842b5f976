#include "ledger/receipt.h"

#include <charconv>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace hb::ledger {
namespace {

constexpr std::string_view kHeader = "c2sp.org/tlog-proof@v1";

// Takes the next line (without its newline) off `rest`; false if there is no complete line.
bool next_line(std::string_view& rest, std::string_view& line) {
  std::size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) return false;
  line = rest.substr(0, nl);
  rest = rest.substr(nl + 1);
  return true;
}

}  // namespace

std::string format_receipt(const Receipt& r) {
  std::string out(kHeader);
  out += '\n';
  if (r.extra) out += "extra " + crypto::base64_encode(*r.extra) + "\n";
  out += "index " + std::to_string(r.index) + "\n";
  for (const Hash& h : r.proof) out += crypto::base64_encode(h) + "\n";
  out += '\n';
  out += r.checkpoint;
  return out;
}

Result<Receipt> parse_receipt(std::string_view text) {
  if (text.size() > kMaxNoteSize + 4096) return Status(Code::kTooLarge, "receipt is too large");
  Receipt r;
  std::string_view rest = text, line;
  if (!next_line(rest, line) || line != kHeader) {
    return invalid("receipt must start with c2sp.org/tlog-proof@v1");
  }
  if (!next_line(rest, line)) return invalid("receipt ends after its first line");
  if (line.substr(0, 6) == "extra ") {
    auto extra = crypto::base64_decode(line.substr(6));
    if (!extra || extra->empty()) return invalid("receipt extra data is not non-empty base64");
    r.extra = std::move(extra).value();
    if (!next_line(rest, line)) return invalid("receipt has no index line");
  }
  if (line.substr(0, 6) != "index ") return invalid("receipt has no index line");
  std::string_view digits = line.substr(6);
  if (digits.empty() || digits.size() > 20 || (digits.size() > 1 && digits[0] == '0') ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return invalid("receipt index must be a decimal with no leading zeroes");
  }
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), r.index);
  if (ec != std::errc() || p != digits.data() + digits.size()) {
    return invalid("receipt index does not fit 64 bits");
  }
  while (true) {
    if (!next_line(rest, line)) return invalid("receipt has no blank line before its checkpoint");
    if (line.empty()) break;
    if (r.proof.size() == kMaxProofHashes) return invalid("receipt has more than 63 proof hashes");
    auto h = crypto::base64_decode(line);
    if (!h || h->size() != kHashSize) return invalid("receipt proof line is not a base64 hash");
    r.proof.push_back(std::move(h).value());
  }
  auto note = parse_note(rest);
  if (!note) return invalid("receipt checkpoint: " + note.status().message());
  r.checkpoint = std::string(rest);
  return r;
}

Result<Checkpoint> CheckpointCache::open(std::string_view note, const NoteVerifier& key,
                                         std::string_view origin) {
  std::string id(note);
  for (std::string_view part : {std::string_view(key.name()), std::string_view(key.public_key()), origin}) {
    id.push_back('\0');
    id.append(part);
  }
  const std::string digest = crypto::sha256(id);
  {
    std::lock_guard lock(mu_);
    if (auto it = verified_.find(digest); it != verified_.end()) return it->second;
  }
  HB_ASSIGN_OR_RETURN(Checkpoint c, open_checkpoint(note, key, origin));
  std::lock_guard lock(mu_);
  if (verified_.size() >= capacity_) verified_.clear();
  verified_.emplace(digest, c);
  return c;
}

Result<Checkpoint> verify_receipt(std::string_view text, std::string_view entry,
                                  const NoteVerifier& key, std::string_view origin,
                                  CheckpointCache* cache) {
  HB_ASSIGN_OR_RETURN(Receipt r, parse_receipt(text));
  HB_ASSIGN_OR_RETURN(Checkpoint c, cache ? cache->open(r.checkpoint, key, origin)
                                          : open_checkpoint(r.checkpoint, key, origin));
  if (r.index >= c.size) {
    return unauthorized("receipt index " + std::to_string(r.index) +
                        " is not inside its checkpoint of size " + std::to_string(c.size));
  }
  HB_RETURN_IF_ERROR(verify_inclusion(r.index, c.size, leaf_hash(entry), r.proof, c.root));
  return c;
}

}  // namespace hb::ledger
