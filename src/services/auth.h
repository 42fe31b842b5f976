// SMART Backend Services authorization (client_credentials + private_key_jwt) and bearer-token
// authentication for every /fhir request.
//
// Token requests: the client assertion is a JWT signed with one of the client's registered keys
// (kid selects it; ES384, RS384, ES256, RS256, EdDSA), iss = sub = client_id, aud = the token URL,
// exp in the future and at most `assertion_max_seconds` ahead, jti never seen before (remembered
// durably until the assertion expires). Every failure of the assertion is "invalid_client", as
// SMART requires; the description says why. Granted scopes are the requested ones that the client
// is registered for. Access tokens are 256-bit random strings; only their SHA-256 is stored.
// A suspended facility's tokens are refused at once: every request re-reads its status.
//
// Thread-safety: safe from any thread.
#pragma once

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <unordered_map>
#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "crypto/keys.h"
#include "services/principal.h"
#include "services/rate_limit.h"
#include "services/records.h"
#include "store/store.h"

namespace hb::services {

struct AuthOptions {
  std::string token_url;
  std::string base_url;
  int token_seconds = 300;
  int assertion_max_seconds = 300;
  int token_requests_per_minute = 120;
};

struct TokenGrant {
  std::string access_token;
  int expires_in = 0;
  std::string scope;
};

// Errors carry the OAuth error code in the message prefix-free form; use oauth_error() to name it.
// kInvalid -> invalid_request, kUnauthorized -> invalid_client, kForbidden -> invalid_scope,
// kNotImplemented -> unsupported_grant_type, kTooManyRequests -> (429).
const char* oauth_error(Code code);

class AuthService {
 public:
  AuthService(store::Store& store, const Clock& clock, AuthOptions options);

  // POST /auth/token with an application/x-www-form-urlencoded body already split into pairs.
  Result<TokenGrant> token(const QueryParams& form, const std::string& remote_address);
  // Authorization header value ("Bearer <token>") -> the principal, or kUnauthorized (no, bad or
  // expired token) / kForbidden (facility suspended, client disabled).
  Result<Principal> authenticate(std::string_view authorization, const std::string& remote_address);

  Json smart_configuration() const;

 private:
  Result<crypto::JwkSet> client_keys(const store::ApiClient& client, bool refresh);
  Result<crypto::JwkSet> fetch_keys(const std::string& url, Time now);

  store::Store& store_;
  const Clock& clock_;
  AuthOptions options_;
  RateLimiter limiter_;
  std::mutex jwks_mu_;
  struct CachedSet {
    crypto::JwkSet set;
    Time fetched;
  };
  std::map<std::string, CachedSet> jwks_cache_;  // by URL, guarded by jwks_mu_
  std::map<std::string, Time> jwks_failures_;    // by URL: last failed fetch, guarded by jwks_mu_
  // Fetches under way, by URL; later callers wait on them. Guarded by jwks_mu_.
  std::map<std::string, std::shared_future<Result<crypto::JwkSet>>> jwks_inflight_;

  // Issued tokens never change, so their rows are cached (by hash) until they expire; the client
  // and facility status are still read on every request, so suspension takes effect at once.
  std::mutex tokens_mu_;
  std::unordered_map<std::string, store::AccessToken> tokens_;  // guarded by tokens_mu_
};

// Fetches a URL with libcurl (5 s timeout, at most 1 MiB). kUnavailable on network failure.
Result<std::string> http_get(const std::string& url);

}  // namespace hb::services
