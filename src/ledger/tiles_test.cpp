#include "ledger/tiles.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "core/url.h"

namespace hb::ledger {
namespace {

TEST(TilePath, EncodesIndexGroups) {
  EXPECT_EQ(encode_tile_index(0), "000");
  EXPECT_EQ(encode_tile_index(67), "067");
  EXPECT_EQ(encode_tile_index(1000), "x001/000");
  EXPECT_EQ(encode_tile_index(1234067), "x001/x234/067");
  EXPECT_EQ(tile_path({0, 1234067, 256}), "tile/0/x001/x234/067");
  EXPECT_EQ(tile_path({2, 5, 17}), "tile/2/005.p/17");
  EXPECT_EQ(tile_path({kEntriesLevel, 1000, 3}), "tile/entries/x001/000.p/3");
}

TEST(TilePath, ParsesExactlyWhatItPrints) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    TileId id{static_cast<int>(rng() % 65) - 1, rng() >> (rng() % 64),
              static_cast<uint32_t>(1 + rng() % 256)};
    auto back = parse_tile_path(tile_path(id));
    ASSERT_TRUE(back.is_ok()) << tile_path(id) << ": " << back.status().to_string();
    EXPECT_EQ(*back, id) << tile_path(id);
  }
  EXPECT_TRUE(parse_tile_path("tile/63/x018/x446/x744/x073/x709/x551/615").is_ok());
}

TEST(TilePath, RejectsNonCanonicalPaths) {
  for (const char* p : {"tile/0/0",
                        "tile/0/0000",
                        "tile/00/000",
                        "tile/64/000",
                        "tile/-1/000",
                        "tile/0/x000/001",
                        "tile/0/001/002",
                        "tile/0/x001",
                        "tile/0/x01/002",
                        "tile/0/000.p/0",
                        "tile/0/000.p/256",
                        "tile/0/000.p/01",
                        "tile/0/000.p/",
                        "tile/0/000/",
                        "/tile/0/000",
                        "tile/0/000.p/3/4",
                        "tile/entries/",
                        "tile/entry/000",
                        "tile/0/x019/x000/x000/x000/x000/x000/000",
                        "tile/0/abc",
                        "tile/0/00a",
                        "tile/+1/000",
                        "tile/0/000.q/3",
                        "checkpoint"}) {
    EXPECT_FALSE(parse_tile_path(p).is_ok()) << p;
  }
  EXPECT_TRUE(is_log_path("checkpoint"));
  EXPECT_FALSE(is_log_path("../checkpoint"));
}

TEST(TilePath, ErrorQuotesWholeCharacters) {
  // A path of 199 bytes and then "ệ" (three bytes): a 200-byte cut would keep half of it.
  auto r = parse_tile_path("tile/0/" + std::string(192, 'a') + "\xe1\xbb\x87" + "/000");
  ASSERT_FALSE(r.is_ok());
  const std::string message = r.error().to_string();
  EXPECT_TRUE(valid_utf8(message)) << message;
  EXPECT_NE(message.find(std::string(192, 'a') + "\xe1\xbb\x87\""), std::string::npos) << message;
}

TEST(TileWidth, FollowsTheSpecExample) {
  // tlog-tiles: size 70,000 -> 273 full level-0 tiles, a partial of width 112, one full level-1
  // tile, a partial level-1 tile of width 17 and a partial level-2 tile of width 1.
  const uint64_t s = 70000;
  EXPECT_EQ(tile_width(0, 272, s), 256u);
  EXPECT_EQ(tile_width(0, 273, s), 112u);
  EXPECT_EQ(tile_width(0, 274, s), 0u);
  EXPECT_EQ(tile_width(1, 0, s), 256u);
  EXPECT_EQ(tile_width(1, 1, s), 17u);
  EXPECT_EQ(tile_width(2, 0, s), 1u);
  EXPECT_EQ(tile_width(3, 0, s), 0u);
  EXPECT_EQ(tile_width(kEntriesLevel, 273, s), 112u);
  // Size 256: one full level-0 tile and a level-1 tile of width 1.
  EXPECT_EQ(tile_width(0, 0, 256), 256u);
  EXPECT_EQ(tile_width(0, 1, 256), 0u);
  EXPECT_EQ(tile_width(1, 0, 256), 1u);
  EXPECT_EQ(tile_width(0, UINT64_MAX, UINT64_MAX), 0u);
}

// All tiles of a tree, by brute force, to check changed_tiles against.
std::map<std::pair<int, uint64_t>, uint32_t> all_tiles(uint64_t size) {
  std::map<std::pair<int, uint64_t>, uint32_t> out;
  for (int l = 0; l < 4; ++l) {
    for (uint64_t n = 0;; ++n) {
      uint32_t w = tile_width(l, n, size);
      if (w == 0) break;
      out[{l, n}] = w;
    }
  }
  return out;
}

TEST(ChangedTiles, AreExactlyTheNewOrWiderTiles) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 300; ++i) {
    uint64_t a = rng() % 70000, b = a + rng() % (i % 3 == 0 ? 600 : 70000);
    auto before = all_tiles(a), after = all_tiles(b);
    std::set<TileId> want;
    for (const auto& [k, w] : after) {
      auto it = before.find(k);
      if (it == before.end() || it->second != w) want.insert(TileId{k.first, k.second, w});
    }
    auto got = changed_tiles(a, b);
    EXPECT_EQ(std::set<TileId>(got.begin(), got.end()), want) << a << " -> " << b;
    EXPECT_EQ(got.size(), want.size());
  }
  EXPECT_TRUE(changed_tiles(5, 5).empty());
}

TEST(TileParse, IsStrict) {
  std::string two(64, 'a');
  EXPECT_TRUE(parse_tile(two, 2).is_ok());
  EXPECT_FALSE(parse_tile(two, 1).is_ok());
  EXPECT_FALSE(parse_tile(two + "a", 2).is_ok());
  EXPECT_FALSE(parse_tile("", 0).is_ok());
  EXPECT_FALSE(parse_tile(std::string(257 * 32, 'a'), 257).is_ok());
}

TEST(EntryBundle, RoundTripsAndIsStrict) {
  std::string b;
  ASSERT_TRUE(append_bundle_entry(b, "one").is_ok());
  ASSERT_TRUE(append_bundle_entry(b, "").is_ok());
  ASSERT_TRUE(append_bundle_entry(b, std::string(65535, 'z')).is_ok());
  EXPECT_FALSE(append_bundle_entry(b, std::string(65536, 'z')).is_ok());
  auto e = parse_entry_bundle(b, 3);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  EXPECT_EQ((*e)[0], "one");
  EXPECT_EQ((*e)[1], "");
  EXPECT_EQ((*e)[2].size(), 65535u);
  EXPECT_FALSE(parse_entry_bundle(b, 2).is_ok());                          // an entry too many
  EXPECT_FALSE(parse_entry_bundle(b, 4).is_ok());                          // an entry short
  EXPECT_FALSE(parse_entry_bundle(b + std::string(1, '\0'), 3).is_ok());   // half a length prefix
  EXPECT_FALSE(parse_entry_bundle(b.substr(0, b.size() - 1), 3).is_ok());  // truncated entry
  EXPECT_FALSE(parse_entry_bundle(std::string("\x00\x01", 2), 1).is_ok());
}

// A map of path -> bytes holding every tile of a MemoryTree, as a log would publish them.
class MapReader : public TileReader {
 public:
  Result<std::string> read(std::string_view path) override {
    auto it = files.find(std::string(path));
    if (it == files.end()) return not_found(std::string(path));
    return it->second;
  }
  std::map<std::string, std::string> files;
};

void publish(const MemoryTree& t, uint64_t old_size, MapReader& out) {
  auto nodes = t.nodes();
  for (const TileId& id : changed_tiles(old_size, t.size())) {
    std::string bytes;
    for (uint32_t i = 0; i < id.width; ++i) {
      bytes += nodes(kTileHeight * id.level, id.index * kTileWidth + i).value();
    }
    out.files[tile_path(id)] = bytes;
  }
}

TEST(TileHashReader, ServesProofsFromTiles) {
  MemoryTree t;
  MapReader tiles;
  std::mt19937_64 rng(3);
  uint64_t published = 0;
  while (t.size() < 70000) {
    uint64_t grow = 1 + rng() % (t.size() < 1000 ? 50 : 9000);
    for (uint64_t i = 0; i < grow; ++i) t.append("e" + std::to_string(t.size()));
    publish(t, published, tiles);
    published = t.size();
    TileHashReader r(t.size(), fetch_from(tiles));
    auto root = r.root();
    ASSERT_TRUE(root.is_ok()) << root.status().to_string();
    EXPECT_EQ(*root, t.root()) << t.size();
    uint64_t idx = rng() % t.size();
    auto p = r.inclusion_proof(idx);
    ASSERT_TRUE(p.is_ok());
    EXPECT_EQ(*p, inclusion_proof(idx, t.size(), t.nodes()).value());
    uint64_t old = rng() % (t.size() + 1);
    auto c = r.consistency_proof(old);
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    EXPECT_EQ(*c, consistency_proof(old, t.size(), t.nodes()).value());
  }
}

// A reader that starts from the last reader's right edge (as a log's batch leader does) answers
// exactly what a fresh one does, as the tree grows by a few leaves or across many tiles; and a
// hint from another tree (other leaves) is expanded afresh, not trusted.
TEST(TileHashReader, ReusingTheLastRightEdgeGivesTheSameHashes) {
  MemoryTree t;
  MemoryTree other;
  MapReader tiles;
  MapReader other_tiles;
  std::mt19937_64 rng(5);
  uint64_t published = 0;
  uint64_t other_published = 0;
  TileHashReader::Tiles edge;
  while (t.size() < 140000) {
    uint64_t grow = 1 + rng() % (t.size() < 2000 ? 40 : 20000);
    for (uint64_t i = 0; i < grow; ++i) t.append("e" + std::to_string(t.size()));
    publish(t, published, tiles);
    published = t.size();
    TileHashReader r(t.size(), fetch_from(tiles));
    r.reuse(std::move(edge));
    auto root = r.root();
    ASSERT_TRUE(root.is_ok()) << root.status().to_string();
    EXPECT_EQ(*root, t.root()) << t.size();
    uint64_t idx = t.size() - 1 - rng() % std::min<uint64_t>(t.size(), 300);
    auto p = r.inclusion_proof(idx);
    ASSERT_TRUE(p.is_ok());
    EXPECT_EQ(*p, inclusion_proof(idx, t.size(), t.nodes()).value());
    edge = r.take_right_edge();
    EXPECT_FALSE(edge.empty());

    // The same shape of tree with other leaves: its edge is a wrong hint for t's next reader.
    while (other.size() < t.size()) other.append("x" + std::to_string(other.size()));
    publish(other, other_published, other_tiles);
    other_published = other.size();
    TileHashReader o(other.size(), fetch_from(other_tiles));
    ASSERT_TRUE(o.root().is_ok());
    TileHashReader wrong(t.size(), fetch_from(tiles));
    wrong.reuse(o.take_right_edge());
    EXPECT_EQ(wrong.root().value(), t.root()) << t.size();
  }
}

TEST(TileHashReader, FallsBackToFullTileWhenPartialIsGone) {
  MemoryTree t;
  MapReader tiles;
  for (int i = 0; i < 10; ++i) t.append("a" + std::to_string(i));
  publish(t, 0, tiles);
  Hash root10 = t.root();
  for (int i = 10; i < 300; ++i) t.append("a" + std::to_string(i));
  publish(t, 10, tiles);
  tiles.files.erase("tile/0/000.p/10");
  TileHashReader r(10, fetch_from(tiles));
  auto root = r.root();
  ASSERT_TRUE(root.is_ok()) << root.status().to_string();
  EXPECT_EQ(*root, root10);
}

}  // namespace
}  // namespace hb::ledger
