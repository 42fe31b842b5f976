// Receipts: C2SP tlog-proof@v1, an offline-verifiable proof that an entry is in the log.
//
//   c2sp.org/tlog-proof@v1
//   [extra <base64 opaque data>]
//   index <decimal>
//   <base64 inclusion-proof hash>     zero or more, leaf's sibling first
//   <empty line>
//   <signed checkpoint, verbatim>
//
// The holder of a document keeps its receipt; anyone with the log's vkey can check it without
// asking the log (verify_receipt). The extra data is not authenticated and we do not use it, but
// parse and produce it so receipts from other tlog-proof producers can be read.
//
// Thread-safety: the functions are stateless; a CheckpointCache is safe to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ledger/merkle.h"
#include "ledger/note.h"

namespace hb::ledger {

inline constexpr std::size_t kMaxProofHashes = 63;

struct Receipt {
  std::optional<std::string> extra;  // raw bytes; never trust
  uint64_t index = 0;
  std::vector<Hash> proof;
  std::string checkpoint;  // the signed checkpoint note
  bool operator==(const Receipt&) const = default;
};

std::string format_receipt(const Receipt& r);
// Strict: the exact layout above, canonical decimals and base64, 32-byte hashes, at most 63 of
// them, and a checkpoint that is a syntactically valid signed note (not yet verified).
Result<Receipt> parse_receipt(std::string_view text);

// Parses the receipt, verifies its checkpoint with `key` (origin = `origin`, or the key's name)
// and the inclusion of `entry` at the receipt's index. Returns the verified checkpoint.
//
// With a cache, a checkpoint note that verified before (same text, key and origin) is not
// verified again: the receipts of one batch share one checkpoint, and a server verifying many
// cards then pays one signature check per batch.
class CheckpointCache;
Result<Checkpoint> verify_receipt(std::string_view text, std::string_view entry,
                                  const NoteVerifier& key, std::string_view origin = {},
                                  CheckpointCache* cache = nullptr);

// Checkpoints that verified, by the SHA-256 of (note text, key name, public key, origin). Bounded:
// when full it starts again empty.
class CheckpointCache {
 public:
  explicit CheckpointCache(std::size_t capacity = 4096) : capacity_(capacity) {}
  Result<Checkpoint> open(std::string_view note, const NoteVerifier& key, std::string_view origin);

 private:
  std::size_t capacity_;
  std::mutex mu_;
  std::map<std::string, Checkpoint, std::less<>> verified_;  // guarded by mu_
};

}  // namespace hb::ledger
