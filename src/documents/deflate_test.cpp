#include "documents/deflate.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hb::documents {
namespace {

// zlib's best compression with its full window and hash table: what deflate_raw produced before
// it sized the window to the input.
std::string deflate_full_window(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Card-like text: a FHIR Bundle's keys and values, varied by a small PRNG.
std::string card_like(std::size_t n, uint32_t seed) {
  static const char* words[] = {"{\"resourceType\":\"Patient\",", "\"name\":[{\"family\":\"", "Nguyen",
                                "\"given\":[\"", "Mai\"]}],", "\"birthDate\":\"1990-04-12\",",
                                "\"fullUrl\":\"resource:0\",", "{\"attachment\":{\"contentType\":",
                                "\"text/plain\",\"title\":\"Medical certificate\"}}",
                                "\"period\":{\"start\":\"2026-11-20\",\"end\":\"2026-11-22\"}"};
  std::string s;
  uint32_t x = seed;
  while (s.size() < n) {
    x = x * 1664525u + 1013904223u;
    s += words[(x >> 16) % 10];
    s += std::to_string(x % 1000);
  }
  s.resize(n);
  return s;
}

TEST(Deflate, TheWindowSizedToTheInputGivesTheSameBytes) {
  for (std::size_t n : {0, 1, 200, 600, 887, 1200, 2000, 3800, 7000}) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      const std::string data = card_like(n, seed);
      auto d = deflate_raw(data);
      ASSERT_TRUE(d.is_ok()) << n;
      EXPECT_EQ(*d, deflate_full_window(data)) << n << " bytes, seed " << seed;
      auto back = inflate_raw(*d);
      ASSERT_TRUE(back.is_ok());
      EXPECT_EQ(*back, data);
    }
  }
}

TEST(Deflate, LargeInputsRoundTrip) {
  const std::string data = card_like(200000, 7);
  auto d = deflate_raw(data);
  ASSERT_TRUE(d.is_ok());
  EXPECT_LT(d->size(), data.size() / 4);
  auto back = inflate_raw(*d);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, data);
}

// zlib's verdict on a raw DEFLATE stream: the inflated bytes, or nothing when zlib refuses it
// (corrupt, truncated, or with bytes after the final block).
std::optional<std::string> zlib_inflate_whole(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -15), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const bool whole = rc == Z_STREAM_END && z.avail_in == 0;
  out.resize(z.total_out);
  inflateEnd(&z);
  if (!whole) return std::nullopt;
  return out;
}

// inflate_raw is libdeflate's; a card must be accepted or refused the same as by zlib (the
// inflater of most other verifiers), with the same bytes. Damaged card payloads: single bit
// flips, cut ends, and bytes appended, over many seeds.
TEST(Deflate, AgreesWithZlibOnDamagedStreams) {
  int accepted = 0;
  int refused = 0;
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    const std::string data = card_like(300 + 37 * seed, seed);
    auto d = deflate_raw(data);
    ASSERT_TRUE(d.is_ok());
    std::vector<std::string> damaged;
    for (std::size_t bit = seed % 7; bit < d->size() * 8; bit += 23) {
      std::string x = *d;
      x[bit / 8] = static_cast<char>(x[bit / 8] ^ (1 << (bit % 8)));
      damaged.push_back(std::move(x));
    }
    for (std::size_t cut = 1; cut < 4 && cut < d->size(); ++cut) {
      damaged.push_back(d->substr(0, d->size() - cut));
    }
    damaged.push_back(*d + std::string(1, static_cast<char>(seed)));
    for (const std::string& x : damaged) {
      const auto ours = inflate_raw(x);
      const auto theirs = zlib_inflate_whole(x);
      ASSERT_EQ(ours.is_ok(), theirs.has_value()) << "seed " << seed;
      if (theirs) {
        EXPECT_EQ(*ours, *theirs);
        ++accepted;
      } else {
        EXPECT_EQ(ours.error().code(), Code::kInvalid);
        ++refused;
      }
    }
  }
  // Both kinds were tried: damage that still decodes (a flipped literal) and damage that does not.
  EXPECT_GT(accepted, 100);
  EXPECT_GT(refused, 100);
}

}  // namespace
}  // namespace hb::documents
