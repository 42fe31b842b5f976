// Login with the national eID: Healthbook is an OpenID Connect relying party of a configurable
// provider (authorization code flow with PKCE S256, a confidential client authenticated with
// client_secret_basic). docs/accounts.md has the flow; services/oidc_token.h the checks on what
// the provider sends.
//
// start(): a fresh state (256 random bits) is remembered in the store only as its SHA-256, for
// 10 minutes and one use (a one_time_codes row, purpose "oidc"), and handed to the browser twice:
// in the authorization URL and in an HttpOnly cookie, so the callback proves it is the same
// browser that started (no login CSRF). The nonce and the PKCE verifier are HMACs of the state
// under a key derived from the master key: nothing secret is stored, any server of a cluster can
// finish the login, and neither can be worked out without the key.
// callback(): the state is spent first (a replay finds it used), the code is exchanged with the
// verifier, the ID token is checked, and the national id claim finds the person through the same
// blind index sign-up uses (AccountService::eid_sign_in).
//
// Outcomes are redirects (the browser is navigating): /book signed in, /login?error=oidc-no-record
// when no record carries the national id, /login?error=oidc-failed for everything else, the cause
// going to the audit log and never to the browser. No token, code or national id is logged.
//
// Thread-safety: safe from any number of threads. The provider's metadata and keys are cached
// under a mutex; fetching them holds a second mutex, so one fetch runs at a time.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "services/accounts.h"
#include "services/oidc_token.h"
#include "services/rate_limit.h"
#include "store/store.h"

namespace hb::services {

struct OidcOptions {
  std::string issuer;  // "" disables the eID login
  std::string client_id;
  std::string client_secret;
  std::string redirect_uri;  // <public_url>/api/v1/account/oidc/callback
  std::string national_id_claim = "national_id";
  std::vector<std::string> scopes;  // asked for besides "openid"
  std::string state_secret;         // >= 32 bytes, derived from the master key
};

// The provider's HTTP endpoints. The real one is libcurl (make_curl_oidc_http); the interface is
// the seam where a test could put a fault-injecting one.
class OidcHttp {
 public:
  struct Reply {
    long status = 0;
    std::string body;
  };
  virtual ~OidcHttp() = default;
  // GET with an optional bearer token (the userinfo endpoint).
  virtual Result<Reply> get(const std::string& url, const std::string& bearer) = 0;
  // POST application/x-www-form-urlencoded with an Authorization header value.
  virtual Result<Reply> post_form(const std::string& url, const std::string& body,
                                  const std::string& authorization) = 0;
};
// Redirects are not followed; answers over 1 MiB are refused; `timeout` bounds each request.
std::unique_ptr<OidcHttp> make_curl_oidc_http(std::chrono::milliseconds timeout);

// Where to send the browser, and which cookies to set.
struct OidcRedirect {
  std::string location;      // a path on this server, or the provider's authorization URL
  std::string state_cookie;  // non-empty: set the login's state cookie to this
  bool clear_state_cookie = false;
  std::string session_token;  // non-empty: set the session cookie (signed in)
};

class OidcLogin {
 public:
  static constexpr std::chrono::minutes kStateLifetime{10};
  static constexpr int kStartsPerAddress = 30;     // per 10 minutes
  static constexpr int kCallbacksPerAddress = 30;  // per 10 minutes
  static constexpr std::chrono::seconds kKeysRefetchEvery{60};
  static constexpr std::chrono::seconds kDiscoveryRetryEvery{10};
  static constexpr std::chrono::hours kMetadataFor{24};

  OidcLogin(store::Store& store, AccountService& accounts, const Clock& clock, OidcOptions options,
            OidcHttp& http);

  bool enabled() const { return !options_.issuer.empty(); }

  // GET oidc/start: to the provider's authorization endpoint with a new state cookie, or to
  // /login?error=oidc-failed when the provider cannot be reached (or too many starts).
  Result<OidcRedirect> start(const std::string& address);

  struct Callback {
    std::string code;
    std::string state;
    std::string error;  // the provider's "error" parameter (access_denied, ...)
  };
  // GET oidc/callback. `state_cookie` is the value of the state cookie the browser sent.
  Result<OidcRedirect> callback(const Callback& in, const std::string& state_cookie,
                                const std::string& address);

 private:
  struct Provider {
    oidc::ProviderMetadata meta;
    std::shared_ptr<const crypto::JwkSet> keys;
    Time fetched{};
    Time keys_fetched{};
  };
  // The cached metadata and keys, fetched when missing or old.
  Result<std::shared_ptr<const Provider>> provider();
  // Fetches the key set again (at most every kKeysRefetchEvery): a kid we do not know may be a
  // key the provider rolled over to.
  Result<std::shared_ptr<const Provider>> refetch_keys(const std::shared_ptr<const Provider>& p);
  Result<crypto::JwkSet> fetch_keys(const std::string& jwks_uri);
  Result<Json> verify(const std::string& id_token, const std::string& nonce,
                      std::shared_ptr<const Provider> p);
  std::string derive(const char* label, const std::string& state) const;
  OidcRedirect failed(const std::string& address, const std::string& why);

  store::Store& store_;
  AccountService& accounts_;
  const Clock& clock_;
  OidcOptions options_;
  OidcHttp& http_;
  RateLimiter starts_;
  RateLimiter callbacks_;
  std::mutex fetch_mu_;  // one fetch from the provider at a time
  std::mutex mu_;
  std::shared_ptr<const Provider> provider_;  // guarded by mu_
  Time last_discovery_attempt_{};             // guarded by mu_
};

}  // namespace hb::services
