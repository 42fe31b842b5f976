#include "crypto/p256_table.h"

#include <gmp.h>
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

// P-256 as OpenSSL names it, with G's table built in. Read-only once made, shared by all threads,
// and never freed: a thread may still verify while the process exits.
const EC_GROUP* curve() {
  static const EC_GROUP* const group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  if (!group) ossl::fatal("making the P-256 group");
  return group;
}

// A GMP integer with room for the product of two numbers below n, freed with its owner.
class Mpz {
 public:
  Mpz() { mpz_init2(z_, 2 * 256 + 64); }
  ~Mpz() { mpz_clear(z_); }
  Mpz(const Mpz&) = delete;
  Mpz& operator=(const Mpz&) = delete;
  mpz_ptr get() { return z_; }
  mpz_srcptr get() const { return z_; }

 private:
  mpz_t z_;
};

// A number of the curve's, for GMP, set once and never freed (as curve()).
struct Constant {
  explicit Constant(const char* hex) { mpz_set_str(value.get(), hex, 16); }
  Mpz value;
};

// P-256's group order n.
mpz_srcptr order() {
  static const Constant* const n =
      new Constant("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  return n->value.get();
}

// P-256's field prime p.
mpz_srcptr prime() {
  static const Constant* const p =
      new Constant("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
  return p->value.get();
}

// Each thread's working numbers and points, so a verification allocates nothing.
struct Scratch {
  BnCtx ctx{BN_CTX_new()};
  ossl::Bn u1{BN_new()}, u2{BN_new()}, x{BN_new()}, z{BN_new()};
  Point p1{EC_POINT_new(curve())}, p2{EC_POINT_new(curve())};
  Mpz zr, zs, ze, zw, zt, zx, zz;
  bool complete() const { return ctx && u1 && u2 && x && z && p1 && p2; }
};

// 32 big-endian bytes into z.
void import32(mpz_ptr z, const char* bytes) { mpz_import(z, 32, 1, 1, 1, 0, bytes); }

// A BIGNUM below 2^256 into z.
bool from_bn(const BIGNUM* bn, mpz_ptr z) {
  char bytes[32];
  if (BN_bn2binpad(bn, ossl::u8(bytes), sizeof bytes) != 32) return false;
  import32(z, bytes);
  return true;
}

// z (below n) into a BIGNUM.
bool to_bn(mpz_srcptr z, BIGNUM* bn) {
  unsigned char bytes[32];
  std::size_t count = 0;
  mpz_export(bytes, &count, 1, 1, 1, 0, z);
  return BN_bin2bn(bytes, static_cast<int>(count), bn) != nullptr;
}

// This thread's scratch, or nullptr if OpenSSL could not allocate it (tried again next time; GMP
// aborts the process when out of memory, as the standard library's new throws).
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
  BN_CTX* ctx = t->ctx.get();
  BIGNUM *u1 = t->u1.get(), *u2 = t->u2.get(), *x = t->x.get(), *z = t->z.get();
  EC_POINT *p1 = t->p1.get(), *p2 = t->p2.get();
  // An OpenSSL call that fails here has run out of memory: no verdict, the caller goes plain.
  auto failed = [] {
    ossl::clear_errors();
    return std::nullopt;
  };
  // FIPS 186-5 6.4.2: r and s in [1, n-1]; e is the digest as an integer (P-256's n has 256 bits,
  // so all of it); w = s^-1, u1 = e*w, u2 = r*w (mod n); R = u1*G + u2*Q must not be the point at
  // infinity, and R's x mod n must equal r.
  //
  // The scalars are GMP's work: its inverse takes ~2 µs where BN_mod_inverse takes ~22 µs, over a
  // third of a verification with a table (OpenSSL's own ECDSA code inverts with P-256 assembly
  // that it does not export). Neither is constant-time, and neither need be: a signature, its
  // digest and the public key are all public.
  mpz_ptr zr = t->zr.get(), zs = t->zs.get(), ze = t->ze.get(), zw = t->zw.get(), zt = t->zt.get();
  const mpz_srcptr zn = order();
  import32(zr, rs.data());
  import32(zs, rs.data() + 32);
  import32(ze, digest.data());
  if (mpz_sgn(zr) == 0 || mpz_sgn(zs) == 0 || mpz_cmp(zr, zn) >= 0 || mpz_cmp(zs, zn) >= 0) {
    return false;
  }
  if (mpz_invert(zw, zs, zn) == 0) return false;  // n is prime: every s in [1, n-1] has one
  mpz_mul(zt, ze, zw);
  mpz_mod(zt, zt, zn);
  if (!to_bn(zt, u1)) return failed();
  mpz_mul(zt, zr, zw);
  mpz_mod(zt, zt, zn);
  if (!to_bn(zt, u2)) return failed();
  // u1 is 0 only for a digest that is a multiple of n; 0*G is the point at infinity.
  const bool u1g = BN_is_zero(u1) ? EC_POINT_set_to_infinity(base, p1) == 1
                                  : EC_POINT_mul(base, p1, u1, nullptr, nullptr, ctx) == 1;
  if (!u1g || EC_POINT_mul(group_, p2, u2, nullptr, nullptr, ctx) != 1 ||
      EC_POINT_add(base, p1, p1, p2, ctx) != 1) {
    return failed();
  }
  if (EC_POINT_is_at_infinity(base, p1) == 1) return false;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // no replacement in OpenSSL 3
  const bool jacobian = EC_POINT_get_Jprojective_coordinates_GFp(base, p1, x, nullptr, z, ctx) == 1;
#pragma GCC diagnostic pop
  // R's affine x is X/Z^2 for its Jacobian coordinates, and lies in [0, p); p < 2n, so x mod n = r
  // means x = r or x = r + n (possible only when r + n < p). Checking X = r*Z^2 (mod p), and then
  // X = (r+n)*Z^2, costs a few multiplications where the affine x costs a field inversion (this
  // took a tenth off `healthbook verify`'s time on one core).
  mpz_ptr zx = t->zx.get(), zz = t->zz.get();
  if (!jacobian || !from_bn(x, zx) || !from_bn(z, zz)) return failed();
  const mpz_srcptr zp = prime();
  mpz_mod(zx, zx, zp);  // OpenSSL's coordinates are reduced already; cheap to be sure
  mpz_mod(zz, zz, zp);
  // Z = 0 is the point at infinity, refused above; should it ever come back otherwise, X = r*0
  // must not pass for X = 0.
  if (mpz_sgn(zz) == 0) return false;
  mpz_mul(zz, zz, zz);
  mpz_mod(zz, zz, zp);  // Z^2
  mpz_mul(zt, zr, zz);
  mpz_mod(zt, zt, zp);
  if (mpz_cmp(zt, zx) == 0) return true;
  mpz_add(zr, zr, zn);  // r + n
  if (mpz_cmp(zr, zp) >= 0) return false;
  mpz_mul(zt, zr, zz);
  mpz_mod(zt, zt, zp);
  return mpz_cmp(zt, zx) == 0;
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
