#include "services/auth.h"

#include <future>

#include <curl/curl.h>

#include <algorithm>
#include <future>
#include <iterator>
#include <memory>

#include "crypto/hash.h"
#include "crypto/random.h"

namespace hb::services {
namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

std::string form_value(const QueryParams& form, std::string_view key) {
  for (const auto& [k, v] : form) {
    if (k == key) return v;
  }
  return {};
}

int form_count(const QueryParams& form, std::string_view key) {
  return static_cast<int>(std::count_if(form.begin(), form.end(), [&](const auto& kv) { return kv.first == key; }));
}

size_t collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > (1u << 20)) return 0;  // over 1 MiB: abort
  out->append(data, size * n);
  return size * n;
}

}  // namespace

const char* oauth_error(Code code) {
  switch (code) {
    case Code::kUnauthorized: return "invalid_client";
    case Code::kForbidden: return "invalid_scope";
    case Code::kNotImplemented: return "unsupported_grant_type";
    case Code::kTooManyRequests: return "slow_down";
    case Code::kInvalid: return "invalid_request";
    default: return "server_error";
  }
}

Result<std::string> http_get(const std::string& url) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return internal("curl_easy_init failed");
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 5L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 2L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) return Status(Code::kUnavailable, std::string("fetching ") + url + ": " + curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return Status(Code::kUnavailable, "fetching " + url + ": HTTP " + std::to_string(status));
  return body;
}

AuthService::AuthService(store::Store& store, const Clock& clock, AuthOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      limiter_(clock, options_.token_requests_per_minute, std::max(10, options_.token_requests_per_minute / 4)) {}

Json AuthService::smart_configuration() const {
  return {{"issuer", options_.base_url},
          {"token_endpoint", options_.token_url},
          {"token_endpoint_auth_methods_supported", Json::array({"private_key_jwt"})},
          {"token_endpoint_auth_signing_alg_values_supported", Json::array({"ES384", "RS384", "ES256", "RS256", "EdDSA"})},
          {"grant_types_supported", Json::array({"client_credentials"})},
          {"scopes_supported", Json::array({"system/*.cruds", "system/*.rs", "system/*.read", "system/*.write"})},
          {"capabilities", Json::array({"client-confidential-asymmetric", "permission-v2", "permission-v1"})}};
}

Result<crypto::JwkSet> AuthService::client_keys(const store::ApiClient& client, bool refresh) {
  if (client.jwks_url.empty()) {
    auto set = crypto::JwkSet::parse(client.jwks);
    if (!set) return internal("the registered JWK Set no longer parses");
    return set;
  }
  Time now = clock_.now();
  {
    std::lock_guard lock(jwks_mu_);
    auto it = jwks_cache_.find(client.jwks_url);
    if (it != jwks_cache_.end()) {
      auto age = now - it->second.fetched;
      bool fresh = age < std::chrono::minutes(5);
      bool may_refresh = age > std::chrono::seconds(10);
      if (fresh && !(refresh && may_refresh)) return it->second.set;
    }
  }
  {
    // A failed fetch is not retried for 10 s, so forged assertions cannot tie up workers on a
    // slow or absent key server.
    std::lock_guard lock(jwks_mu_);
    auto f = jwks_failures_.find(client.jwks_url);
    if (f != jwks_failures_.end() && now - f->second < std::chrono::seconds(10)) {
      return Status(Code::kUnavailable, "the client's JWK Set could not be fetched recently; try again later");
    }
  }
  // One fetch per URL at a time: requests that arrive while it runs wait for its answer instead
  // of fetching again (a burst of token requests must not become a burst at the key server).
  std::promise<Result<crypto::JwkSet>> mine;
  std::shared_future<Result<crypto::JwkSet>> pending;
  {
    std::lock_guard lock(jwks_mu_);
    auto it = jwks_inflight_.find(client.jwks_url);
    if (it != jwks_inflight_.end()) {
      pending = it->second;
    } else {
      jwks_inflight_.emplace(client.jwks_url, mine.get_future().share());
    }
  }
  if (pending.valid()) return pending.get();
  Result<crypto::JwkSet> result = fetch_keys(client.jwks_url, now);
  std::lock_guard lock(jwks_mu_);
  mine.set_value(result);
  jwks_inflight_.erase(client.jwks_url);
  return result;
}

Result<crypto::JwkSet> AuthService::fetch_keys(const std::string& url, Time now) {
  auto text = http_get(url);
  auto set = text ? crypto::JwkSet::parse(*text) : Result<crypto::JwkSet>(text.error());
  if (!set) {
    std::lock_guard lock(jwks_mu_);
    jwks_failures_[url] = now;
    if (!text) return text.error();
    return unauthorized("the client's JWK Set at its URL is not usable: " + set.error().message());
  }
  std::lock_guard lock(jwks_mu_);
  jwks_cache_.insert_or_assign(url, CachedSet{*set, now});
  return set;
}

Result<TokenGrant> AuthService::token(const QueryParams& form, const std::string& remote_address) {
  for (const char* key : {"grant_type", "client_assertion_type", "client_assertion", "scope"}) {
    if (form_count(form, key) > 1) return invalid(std::string("parameter ") + key + " given more than once");
  }
  std::string grant = form_value(form, "grant_type");
  if (grant.empty()) return invalid("grant_type is required");
  if (grant != "client_credentials") return Status(Code::kNotImplemented, "only client_credentials is supported");
  if (form_value(form, "client_assertion_type") != kJwtBearer) {
    return invalid("client_assertion_type must be " + std::string(kJwtBearer));
  }
  std::string assertion = form_value(form, "client_assertion");
  if (assertion.empty()) return invalid("client_assertion is required");
  std::string scope_text = form_value(form, "scope");
  if (scope_text.empty()) return invalid("scope is required");

  auto jws = crypto::parse_compact_jws(assertion, 8192);
  if (!jws) return unauthorized("client assertion: " + jws.error().message());
  static const std::vector<std::string> algs = {"ES384", "RS384", "ES256", "RS256", "EdDSA"};
  if (std::find(algs.begin(), algs.end(), jws->alg) == algs.end()) {
    return unauthorized("client assertion: algorithm " + jws->alg + " is not accepted");
  }
  auto claims = parse_json(jws->payload, JsonLimits{.max_bytes = 8192, .max_depth = 8});
  if (!claims || !claims->is_object()) return unauthorized("client assertion: the payload is not a JSON object");
  const Json& c = *claims;
  auto str = [&](const char* k) { return c.contains(k) && c[k].is_string() ? c[k].get<std::string>() : std::string(); };
  std::string iss = str("iss"), sub = str("sub"), jti = str("jti");
  if (iss.empty() || iss != sub) return unauthorized("client assertion: iss and sub must both be the client_id");
  if (jti.empty() || jti.size() > 256) return unauthorized("client assertion: jti is required (at most 256 characters)");
  bool aud_ok = false;
  if (auto a = c.find("aud"); a != c.end()) {
    if (a->is_string()) aud_ok = *a == options_.token_url;
    if (a->is_array()) aud_ok = std::any_of(a->begin(), a->end(), [&](const Json& x) { return x == options_.token_url; });
  }
  if (!aud_ok) return unauthorized("client assertion: aud must be the token URL " + options_.token_url);
  if (!c.contains("exp") || !c["exp"].is_number()) return unauthorized("client assertion: exp is required");
  double exp = c["exp"].get<double>();
  double now = static_cast<double>(unix_millis(clock_.now())) / 1000.0;
  if (exp <= now) return unauthorized("client assertion: expired");
  if (exp > now + options_.assertion_max_seconds) {
    return unauthorized("client assertion: exp is more than " + std::to_string(options_.assertion_max_seconds) + " seconds ahead");
  }
  if (auto nbf = c.find("nbf"); nbf != c.end() && nbf->is_number() && nbf->get<double>() > now + 60) {
    return unauthorized("client assertion: not yet valid (nbf)");
  }

  // Per address before any work; per client only once the assertion is proven to be the
  // client's, so nobody can use up a client's allowance with forged assertions.
  if (!limiter_.allow(address_key(remote_address))) {
    return Status(Code::kTooManyRequests, "too many token requests; slow down");
  }

  std::optional<store::ApiClient> client;
  std::optional<store::Facility> facility;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(client, r.client(iss));
    if (client) {
      HB_ASSIGN_OR_RETURN(facility, r.facility_by_id(client->facility_id));
    }
    return Status::ok();
  }));
  if (!client || client->status != "active") return unauthorized("unknown or disabled client");
  if (!facility || facility->status != "active") return unauthorized("the client's facility is suspended");

  auto keys = client_keys(*client, false);
  if (!keys) return keys.error().code() == Code::kUnavailable ? keys.error() : unauthorized(keys.error().message());
  Status verified = crypto::verify_compact_jws(*jws, *keys);
  if (!verified && !client->jwks_url.empty()) {
    // The client may have rotated its keys: fetch the set again once.
    auto fresh = client_keys(*client, true);
    if (fresh) verified = crypto::verify_compact_jws(*jws, *fresh);
  }
  if (!verified) return unauthorized("client assertion: " + verified.message());
  if (!limiter_.allow("client:" + iss)) {
    return Status(Code::kTooManyRequests, "too many token requests; slow down");
  }

  auto requested = Scopes::parse(scope_text);
  if (!requested) return Status(Code::kForbidden, requested.error().message());
  auto allowed = Scopes::parse(client->scopes);
  if (!allowed) return internal("the client's registered scopes do not parse");
  Scopes granted = requested->intersect(*allowed);
  if (granted.empty()) return Status(Code::kForbidden, "none of the requested scopes is allowed for this client");

  TokenGrant g;
  g.access_token = crypto::random_token(32);
  g.expires_in = options_.token_seconds;
  g.scope = granted.to_string();
  store::AccessToken t{crypto::sha256_hex(g.access_token), client->client_id, client->facility_id, g.scope,
                       clock_.now() + std::chrono::seconds(options_.token_seconds)};
  Time jti_expires = Time(std::chrono::milliseconds(static_cast<int64_t>(exp * 1000) + 1000));
  Status s = store_.write_sync([&](store::Writer& w) -> Status {
    Status seen = w.remember_jti(client->client_id, jti, jti_expires);
    if (seen.code() == Code::kConflict) return unauthorized("client assertion: this jti was already used");
    HB_RETURN_IF_ERROR(seen);
    return w.put_access_token(t);
  });
  HB_RETURN_IF_ERROR(s);
  return g;
}

Result<Principal> AuthService::authenticate(std::string_view authorization, const std::string& remote_address) {
  if (authorization.size() < 8 || !std::equal(authorization.begin(), authorization.begin() + 7, "bearer ",
                                              [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; })) {
    return unauthorized("a Bearer access token is required");
  }
  std::string_view token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty() || token.size() > 512) return unauthorized("malformed access token");
  std::string hash = crypto::sha256_hex(token);
  Principal p;
  Time now = clock_.now();
  std::optional<store::AccessToken> cached;
  {
    std::lock_guard lock(tokens_mu_);
    if (auto it = tokens_.find(hash); it != tokens_.end()) cached = it->second;
  }
  Status s = store_.read([&](store::Reader& r) -> Status {
    std::optional<store::AccessToken> t = cached;
    if (!t) {
      HB_ASSIGN_OR_RETURN(t, r.access_token(hash));
      if (!t) return unauthorized("unknown access token");
      std::lock_guard lock(tokens_mu_);
      if (tokens_.size() >= 100000) {
        for (auto it = tokens_.begin(); it != tokens_.end();) {
          it = it->second.expires <= now ? tokens_.erase(it) : std::next(it);
        }
        if (tokens_.size() >= 100000) tokens_.clear();
      }
      tokens_.emplace(hash, *t);
    }
    if (t->expires <= now) return unauthorized("the access token has expired");
    HB_ASSIGN_OR_RETURN(auto client, r.client(t->client_id));
    if (!client || client->status != "active") return forbidden("the client is disabled");
    HB_ASSIGN_OR_RETURN(auto facility, r.facility_by_id(t->facility_id));
    if (!facility || facility->status != "active") return forbidden("the facility is suspended");
    HB_ASSIGN_OR_RETURN(p.scopes, Scopes::parse(t->scopes));
    p.client_id = t->client_id;
    p.facility_id = t->facility_id;
    p.facility_code = facility->code;
    return Status::ok();
  });
  HB_RETURN_IF_ERROR(s);
  p.kind = Principal::Kind::kFacilityClient;
  p.remote_address = remote_address;
  return p;
}

}  // namespace hb::services
