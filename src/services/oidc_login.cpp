#include "services/oidc_login.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/url.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "notify/curl_util.h"

namespace hb::services {
namespace {

constexpr const char* kClient = "resident-account";
constexpr std::size_t kMaxReply = 1024 * 1024;
constexpr const char* kFailed = "/login?error=oidc-failed";
constexpr const char* kNoRecord = "/login?error=oidc-no-record";
constexpr const char* kSignedIn = "/book";

// ---- libcurl ------------------------------------------------------------------------------------

size_t collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > kMaxReply) return 0;  // too large: curl stops with a write error
  out->append(data, size * n);
  return size * n;
}

class CurlOidcHttp final : public OidcHttp {
 public:
  explicit CurlOidcHttp(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  Result<Reply> get(const std::string& url, const std::string& bearer) override {
    notify::detail::SlistPtr headers;
    if (!notify::detail::slist_append(headers, "Accept: application/json"))
      return internal("out of memory");
    if (!bearer.empty() &&
        !notify::detail::slist_append(headers, "Authorization: Bearer " + bearer))
      return internal("out of memory");
    return perform(url, headers, nullptr);
  }

  Result<Reply> post_form(const std::string& url, const std::string& body,
                          const std::string& authorization) override {
    notify::detail::SlistPtr headers;
    if (!notify::detail::slist_append(headers, "Accept: application/json") ||
        !notify::detail::slist_append(headers, "Content-Type: application/x-www-form-urlencoded") ||
        !notify::detail::slist_append(headers, "Authorization: " + authorization))
      return internal("out of memory");
    return perform(url, headers, &body);
  }

 private:
  // One easy handle per request: requests are rare (logins) and may run on many threads.
  Result<Reply> perform(const std::string& url, const notify::detail::SlistPtr& headers,
                        const std::string* body) {
    if (!notify::detail::curl_ready()) return internal("libcurl failed to initialise");
    notify::detail::CurlPtr curl(curl_easy_init());
    if (!curl) return internal("curl_easy_init failed");
    CURL* c = curl.get();
    Reply reply;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "healthbook-oidc");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    if (body) {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
      return Status(Code::kUnavailable, std::string("eID provider: ") + curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    return reply;
  }

  std::chrono::milliseconds timeout_;
};

// The provider's error codes are a short fixed vocabulary (RFC 6749 4.1.2.1); anything else is
// not echoed into the audit log.
std::string safe_error_code(const std::string& e) {
  if (e.empty() || e.size() > 40) return "other";
  for (char c : e) {
    if (!(c >= 'a' && c <= 'z') && c != '_') return "other";
  }
  return e;
}

}  // namespace

std::unique_ptr<OidcHttp> make_curl_oidc_http(std::chrono::milliseconds timeout) {
  return std::make_unique<CurlOidcHttp>(timeout);
}

OidcLogin::OidcLogin(store::Store& store, AccountService& accounts, const Clock& clock,
                     OidcOptions options, OidcHttp& http)
    : store_(store),
      accounts_(accounts),
      clock_(clock),
      options_(std::move(options)),
      http_(http),
      starts_(clock, kStartsPerAddress / 10.0, kStartsPerAddress),
      callbacks_(clock, kCallbacksPerAddress / 10.0, kCallbacksPerAddress) {
  if (options_.scopes.empty() ||
      std::find(options_.scopes.begin(), options_.scopes.end(), "openid") == options_.scopes.end())
    options_.scopes.insert(options_.scopes.begin(), "openid");
}

std::string OidcLogin::derive(const char* label, const std::string& state) const {
  return crypto::base64url_encode(
      crypto::hmac_sha256(options_.state_secret, std::string(label) + '\0' + state));
}

OidcRedirect OidcLogin::failed(const std::string& address, const std::string& why) {
  // The reason names no token, code or national id; operators need it when the provider is away.
  spdlog::info("eID login refused: {}", why);
  store::AuditRecord a;
  a.id = new_uuid();
  a.time = clock_.now();
  a.action = "E";
  a.outcome = "4";
  a.event_type = "account-login-eid";
  a.client_id = kClient;
  a.detail = why;
  a.source_ip = address;
  store_.append_audit_async(std::move(a));
  OidcRedirect r;
  r.location = kFailed;
  r.clear_state_cookie = true;
  return r;
}

// ---- the provider's metadata and keys -----------------------------------------------------------

Result<crypto::JwkSet> OidcLogin::fetch_keys(const std::string& jwks_uri) {
  HB_ASSIGN_OR_RETURN(auto reply, http_.get(jwks_uri, ""));
  if (reply.status != 200)
    return Status(Code::kUnavailable, "eID provider key set: HTTP " + std::to_string(reply.status));
  return oidc::parse_provider_jwks(reply.body);
}

Result<std::shared_ptr<const OidcLogin::Provider>> OidcLogin::provider() {
  const Time now = clock_.now();
  {
    std::lock_guard lock(mu_);
    if (provider_ && now - provider_->fetched < kMetadataFor) return provider_;
  }
  std::lock_guard fetching(fetch_mu_);
  {
    std::lock_guard lock(mu_);
    if (provider_ && now - provider_->fetched < kMetadataFor)
      return provider_;  // fetched meanwhile
    // An unreachable provider is not asked again for every click.
    if (!provider_ && last_discovery_attempt_ != Time{} &&
        now - last_discovery_attempt_ < kDiscoveryRetryEvery)
      return Status(Code::kUnavailable, "the eID provider could not be reached a moment ago");
    last_discovery_attempt_ = now;
  }
  std::string url = options_.issuer;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/.well-known/openid-configuration";
  auto fetched = [&]() -> Result<std::shared_ptr<const Provider>> {
    HB_ASSIGN_OR_RETURN(auto reply, http_.get(url, ""));
    if (reply.status != 200)
      return Status(Code::kUnavailable,
                    "eID provider discovery: HTTP " + std::to_string(reply.status));
    auto p = std::make_shared<Provider>();
    HB_ASSIGN_OR_RETURN(p->meta, oidc::parse_discovery(reply.body, options_.issuer));
    HB_ASSIGN_OR_RETURN(auto keys, fetch_keys(p->meta.jwks_uri));
    p->keys = std::make_shared<const crypto::JwkSet>(std::move(keys));
    p->fetched = p->keys_fetched = now;
    return std::shared_ptr<const Provider>(std::move(p));
  }();
  std::lock_guard lock(mu_);
  if (!fetched) {
    // Old metadata still serves while the provider is away.
    if (provider_) return provider_;
    return fetched.error();
  }
  provider_ = *fetched;
  return provider_;
}

Result<std::shared_ptr<const OidcLogin::Provider>> OidcLogin::refetch_keys(
    const std::shared_ptr<const Provider>& p) {
  std::lock_guard fetching(fetch_mu_);
  const Time now = clock_.now();
  {
    std::lock_guard lock(mu_);
    if (provider_ && provider_ != p) return provider_;  // someone fetched meanwhile
    if (now - p->keys_fetched < kKeysRefetchEvery) return p;
  }
  HB_ASSIGN_OR_RETURN(auto keys, fetch_keys(p->meta.jwks_uri));
  auto next = std::make_shared<Provider>(*p);
  next->keys = std::make_shared<const crypto::JwkSet>(std::move(keys));
  next->keys_fetched = now;
  std::lock_guard lock(mu_);
  provider_ = next;
  return std::shared_ptr<const Provider>(next);
}

Result<Json> OidcLogin::verify(const std::string& id_token, const std::string& nonce,
                               std::shared_ptr<const Provider> p) {
  auto jws = crypto::parse_compact_jws(id_token);
  if (!jws) return unauthorized("the ID token is not a compact JWS: " + jws.error().message());
  if (p->keys->find(jws->kid).empty()) {
    HB_ASSIGN_OR_RETURN(p, refetch_keys(p));
  }
  oidc::IdTokenExpectations expect;
  expect.issuer = options_.issuer;
  expect.client_id = options_.client_id;
  expect.nonce = nonce;
  expect.now = clock_.now();
  return oidc::check_id_token(*jws, *p->keys, expect);
}

// ---- the flow -----------------------------------------------------------------------------------

Result<OidcRedirect> OidcLogin::start(const std::string& address) {
  if (!enabled()) return not_found("the eID login is not configured");
  if (!starts_.allow(address_key(address)))
    return failed(address, "too many starts from the address");
  auto p = provider();
  if (!p) {
    if (p.error().code() == Code::kInternal) return p.error();
    return failed(address, "provider unavailable: " + p.error().message());
  }
  const Time now = clock_.now();
  const std::string state = crypto::random_token(32);
  store::OneTimeCode row;
  row.challenge_hash = crypto::sha256_hex(state);
  row.purpose = "oidc";
  // The store wants a MAC with every code; this one also marks the row as made by this login
  // (checked at the callback).
  row.code_mac = crypto::hex_encode(
      crypto::hmac_sha256(options_.state_secret, "oidc-row\0" + row.challenge_hash));
  row.created = now;
  row.expires = now + kStateLifetime;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) { return w.put_one_time_code(row); }));

  // RFC 7636: the verifier is 43 base64url characters (256 bits); the challenge its SHA-256.
  const std::string verifier = derive("oidc-pkce", state);
  std::string scope;
  for (const auto& s : options_.scopes) scope += (scope.empty() ? "" : " ") + s;
  const auto& endpoint = (*p)->meta.authorization_endpoint;
  std::string url = endpoint + (endpoint.find('?') == std::string::npos ? "?" : "&");
  url += "response_type=code&client_id=" + url_encode(options_.client_id) +
         "&redirect_uri=" + url_encode(options_.redirect_uri) + "&scope=" + url_encode(scope) +
         "&state=" + state + "&nonce=" + derive("oidc-nonce", state) +
         "&code_challenge=" + crypto::base64url_encode(crypto::sha256(verifier)) +
         "&code_challenge_method=S256";
  OidcRedirect r;
  r.location = std::move(url);
  r.state_cookie = state;
  return r;
}

Result<OidcRedirect> OidcLogin::callback(const Callback& in, const std::string& state_cookie,
                                         const std::string& address) {
  if (!enabled()) return not_found("the eID login is not configured");
  if (!callbacks_.allow(address_key(address)))
    return failed(address, "too many callbacks from the address");
  const Time now = clock_.now();

  // The state must be the one this browser's cookie holds, and known, fresh and unused; it is
  // spent before anything else happens, so a replayed callback finds it used.
  const bool state_ok = !in.state.empty() && in.state.size() <= 128 &&
                        crypto::equal_constant_time(in.state, state_cookie);
  if (!state_ok) return failed(address, "the state does not match the browser's");
  const std::string hash = crypto::sha256_hex(in.state);
  bool spent = false;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto row, w.one_time_code(hash));
    if (!row || row->purpose != "oidc" || row->used || row->expires <= now) return Status::ok();
    const std::string mac =
        crypto::hex_encode(crypto::hmac_sha256(options_.state_secret, "oidc-row\0" + hash));
    if (!crypto::equal_constant_time(row->code_mac, mac)) return Status::ok();
    row->used = true;
    spent = true;
    return w.put_one_time_code(*row);
  }));
  if (!spent) return failed(address, "unknown, used or expired state");
  if (!in.error.empty())
    return failed(address, "the provider answered " + safe_error_code(in.error));
  if (in.code.empty() || in.code.size() > 4096) return failed(address, "no code");

  auto p = provider();
  if (!p) {
    if (p.error().code() == Code::kInternal) return p.error();
    return failed(address, "provider unavailable: " + p.error().message());
  }
  // The code for tokens (client_secret_basic: RFC 6749 2.3.1 form-encodes id and secret first).
  const std::string form = "grant_type=authorization_code&code=" + url_encode(in.code) +
                           "&redirect_uri=" + url_encode(options_.redirect_uri) +
                           "&code_verifier=" + derive("oidc-pkce", in.state);
  const std::string basic = "Basic " + crypto::base64_encode(url_encode(options_.client_id) + ":" +
                                                             url_encode(options_.client_secret));
  auto reply = http_.post_form((*p)->meta.token_endpoint, form, basic);
  if (!reply) return failed(address, "token endpoint: " + reply.error().message());
  if (reply->status != 200)
    return failed(address, "token endpoint: HTTP " + std::to_string(reply->status));
  auto tokens = oidc::parse_token_response(reply->body);
  if (!tokens) return failed(address, "token endpoint: " + tokens.error().message());
  auto claims = verify(tokens->id_token, derive("oidc-nonce", in.state), *p);
  if (!claims) return failed(address, claims.error().message());

  auto national_id = oidc::national_id_claim(*claims, options_.national_id_claim);
  if (!national_id && !(*p)->meta.userinfo_endpoint.empty() && !tokens->access_token.empty()) {
    // Providers that follow Core 5.4 strictly put scope-requested claims in userinfo only. Its
    // answer counts only for the subject the signed ID token names (Core 5.3.2).
    auto info = http_.get((*p)->meta.userinfo_endpoint, tokens->access_token);
    if (info && info->status == 200) {
      auto j = parse_json(info->body, JsonLimits{256 * 1024, 16});
      if (j && j->is_object() && j->value("sub", "") == claims->value("sub", ""))
        national_id = oidc::national_id_claim(*j, options_.national_id_claim);
    }
  }
  if (!national_id) return failed(address, "the provider sent no national id claim");

  HB_ASSIGN_OR_RETURN(AccountResult signed_in, accounts_.eid_sign_in(*national_id, address));
  OidcRedirect r;
  r.clear_state_cookie = true;
  if (signed_in.session_token.empty()) {
    r.location = kNoRecord;
    return r;
  }
  r.location = kSignedIn;
  r.session_token = std::move(signed_in.session_token);
  return r;
}

}  // namespace hb::services
