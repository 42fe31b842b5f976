// libFuzzer target, differential: ES256 verification with a key's precomputed table
// (crypto/p256_table.h, which composes OpenSSL's point arithmetic itself) against OpenSSL's own
// ECDSA verification (EVP_PKEY_verify) of the same digest and signature under the same key.
// The two must agree on every input; a disagreement aborts.
//
// Input: a 32-byte digest, then up to 64 bytes. With the first input byte even, the rest is an XOR
// mask over a true signature of the digest (so a short input, or a mask of zeros, is a valid
// signature, and the fuzzer explores the signatures around it); with it odd, the rest is the
// signature itself (r || s, zero-padded to 64 bytes).
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "crypto/openssl_util.h"
#include "crypto/p256_table.h"

namespace {

using namespace hb::crypto;

struct Fixture {
  ossl::Pkey key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  ossl::PkeyCtx sign{nullptr}, verify{nullptr};
  std::unique_ptr<detail::P256KeyTable> table;

  Fixture() {
    std::array<unsigned char, 65> point;
    std::size_t len = 0;
    if (!key ||
        EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size(), &len) != 1) {
      std::abort();
    }
    table = detail::P256KeyTable::build(
        std::string(reinterpret_cast<const char*>(point.data()), len));
    sign.reset(EVP_PKEY_CTX_new(key.get(), nullptr));
    verify.reset(EVP_PKEY_CTX_new(key.get(), nullptr));
    if (!table || !sign || !verify || EVP_PKEY_sign_init(sign.get()) != 1 ||
        EVP_PKEY_verify_init(verify.get()) != 1) {
      std::abort();
    }
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

// r || s of a true signature of `digest`.
std::string sign(const Fixture& f, const std::string& digest) {
  std::array<unsigned char, 80> der;
  std::size_t len = der.size();
  if (EVP_PKEY_sign(f.sign.get(), der.data(), &len, ossl::u8(digest.data()), 32) != 1) std::abort();
  const unsigned char* p = der.data();
  ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string rs(64, '\0');
  BN_bn2binpad(r, ossl::u8(rs.data()), 32);
  BN_bn2binpad(s, ossl::u8(rs.data()) + 32, 32);
  return rs;
}

bool openssl_verifies(const Fixture& f, const std::string& digest, const std::string& rs) {
  ossl::EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(ossl::u8(rs.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(ossl::u8(rs.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) std::abort();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  ossl::Bytes owner(der);
  if (len <= 0) std::abort();
  const bool ok = EVP_PKEY_verify(f.verify.get(), der, static_cast<std::size_t>(len),
                                  ossl::u8(digest.data()), 32) == 1;
  ossl::clear_errors();
  return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 32) return 0;
  const Fixture& f = fixture();
  const std::string digest(reinterpret_cast<const char*>(data), 32);
  const uint8_t* rest = data + 32;
  const std::size_t rest_size = std::min<std::size_t>(size - 32, 64);
  std::string rs;
  if ((data[0] & 1) == 0) {
    rs = sign(f, digest);
    for (std::size_t i = 0; i < rest_size; ++i) rs[i] = static_cast<char>(rs[i] ^ rest[i]);
  } else {
    rs.assign(64, '\0');
    for (std::size_t i = 0; i < rest_size; ++i) rs[i] = static_cast<char>(rest[i]);
  }
  const std::optional<bool> fast = f.table->verify(digest, rs);
  if (!fast || *fast != openssl_verifies(f, digest, rs)) std::abort();
  return 0;
}
