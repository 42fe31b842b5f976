// Issuing SMART Health Cards: from a FHIR Bundle to a signed, compressed compact JWS, its "shc:/"
// QR text and the .smart-health-card file.
//
// What we issue (docs/health-cards.md has the byte-level details):
//   header  {"alg":"ES256","kid":<RFC 7638 thumbprint of the key>,"zip":"DEF"}
//   payload raw-DEFLATEd minified JSON {iss, nbf (whole seconds), exp?, vc:{type,
//   credentialSubject:
//           {fhirVersion:"4.0.1", fhirBundle}, rid?}}
// Every card we issue fits one QR code (JWS <= 1195 characters, version <= 22); larger bundles
// are refused with kTooLarge rather than chunked (chunking is deprecated since SHC 1.3).
//
// Thread-safety: stateless functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "crypto/keys.h"

namespace hb::documents {

inline constexpr std::string_view kHealthCardType = "https://smarthealth.cards#health-card";
inline constexpr std::string_view kFhirVersion = "4.0.1";

// Rewrites a FHIR Bundle into the minified form the SHC spec requires for QR codes:
// entry fullUrls become "resource:N" and every Reference.reference that points into the bundle
// (by fullUrl or "Type/id") is rewritten to match; Resource.id, Resource.meta (except
// meta.security), DomainResource.text, CodeableConcept.text and Coding.display are removed.
// kInvalid if it is not a Bundle with entries, or a reference points outside the bundle.
Result<Json> minify_bundle(const Json& bundle);

struct IssueOptions {
  std::string iss;                       // issuer URL: https, no trailing slash
  std::optional<Time> expires;           // exp; absent for cards that do not expire
  std::vector<std::string> extra_types;  // vc.type entries after #health-card (deprecated)
  std::string rid;                       // revocation id (see revocation_id); empty for none
  std::string kid;                       // the key's RFC 7638 thumbprint if the caller has it (it must be)
};

struct IssuedCard {
  std::string jws;      // compact JWS, at most 1195 characters
  std::string qr_text;  // "shc:/" + digits
};

// Validates the bundle (hb_fhir), minifies it, builds and signs the payload with `key` (a P-256
// key), nbf = clock.now(). kUnprocessable for an invalid bundle, kInvalid for bad options,
// kTooLarge ("too large for one QR code") when the JWS exceeds 1195 characters.
Result<IssuedCard> issue_health_card(const Json& bundle, const crypto::PrivateKey& key,
                                     const IssueOptions& options, const Clock& clock);

// {"verifiableCredential":[jws, ...]}: the content of a .smart-health-card file.
std::string health_card_file(const std::vector<std::string>& jws_list);

// The spec's recommended revocation id: base64url of the first 64 bits of
// HMAC-SHA-256(key = secret || kid, data = user_id). 11 characters.
std::string revocation_id(std::string_view secret, std::string_view kid, std::string_view user_id);

// Whether an issuer URL is acceptable: https, a host, no trailing slash, no query or fragment
// (plain http only for localhost and 127.0.0.1, for development).
bool valid_issuer_url(std::string_view iss);

}  // namespace hb::documents
