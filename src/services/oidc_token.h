// OpenID Connect relying-party checks on what the eID provider sends back: its discovery
// document, its key set, the token endpoint's answer and the ID token (OpenID Connect Core 1.0
// section 3.1.3.7). Pure functions over text and a clock reading, so they are fuzzed
// (fuzz/oidc_fuzz.cpp) and tested with keys made in the test; services/oidc_login.h does the
// network and the state around them.
//
// Refusals are kUnauthorized (a token or answer that must not be trusted) or kInvalid (a document
// of the wrong shape), with a reason that never quotes the token, its claims or a secret.
//
// Thread-safety: stateless functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "crypto/keys.h"

namespace hb::services::oidc {

// What we use from <issuer>/.well-known/openid-configuration (OpenID Connect Discovery 1.0).
struct ProviderMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  std::string userinfo_endpoint;  // "" when the provider has none
  // token_endpoint_auth_methods_supported; the default (absent) is client_secret_basic.
  std::vector<std::string> token_auth_methods;
};

// kInvalid unless the document is a JSON object whose "issuer" is exactly `expected_issuer`
// (Discovery section 4.3: a document for another issuer is an impersonation attempt) and whose
// endpoints are absolute http(s) URLs; https only when the issuer is https.
Result<ProviderMetadata> parse_discovery(std::string_view text, std::string_view expected_issuer);

// The provider's signature keys from its JWK Set. Entries meant for encryption, or with a key
// type or algorithm we do not verify, are left out rather than failing the set: a provider
// publishes keys for every client it serves. kInvalid when no usable key is left.
Result<crypto::JwkSet> parse_provider_jwks(std::string_view text);

struct TokenResponse {
  std::string id_token;
  std::string access_token;  // "" when none was given
};
// The token endpoint's JSON answer (RFC 6749 section 5.1): an "id_token" string is required and
// "token_type", when there is an access token, must be Bearer.
Result<TokenResponse> parse_token_response(std::string_view text);

struct IdTokenExpectations {
  std::string issuer;
  std::string client_id;
  std::string nonce;
  Time now{};
  std::chrono::seconds skew{60};  // clocks of two servers disagree a little
  // An ID token issued longer ago than this (plus skew) is refused: a login lasts minutes.
  std::chrono::seconds max_age{std::chrono::minutes(10)};
};

// Checks a parsed ID token: its signature against `keys` (only ES256, ES384, RS256, RS384 and
// EdDSA; never "none" or an HMAC), then iss, aud (and azp when there are several audiences or
// azp is present), exp, iat, nbf and nonce. Answers the claims; kUnauthorized otherwise.
Result<Json> check_id_token(const crypto::CompactJws& jws, const crypto::JwkSet& keys,
                            const IdTokenExpectations& expect);

// The national id in `claims[claim]`: a string (or a whole number, which some providers send)
// of 1 to 64 characters. kUnauthorized when absent or of another shape.
Result<std::string> national_id_claim(const Json& claims, std::string_view claim);

}  // namespace hb::services::oidc
