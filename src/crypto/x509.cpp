// X.509 certificates for JWK "x5c" chains (see x509.h).
#include "crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <exception>

#include "crypto/encoding.h"
#include "crypto/keys_internal.h"
#include "crypto/openssl_util.h"

namespace hb::crypto {
namespace {

// An issuer's chain is a leaf, an intermediate or two and maybe the root; these bound what a
// hostile key set can make us decode and hand to path building.
constexpr std::size_t kMaxChainCertificates = 10;
constexpr std::size_t kMaxCertificateBytes = 16 * 1024;
constexpr std::size_t kMaxPemBytes = 1024 * 1024;

using X509Ptr = ossl::Owned<X509, X509_free>;
using Store = ossl::Owned<X509_STORE, X509_STORE_free>;
using StoreCtx = ossl::Owned<X509_STORE_CTX, X509_STORE_CTX_free>;
using GeneralNames = ossl::Owned<GENERAL_NAMES, GENERAL_NAMES_free>;

// sk_X509_free is a macro-generated inline; the stack borrows its certificates (no up-ref), so
// only the stack itself is freed.
struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using CertStack = std::unique_ptr<STACK_OF(X509), StackFree>;

bool unix_time(const ASN1_TIME* t, int64_t& out) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return false;
  out = static_cast<int64_t>(timegm(&tm));
  return true;
}

Result<Certificate> adopt(X509* raw) {
  X509Ptr cert(raw);
  int64_t not_before = 0, not_after = 0;
  if (!unix_time(X509_get0_notBefore(cert.get()), not_before) ||
      !unix_time(X509_get0_notAfter(cert.get()), not_after)) {
    return invalid("certificate has an unreadable validity period");
  }
  return Certificate(std::shared_ptr<X509>(cert.release(), X509_free), not_before, not_after);
}

std::string name_text(const X509_NAME* name) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ossl::clear_errors();
    return "?";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

}  // namespace

Result<Certificate> Certificate::from_der(std::string_view der) {
  if (der.empty()) return invalid("empty certificate");
  if (der.size() > kMaxCertificateBytes) return invalid("certificate over 16 KiB");
  const unsigned char* p = ossl::u8(der.data());
  X509* raw = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr) {
    ossl::clear_errors();
    return invalid("not a DER X.509 certificate");
  }
  if (p != ossl::u8(der.data()) + der.size()) {
    X509_free(raw);
    return invalid("bytes after the DER certificate");
  }
  return adopt(raw);
}

Result<std::vector<Certificate>> Certificate::from_pem(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  if (pem.size() > kMaxPemBytes) return invalid("PEM text over 1 MiB");
  std::vector<Certificate> out;
  std::size_t at = 0;
  while ((at = pem.find(kBegin, at)) != std::string_view::npos) {
    std::size_t end = pem.find(kEnd, at);
    if (end == std::string_view::npos) return invalid("PEM certificate without an END line");
    std::string_view block = pem.substr(at, end + kEnd.size() - at);
    ossl::Bio bio(BIO_new_mem_buf(block.data(), static_cast<int>(block.size())));
    if (!bio) return internal("out of memory");
    X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (raw == nullptr) {
      ossl::clear_errors();
      return invalid("PEM certificate " + std::to_string(out.size() + 1) + " does not parse");
    }
    HB_ASSIGN_OR_RETURN(Certificate c, adopt(raw));
    out.push_back(std::move(c));
    at = end + kEnd.size();
  }
  if (out.empty()) return invalid("no PEM certificate (-----BEGIN CERTIFICATE-----)");
  return out;
}

Result<PublicKey> Certificate::public_key() const {
  auto key = detail::public_key_from_pkey(X509_get_pubkey(cert_.get()));
  ossl::clear_errors();
  return key;
}

std::string Certificate::subject() const { return name_text(X509_get_subject_name(cert_.get())); }

std::vector<std::string> Certificate::san_uris() const {
  std::vector<std::string> out;
  int crit = 0;
  GeneralNames names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert_.get(), NID_subject_alt_name, &crit, nullptr)));
  ossl::clear_errors();
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = n->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<std::size_t>(ASN1_STRING_length(uri)));
  }
  return out;
}

Result<std::vector<Certificate>> parse_x5c(const Json& x5c) {
  try {
    if (!x5c.is_array() || x5c.empty()) {
      return invalid("x5c must be a non-empty array of base64 DER certificates");
    }
    if (x5c.size() > kMaxChainCertificates) return invalid("x5c holds more than 10 certificates");
    std::vector<Certificate> out;
    for (std::size_t i = 0; i < x5c.size(); ++i) {
      const std::string where = "x5c[" + std::to_string(i) + "]";
      if (!x5c[i].is_string()) return invalid(where + " is not a string");
      // RFC 7517 4.7: base64, not base64url; a "-" or "_" or missing padding fails here.
      auto der = base64_decode(x5c[i].get<std::string>());
      if (!der) return invalid(where + " is not base64: " + der.error().message());
      auto cert = Certificate::from_der(*der);
      if (!cert) return invalid(where + ": " + cert.error().message());
      out.push_back(std::move(cert).value());
    }
    return out;
  } catch (const std::exception& e) {
    return internal(std::string("x5c import failed: ") + e.what());
  }
}

PathResult verify_certificate_path(const std::vector<Certificate>& chain,
                                   const std::vector<Certificate>& anchors, int64_t at) {
  if (chain.empty()) return {PathError::kUntrusted, "no certificate"};
  if (anchors.empty()) return {PathError::kUntrusted, "no trust anchors configured"};
  Store store(X509_STORE_new());
  CertStack untrusted(sk_X509_new_null());
  StoreCtx ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) ossl::fatal("verify_certificate_path");
  for (const Certificate& a : anchors) {
    // Adding the same anchor twice is harmless; OpenSSL reports it as an error we can drop.
    X509_STORE_add_cert(store.get(), a.native());
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (sk_X509_push(untrusted.get(), chain[i].native()) <= 0) ossl::fatal("sk_X509_push");
  }
  ossl::clear_errors();
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].native(), untrusted.get()) != 1) {
    ossl::fatal("X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // The card's issue time, not "now": a card stays valid after its signing certificate expires,
  // as long as the certificate was valid when the card was signed.
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  // Anchors are trusted as configured, whether or not they are self-signed roots.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  const int rc = X509_verify_cert(ctx.get());
  ossl::clear_errors();
  if (rc == 1) return {};
  const int err = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  // rc < 0 with no verification error is OpenSSL failing, not the chain; still no trust.
  std::string msg =
      err == X509_V_OK ? "certificate path validation failed" : X509_verify_cert_error_string(err);
  if (X509* bad = X509_STORE_CTX_get_current_cert(ctx.get())) {
    msg += " (certificate " + std::to_string(depth) + " of the path, " +
           name_text(X509_get_subject_name(bad)) + ")";
  }
  const bool time = err == X509_V_ERR_CERT_NOT_YET_VALID || err == X509_V_ERR_CERT_HAS_EXPIRED;
  return {time ? PathError::kNotValidAtTime : PathError::kUntrusted, std::move(msg)};
}

}  // namespace hb::crypto
