#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

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

namespace {

constexpr std::size_t kBlock = 64;  // SHA-256's block size

// The HMAC key's block (RFC 2104: a key longer than a block is hashed first, a shorter one padded
// with zeros) XOR `pad`.
std::string padded_key(std::string_view key, unsigned char pad) {
  std::string block = key.size() > kBlock ? sha256(key) : std::string(key);
  block.resize(kBlock, '\0');
  for (char& c : block) c = static_cast<char>(static_cast<unsigned char>(c) ^ pad);
  return block;
}

void digest_init(EVP_MD_CTX* ctx, std::string_view first) {
  if (EVP_DigestInit_ex2(ctx, sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, first.data(), first.size()) != 1) {
    ossl::fatal("hmac_sha256: init");
  }
}

// ctx holds the padded key's state: hashes `data` into it and writes the 32-byte digest to out.
void digest_finish(EVP_MD_CTX* ctx, std::string_view data, char* out) {
  unsigned int len = 0;
  if (EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, ossl::u8(out), &len) != 1 || len != 32) {
    ossl::fatal("hmac_sha256");
  }
}

}  // namespace

// OpenSSL's digest (SHA-NI where the CPU has it) with the algorithm fetched once: libsodium's
// portable SHA-256 took 660 ns an HMAC of a blind-index value here, and EVP_Q_mac fetches the
// algorithm from its provider on every call.
std::string hmac_sha256(std::string_view key, std::string_view data) {
  thread_local ossl::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) ossl::fatal("hmac_sha256: context");
  std::string ipad = padded_key(key, 0x36);
  std::string opad = padded_key(key, 0x5c);
  std::string out(32, '\0');
  digest_init(ctx.get(), ipad);
  digest_finish(ctx.get(), data, out.data());
  digest_init(ctx.get(), opad);
  digest_finish(ctx.get(), std::string(out), out.data());
  OPENSSL_cleanse(ipad.data(), ipad.size());
  OPENSSL_cleanse(opad.data(), opad.size());
  return out;
}

struct HmacSha256::States {
  ossl::MdCtx inner{EVP_MD_CTX_new()};  // after the key's ipad block
  ossl::MdCtx outer{EVP_MD_CTX_new()};  // after the key's opad block
};

HmacSha256::HmacSha256(std::string_view key) {
  auto states = std::make_shared<States>();
  if (!states->inner || !states->outer) ossl::fatal("hmac_sha256: context");
  std::string ipad = padded_key(key, 0x36);
  std::string opad = padded_key(key, 0x5c);
  digest_init(states->inner.get(), ipad);
  digest_init(states->outer.get(), opad);
  OPENSSL_cleanse(ipad.data(), ipad.size());
  OPENSSL_cleanse(opad.data(), opad.size());
  s_ = std::move(states);
}

std::string HmacSha256::mac(std::string_view data) const {
  // EVP_MD_CTX_copy_ex only reads its source, so threads share the two keyed states.
  thread_local ossl::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) ossl::fatal("hmac_sha256: context");
  char inner[32];
  std::string out(32, '\0');
  if (EVP_MD_CTX_copy_ex(ctx.get(), s_->inner.get()) != 1) ossl::fatal("hmac_sha256: copy");
  digest_finish(ctx.get(), data, inner);
  if (EVP_MD_CTX_copy_ex(ctx.get(), s_->outer.get()) != 1) ossl::fatal("hmac_sha256: copy");
  digest_finish(ctx.get(), std::string_view(inner, sizeof inner), out.data());
  OPENSSL_cleanse(inner, sizeof inner);
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
