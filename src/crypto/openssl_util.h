// Private to src/crypto: RAII owners for OpenSSL handles and small helpers around its error queue.
// Every OpenSSL object the module creates is held by one of these; nothing is freed by hand.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

namespace hb::crypto::ossl {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

using Pkey = Owned<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtx = Owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtx = Owned<EVP_MD_CTX, EVP_MD_CTX_free>;
using CipherCtx = Owned<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using Kdf = Owned<EVP_KDF, EVP_KDF_free>;
using KdfCtx = Owned<EVP_KDF_CTX, EVP_KDF_CTX_free>;
using Bn = Owned<BIGNUM, BN_free>;
using EcdsaSig = Owned<ECDSA_SIG, ECDSA_SIG_free>;
using ParamBld = Owned<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using Params = Owned<OSSL_PARAM, OSSL_PARAM_free>;
using Bio = Owned<BIO, BIO_free_all>;

// OPENSSL_free is a macro; this gives it an address for unique_ptr.
inline void free_bytes(unsigned char* p) { OPENSSL_free(p); }
using Bytes = Owned<unsigned char, free_bytes>;

// For operations whose interface has no error channel (hashing, sealing, randomness) and that can
// only fail if OpenSSL itself is broken or out of memory: stop rather than return wrong bytes.
[[noreturn]] inline void fatal(const char* what) {
  std::fprintf(stderr, "healthbook crypto: fatal OpenSSL failure in %s\n", what);
  std::abort();
}

// Drops whatever OpenSSL queued on this thread, so a failed operation leaves nothing behind that a
// later, unrelated call could misreport.
inline void clear_errors() { ERR_clear_error(); }

inline const unsigned char* u8(const char* p) { return reinterpret_cast<const unsigned char*>(p); }
inline unsigned char* u8(char* p) { return reinterpret_cast<unsigned char*>(p); }

}  // namespace hb::crypto::ossl
