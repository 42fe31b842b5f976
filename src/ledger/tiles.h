// C2SP tlog-tiles: the static layout in which the log publishes its Merkle tree and entries.
//
//   checkpoint                      the signed checkpoint (note.h)
//   tile/<L>/<N>[.p/<W>]            tile at level L, index N: W (<= 256) consecutive 32-byte hashes
//                                   of complete subtrees of height 8*L; full tiles have no .p/<W>
//   tile/entries/<N>[.p/<W>]        entry bundle: the W entries under level-0 tile N, each as a
//                                   big-endian uint16 length followed by the entry bytes
//
// <N> is written in 3-digit groups, all but the last prefixed with 'x' (1234067 -> x001/x234/067).
// Parsers here are strict: exactly one encoding of every path, tile and bundle is accepted.
//
// TileHashReader turns tiles into the NodeSource that merkle.h proofs need, so inclusion and
// consistency proofs can be served, and checked, from the tiles alone.
//
// Thread-safety: free functions are stateless. TileHashReader caches what it reads and is not
// synchronised; use one per thread. TileReader implementations say their own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "ledger/merkle.h"

namespace hb::ledger {

inline constexpr int kTileHeight = 8;
inline constexpr uint32_t kTileWidth = 256;          // hashes in a full tile
inline constexpr int kEntriesLevel = -1;             // TileId::level of an entry bundle
inline constexpr std::size_t kMaxEntrySize = 65535;  // uint16 length prefix

// A tile (level >= 0) or entry bundle (level == kEntriesLevel) as it exists in a tree of a given
// size: width is 1..255 for a partial tile, 256 for a full one.
struct TileId {
  int level = 0;
  uint64_t index = 0;
  uint32_t width = kTileWidth;
  bool full() const { return width == kTileWidth; }
  bool operator==(const TileId&) const = default;
  auto operator<=>(const TileId&) const = default;
};

// "x001/x234/067" for 1234067.
std::string encode_tile_index(uint64_t n);
// "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]".
std::string tile_path(const TileId& id);
// The exact inverse of tile_path; kInvalid for anything tile_path would not produce.
Result<TileId> parse_tile_path(std::string_view path);
// True for "checkpoint" and every valid tile or entry bundle path: what a log store may hold.
bool is_log_path(std::string_view path);

// Width of tile (level, index) in a tree of `size` leaves: 0 when the tile does not exist yet.
// Entry bundles have the widths of level-0 tiles.
uint32_t tile_width(int level, uint64_t index, uint64_t size);
// The tiles (levels >= 0) whose content at new_size is not already published at old_size: new
// tiles and wider versions of partial ones, lowest level first. The level-0 ones name the entry
// bundles that change too. old_size <= new_size.
std::vector<TileId> changed_tiles(uint64_t old_size, uint64_t new_size);

// Strict parsers: exactly `width` hashes (32 * width bytes) / exactly `width` entries with
// nothing left over. kInvalid with the reason otherwise.
Result<std::vector<Hash>> parse_tile(std::string_view data, uint32_t width);
Result<std::vector<std::string>> parse_entry_bundle(std::string_view data, uint32_t width);
// Appends one length-prefixed entry to a bundle; kInvalid above kMaxEntrySize.
Status append_bundle_entry(std::string& bundle, std::string_view entry);

// Read access to a published log, by tlog-tiles path ("checkpoint", "tile/0/000.p/3", ...).
class TileReader {
 public:
  virtual ~TileReader() = default;
  // The object's bytes; kNotFound when it does not exist, other codes for failures.
  virtual Result<std::string> read(std::string_view path) = 0;
};

// Fetches the bytes of one tile as it exists in the tree being read.
using TileFetch = std::function<Result<std::string>(const TileId&)>;
// A TileFetch over a reader. A partial tile that is gone (logs may delete partial tiles once the
// full one exists) is served from the first `width` hashes of the full tile instead.
TileFetch fetch_from(TileReader& reader);

// The first `id.width` hashes (or entries) of the full tile `id` names, read from that full tile
// only. For a log's own reads: a partial tile file left by a failed commit may hold entries the
// log never published, while a full tile is only ever written with published ones.
Result<std::string> prefix_of_full(TileReader& reader, const TileId& id);

// Complete-subtree hashes of the tree of `size` leaves, computed from its tiles. Every tile is
// fetched at most once and expanded once (the 255 interior hashes of a tile are computed when it
// is first needed), so a proof costs a handful of fetches and no more than 255 hashes per tile.
class TileHashReader {
 public:
  // A tile and the hashes computed from it: sub[s][j], the node of height s inside the tile, j-th
  // from the left (sub[0] is the tile itself).
  struct Expanded {
    std::vector<std::vector<Hash>> sub;
  };
  using Tiles = std::map<std::pair<int, uint64_t>, Expanded>;  // by (level, index)

  TileHashReader(uint64_t size, TileFetch fetch) : size_(size), fetch_(std::move(fetch)) {}

  uint64_t size() const { return size_; }
  Result<Hash> node(int level, uint64_t index);
  // A NodeSource bound to this reader (which must outlive it).
  NodeSource nodes() {
    return [this](int level, uint64_t index) { return node(level, index); };
  }
  // Proofs and root of the tree of size() (or of a smaller tree, for consistency).
  Result<Hash> root() { return tree_root(size_, nodes()); }
  Result<std::vector<Hash>> inclusion_proof(uint64_t index) {
    return ledger::inclusion_proof(index, size_, nodes());
  }
  Result<std::vector<Hash>> consistency_proof(uint64_t old_size) {
    return ledger::consistency_proof(old_size, size_, nodes());
  }

  // The expanded tiles of this tree's right edge (the last tile of each level), taken out of the
  // reader. Given to the reader of a larger tree of the same log (reuse), they spare it the
  // hashes they hold: a log's next batch then computes only what its new leaves add, not up to
  // 255 hashes a tile of the edge again.
  Tiles take_right_edge();
  // Starts from another reader's tiles, as hints: when this reader needs one of those tiles, it
  // still fetches it, and keeps the hint's hashes only if they begin the tile it fetched (then
  // it computes just the nodes above the rest). A hint from another log, or from a batch that
  // failed, is expanded afresh: a wrong hint costs time, never a wrong hash.
  void reuse(Tiles tiles);

 private:
  Result<const Expanded*> tile(int level, uint64_t index);

  uint64_t size_;
  TileFetch fetch_;
  Tiles cache_;  // fetched and expanded for this tree
  Tiles hints_;  // from reuse(), not checked yet
};

}  // namespace hb::ledger
