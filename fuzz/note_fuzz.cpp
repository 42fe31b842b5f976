// libFuzzer target for signed notes, checkpoints and note keys.
//
// Each input is parsed as a signed note (and opened against a fixed key, so signature checking
// runs on fuzzer-chosen lines), as a checkpoint body, and as vkey/skey text. Invariants, each an
// abort when broken:
//   - a parsed note's text ends in a newline and is a prefix of the input;
//   - an accepted checkpoint prints back to exactly the input (one encoding per checkpoint);
//   - an accepted vkey prints back to exactly the input;
//   - re-signing an accepted note's text with the fixed key opens again under that key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ledger/note.h"

namespace {

using namespace hb::ledger;

void check(bool ok) {
  if (!ok) std::abort();
}

// The tessera test log's key, and a fixed signer of our own.
const NoteVerifier& tessera_key() {
  static const NoteVerifier k =
      NoteVerifier::parse(
          "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx")
          .value();
  return k;
}

const NoteSigner& fixed_signer() {
  static const NoteSigner s = NoteSigner::generate("fuzz.example").value();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto note = parse_note(in)) {
    check(!note->text.empty() && note->text.back() == '\n');
    check(in.substr(0, note->text.size()) == note->text);
    check(!note->signatures.empty());
    (void)open_note(in, {tessera_key()});
    if (note->text.size() < kMaxNoteSize - 1024) {
      const NoteSigner& s = fixed_signer();
      auto resigned = sign_note(note->text, {&s});
      check(resigned.is_ok());
      auto opened = open_note(*resigned, {s.verifier()});
      check(opened.is_ok() && opened->text == note->text);
    }
    if (auto cp = parse_checkpoint(note->text)) check(format_checkpoint(*cp) == note->text);
  }
  if (auto cp = parse_checkpoint(in)) check(format_checkpoint(*cp) == in);
  (void)open_checkpoint(in, tessera_key());
  if (auto v = NoteVerifier::parse(in)) check(v->vkey() == in);
  if (auto s = NoteSigner::parse(in)) check(s->skey() == in);
  return 0;
}
