#include "ledger/note.h"

#include <sodium.h>

#include <charconv>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace hb::ledger {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space
constexpr std::string_view kSkeyPrefix = "PRIVATE+KEY+";
constexpr unsigned char kEd25519Type = 0x01;

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// Decodes one UTF-8 code point at s[pos], advancing pos; -1 for any invalid sequence (overlong,
// surrogate, above U+10FFFF, truncated).
int32_t next_code_point(std::string_view s, std::size_t& pos) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(pos);
  if (c < 0x80) {
    ++pos;
    return c;
  }
  int len;
  int32_t cp;
  int32_t min;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (s.size() - pos < static_cast<std::size_t>(len)) return -1;
  for (int i = 1; i < len; ++i) {
    unsigned char cc = byte(pos + i);
    if ((cc & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  pos += len;
  return cp;
}

bool is_unicode_space(int32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// Valid UTF-8 with no control character except newline.
Status check_note_chars(std::string_view s) {
  for (std::size_t pos = 0; pos < s.size();) {
    std::size_t at = pos;
    int32_t cp = next_code_point(s, pos);
    if (cp < 0) return invalid("note is not valid UTF-8 (byte " + std::to_string(at) + ")");
    if (cp < 0x20 && cp != '\n') {
      return invalid("note contains a control character (byte " + std::to_string(at) + ")");
    }
  }
  return Status::ok();
}

std::string key_id_hex(uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

Result<uint32_t> parse_key_id_hex(std::string_view h) {
  if (h.size() != 8) return invalid("key id must be 8 hex digits");
  for (char c : h) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return invalid("key id must be 8 lower-case hex digits");
    }
  }
  uint32_t id = 0;
  std::from_chars(h.data(), h.data() + h.size(), id, 16);
  return id;
}

// "<typed key>" = base64(0x01 || 32 bytes) -> the 32 bytes.
Result<std::string> parse_typed_key(std::string_view b64) {
  auto raw = crypto::base64_decode(b64);
  if (!raw) return invalid("key is not valid base64");
  if (raw->size() != 33 || static_cast<unsigned char>((*raw)[0]) != kEd25519Type) {
    return invalid("key is not an Ed25519 (type 0x01, 32-byte) key");
  }
  return raw->substr(1);
}

std::string typed_key(std::string_view key32) {
  std::string raw(1, static_cast<char>(kEd25519Type));
  raw.append(key32);
  return crypto::base64_encode(raw);
}

// "<name>+<id>+<key>": the name holds no '+', the id is 8 characters; the base64 key may hold '+'.
bool split_key_text(std::string_view s, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t p = s.find('+');
  if (p == std::string_view::npos || s.size() < p + 10 || s[p + 9] != '+') return false;
  out = {s.substr(0, p), s.substr(p + 1, 8), s.substr(p + 10)};
  return true;
}

bool parse_decimal_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool is_valid_key_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t pos = 0; pos < name.size();) {
    int32_t cp = next_code_point(name, pos);
    if (cp < 0x20 || cp == '+' || is_unicode_space(cp)) return false;  // -1 (bad UTF-8) too
  }
  return true;
}

uint32_t ed25519_key_id(std::string_view name, std::string_view public_key) {
  std::string buf(name);
  buf.push_back('\n');
  buf.push_back(static_cast<char>(kEd25519Type));
  buf.append(public_key);
  std::string h = crypto::sha256(buf);
  return (uint32_t{static_cast<unsigned char>(h[0])} << 24) |
         (uint32_t{static_cast<unsigned char>(h[1])} << 16) |
         (uint32_t{static_cast<unsigned char>(h[2])} << 8) | static_cast<unsigned char>(h[3]);
}

// --- NoteVerifier -------------------------------------------------------------------------

NoteVerifier::NoteVerifier(std::string name, std::string public_key)
    : name_(std::move(name)), public_key_(std::move(public_key)) {
  key_id_ = ed25519_key_id(name_, public_key_);
}

Result<NoteVerifier> NoteVerifier::parse(std::string_view vkey) {
  std::vector<std::string_view> parts;
  if (!split_key_text(vkey, parts)) return invalid("vkey must be <name>+<key id>+<key>");
  if (!is_valid_key_name(parts[0])) return invalid("vkey has an invalid key name");
  HB_ASSIGN_OR_RETURN(uint32_t id, parse_key_id_hex(parts[1]));
  HB_ASSIGN_OR_RETURN(std::string pub, parse_typed_key(parts[2]));
  if (!sodium_ready()) return internal("libsodium failed to initialise");
  // Small-order or non-canonical points would let trivial signatures verify.
  if (crypto_core_ed25519_is_valid_point(reinterpret_cast<const unsigned char*>(pub.data())) != 1) {
    return invalid("vkey public key is not a valid Ed25519 point");
  }
  NoteVerifier v(std::string(parts[0]), std::move(pub));
  if (v.key_id_ != id) return invalid("vkey key id does not match its name and key");
  return v;
}

std::string NoteVerifier::vkey() const {
  return name_ + "+" + key_id_hex(key_id_) + "+" + typed_key(public_key_);
}

bool NoteVerifier::verify(std::string_view msg, std::string_view signature) const {
  if (signature.size() != crypto_sign_BYTES || !sodium_ready()) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                     reinterpret_cast<const unsigned char*>(public_key_.data())) ==
         0;
}

// --- NoteSigner ---------------------------------------------------------------------------

NoteSigner::NoteSigner(std::string name, std::string_view seed) : name_(std::move(name)) {
  std::copy(seed.begin(), seed.end(), seed_.begin());
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, secret_.data(), seed_.data());
  public_key_.assign(reinterpret_cast<const char*>(pk), sizeof pk);
  key_id_ = ed25519_key_id(name_, public_key_);
}

NoteSigner::~NoteSigner() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(secret_.data(), secret_.size());
}

Result<NoteSigner> NoteSigner::parse(std::string_view skey) {
  if (skey.substr(0, kSkeyPrefix.size()) != kSkeyPrefix) {
    return invalid("skey must start with PRIVATE+KEY+");
  }
  std::vector<std::string_view> parts;
  if (!split_key_text(skey.substr(kSkeyPrefix.size()), parts)) {
    return invalid("skey must be PRIVATE+KEY+<name>+<key id>+<key>");
  }
  if (!is_valid_key_name(parts[0])) return invalid("skey has an invalid key name");
  HB_ASSIGN_OR_RETURN(uint32_t id, parse_key_id_hex(parts[1]));
  HB_ASSIGN_OR_RETURN(std::string seed, parse_typed_key(parts[2]));
  if (!sodium_ready()) return internal("libsodium failed to initialise");
  NoteSigner s(std::string(parts[0]), seed);
  sodium_memzero(seed.data(), seed.size());
  if (s.key_id_ != id) return invalid("skey key id does not match its name and key");
  return s;
}

Result<NoteSigner> NoteSigner::generate(std::string_view name) {
  if (!is_valid_key_name(name)) return invalid("invalid key name \"" + std::string(name) + "\"");
  if (!sodium_ready()) return internal("libsodium failed to initialise");
  std::string seed = crypto::random_bytes(32);
  NoteSigner s(std::string(name), seed);
  sodium_memzero(seed.data(), seed.size());
  return s;
}

NoteVerifier NoteSigner::verifier() const { return NoteVerifier(name_, public_key_); }
std::string NoteSigner::vkey() const { return verifier().vkey(); }

std::string NoteSigner::skey() const {
  return std::string(kSkeyPrefix) + name_ + "+" + key_id_hex(key_id_) + "+" +
         typed_key(std::string_view(reinterpret_cast<const char*>(seed_.data()), seed_.size()));
}

std::string NoteSigner::sign(std::string_view msg) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                       secret_.data());
  return sig;
}

// --- Notes --------------------------------------------------------------------------------

Result<Note> parse_note(std::string_view data) {
  if (data.size() > kMaxNoteSize) return Status(Code::kTooLarge, "note is larger than 1 MiB");
  HB_RETURN_IF_ERROR(check_note_chars(data));
  std::size_t sep = data.rfind("\n\n");
  if (sep == std::string_view::npos) return invalid("note has no blank line before signatures");
  Note note;
  note.text = std::string(data.substr(0, sep + 1));
  std::string_view sigs = data.substr(sep + 2);
  if (sigs.empty()) return invalid("note has no signature lines");
  if (sigs.back() != '\n') return invalid("note does not end in a newline");
  while (!sigs.empty()) {
    std::size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs = sigs.substr(nl + 1);
    if (note.signatures.size() == kMaxNoteSignatures)
      return invalid("note has too many signatures");
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
      return invalid("signature line does not start with an em dash and a space");
    }
    line = line.substr(kSigPrefix.size());
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return invalid("signature line has no signature");
    std::string_view name = line.substr(0, sp);
    if (!is_valid_key_name(name)) return invalid("signature line has an invalid key name");
    auto raw = crypto::base64_decode(line.substr(sp + 1));
    if (!raw) return invalid("signature is not valid base64");
    if (raw->size() < 5) return invalid("signature is too short for a key id and a signature");
    NoteSignature s;
    s.name = std::string(name);
    for (int i = 0; i < 4; ++i) s.key_id = (s.key_id << 8) | static_cast<unsigned char>((*raw)[i]);
    s.signature = raw->substr(4);
    note.signatures.push_back(std::move(s));
  }
  return note;
}

Result<std::string> sign_note(std::string_view text,
                              const std::vector<const NoteSigner*>& signers) {
  if (text.empty() || text.back() != '\n') return invalid("note text must end in a newline");
  HB_RETURN_IF_ERROR(check_note_chars(text));
  if (signers.empty()) return invalid("a note needs at least one signer");
  std::string out(text);
  out.push_back('\n');
  for (const NoteSigner* s : signers) {
    std::string raw(4, '\0');
    for (int i = 0; i < 4; ++i) raw[i] = static_cast<char>(s->key_id() >> (24 - 8 * i));
    raw += s->sign(text);
    out += std::string(kSigPrefix) + s->name() + " " + crypto::base64_encode(raw) + "\n";
  }
  return out;
}

Result<Note> open_note(std::string_view data, const std::vector<NoteVerifier>& known) {
  HB_ASSIGN_OR_RETURN(Note note, parse_note(data));
  for (const NoteSignature& s : note.signatures) {
    for (const NoteVerifier& k : known) {
      if (k.name() != s.name || k.key_id() != s.key_id) continue;
      if (!k.verify(note.text, s.signature)) {
        return unauthorized("signature by known key " + k.name() + " does not verify");
      }
      note.verified_by.push_back(k.name());
    }
  }
  if (note.verified_by.empty()) return unauthorized("note is not signed by any known key");
  return note;
}

// --- Checkpoints --------------------------------------------------------------------------

std::string format_checkpoint(const Checkpoint& c) {
  std::string out =
      c.origin + "\n" + std::to_string(c.size) + "\n" + crypto::base64_encode(c.root) + "\n";
  for (const auto& e : c.extensions) out += e + "\n";
  return out;
}

Result<Checkpoint> parse_checkpoint(std::string_view text) {
  if (text.empty() || text.back() != '\n') return invalid("checkpoint must end in a newline");
  HB_RETURN_IF_ERROR(check_note_chars(text));
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() < 3) return invalid("checkpoint needs origin, size and root lines");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) return invalid("checkpoint line " + std::to_string(i + 1) + " is empty");
  }
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (!parse_decimal_u64(lines[1], c.size)) {
    return invalid("checkpoint size must be a decimal with no leading zeroes");
  }
  auto root = crypto::base64_decode(lines[2]);
  if (!root || root->size() != kHashSize)
    return invalid("checkpoint root must be 32 bytes of base64");
  c.root = std::move(root).value();
  if (c.size == 0 && c.root != empty_root()) {
    return invalid("a size-0 checkpoint must carry the empty tree's root");
  }
  for (std::size_t i = 3; i < lines.size(); ++i) c.extensions.emplace_back(lines[i]);
  return c;
}

Result<Checkpoint> open_checkpoint(std::string_view note, const NoteVerifier& key,
                                   std::string_view origin) {
  HB_ASSIGN_OR_RETURN(Note n, open_note(note, {key}));
  HB_ASSIGN_OR_RETURN(Checkpoint c, parse_checkpoint(n.text));
  std::string_view want = origin.empty() ? std::string_view(key.name()) : origin;
  if (c.origin != want) {
    return unauthorized("checkpoint origin \"" + c.origin + "\" is not \"" + std::string(want) +
                        "\"");
  }
  return c;
}

}  // namespace hb::ledger
