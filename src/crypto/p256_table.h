// Private to src/crypto: ES256 verification with the public key's multiples precomputed.
//
// An ECDSA P-256 verification computes u1*G + u2*Q. OpenSSL keeps a table of the base point G's
// multiples, so u1*G is a few dozen point additions; u2*Q, against a key it has not seen before,
// takes 256 doublings and about three quarters of the verification's time (52 of 71 µs on our
// machine). A verifier that meets the same few issuer keys again and again (the server's
// /api/v1/verify, `healthbook verify` over a file of cards) can give each key the table OpenSSL
// gives G: OpenSSL builds it (EC_GROUP_precompute_mult on a copy of the curve whose generator is
// the key), and EC_POINT_mul uses it. The curve arithmetic stays OpenSSL's; the scalars (s's
// inverse, u1 and u2, mod n) and the final check (R's x against r, done on R's Jacobian
// coordinates, with no field inversion) are GMP's, as FIPS 186-5 section 6.4.2 says them. A table
// costs ~150 KB and ~30 ms to build, so a key earns one only after many verifications
// (KeyTableSlot), and the tables are few (kMaxTables).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct ec_group_st;  // OpenSSL's EC_GROUP

namespace hb::crypto::detail {

// One P-256 public key with its table.
class P256KeyTable {
 public:
  // `point` is the key's uncompressed SEC1 encoding (0x04 || X || Y, 65 bytes). nullptr when the
  // point is not on the curve, when OpenSSL cannot build the table, when OpenSSL runs in FIPS mode
  // (verification must then stay inside the provider), and on machines where OpenSSL has no
  // P-256 code that uses such a table (its nistz256 code, built for x86-64 and ARM64; elsewhere
  // EC_POINT_mul would ignore the table and take the constant-time ladder, which is slower).
  static std::unique_ptr<P256KeyTable> build(std::string_view point);
  ~P256KeyTable();
  P256KeyTable(const P256KeyTable&) = delete;
  P256KeyTable& operator=(const P256KeyTable&) = delete;

  // Whether `rs` (r || s, 32 bytes each, big-endian) is a valid ECDSA signature of `digest` (the
  // 32-byte SHA-256 of the message) under this key; any other length is not. nullopt when OpenSSL
  // could not do the arithmetic (out of memory): the caller verifies the plain way. Safe to call
  // from many threads at once.
  std::optional<bool> verify(std::string_view digest, std::string_view rs) const;

 private:
  explicit P256KeyTable(ec_group_st* group) : group_(group) {}
  ec_group_st* group_;  // owned: P-256 with the key as generator and its multiples precomputed
};

// What the verifications of one public key share, across the PublicKey copies that hold it and
// across key sets parsed again from the same JWKs: a count of uses, and the table once the key has
// been used often enough to pay for it.
class KeyTableSlot {
 public:
  // The slot of the key with this uncompressed point, shared by every PublicKey of that point.
  // The registry holds at most kMaxSlots; when full it drops the slots no key holds any more, and
  // if none can go the key gets no slot (nullptr) and verifies the plain way.
  static std::shared_ptr<KeyTableSlot> for_point(std::string_view point);

  // Builds the table on the use that crosses `build_after`. With kMaxTables built, the slots no
  // key holds any more are dropped first; if that frees none, the count starts again.
  KeyTableSlot(std::string point, std::uint32_t build_after);
  ~KeyTableSlot();
  KeyTableSlot(const KeyTableSlot&) = delete;
  KeyTableSlot& operator=(const KeyTableSlot&) = delete;

  // Counts one use. The table if this key has one, nullptr otherwise (the caller verifies the plain
  // way). The use that crosses the threshold builds the table on the calling thread; uses on other
  // threads meanwhile go on without it.
  const P256KeyTable* use();

  // Tables cost ~30 ms each to build; a key verified ~800 times has saved that much.
  static constexpr std::uint32_t kBuildAfter = 1024;
  static constexpr std::size_t kMaxSlots = 4096;
  static constexpr int kMaxTables = 64;  // ~10 MB

 private:
  const std::string point_;
  const std::uint32_t build_after_;
  std::atomic<std::uint32_t> uses_{0};
  std::atomic<const P256KeyTable*> table_{nullptr};  // published once built; owned by owned_
  std::atomic<bool> claimed_{false};                 // one thread builds
  std::unique_ptr<P256KeyTable> owned_;
};

}  // namespace hb::crypto::detail
