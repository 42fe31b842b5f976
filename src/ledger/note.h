// C2SP signed notes (Ed25519 only) and C2SP tlog-checkpoint bodies.
//
// A signed note is UTF-8 text ending in a newline, a blank line, then one or more lines
// "— <key name> base64(<4-byte big-endian key id> || <signature>)". An Ed25519 key id is the first
// four bytes of SHA-256(name || 0x0A || 0x01 || 32-byte public key).
//
// Keys travel as text, in the formats of golang.org/x/mod/sumdb/note:
//   verifier key (vkey):  <name>+<8 hex digits key id>+base64(0x01 || public key)
//   signer key (skey):    PRIVATE+KEY+<name>+<8 hex digits key id>+base64(0x01 || 32-byte seed)
//
// Verification follows the spec: signatures by unknown keys (name or id differ) are ignored, a
// signature by a known key that does not verify rejects the whole note, and at least one known
// signature must verify.
//
// A checkpoint body is "<origin>\n<size>\n<base64 root>\n" followed by optional non-empty
// extension lines. We additionally refuse a size-0 checkpoint whose root is not SHA-256(""): no
// other root is possible for the empty tree.
//
// Thread-safety: NoteVerifier and NoteSigner are immutable after construction and safe to share;
// free functions are stateless.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ledger/merkle.h"

namespace hb::ledger {

inline constexpr std::size_t kMaxNoteSize = 1 << 20;   // bytes
inline constexpr std::size_t kMaxNoteSignatures = 64;  // the spec asks for at least 16

// Non-empty, valid UTF-8, no Unicode space, no '+', no control character.
bool is_valid_key_name(std::string_view name);
// First four bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || public_key).
uint32_t ed25519_key_id(std::string_view name, std::string_view public_key);

class NoteVerifier {
 public:
  // Parses a vkey; refuses wrong key ids, non-Ed25519 types and invalid public keys.
  static Result<NoteVerifier> parse(std::string_view vkey);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const std::string& public_key() const { return public_key_; }
  std::string vkey() const;
  // True when `signature` (64 bytes, without the key id) is this key's signature of `msg`.
  bool verify(std::string_view msg, std::string_view signature) const;

 private:
  friend class NoteSigner;
  NoteVerifier(std::string name, std::string public_key);
  std::string name_;
  std::string public_key_;  // 32 bytes
  uint32_t key_id_ = 0;
};

class NoteSigner {
 public:
  static Result<NoteSigner> parse(std::string_view skey);
  // A fresh random key (for `healthbook init` and tests).
  static Result<NoteSigner> generate(std::string_view name);
  NoteSigner(const NoteSigner&) = default;
  NoteSigner& operator=(const NoteSigner&) = default;
  ~NoteSigner();

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  NoteVerifier verifier() const;
  std::string vkey() const;
  // The secret key text; handle like a password.
  std::string skey() const;
  // The 64-byte Ed25519 signature of msg.
  std::string sign(std::string_view msg) const;

 private:
  NoteSigner(std::string name, std::string_view seed);
  std::string name_;
  std::array<unsigned char, 32> seed_{};
  std::array<unsigned char, 64> secret_{};  // libsodium's seed || public key
  std::string public_key_;
  uint32_t key_id_ = 0;
};

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // without the key id
};

struct Note {
  std::string text;  // including its final newline
  std::vector<NoteSignature> signatures;
  std::vector<std::string> verified_by;  // key names whose signature verified (open_note only)
};

// Strict syntax check and split; does not verify. kInvalid with the reason.
Result<Note> parse_note(std::string_view data);
// Signs `text` (which must end in a newline and satisfy the note rules) with every signer.
Result<std::string> sign_note(std::string_view text, const std::vector<const NoteSigner*>& signers);
// parse_note + verification against `known` (rules above). kUnauthorized when no known signature
// verifies or a known one fails.
Result<Note> open_note(std::string_view data, const std::vector<NoteVerifier>& known);

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root;
  std::vector<std::string> extensions;
  bool operator==(const Checkpoint&) const = default;
};

std::string format_checkpoint(const Checkpoint& c);
Result<Checkpoint> parse_checkpoint(std::string_view text);
// A signed checkpoint: open_note with `key`, then parse_checkpoint, then the origin must equal
// `origin` (the key's name when empty).
Result<Checkpoint> open_checkpoint(std::string_view note, const NoteVerifier& key,
                                   std::string_view origin = {});

}  // namespace hb::ledger
