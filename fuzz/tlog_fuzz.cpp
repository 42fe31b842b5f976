// libFuzzer target for the tlog-tiles and tlog-proof parsers: tile paths, tiles, entry bundles and
// receipts.
//
// The first input byte picks a width (1..256) for the tile and bundle parsers; the rest is the
// data. Invariants, each an abort when broken:
//   - an accepted tile path prints back to exactly the input;
//   - an accepted tile holds `width` 32-byte hashes; an accepted bundle re-encodes to the input;
//   - an accepted receipt formats back to exactly the input, and verifying it against a fixed
//     key never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ledger/receipt.h"
#include "ledger/tiles.h"

namespace {

using namespace hb::ledger;

void check(bool ok) {
  if (!ok) std::abort();
}

const NoteVerifier& tessera_key() {
  static const NoteVerifier k =
      NoteVerifier::parse(
          "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx")
          .value();
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto id = parse_tile_path(in)) {
    check(tile_path(*id) == in);
    check(is_log_path(in));
  }

  if (!in.empty()) {
    uint32_t width = static_cast<uint32_t>(static_cast<unsigned char>(in[0])) + 1;
    std::string_view rest = in.substr(1);
    if (auto t = parse_tile(rest, width)) {
      check(t->size() == width);
      for (const auto& h : *t) check(h.size() == kHashSize);
    }
    if (auto b = parse_entry_bundle(rest, width)) {
      check(b->size() == width);
      std::string again;
      for (const auto& e : *b) check(append_bundle_entry(again, e).is_ok());
      check(again == rest);
    }
  }

  if (auto r = parse_receipt(in)) {
    check(format_receipt(*r) == in);
    check(r->proof.size() <= kMaxProofHashes);
    (void)verify_receipt(in, "three", tessera_key());
  }
  return 0;
}
