// libFuzzer target for the eID login's parsers of what an OpenID provider sends
// (services/oidc_token.h): the discovery document, the provider's key set, the token endpoint's
// answer and the ID token's claims.
//
// Every input is tried as each document, and as an ID token checked against a fixed key set. An
// input of the form "<id token>\n<jwks>" is also checked against its own key set, so the fuzzer can
// get past the signature with keys it chose and reach the claim checks.
// Beyond "no crash, no leak", it aborts when an accepted answer breaks what the checks promise:
//   - an accepted discovery document names the expected issuer and has its three endpoints;
//   - an accepted key set is not empty and holds no key for encryption;
//   - accepted ID token claims have the expected iss, our client among aud, and the nonce.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.h"
#include "crypto/keys.h"
#include "services/oidc_token.h"

namespace {

using namespace hb;
using namespace hb::services::oidc;

constexpr const char* kIssuer = "https://eid.example.gov.vn";

// The SMART Health Cards example issuer key, as a provider's signature key.
constexpr std::string_view kFixedKeys = R"({"keys":[
 {"kty":"EC","kid":"3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s","use":"sig","alg":"ES256","crv":"P-256",
  "x":"11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw","y":"eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8"}
]})";

void check(bool ok) {
  if (!ok) std::abort();
}

IdTokenExpectations expectations() {
  IdTokenExpectations e;
  e.issuer = kIssuer;
  e.client_id = "healthbook";
  e.nonce = "nonce-1";
  e.now = Time(std::chrono::seconds(1'800'000'000));
  return e;
}

void try_id_token(std::string_view token, const crypto::JwkSet& keys) {
  auto jws = crypto::parse_compact_jws(token);
  if (!jws) return;
  auto claims = check_id_token(*jws, keys, expectations());
  if (!claims) return;
  check(claims->is_object());
  check(claims->value("iss", "") == kIssuer);
  check(claims->value("nonce", "") == "nonce-1");
  const Json& aud = (*claims)["aud"];
  bool ours = aud.is_string() && aud.get<std::string>() == "healthbook";
  if (aud.is_array()) {
    for (const Json& a : aud) ours |= a.is_string() && a.get<std::string>() == "healthbook";
  }
  check(ours);
  (void)national_id_claim(*claims, "national_id");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const crypto::JwkSet fixed = [] {
    auto set = crypto::JwkSet::parse(kFixedKeys);
    if (!set) std::abort();
    return std::move(set).value();
  }();
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto m = parse_discovery(in, kIssuer)) {
    check(m->issuer == kIssuer);
    check(!m->authorization_endpoint.empty() && !m->token_endpoint.empty() && !m->jwks_uri.empty());
  }
  if (auto keys = parse_provider_jwks(in)) {
    check(!keys->keys().empty());
    for (const auto& k : keys->keys()) check(k.use.empty() || k.use == "sig");
  }
  if (auto t = parse_token_response(in)) check(!t->id_token.empty());
  try_id_token(in, fixed);

  if (auto nl = in.find('\n'); nl != std::string_view::npos) {
    if (auto own = parse_provider_jwks(in.substr(nl + 1))) try_id_token(in.substr(0, nl), *own);
  }
  return 0;
}
