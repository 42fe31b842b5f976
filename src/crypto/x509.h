// X.509 certificates as a JWK carries them in "x5c" (RFC 7517 section 4.7): parsing, the facts a
// SMART Health Card verifier checks (subject key, validity period, subjectAltName URIs) and
// certification path validation against a verifier's own trust anchors (RFC 5280 section 6, done
// by OpenSSL's X509_verify_cert).
//
// Nothing here decides whether a certificate is good enough for a card; documents/verify.cpp does,
// from these facts. Certificates come from outside (an issuer's key set), so parsing is strict:
// exactly one DER certificate per x5c entry, no trailing bytes.
//
// Thread-safety: Certificate is immutable after construction and safe to share between threads;
// functions are stateless.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "crypto/keys.h"

struct x509_st;  // OpenSSL's X509

namespace hb::crypto {

class Certificate {
 public:
  // One DER certificate, the whole input (trailing bytes are refused).
  static Result<Certificate> from_der(std::string_view der);
  // Every "CERTIFICATE" block of a PEM text, in order; kInvalid if there is none or one does not
  // parse. Text outside the blocks (comments, "subject=" lines) is ignored, as openssl does.
  static Result<std::vector<Certificate>> from_pem(std::string_view pem);

  // The subject public key, or kInvalid when it is not a key type PublicKey supports.
  Result<PublicKey> public_key() const;
  // The subject, one line (RFC 2253), for messages.
  std::string subject() const;
  // notBefore and notAfter, unix seconds.
  int64_t not_before() const { return not_before_; }
  int64_t not_after() const { return not_after_; }
  // The uniformResourceIdentifier entries of the subjectAltName extension, in order.
  std::vector<std::string> san_uris() const;

  x509_st* native() const { return cert_.get(); }

  Certificate(std::shared_ptr<x509_st> cert, int64_t not_before, int64_t not_after)
      : cert_(std::move(cert)), not_before_(not_before), not_after_(not_after) {}

 private:
  std::shared_ptr<x509_st> cert_;
  int64_t not_before_;
  int64_t not_after_;
};

// What JwkSet keeps of a JWK's "x5c" member.
struct X5c {
  std::vector<Certificate> chain;  // leaf first; empty when malformed
  std::string error;               // why the x5c is unusable; "" when it parsed
};

// A JWK's "x5c": a non-empty array of base64 (standard alphabet with padding, not base64url) DER
// certificates, the certificate of the JWK's own key first. kInvalid naming the entry at fault.
Result<std::vector<Certificate>> parse_x5c(const Json& x5c);

// Why a certification path did not validate.
enum class PathError {
  kNone,
  kNotValidAtTime,  // a certificate of the path was expired or not yet valid at the time given
  kUntrusted,       // no path to an anchor, a bad signature, a CA without CA rights, ...
};

struct PathResult {
  PathError error = PathError::kNone;
  std::string message;  // OpenSSL's reason and the certificate at fault; "" when valid
  bool ok() const { return error == PathError::kNone; }
};

// Validates the path from chain[0] through the other certificates of `chain` (untrusted
// intermediates, in any order; a copy of the root may be among them) to one of `anchors`, with
// every validity period checked at `at` (unix seconds) instead of the current time. Every anchor
// is trusted as given, self-signed or not (an operator may anchor at an intermediate CA).
// `chain` must not be empty; no anchors means nothing is trusted.
PathResult verify_certificate_path(const std::vector<Certificate>& chain,
                                   const std::vector<Certificate>& anchors, int64_t at);

}  // namespace hb::crypto
