#include "crypto/p256_table.h"

#include <openssl/evp.h>
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
  bool complete() const { return ctx && r && s && e && w && u1 && u2 && x && p1 && p2; }
};

// This thread's scratch, or nullptr if it could not be allocated (tried again next time).
Scratch* scratch() {
  thread_local std::unique_ptr<Scratch> mine;
  if (!mine) {
    auto fresh = std::make_unique<Scratch>();
    if (!fresh->complete()) {
      ossl::clear_errors();
      return nullptr;
    }
    mine = std::move(fresh);
  }
  return mine.get();
}

// OpenSSL 3's P-256 code that uses a fixed-point table for any generator (ecp_nistz256.c) is
// built for these; elsewhere a table would make verification slower, not faster.
#if defined(__x86_64__) || defined(__aarch64__)
constexpr bool kTablesPay = true;
#else
constexpr bool kTablesPay = false;
#endif

std::atomic<int> g_tables{0};

}  // namespace

std::unique_ptr<P256KeyTable> P256KeyTable::build(std::string_view point) {
  if (!kTablesPay || point.size() != 65 || point[0] != '\x04') return nullptr;
  if (EVP_default_properties_is_fips_enabled(nullptr) == 1) return nullptr;
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

std::optional<bool> P256KeyTable::verify(std::string_view digest, std::string_view rs) const {
  if (digest.size() != 32 || rs.size() != 64) return false;
  Scratch* t = scratch();
  if (!t) return std::nullopt;
  const EC_GROUP* base = curve();
  const BIGNUM* n = EC_GROUP_get0_order(base);
  BN_CTX* ctx = t->ctx.get();
  BIGNUM *r = t->r.get(), *s = t->s.get(), *e = t->e.get(), *w = t->w.get(), *u1 = t->u1.get(),
         *u2 = t->u2.get(), *x = t->x.get();
  EC_POINT *p1 = t->p1.get(), *p2 = t->p2.get();
  // An OpenSSL call that fails here has run out of memory: no verdict, the caller goes plain.
  auto failed = [] {
    ossl::clear_errors();
    return std::nullopt;
  };
  if (!BN_bin2bn(ossl::u8(rs.data()), 32, r) || !BN_bin2bn(ossl::u8(rs.data()) + 32, 32, s) ||
      !BN_bin2bn(ossl::u8(digest.data()), 32, e)) {
    return failed();
  }
  // FIPS 186-5 6.4.2: r and s in [1, n-1]; e is the digest as an integer (P-256's n has 256 bits,
  // so all of it); w = s^-1, u1 = e*w, u2 = r*w (mod n); R = u1*G + u2*Q must not be the point at
  // infinity, and R's x mod n must equal r.
  if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, n) >= 0 || BN_cmp(s, n) >= 0) return false;
  if (!BN_mod_inverse(w, s, n, ctx) || BN_mod_mul(u1, e, w, n, ctx) != 1 ||
      BN_mod_mul(u2, r, w, n, ctx) != 1) {
    return failed();
  }
  // u1 is 0 only for a digest that is a multiple of n; 0*G is the point at infinity.
  const bool u1g = BN_is_zero(u1) ? EC_POINT_set_to_infinity(base, p1) == 1
                                  : EC_POINT_mul(base, p1, u1, nullptr, nullptr, ctx) == 1;
  if (!u1g || EC_POINT_mul(group_, p2, u2, nullptr, nullptr, ctx) != 1 ||
      EC_POINT_add(base, p1, p1, p2, ctx) != 1) {
    return failed();
  }
  if (EC_POINT_is_at_infinity(base, p1) == 1) return false;
  if (EC_POINT_get_affine_coordinates(base, p1, x, nullptr, ctx) != 1 ||
      BN_nnmod(x, x, n, ctx) != 1) {
    return failed();
  }
  return BN_cmp(x, r) == 0;
}

KeyTableSlot::KeyTableSlot(std::string point, std::uint32_t build_after)
    : point_(std::move(point)), build_after_(build_after) {}

KeyTableSlot::~KeyTableSlot() {
  if (owned_) g_tables.fetch_sub(1, std::memory_order_relaxed);
}

namespace {

// Every slot, by its key's point.
class Registry {
 public:
  std::shared_ptr<KeyTableSlot> get(std::string_view point) {
    std::lock_guard lock(mu_);
    auto it = slots_.find(std::string(point));
    if (it != slots_.end()) return it->second;
    if (slots_.size() >= KeyTableSlot::kMaxSlots) {
      drop_unheld_locked();
      if (slots_.size() >= KeyTableSlot::kMaxSlots) return nullptr;
    }
    auto slot = std::make_shared<KeyTableSlot>(std::string(point), KeyTableSlot::kBuildAfter);
    slots_.emplace(std::string(point), slot);
    return slot;
  }

  // Drops the slots only the registry holds, and with them their tables. A held slot's count can
  // rise only through get(), under the same lock, so one seen unheld here stays unheld.
  void drop_unheld() {
    std::lock_guard lock(mu_);
    drop_unheld_locked();
  }

 private:
  void drop_unheld_locked() {
    std::erase_if(slots_, [](const auto& entry) { return entry.second.use_count() == 1; });
  }

  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<KeyTableSlot>> slots_;
};

Registry& registry() {
  static Registry r;
  return r;
}

// Takes one of the kMaxTables places, dropping unheld slots to free one if need be.
bool reserve_table() {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (g_tables.fetch_add(1, std::memory_order_relaxed) < KeyTableSlot::kMaxTables) return true;
    g_tables.fetch_sub(1, std::memory_order_relaxed);
    if (attempt == 0) registry().drop_unheld();
  }
  return false;
}

}  // namespace

const P256KeyTable* KeyTableSlot::use() {
  if (const P256KeyTable* table = table_.load(std::memory_order_acquire)) return table;
  if (uses_.fetch_add(1, std::memory_order_relaxed) + 1 < build_after_) return nullptr;
  if (claimed_.exchange(true, std::memory_order_acq_rel)) return nullptr;  // another thread builds
  if (!reserve_table()) {
    // Every place is taken by a key still in use: count again, and try after as many uses.
    uses_.store(0, std::memory_order_relaxed);
    claimed_.store(false, std::memory_order_release);
    return nullptr;
  }
  owned_ = P256KeyTable::build(point_);
  if (!owned_) {
    g_tables.fetch_sub(1, std::memory_order_relaxed);
    return nullptr;  // claimed_ stays set: this point gets no table (see build())
  }
  table_.store(owned_.get(), std::memory_order_release);
  return owned_.get();
}

std::shared_ptr<KeyTableSlot> KeyTableSlot::for_point(std::string_view point) {
  return registry().get(point);
}

}  // namespace hb::crypto::detail
