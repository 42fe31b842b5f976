// The trusted issuer directory: which SMART Health Card issuers a verifier accepts, their keys and
// their card revocation lists (CRLs), loaded from one JSON file (format in docs/health-cards.md):
//
//   {"issuers": [{"iss": "https://issuer.example/shc", "name": "Example Clinic",
//                 "jwks": {"keys": [ ...public JWKs... ]},
//                 "crls": [{"kid": "...", "method": "rid", "ctr": 1, "rids": ["abc",
//                 "def.1636977600"]}],
//                 "superseded": ["abc"]}],
//    "trust_anchors": ["-----BEGIN CERTIFICATE-----\n...", ...]}
//
// "superseded" (optional, Healthbook's own): the revoked rids whose cards were replaced by a
// newer document rather than withdrawn, so that an offline verifier says "superseded" as the
// issuer's server does.
//
// Verification is offline: the directory holds what a verifier would otherwise download from
// <iss>/.well-known/jwks.json and <iss>/.well-known/crl/<kid>.json.
//
// "trust_anchors" (optional) are the root certificates of a PKI-based trust framework, in PEM. With
// anchors, a listed issuer key that carries an x5c certificate chain must also chain to one of
// them (see verify.h); without, being listed is the whole of an issuer's trust.
//
// Thread-safety: immutable after parse(); safe to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "crypto/keys.h"
#include "crypto/x509.h"

namespace hb::documents {

// One revoked rid: revokes cards with this rid, or (with a timestamp) only those whose nbf is
// before it.
struct RevokedRid {
  std::string rid;
  std::optional<int64_t> before;  // unix seconds
};

struct Crl {
  std::string kid;
  int64_t ctr = 0;
  std::vector<RevokedRid> rids;

  // Whether a card with this rid and nbf (seconds) is revoked by this list.
  bool revokes(std::string_view rid, double nbf) const;
};

struct TrustedIssuer {
  std::string iss;
  std::string name;
  crypto::JwkSet keys;
  std::map<std::string, int64_t> crl_versions;  // kid -> crlVersion published with the key
  std::map<std::string, Crl> crls;              // kid -> revocation list
  std::vector<std::string> superseded;          // revoked rids that were replaced (sorted)

  bool was_superseded(std::string_view rid) const;
};

class IssuerDirectory {
 public:
  IssuerDirectory() = default;
  // kInvalid, with every problem listed, for a malformed directory: bad issuer URLs (https, no
  // trailing slash), duplicate issuers, unusable keys, malformed CRLs.
  static Result<IssuerDirectory> parse(std::string_view json_text);
  static Result<IssuerDirectory> from_json(const Json& j);

  const TrustedIssuer* find(std::string_view iss) const;
  const std::vector<TrustedIssuer>& issuers() const { return issuers_; }

  // Roots for issuers' x5c chains: the file's "trust_anchors" plus any added (the CLI's
  // --trust-anchors). Not thread-safe while adding; add before sharing the directory.
  const std::vector<crypto::Certificate>& trust_anchors() const { return trust_anchors_; }
  void add_trust_anchors(std::vector<crypto::Certificate> anchors);

 private:
  std::vector<TrustedIssuer> issuers_;
  std::vector<crypto::Certificate> trust_anchors_;
};

// Parses one CRL document ({"kid", "method":"rid", "ctr", "rids"}).
Result<Crl> parse_crl(const Json& j);

}  // namespace hb::documents
