#include "crypto/p256_table.h"

#include <openssl/obj_mac.h>

#include <mutex>
#include <unordered_map>

#include "crypto/openssl_util.h"

namespace hb::crypto::detail {
namespace {

using Group = ossl::Owned<EC_GROUP, EC_GROUP_free>;
using Point = ossl::Owned<EC_POINT, EC_POINT_free>;
using BnCtx = ossl::Owned<BN_CTX, BN_CTX_free>;

// P-256 as OpenSSL names it, with G's table built in. Read-only once made, shared by all threads.
const EC_GROUP* curve() {
  static const Group group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  if (!group) ossl::fatal("making the P-256 group");
  return group.get();
}

// Each thread's working numbers and points, so a verification allocates nothing.
struct Scratch {
  BnCtx ctx{BN_CTX_new()};
  ossl::Bn r{BN_new()}, s{BN_new()}, e{BN_new()}, w{BN_new()}, u1{BN_new()}, u2{BN_new()},
      x{BN_new()};
  Point p1{EC_POINT_new(curve())}, p2{EC_POINT_new(curve())};
  Scratch() {
    if (!ctx || !r || !s || !e || !w || !u1 || !u2 || !x || !p1 || !p2) {
      ossl::fatal("allocating ECDSA scratch");
    }
  }
};

std::atomic<int> g_tables{0};

}  // namespace

std::unique_ptr<P256KeyTable> P256KeyTable::build(std::string_view point) {
  if (point.size() != 65 || point[0] != '\x04') return nullptr;
  const EC_GROUP* base = curve();
  BnCtx ctx(BN_CTX_new());
  Point q(EC_POINT_new(base));
  Group group(EC_GROUP_dup(base));
  // oct2point refuses a point off the curve; the key's point generates the whole group (P-256 has
  // prime order and cofactor 1), so it is a generator of the same order.
  bool ok =
      ctx && q && group &&
      EC_POINT_oct2point(base, q.get(), ossl::u8(point.data()), point.size(), ctx.get()) == 1 &&
      EC_POINT_is_at_infinity(base, q.get()) == 0 &&
      EC_GROUP_set_generator(group.get(), q.get(), EC_GROUP_get0_order(base),
                             EC_GROUP_get0_cofactor(base)) == 1;
  if (ok) {
    // No longer the named curve: nothing may take this group's generator for G's.
    EC_GROUP_set_curve_name(group.get(), NID_undef);
    // Deprecated in OpenSSL 3 with no replacement; it is the only way to have OpenSSL build a
    // fixed-point table for a point other than G.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    ok = EC_GROUP_precompute_mult(group.get(), ctx.get()) == 1 &&
         EC_GROUP_have_precompute_mult(group.get()) == 1;
#pragma GCC diagnostic pop
  }
  if (!ok) {
    ossl::clear_errors();
    return nullptr;
  }
  return std::unique_ptr<P256KeyTable>(new P256KeyTable(group.release()));
}

P256KeyTable::~P256KeyTable() { EC_GROUP_free(group_); }

bool P256KeyTable::verify(std::string_view digest, std::string_view rs) const {
  if (digest.size() != 32 || rs.size() != 64) return false;
  thread_local Scratch t;
  const EC_GROUP* base = curve();
  const BIGNUM* n = EC_GROUP_get0_order(base);
  BN_CTX* ctx = t.ctx.get();
  BN_bin2bn(ossl::u8(rs.data()), 32, t.r.get());
  BN_bin2bn(ossl::u8(rs.data()) + 32, 32, t.s.get());
  // FIPS 186-5 6.4.2: r and s in [1, n-1]; e is the digest as an integer (P-256's n has 256 bits,
  // so all of it); w = s^-1, u1 = e*w, u2 = r*w (mod n); R = u1*G + u2*Q must not be the point at
  // infinity, and R's x mod n must equal r.
  if (BN_is_zero(t.r.get()) || BN_is_zero(t.s.get()) || BN_cmp(t.r.get(), n) >= 0 ||
      BN_cmp(t.s.get(), n) >= 0) {
    return false;
  }
  BN_bin2bn(ossl::u8(digest.data()), 32, t.e.get());
  bool ok = BN_mod_inverse(t.w.get(), t.s.get(), n, ctx) != nullptr &&
            BN_mod_mul(t.u1.get(), t.e.get(), t.w.get(), n, ctx) == 1 &&
            BN_mod_mul(t.u2.get(), t.r.get(), t.w.get(), n, ctx) == 1;
  // u1 is 0 only for a digest that is a multiple of n; 0*G is the point at infinity.
  ok = ok && (BN_is_zero(t.u1.get())
                  ? EC_POINT_set_to_infinity(base, t.p1.get()) == 1
                  : EC_POINT_mul(base, t.p1.get(), t.u1.get(), nullptr, nullptr, ctx) == 1);
  ok = ok && EC_POINT_mul(group_, t.p2.get(), t.u2.get(), nullptr, nullptr, ctx) == 1 &&
       EC_POINT_add(base, t.p1.get(), t.p1.get(), t.p2.get(), ctx) == 1 &&
       EC_POINT_is_at_infinity(base, t.p1.get()) == 0 &&
       EC_POINT_get_affine_coordinates(base, t.p1.get(), t.x.get(), nullptr, ctx) == 1 &&
       BN_nnmod(t.x.get(), t.x.get(), n, ctx) == 1 && BN_cmp(t.x.get(), t.r.get()) == 0;
  if (!ok) ossl::clear_errors();
  return ok;
}

KeyTableSlot::KeyTableSlot(std::string point, std::uint32_t build_after)
    : point_(std::move(point)), build_after_(build_after) {}

KeyTableSlot::~KeyTableSlot() {
  if (owned_) g_tables.fetch_sub(1, std::memory_order_relaxed);
}

const P256KeyTable* KeyTableSlot::use() {
  if (const P256KeyTable* table = table_.load(std::memory_order_acquire)) return table;
  if (uses_.fetch_add(1, std::memory_order_relaxed) + 1 < build_after_) return nullptr;
  if (claimed_.exchange(true, std::memory_order_acq_rel)) return nullptr;  // another thread builds
  if (g_tables.fetch_add(1, std::memory_order_relaxed) >= kMaxTables) {
    g_tables.fetch_sub(1, std::memory_order_relaxed);
    return nullptr;  // claimed_ stays set: this key goes on without a table
  }
  owned_ = P256KeyTable::build(point_);
  if (!owned_) {
    g_tables.fetch_sub(1, std::memory_order_relaxed);
    return nullptr;
  }
  table_.store(owned_.get(), std::memory_order_release);
  return owned_.get();
}

std::shared_ptr<KeyTableSlot> KeyTableSlot::for_point(std::string_view point) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<KeyTableSlot>> slots;
  std::lock_guard lock(mu);
  auto it = slots.find(std::string(point));
  if (it != slots.end()) return it->second;
  if (slots.size() >= kMaxSlots) {
    std::erase_if(slots, [](const auto& entry) { return entry.second.use_count() == 1; });
    if (slots.size() >= kMaxSlots) return nullptr;
  }
  auto slot = std::make_shared<KeyTableSlot>(std::string(point), kBuildAfter);
  slots.emplace(std::string(point), slot);
  return slot;
}

}  // namespace hb::crypto::detail
