// Asymmetric keys: JWK import/export, PEM, JOSE signing and verification.
//
// JOSE wants ECDSA signatures as fixed-length r||s; OpenSSL speaks DER. The conversion lives here
// and is strict both ways: verification accepts only exactly 2*n bytes, so a DER signature (or any
// other length) is refused before OpenSSL sees it.
#include "crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <array>
#include <cstring>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/keys_internal.h"
#include "crypto/openssl_util.h"
#include "crypto/p256_table.h"

namespace hb::crypto {
namespace {

using ClearBn = ossl::Owned<BIGNUM, BN_clear_free>;

constexpr int kMinRsaBits = 2048;
// Far above any real key; bounds the cost an outside JWK can make us pay per verification.
constexpr int kMaxRsaBits = 8192;
// OpenSSL refuses public exponents over 64 bits for large moduli; real keys use 65537.
constexpr std::size_t kMaxRsaExponentBytes = 8;

// The members that make a JWK private (RFC 7518 section 6; "k" is a symmetric key).
constexpr std::array<const char*, 8> kPrivateMembers = {"d",  "p",  "q",   "dp",
                                                        "dq", "qi", "oth", "k"};

struct AlgInfo {
  KeyType type;
  const EVP_MD* (*md)();  // nullptr for EdDSA, which hashes internally
};

std::optional<AlgInfo> alg_info(std::string_view alg) {
  if (alg == "ES256") return AlgInfo{KeyType::kEcP256, EVP_sha256};
  if (alg == "ES384") return AlgInfo{KeyType::kEcP384, EVP_sha384};
  if (alg == "RS256") return AlgInfo{KeyType::kRsa, EVP_sha256};
  if (alg == "RS384") return AlgInfo{KeyType::kRsa, EVP_sha384};
  if (alg == "EdDSA") return AlgInfo{KeyType::kEd25519, nullptr};
  return std::nullopt;
}

const char* type_name(KeyType t) {
  switch (t) {
    case KeyType::kEcP256:
      return "EC P-256";
    case KeyType::kEcP384:
      return "EC P-384";
    case KeyType::kRsa:
      return "RSA";
    case KeyType::kEd25519:
      return "Ed25519";
  }
  return "unknown";
}

// Byte length of a field element (and of r and s) for the EC curves we support.
std::size_t ec_coord_len(KeyType t) { return t == KeyType::kEcP384 ? 48 : 32; }
bool is_ec(KeyType t) { return t == KeyType::kEcP256 || t == KeyType::kEcP384; }

Status jwk_problem(const std::string& member, const std::string& message) {
  std::string msg = "invalid JWK: ";
  msg += member.empty() ? message : member + ": " + message;
  return Status(Code::kInvalid, std::move(msg), {Problem{member, message, "value"}});
}

// A required base64url member, decoded.
Result<std::string> b64_member(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end()) return jwk_problem(name, "required member missing");
  if (!it->is_string()) return jwk_problem(name, "must be a string");
  auto bytes = base64url_decode(it->get_ref<const std::string&>());
  if (!bytes) return jwk_problem(name, bytes.error().message());
  return std::move(bytes).value();
}

Result<std::string> string_member(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end()) return jwk_problem(name, "required member missing");
  if (!it->is_string()) return jwk_problem(name, "must be a string");
  return it->get<std::string>();
}

std::shared_ptr<evp_pkey_st> share(ossl::Pkey key) {
  return std::shared_ptr<evp_pkey_st>(key.release(), EVP_PKEY_free);
}

Result<ossl::Pkey> pkey_from_params(const char* type, OSSL_PARAM_BLD* bld, int selection) {
  ossl::Params params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
    ossl::clear_errors();
    return invalid("key material rejected");
  }
  return ossl::Pkey(raw);
}

Result<PublicKey> ec_from_jwk(const Json& jwk) {
  HB_ASSIGN_OR_RETURN(std::string crv, string_member(jwk, "crv"));
  KeyType type;
  const char* group;
  if (crv == "P-256") {
    type = KeyType::kEcP256;
    group = "prime256v1";
  } else if (crv == "P-384") {
    type = KeyType::kEcP384;
    group = "secp384r1";
  } else {
    return jwk_problem("crv", "unsupported curve \"" + crv + "\"");
  }
  std::size_t n = ec_coord_len(type);
  HB_ASSIGN_OR_RETURN(std::string x, b64_member(jwk, "x"));
  HB_ASSIGN_OR_RETURN(std::string y, b64_member(jwk, "y"));
  if (x.size() != n) return jwk_problem("x", "must be " + std::to_string(n) + " bytes for " + crv);
  if (y.size() != n) return jwk_problem("y", "must be " + std::to_string(n) + " bytes for " + crv);

  std::string point = "\x04" + x + y;  // SEC 1 uncompressed point
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    ossl::clear_errors();
    return internal("cannot build EC key parameters");
  }
  auto key = pkey_from_params("EC", bld.get(), EVP_PKEY_PUBLIC_KEY);
  if (!key) return jwk_problem("x", "not a point on " + crv);
  // Import already decodes the point; the explicit check also rules out the point at infinity and
  // points outside the prime-order subgroup.
  ossl::PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ossl::clear_errors();
    return jwk_problem("x", "not a valid public point on " + crv);
  }
  return PublicKey(share(std::move(key).value()), type);
}

Result<PublicKey> rsa_from_jwk(const Json& jwk) {
  HB_ASSIGN_OR_RETURN(std::string n, b64_member(jwk, "n"));
  HB_ASSIGN_OR_RETURN(std::string e, b64_member(jwk, "e"));
  // Base64urlUInt (RFC 7518 section 2): minimal octets, so the thumbprint of a key is unique.
  if (n.empty() || n[0] == '\0') return jwk_problem("n", "must be a minimal unsigned integer");
  if (e.empty() || e[0] == '\0') return jwk_problem("e", "must be a minimal unsigned integer");
  if (e.size() > kMaxRsaExponentBytes) return jwk_problem("e", "public exponent too large");

  ossl::Bn bn_n(BN_bin2bn(ossl::u8(n.data()), static_cast<int>(n.size()), nullptr));
  ossl::Bn bn_e(BN_bin2bn(ossl::u8(e.data()), static_cast<int>(e.size()), nullptr));
  if (!bn_n || !bn_e) return internal("out of memory");
  int bits = BN_num_bits(bn_n.get());
  if (bits < kMinRsaBits) {
    return jwk_problem("n", "RSA modulus of " + std::to_string(bits) + " bits is under 2048");
  }
  if (bits > kMaxRsaBits) return jwk_problem("n", "RSA modulus over 8192 bits");
  if (!BN_is_odd(bn_n.get())) return jwk_problem("n", "RSA modulus must be odd");
  if (!BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get())) {
    return jwk_problem("e", "public exponent must be odd and greater than 1");
  }

  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    ossl::clear_errors();
    return internal("cannot build RSA key parameters");
  }
  auto key = pkey_from_params("RSA", bld.get(), EVP_PKEY_PUBLIC_KEY);
  if (!key) return jwk_problem("n", "RSA key rejected");
  return PublicKey(share(std::move(key).value()), KeyType::kRsa);
}

Result<PublicKey> okp_from_jwk(const Json& jwk) {
  HB_ASSIGN_OR_RETURN(std::string crv, string_member(jwk, "crv"));
  if (crv != "Ed25519") return jwk_problem("crv", "unsupported OKP curve \"" + crv + "\"");
  HB_ASSIGN_OR_RETURN(std::string x, b64_member(jwk, "x"));
  if (x.size() != 32) return jwk_problem("x", "must be 32 bytes for Ed25519");
  // The analogue of the EC on-curve check: a canonical encoding of a point in the prime-order
  // subgroup. Small-order points (the identity among them) would let a trivial signature verify
  // every message, and OpenSSL does not refuse them on import or verify.
  static const bool sodium_ready = sodium_init() >= 0;
  if (!sodium_ready) return internal("libsodium failed to initialise");
  if (crypto_core_ed25519_is_valid_point(ossl::u8(x.data())) != 1) {
    return jwk_problem("x", "not a valid Ed25519 public key (small order or not canonical)");
  }
  ossl::Pkey key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, ossl::u8(x.data()), x.size()));
  if (!key) {
    ossl::clear_errors();
    return jwk_problem("x", "Ed25519 key rejected");
  }
  return PublicKey(share(std::move(key)), KeyType::kEd25519);
}

// A big-endian integer parameter of `key`, minimal (pad == 0) or left-padded to `pad` bytes.
std::string bn_param(const EVP_PKEY* key, const char* name, std::size_t pad = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) ossl::fatal("reading a key parameter");
  ClearBn bn(raw);
  std::size_t len = pad != 0 ? pad : static_cast<std::size_t>(BN_num_bytes(bn.get()));
  std::string out(len, '\0');
  int written = pad != 0 ? BN_bn2binpad(bn.get(), ossl::u8(out.data()), static_cast<int>(len))
                         : BN_bn2bin(bn.get(), ossl::u8(out.data()));
  if (written < 0 || static_cast<std::size_t>(written) != len)
    ossl::fatal("encoding a key parameter");
  return out;
}

// Stores `bytes` base64url-encoded under `name`, then wipes the plain copy (it may be secret).
void put_b64(Json& j, const char* name, std::string bytes) {
  j[name] = base64url_encode(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
}

Json public_jwk(const EVP_PKEY* key, KeyType type) {
  Json j = Json::object();
  switch (type) {
    case KeyType::kEcP256:
    case KeyType::kEcP384: {
      std::size_t n = ec_coord_len(type);
      j["kty"] = "EC";
      j["crv"] = type == KeyType::kEcP256 ? "P-256" : "P-384";
      put_b64(j, "x", bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, n));
      put_b64(j, "y", bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, n));
      break;
    }
    case KeyType::kRsa:
      j["kty"] = "RSA";
      put_b64(j, "n", bn_param(key, OSSL_PKEY_PARAM_RSA_N));
      put_b64(j, "e", bn_param(key, OSSL_PKEY_PARAM_RSA_E));
      break;
    case KeyType::kEd25519: {
      std::string x(32, '\0');
      std::size_t len = x.size();
      if (EVP_PKEY_get_raw_public_key(key, ossl::u8(x.data()), &len) != 1 || len != 32) {
        ossl::fatal("reading an Ed25519 public key");
      }
      j["kty"] = "OKP";
      j["crv"] = "Ed25519";
      put_b64(j, "x", std::move(x));
      break;
    }
  }
  return j;
}

// JOSE r||s (each exactly n bytes) to DER, for OpenSSL: SEQUENCE { INTEGER r, INTEGER s }, each
// INTEGER minimal (leading zero bytes dropped, one 0x00 put back when the top bit is set, zero as
// one 0x00 byte), which is what i2d_ECDSA_SIG writes. Built by hand: going through BIGNUMs and
// ECDSA_SIG cost a few allocations per verified card. n is at most 48 (P-384), so every length
// fits the one-byte form.
std::string rs_to_der(std::string_view rs, std::size_t n) {
  auto integer = [](std::string_view v, std::string& out) {
    std::size_t skip = 0;
    while (skip + 1 < v.size() && v[skip] == 0) ++skip;
    v.remove_prefix(skip);
    const bool pad = (static_cast<unsigned char>(v[0]) & 0x80) != 0;
    out += '\x02';
    out += static_cast<char>(v.size() + (pad ? 1 : 0));
    if (pad) out += '\0';
    out.append(v);
  };
  std::string body;
  body.reserve(2 * n + 6);
  integer(rs.substr(0, n), body);
  integer(rs.substr(n, n), body);
  std::string der;
  der.reserve(body.size() + 2);
  der += '\x30';
  der += static_cast<char>(body.size());
  der += body;
  return der;
}

// DER (from OpenSSL) to JOSE r||s.
Result<std::string> der_to_rs(std::string_view der, std::size_t n) {
  const unsigned char* p = ossl::u8(der.data());
  ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) {
    ossl::clear_errors();
    return internal("cannot decode ECDSA signature");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * n, '\0');
  if (BN_bn2binpad(r, ossl::u8(out.data()), static_cast<int>(n)) != static_cast<int>(n) ||
      BN_bn2binpad(s, ossl::u8(out.data() + n), static_cast<int>(n)) != static_cast<int>(n)) {
    return internal("ECDSA signature component too large");
  }
  return out;
}

Result<KeyType> classify(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) {
      ossl::clear_errors();
      return invalid("EC key without a named curve");
    }
    std::string_view g(group, len);
    if (g == "prime256v1" || g == "P-256") return KeyType::kEcP256;
    if (g == "secp384r1" || g == "P-384") return KeyType::kEcP384;
    return invalid("unsupported EC curve " + std::string(g));
  }
  if (EVP_PKEY_is_a(key, "RSA")) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits)
      return invalid("RSA key of " + std::to_string(bits) + " bits is under 2048");
    if (bits > kMaxRsaBits) return invalid("RSA key over 8192 bits");
    return KeyType::kRsa;
  }
  if (EVP_PKEY_is_a(key, "ED25519")) return KeyType::kEd25519;
  return invalid("unsupported key type");
}

// OpenSSL may ask for a passphrase while decoding PEM; we never have one to give.
int no_passphrase(char*, int, int, void*) { return -1; }

// ES256, the algorithm of every health card, signed and verified as SHA-256 (hash.cpp keeps a
// context per thread) and then the digest against a context kept per thread and key.
// EVP_DigestSign and EVP_DigestVerify made and freed a context per call and fetched both
// algorithms from the provider store each time, under a lock. The operations are the same:
// OpenSSL's ECDSA of the SHA-256 digest (a fresh nonce each signature); on verification the DER is
// parsed strictly (re-encoded and compared) and the digest length held to SHA-256's.
class Es256Contexts {
 public:
  // `init` is EVP_PKEY_sign_init or EVP_PKEY_verify_init.
  explicit Es256Contexts(int (*init)(EVP_PKEY_CTX*)) : init_(init) {}

  // A context ready for the operation with this key, or nullptr if OpenSSL cannot make one.
  EVP_PKEY_CTX* get(EVP_PKEY* key) {
    for (const Entry& e : entries_) {
      if (e.key == key) return e.ctx.get();
    }
    // A thread meets few keys; one that met many starts afresh.
    if (entries_.size() >= kMaxKeys) entries_.clear();
    ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    if (!ctx || init_(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
      ossl::clear_errors();
      return nullptr;
    }
    entries_.push_back({key, std::move(ctx)});
    return entries_.back().ctx.get();
  }

 private:
  static constexpr std::size_t kMaxKeys = 16;
  // The context holds a reference on its key, so the key outlives the entry and its address
  // cannot come back as another key's while the entry exists.
  struct Entry {
    EVP_PKEY* key;
    ossl::PkeyCtx ctx;
  };
  int (*init_)(EVP_PKEY_CTX*);
  std::vector<Entry> entries_;
};

Status verify_es256(EVP_PKEY* key, std::string_view digest, std::string_view der) {
  thread_local Es256Contexts contexts(EVP_PKEY_verify_init);
  EVP_PKEY_CTX* ctx = contexts.get(key);
  if (!ctx) return internal("cannot set up ECDSA verification");
  if (EVP_PKEY_verify(ctx, ossl::u8(der.data()), der.size(), ossl::u8(digest.data()),
                      digest.size()) != 1) {
    ossl::clear_errors();
    return unauthorized("signature does not verify");
  }
  return Status::ok();
}

// The DER-encoded ECDSA signature of SHA-256(signing_input).
Result<std::string> sign_es256(EVP_PKEY* key, std::string_view signing_input) {
  thread_local Es256Contexts contexts(EVP_PKEY_sign_init);
  EVP_PKEY_CTX* ctx = contexts.get(key);
  if (!ctx) return internal("cannot set up ECDSA signing");
  const std::string digest = sha256(signing_input);
  std::size_t len = 0;
  if (EVP_PKEY_sign(ctx, nullptr, &len, ossl::u8(digest.data()), digest.size()) != 1) {
    ossl::clear_errors();
    return internal("signing failed");
  }
  std::string der(len, '\0');
  if (EVP_PKEY_sign(ctx, ossl::u8(der.data()), &len, ossl::u8(digest.data()), digest.size()) != 1) {
    ossl::clear_errors();
    return internal("signing failed");
  }
  der.resize(len);
  return der;
}

}  // namespace

namespace detail {
std::optional<KeyType> key_type_for_alg(std::string_view alg) {
  auto info = alg_info(alg);
  if (!info) return std::nullopt;
  return info->type;
}

Result<PublicKey> public_key_from_pkey(evp_pkey_st* owned) {
  ossl::Pkey key(owned);
  if (!key) return invalid("no public key");
  HB_ASSIGN_OR_RETURN(KeyType type, classify(key.get()));
  return PublicKey(share(std::move(key)), type);
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// PublicKey

PublicKey::PublicKey(std::shared_ptr<evp_pkey_st> key, KeyType type)
    : key_(std::move(key)), type_(type) {
  if (type_ != KeyType::kEcP256) return;
  std::array<unsigned char, 65> point;
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                      point.size(), &len) != 1 ||
      len != point.size()) {
    ossl::clear_errors();  // no slot: the key verifies the plain way
    return;
  }
  p256_ = detail::KeyTableSlot::for_point(
      std::string_view(reinterpret_cast<const char*>(point.data()), len));
}

Result<PublicKey> PublicKey::from_jwk(const Json& jwk) {
  try {
    if (!jwk.is_object()) return jwk_problem("", "a JWK must be a JSON object");
    for (const char* m : kPrivateMembers) {
      if (jwk.contains(m)) return jwk_problem(m, "private key member in a public JWK");
    }
    HB_ASSIGN_OR_RETURN(std::string kty, string_member(jwk, "kty"));
    if (kty == "EC") return ec_from_jwk(jwk);
    if (kty == "RSA") return rsa_from_jwk(jwk);
    if (kty == "OKP") return okp_from_jwk(jwk);
    return jwk_problem("kty", "unsupported key type \"" + kty + "\"");
  } catch (const std::exception& e) {
    return internal(std::string("JWK import failed: ") + e.what());
  }
}

Status PublicKey::verify(std::string_view alg, std::string_view signing_input,
                         std::string_view signature) const {
  auto info = alg_info(alg);
  if (!info) return unauthorized("unsupported JWS alg \"" + std::string(alg) + "\"");
  if (info->type != type_) {
    return unauthorized("alg " + std::string(alg) + " does not fit a " + type_name(type_) + " key");
  }
  std::string der;
  std::string_view sig = signature;
  if (is_ec(type_)) {
    std::size_t n = ec_coord_len(type_);
    if (signature.size() != 2 * n) {
      return unauthorized(std::string(alg) + " signature must be " + std::to_string(2 * n) +
                          " bytes (r||s), got " + std::to_string(signature.size()));
    }
    if (type_ == KeyType::kEcP256) {
      const std::string digest = sha256(signing_input);
      if (const detail::P256KeyTable* table = p256_ ? p256_->use() : nullptr) {
        if (std::optional<bool> valid = table->verify(digest, signature)) {
          if (*valid) return Status::ok();
          return unauthorized("signature does not verify");
        }
      }
      return verify_es256(key_.get(), digest, rs_to_der(signature, n));
    }
    der = rs_to_der(signature, n);
    sig = der;
  } else if (type_ == KeyType::kEd25519) {
    if (signature.size() != 64) return unauthorized("EdDSA signature must be 64 bytes");
  } else if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key_.get()))) {
    return unauthorized("RSA signature length does not match the modulus");
  }

  ossl::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return internal("out of memory");
  const EVP_MD* md = info->md ? info->md() : nullptr;
  bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), ossl::u8(sig.data()), sig.size(),
                             ossl::u8(signing_input.data()), signing_input.size()) == 1;
  if (!ok) {
    ossl::clear_errors();
    return unauthorized("signature does not verify");
  }
  return Status::ok();
}

Json PublicKey::to_jwk() const { return public_jwk(key_.get(), type_); }

std::string PublicKey::thumbprint() const {
  // RFC 7638: the required members only, lexicographic order, no whitespace. Json objects keep
  // their keys sorted, and every value is plain ASCII, so the compact dump is the canonical form.
  return base64url_encode(sha256(dump_json(to_jwk())));
}

// ---------------------------------------------------------------------------------------------
// PrivateKey

Result<PrivateKey> PrivateKey::generate(KeyType type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::kEcP256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcP384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kRsa:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{3072});
      break;
    case KeyType::kEd25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  ossl::Pkey key(raw);
  if (!key) {
    ossl::clear_errors();
    return internal("key generation failed");
  }
  return PrivateKey(share(std::move(key)), type);
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  constexpr std::size_t kMaxPem = 64 * 1024;
  if (pem.size() > kMaxPem) return invalid("PEM too large");
  if (pem.find("-----BEGIN PRIVATE KEY-----") == std::string_view::npos) {
    return invalid("expected an unencrypted PKCS#8 PEM private key (BEGIN PRIVATE KEY)");
  }
  ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return internal("out of memory");
  ossl::Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    ossl::clear_errors();
    return invalid("PEM private key could not be decoded");
  }
  HB_ASSIGN_OR_RETURN(KeyType type, classify(key.get()));
  return PrivateKey(share(std::move(key)), type);
}

std::string PrivateKey::to_pem() const {
  // A secure-memory BIO is wiped when freed, so no copy of the key lingers in the heap.
  ossl::Bio bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    ossl::fatal("writing a private key as PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) ossl::fatal("reading PEM output");
  return std::string(data, static_cast<std::size_t>(len));
}

Json PrivateKey::to_private_jwk() const {
  Json j = public_jwk(key_.get(), type_);
  switch (type_) {
    case KeyType::kEcP256:
    case KeyType::kEcP384:
      // RFC 7518 section 6.2.2.1: "d" is padded to the size of the curve order.
      put_b64(j, "d", bn_param(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY, ec_coord_len(type_)));
      break;
    case KeyType::kRsa:
      put_b64(j, "d", bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_D));
      put_b64(j, "p", bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_FACTOR1));
      put_b64(j, "q", bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_FACTOR2));
      put_b64(j, "dp", bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1));
      put_b64(j, "dq", bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2));
      put_b64(j, "qi", bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
      break;
    case KeyType::kEd25519: {
      std::string d(32, '\0');
      std::size_t len = d.size();
      if (EVP_PKEY_get_raw_private_key(key_.get(), ossl::u8(d.data()), &len) != 1 || len != 32) {
        ossl::fatal("reading an Ed25519 private key");
      }
      put_b64(j, "d", std::move(d));
      break;
    }
  }
  return j;
}

std::string PrivateKey::default_alg() const {
  switch (type_) {
    case KeyType::kEcP256:
      return "ES256";
    case KeyType::kEcP384:
      return "ES384";
    case KeyType::kRsa:
      return "RS384";
    case KeyType::kEd25519:
      return "EdDSA";
  }
  return {};
}

Result<std::string> PrivateKey::sign(std::string_view alg, std::string_view data) const {
  auto info = alg_info(alg);
  if (!info) return invalid("unsupported JWS alg \"" + std::string(alg) + "\"");
  if (info->type != type_) {
    return invalid("alg " + std::string(alg) + " does not fit a " + type_name(type_) + " key");
  }
  if (type_ == KeyType::kEcP256) {
    HB_ASSIGN_OR_RETURN(std::string der, sign_es256(key_.get(), data));
    return der_to_rs(der, ec_coord_len(type_));
  }
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return internal("out of memory");
  const EVP_MD* md = info->md ? info->md() : nullptr;
  std::size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, ossl::u8(data.data()), data.size()) != 1) {
    ossl::clear_errors();
    return internal("signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), ossl::u8(sig.data()), &len, ossl::u8(data.data()), data.size()) !=
      1) {
    ossl::clear_errors();
    return internal("signing failed");
  }
  sig.resize(len);
  if (is_ec(type_)) return der_to_rs(sig, ec_coord_len(type_));
  return sig;
}

PublicKey PrivateKey::public_key() const {
  // Re-encode the public half alone, so a PublicKey never holds private material.
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  ossl::Bytes owner(der);
  if (len <= 0) ossl::fatal("encoding a public key");
  const unsigned char* p = der;
  ossl::Pkey pub(d2i_PUBKEY(nullptr, &p, len));
  if (!pub) ossl::fatal("decoding a public key");
  return PublicKey(share(std::move(pub)), type_);
}

}  // namespace hb::crypto
