#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <sodium.h>

#include "crypto/encoding.h"
#include "crypto/openssl_util.h"

namespace hb::crypto {

namespace {

// OpenSSL 3 looks EVP_sha256() up in its provider store (under a lock) on every EVP_Digest, and
// allocates a context each time: half the cost of hashing 64 bytes (the Merkle tree's node hash).
// The algorithm is fetched once for the process and each thread keeps one context.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) ossl::fatal("sha256: fetch");
  return md;
}

}  // namespace

std::string sha256(std::string_view data) {
  thread_local ossl::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) ossl::fatal("sha256: context");
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx.get(), sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), ossl::u8(out.data()), &len) != 1 || len != 32) {
    ossl::fatal("sha256");
  }
  return out;
}

std::string sha256_hex(std::string_view data) { return hex_encode(sha256(data)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  // libsodium's HMAC: OpenSSL 3's EVP_Q_mac fetches the algorithm from its provider on every call,
  // which cost more than the hash itself on the blind-index path (one per identifier written).
  static const bool sodium_ready = sodium_init() >= 0;
  if (!sodium_ready) ossl::fatal("hmac_sha256: libsodium did not initialise");
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_state st;
  if (crypto_auth_hmacsha256_init(&st, ossl::u8(key.data()), key.size()) != 0 ||
      crypto_auth_hmacsha256_update(&st, ossl::u8(data.data()), data.size()) != 0 ||
      crypto_auth_hmacsha256_final(&st, ossl::u8(out.data())) != 0) {
    ossl::fatal("hmac_sha256");
  }
  sodium_memzero(&st, sizeof st);
  return out;
}

std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                        std::size_t length) {
  if (length == 0) return {};
  if (length > 255 * 32) ossl::fatal("hkdf_sha256: output longer than 255 blocks");
  ossl::Kdf kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) ossl::fatal("hkdf_sha256: fetch");
  ossl::KdfCtx ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) ossl::fatal("hkdf_sha256: context");

  // OSSL_PARAM wants non-const pointers; OpenSSL copies the bytes and never writes through them.
  std::string ikm_copy(ikm), salt_copy(salt), info_copy(info);
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] =
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_copy.data(), ikm_copy.size());
  // An absent salt means "HashLen zero bytes" (RFC 5869 section 2.2), which OpenSSL applies itself.
  if (!salt_copy.empty()) {
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_copy.data(), salt_copy.size());
  }
  params[n++] =
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_copy.data(), info_copy.size());
  params[n] = OSSL_PARAM_construct_end();

  std::string out(length, '\0');
  if (EVP_KDF_derive(ctx.get(), ossl::u8(out.data()), out.size(), params) != 1) {
    ossl::fatal("hkdf_sha256: derive");
  }
  OPENSSL_cleanse(ikm_copy.data(), ikm_copy.size());
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace hb::crypto
