#include "services/oidc_token.h"

#include <cmath>
#include <exception>
#include <optional>

#include "crypto/hash.h"

namespace hb::services::oidc {
namespace {

// Bounds on what a provider can make us parse; real documents are a few kilobytes.
constexpr JsonLimits kDocumentLimits{256 * 1024, 16};
constexpr std::size_t kMaxIdToken = 16 * 1024;

// The JOSE algorithms crypto::PublicKey verifies; anything else (none, HS256, PS256) is refused.
bool supported_alg(std::string_view alg) {
  return alg == "ES256" || alg == "ES384" || alg == "RS256" || alg == "RS384" || alg == "EdDSA";
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string string_member(const Json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// A NumericDate (seconds since the epoch, RFC 7519 section 2) as seconds; nullopt when absent
// or not a finite number.
std::optional<double> numeric_date(const Json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

// A provider's JSON document. The parser's message is not passed on: it may quote the bytes it
// stopped at, which in a token response can be part of a token, and refusals are logged.
Result<Json> document(std::string_view text, const char* what) {
  auto j = parse_json(text, kDocumentLimits);
  if (!j) return invalid(std::string(what) + " is not JSON within the limits");
  return j;
}

}  // namespace

Result<ProviderMetadata> parse_discovery(std::string_view text, std::string_view expected_issuer) {
  try {
    HB_ASSIGN_OR_RETURN(Json j, document(text, "the discovery document"));
    if (!j.is_object()) return invalid("the discovery document is not a JSON object");
    ProviderMetadata m;
    m.issuer = string_member(j, "issuer");
    if (m.issuer != expected_issuer)
      return invalid("the discovery document names another issuer than the one configured");
    const bool https = starts_with(expected_issuer, "https://");
    std::vector<Problem> problems;
    auto endpoint = [&](const char* name, std::string& out, bool required) {
      out = string_member(j, name);
      if (out.empty()) {
        if (required) problems.push_back({name, "required: a URL", "required"});
        return;
      }
      const bool ok = https ? starts_with(out, "https://")
                            : starts_with(out, "https://") || starts_with(out, "http://");
      if (!ok || out.find_first_of(" \r\n\t#") != std::string::npos) {
        problems.push_back(
            {name, https ? "must be an https URL" : "must be an http(s) URL", "value"});
        out.clear();
      }
    };
    endpoint("authorization_endpoint", m.authorization_endpoint, true);
    endpoint("token_endpoint", m.token_endpoint, true);
    endpoint("jwks_uri", m.jwks_uri, true);
    endpoint("userinfo_endpoint", m.userinfo_endpoint, false);
    if (auto it = j.find("token_endpoint_auth_methods_supported");
        it != j.end() && it->is_array()) {
      for (const Json& v : *it) {
        if (v.is_string()) m.token_auth_methods.push_back(v.get<std::string>());
      }
    }
    if (auto it = j.find("code_challenge_methods_supported"); it != j.end() && it->is_array()) {
      bool s256 = false;
      for (const Json& v : *it) s256 |= v.is_string() && v.get<std::string>() == "S256";
      if (!s256)
        problems.push_back({"code_challenge_methods_supported", "S256 is needed", "value"});
    }
    if (!problems.empty()) {
      std::string msg = "the discovery document is not usable";
      for (const Problem& p : problems) msg += "; " + p.path + ": " + p.message;
      return Status(Code::kInvalid, std::move(msg), std::move(problems));
    }
    return m;
  } catch (const std::exception& e) {
    return invalid(std::string("the discovery document is not usable: ") + e.what());
  }
}

Result<crypto::JwkSet> parse_provider_jwks(std::string_view text) {
  try {
    HB_ASSIGN_OR_RETURN(Json j, document(text, "the provider's key set"));
    if (!j.is_object() || !j.contains("keys") || !j["keys"].is_array())
      return invalid("the provider's key set has no \"keys\" array");
    Json usable = Json::array();
    for (const Json& k : j["keys"]) {
      if (!k.is_object()) continue;
      const std::string kty = string_member(k, "kty");
      if (kty != "EC" && kty != "RSA" && kty != "OKP") continue;
      if (k.contains("use") && string_member(k, "use") != "sig") continue;
      if (k.contains("alg") && !supported_alg(string_member(k, "alg"))) continue;
      if (k.contains("d")) continue;  // a private key published by mistake: never use it
      // One key at a time, so that one we cannot read (a P-521 curve, a short RSA modulus) is
      // left out instead of failing the set.
      Json single = {{"keys", Json::array({k})}};
      if (crypto::JwkSet::from_json(single)) usable.push_back(k);
    }
    if (usable.empty()) return invalid("the provider publishes no signature key we can use");
    return crypto::JwkSet::from_json(Json{{"keys", std::move(usable)}});
  } catch (const std::exception& e) {
    return invalid(std::string("the provider's key set is not usable: ") + e.what());
  }
}

Result<TokenResponse> parse_token_response(std::string_view text) {
  try {
    HB_ASSIGN_OR_RETURN(Json j, document(text, "the token response"));
    if (!j.is_object()) return invalid("the token response is not a JSON object");
    TokenResponse t;
    t.id_token = string_member(j, "id_token");
    if (t.id_token.empty()) return invalid("the token response has no id_token");
    t.access_token = string_member(j, "access_token");
    if (!t.access_token.empty()) {
      std::string type = string_member(j, "token_type");
      for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (type != "bearer") return invalid("the token response's token_type is not Bearer");
    }
    return t;
  } catch (const std::exception& e) {
    return invalid(std::string("the token response is not usable: ") + e.what());
  }
}

Result<Json> check_id_token(const crypto::CompactJws& jws, const crypto::JwkSet& keys,
                            const IdTokenExpectations& expect) {
  try {
    if (!supported_alg(jws.alg)) return unauthorized("the ID token's algorithm is not accepted");
    if (jws.signing_input.size() + jws.signature.size() > 2 * kMaxIdToken)
      return unauthorized("the ID token is too large");
    if (Status s = crypto::verify_compact_jws(jws, keys); !s)
      return unauthorized("the ID token's signature does not verify: " + s.message());
    auto parsed = parse_json(jws.payload, JsonLimits{kMaxIdToken, 8});
    if (!parsed || !parsed->is_object()) return unauthorized("the ID token's claims are not JSON");
    const Json& c = *parsed;

    if (string_member(c, "iss") != expect.issuer)
      return unauthorized("the ID token comes from another issuer");
    const std::string sub = string_member(c, "sub");
    if (sub.empty() || sub.size() > 255) return unauthorized("the ID token has no valid sub");

    // aud: our client id, alone or among others; with others, azp must name us (Core 3.1.3.7
    // items 3 to 5), and an azp present at all must be us.
    std::size_t audiences = 0;
    bool ours = false;
    if (auto it = c.find("aud"); it != c.end() && it->is_string()) {
      audiences = 1;
      ours = it->get<std::string>() == expect.client_id;
    } else if (it != c.end() && it->is_array()) {
      for (const Json& a : *it) {
        if (!a.is_string()) return unauthorized("the ID token's aud is not a list of strings");
        ++audiences;
        ours |= a.get<std::string>() == expect.client_id;
      }
    }
    if (!ours) return unauthorized("the ID token is not meant for this client");
    const bool has_azp = c.contains("azp");
    if ((audiences > 1 || has_azp) && string_member(c, "azp") != expect.client_id)
      return unauthorized("the ID token was issued to another party (azp)");

    const double now = std::chrono::duration<double>(expect.now.time_since_epoch()).count();
    const double skew = static_cast<double>(expect.skew.count());
    auto exp = numeric_date(c, "exp");
    if (!exp) return unauthorized("the ID token has no exp");
    if (now >= *exp + skew) return unauthorized("the ID token has expired");
    auto iat = numeric_date(c, "iat");
    if (!iat) return unauthorized("the ID token has no iat");
    if (*iat > now + skew) return unauthorized("the ID token is issued in the future");
    if (*iat < now - skew - static_cast<double>(expect.max_age.count()))
      return unauthorized("the ID token was issued too long ago");
    if (c.contains("nbf")) {
      auto nbf = numeric_date(c, "nbf");
      if (!nbf || *nbf > now + skew) return unauthorized("the ID token is not valid yet");
    }

    // The nonce ties the token to the login this browser started (Core 3.1.2.1, 15.5.2).
    const std::string nonce = string_member(c, "nonce");
    if (expect.nonce.empty() || nonce.empty() || !crypto::equal_constant_time(nonce, expect.nonce))
      return unauthorized("the ID token's nonce does not match this login");
    return std::move(parsed).value();
  } catch (const std::exception& e) {
    return unauthorized(std::string("the ID token cannot be checked: ") + e.what());
  }
}

Result<std::string> national_id_claim(const Json& claims, std::string_view claim) {
  if (!claims.is_object()) return unauthorized("no claims");
  auto it = claims.find(std::string(claim));
  std::string v;
  if (it != claims.end() && it->is_string()) {
    v = it->get<std::string>();
  } else if (it != claims.end() && it->is_number_unsigned()) {
    v = std::to_string(it->get<uint64_t>());
  } else if (it != claims.end() && it->is_number_integer() && it->get<int64_t>() >= 0) {
    v = std::to_string(it->get<int64_t>());
  }
  if (v.empty() || v.size() > 64) return unauthorized("the national id claim is missing");
  return v;
}

}  // namespace hb::services::oidc
