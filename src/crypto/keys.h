// Asymmetric keys and JOSE: JWK / JWK Set parsing, compact JWS parsing, signing and verifying.
//
// Algorithms: ES256, ES384 (ECDSA P-256/P-384 with SHA-256/384, JOSE r||s signatures),
// RS384 and RS256 (RSASSA-PKCS1-v1_5), EdDSA (Ed25519). A key verifies only the algorithm that fits
// its type and curve; anything else is refused (no "alg":"none", no HMAC with public keys).
//
// Thread-safety: PublicKey and PrivateKey are immutable after construction and safe to use from
// many threads at once (OpenSSL contexts are kept per thread; what a P-256 key's copies share, its
// verification count and table, is atomic).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace hb::crypto {
namespace detail {
class KeyTableSlot;
}

enum class KeyType { kEcP256, kEcP384, kRsa, kEd25519 };

class PublicKey {
 public:
  // Parses a public JWK (kty EC with crv P-256/P-384, RSA with n/e >= 2048 bits, OKP Ed25519).
  // Private members ("d", "p", ...) are refused: a public key set must not carry secrets.
  static Result<PublicKey> from_jwk(const Json& jwk);

  KeyType type() const { return type_; }
  // Verifies a JOSE signature for `alg` ("ES256", "ES384", "RS256", "RS384", "EdDSA").
  // kUnauthorized with a reason on any mismatch: wrong alg for the key, bad length, bad signature.
  Status verify(std::string_view alg, std::string_view signing_input,
                std::string_view signature) const;
  // The public JWK (members in canonical order, no kid/alg/use).
  Json to_jwk() const;
  // RFC 7638 JWK thumbprint: base64url(SHA-256(canonical JWK)).
  std::string thumbprint() const;

  // Internal: takes ownership of an EVP_PKEY.
  PublicKey(std::shared_ptr<evp_pkey_st> key, KeyType type);

 private:
  std::shared_ptr<evp_pkey_st> key_;
  KeyType type_;
  // P-256 keys only: the key's verification count and, once it has earned one, its table of
  // multiples (p256_table.h), shared with every other PublicKey of the same point.
  std::shared_ptr<detail::KeyTableSlot> p256_;
};

class PrivateKey {
 public:
  static Result<PrivateKey> generate(KeyType type);
  static Result<PrivateKey> from_pem(std::string_view pem);  // PKCS#8 PEM
  std::string to_pem() const;                                // PKCS#8 PEM
  // A private JWK (includes "d"); for tests and for handing keys to test clients.
  Json to_private_jwk() const;

  KeyType type() const { return type_; }
  // The JOSE alg this key signs with by default: ES256, ES384, RS384 or EdDSA.
  std::string default_alg() const;
  // Signs and returns the JOSE-format signature (r||s for ECDSA, raw for Ed25519).
  Result<std::string> sign(std::string_view alg, std::string_view data) const;
  PublicKey public_key() const;

  PrivateKey(std::shared_ptr<evp_pkey_st> key, KeyType type) : key_(std::move(key)), type_(type) {}

 private:
  std::shared_ptr<evp_pkey_st> key_;
  KeyType type_;
};

struct X5c;  // crypto/x509.h

struct Jwk {
  std::string kid;   // may be empty
  std::string alg;   // may be empty
  std::string use;   // may be empty
  PublicKey key;
  std::string thumbprint;  // RFC 7638, worked out once when the set is parsed
  // The "x5c" certificate chain, parsed, when the JWK has one (null otherwise). A malformed x5c
  // does not make the key or the set unusable: what a bad chain means is for the caller to decide
  // (a SMART Health Card verifier refuses cards under that key), so the problem is kept in it.
  std::shared_ptr<const X5c> x5c;
};

// A JWK Set ({"keys":[...]}). Keys that cannot be used (unknown kty, private members, bad curve)
// make parse() fail with every problem listed, rather than being silently skipped.
class JwkSet {
 public:
  static Result<JwkSet> parse(std::string_view json_text);
  static Result<JwkSet> from_json(const Json& j);
  const std::vector<Jwk>& keys() const { return keys_; }
  // Keys with this kid (an empty kid matches keys without one).
  std::vector<const Jwk*> find(std::string_view kid) const;

 private:
  std::vector<Jwk> keys_;
};

// A compact JWS (header.payload.signature) split and decoded, not yet verified.
struct CompactJws {
  Json header;
  std::string alg;
  std::string kid;
  std::string payload;        // decoded bytes
  std::string signing_input;  // "<b64 header>.<b64 payload>" as received
  std::string signature;      // decoded bytes
};

// Strict parse: three base64url parts, header a JSON object with a string "alg" (not "none"),
// total length at most max_len. Errors are kInvalid with the reason.
Result<CompactJws> parse_compact_jws(std::string_view text, std::size_t max_len = 16 * 1024);

// Signs header (alg and kid set by the caller, or alg defaulted from the key) and payload.
Result<std::string> sign_compact_jws(const PrivateKey& key, Json header, std::string_view payload);

// Verifies the JWS against the first key in the set whose kid matches and whose type fits the alg.
// kUnauthorized when no key matches the kid or the signature does not verify.
Status verify_compact_jws(const CompactJws& jws, const JwkSet& keys);

}  // namespace hb::crypto
