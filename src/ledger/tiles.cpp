#include "ledger/tiles.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/utf8.h"

namespace hb::ledger {
namespace {

// Hashes at level `level` (complete subtrees of height 8 * level) in a tree of `size` leaves.
uint64_t hashes_at_level(int level, uint64_t size) {
  int shift = kTileHeight * level;
  return shift >= 64 ? 0 : size >> shift;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal with no leading zeroes ("0" itself allowed), no sign, within [lo, hi].
bool parse_small_decimal(std::string_view s, uint64_t lo, uint64_t hi, uint64_t& out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= lo && out <= hi;
}

Status bad_path(std::string_view path, const char* why) {
  return invalid("not a tlog-tiles path \"" + utf8_prefix(path, 200) + "\": " + why);
}

}  // namespace

std::string encode_tile_index(uint64_t n) {
  std::vector<unsigned> groups;
  do {
    groups.push_back(static_cast<unsigned>(n % 1000));
    n /= 1000;
  } while (n > 0);
  std::string out;
  for (std::size_t i = groups.size(); i-- > 0;) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%s%03u", i > 0 ? "x" : "", groups[i]);
    out += buf;
    if (i > 0) out += '/';
  }
  return out;
}

std::string tile_path(const TileId& id) {
  std::string out = "tile/";
  out += id.level == kEntriesLevel ? std::string("entries") : std::to_string(id.level);
  out += '/';
  out += encode_tile_index(id.index);
  if (!id.full()) out += ".p/" + std::to_string(id.width);
  return out;
}

Result<TileId> parse_tile_path(std::string_view path) {
  constexpr std::string_view kPrefix = "tile/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return bad_path(path, "must start with tile/");
  std::string_view rest = path.substr(kPrefix.size());
  TileId id;
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad_path(path, "no tile index");
  std::string_view level = rest.substr(0, slash);
  rest = rest.substr(slash + 1);
  if (level == "entries") {
    id.level = kEntriesLevel;
  } else {
    uint64_t l = 0;
    if (!parse_small_decimal(level, 0, 63, l)) return bad_path(path, "bad level");
    id.level = static_cast<int>(l);
  }
  // Optional partial suffix ".p/<W>" after the last index group.
  if (std::size_t p = rest.find(".p/"); p != std::string_view::npos) {
    uint64_t w = 0;
    if (!parse_small_decimal(rest.substr(p + 3), 1, kTileWidth - 1, w)) {
      return bad_path(path, "bad partial width");
    }
    id.width = static_cast<uint32_t>(w);
    rest = rest.substr(0, p);
  }
  // Index groups: "xDDD/" * k then "DDD"; no leading all-zero group.
  uint64_t n = 0;
  bool first = true;
  while (true) {
    bool last = rest.size() == 3;
    if (!last && (rest.size() < 5 || rest[0] != 'x' || rest[4] != '/')) {
      return bad_path(path, "bad index group");
    }
    std::string_view digits = last ? rest : rest.substr(1, 3);
    if (!is_digit(digits[0]) || !is_digit(digits[1]) || !is_digit(digits[2])) {
      return bad_path(path, "index groups are three digits");
    }
    unsigned g = (digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0');
    if (first && !last && g == 0) return bad_path(path, "leading zero index group");
    if (n > (UINT64_MAX - g) / 1000) return bad_path(path, "index overflows 64 bits");
    n = n * 1000 + g;
    first = false;
    if (last) break;
    rest = rest.substr(5);
  }
  id.index = n;
  return id;
}

bool is_log_path(std::string_view path) {
  return path == "checkpoint" || parse_tile_path(path).is_ok();
}

uint32_t tile_width(int level, uint64_t index, uint64_t size) {
  uint64_t count = hashes_at_level(level == kEntriesLevel ? 0 : level, size);
  if (index >= count / kTileWidth + 1) return 0;
  uint64_t before = index * kTileWidth;
  if (count <= before) return 0;
  uint64_t w = count - before;
  return w >= kTileWidth ? kTileWidth : static_cast<uint32_t>(w);
}

std::vector<TileId> changed_tiles(uint64_t old_size, uint64_t new_size) {
  std::vector<TileId> out;
  for (int level = 0; level < 8; ++level) {
    uint64_t c_old = hashes_at_level(level, old_size), c_new = hashes_at_level(level, new_size);
    if (c_new <= c_old) break;  // nothing new here, so nothing new above either
    for (uint64_t n = c_old / kTileWidth; n <= (c_new - 1) / kTileWidth; ++n) {
      out.push_back(TileId{level, n, tile_width(level, n, new_size)});
    }
  }
  return out;
}

Result<std::vector<Hash>> parse_tile(std::string_view data, uint32_t width) {
  if (width == 0 || width > kTileWidth) return invalid("tile width must be 1..256");
  if (data.size() != std::size_t{width} * kHashSize) {
    return invalid("tile of width " + std::to_string(width) + " must be " +
                   std::to_string(width * kHashSize) + " bytes, got " +
                   std::to_string(data.size()));
  }
  std::vector<Hash> out;
  out.reserve(width);
  for (uint32_t i = 0; i < width; ++i) out.emplace_back(data.substr(i * kHashSize, kHashSize));
  return out;
}

Result<std::vector<std::string>> parse_entry_bundle(std::string_view data, uint32_t width) {
  if (width == 0 || width > kTileWidth) return invalid("entry bundle width must be 1..256");
  std::vector<std::string> out;
  out.reserve(width);
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (out.size() == width) {
      return invalid("entry bundle has bytes after its " + std::to_string(width) + " entries");
    }
    if (data.size() - pos < 2) return invalid("entry bundle ends inside a length prefix");
    std::size_t len =
        (static_cast<unsigned char>(data[pos]) << 8) | static_cast<unsigned char>(data[pos + 1]);
    pos += 2;
    if (data.size() - pos < len) {
      return invalid("entry " + std::to_string(out.size()) + " runs past the end of the bundle");
    }
    out.emplace_back(data.substr(pos, len));
    pos += len;
  }
  if (out.size() != width) {
    return invalid("entry bundle has " + std::to_string(out.size()) + " entries, expected " +
                   std::to_string(width));
  }
  return out;
}

Status append_bundle_entry(std::string& bundle, std::string_view entry) {
  if (entry.size() > kMaxEntrySize) {
    return invalid("log entries are at most 65535 bytes, got " + std::to_string(entry.size()));
  }
  bundle.push_back(static_cast<char>(entry.size() >> 8));
  bundle.push_back(static_cast<char>(entry.size() & 0xff));
  bundle.append(entry);
  return Status::ok();
}

Result<std::string> prefix_of_full(TileReader& reader, const TileId& id) {
  TileId full = id;
  full.width = kTileWidth;
  auto whole = reader.read(tile_path(full));
  if (!whole) return whole.status();
  if (id.full()) return whole;
  if (id.level == kEntriesLevel) {
    auto entries = parse_entry_bundle(*whole, kTileWidth);
    if (!entries) return entries.status();
    std::string prefix;
    for (uint32_t i = 0; i < id.width; ++i)
      HB_RETURN_IF_ERROR(append_bundle_entry(prefix, (*entries)[i]));
    return prefix;
  }
  if (whole->size() != kTileWidth * kHashSize)
    return invalid(tile_path(full) + ": not a full tile");
  return whole->substr(0, std::size_t{id.width} * kHashSize);
}

TileFetch fetch_from(TileReader& reader) {
  return [&reader](const TileId& id) -> Result<std::string> {
    auto got = reader.read(tile_path(id));
    if (got.is_ok() || id.full() || got.status().code() != Code::kNotFound) return got;
    return prefix_of_full(reader, id);
  };
}

Result<const TileHashReader::Expanded*> TileHashReader::tile(int level, uint64_t index) {
  auto key = std::make_pair(level, index);
  if (auto it = cache_.find(key); it != cache_.end()) return &it->second;
  uint32_t width = tile_width(level, index, size_);
  if (width == 0) {
    return not_found("tile " + std::to_string(level) + "/" + std::to_string(index) +
                     " does not exist at tree size " + std::to_string(size_));
  }
  TileId id{level, index, width};
  HB_ASSIGN_OR_RETURN(std::string data, fetch_(id));
  auto hashes = parse_tile(data, width);
  if (!hashes)
    return Status(hashes.status().code(), tile_path(id) + ": " + hashes.status().message());
  // An expansion handed over by reuse() stands if its hashes begin this tile: the nodes above them
  // are then the same, and only those above the tile's other hashes are computed.
  Expanded e;
  auto hint = hints_.find(key);
  if (hint != hints_.end() && hint->second.sub.size() == kTileHeight &&
      hint->second.sub[0].size() <= width &&
      std::equal(hint->second.sub[0].begin(), hint->second.sub[0].end(), hashes->begin())) {
    e = std::move(hint->second);
  } else {
    e.sub.assign(kTileHeight, {});
  }
  if (hint != hints_.end()) hints_.erase(hint);
  e.sub[0] = std::move(hashes).value();
  for (int s = 1; s < kTileHeight; ++s) {
    const auto& below = e.sub[s - 1];
    auto& up = e.sub[s];
    up.reserve(below.size() / 2);
    for (std::size_t j = up.size(); 2 * j + 1 < below.size(); ++j) {
      up.push_back(node_hash(below[2 * j], below[2 * j + 1]));
    }
  }
  return &cache_.emplace(key, std::move(e)).first->second;
}

TileHashReader::Tiles TileHashReader::take_right_edge() {
  Tiles edge;
  for (int level = 0; level < 8; ++level) {
    const uint64_t count = hashes_at_level(level, size_);
    if (count == 0) break;
    auto it = cache_.find({level, (count - 1) / kTileWidth});
    if (it != cache_.end()) edge.insert(cache_.extract(it));
  }
  return edge;
}

void TileHashReader::reuse(Tiles tiles) { hints_ = std::move(tiles); }

Result<Hash> TileHashReader::node(int level, uint64_t index) {
  if (level < 0 || level >= 64) return invalid("subtree level out of range");
  int tile_level = level / kTileHeight;
  int s = level % kTileHeight;
  int per_tile_shift = kTileHeight - s;  // nodes of height s in one tile: 2^(8 - s)
  uint64_t tile_index = index >> per_tile_shift;
  uint64_t j = index & ((uint64_t{1} << per_tile_shift) - 1);
  HB_ASSIGN_OR_RETURN(const Expanded* t, tile(tile_level, tile_index));
  if (j >= t->sub[s].size()) {
    return not_found("subtree " + std::to_string(level) + "/" + std::to_string(index) +
                     " is not complete at tree size " + std::to_string(size_));
  }
  return t->sub[s][j];
}

}  // namespace hb::ledger
