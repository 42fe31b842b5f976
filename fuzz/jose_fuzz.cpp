// libFuzzer target for the JOSE parsers: compact JWS, JWK Sets, single JWKs, base64/base64url.
//
// Every input is tried as a compact JWS (verified against a fixed key set), as a JWK Set, as one
// JWK and as base64 text. An input of the form "<jws>\n<jwks>" is also verified against its own
// key set, so the fuzzer can reach signature verification with keys it chose itself.
// Beyond "no crash, no leak", it checks invariants and aborts when one breaks:
//   - decoders are canonical: encode(decode(x)) == x;
//   - an accepted JWS's signing input is the text up to its second dot;
//   - an accepted key survives to_jwk() -> from_jwk() with the same thumbprint, and a junk
//     signature never verifies under it;
//   - a key's "x5c" is either a chain of certificates or an error, never both, and a parsed
//     chain's certificates answer every question (key, subject, SAN URIs, path validation)
//     without crashing. The seed jwks-x5c.json (a copy of
//     tests/data/shc/issuer/jwks.json) carries the SMART Health Cards example chain.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.h"
#include "crypto/encoding.h"
#include "crypto/keys.h"
#include "crypto/x509.h"

namespace {

using namespace hb::crypto;

// The SMART Health Cards example issuer keys, the RFC 8037 Ed25519 key and the RFC 7638 RSA key.
constexpr std::string_view kFixedKeys = R"({"keys":[
 {"kty":"EC","kid":"3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s","use":"sig","alg":"ES256","crv":"P-256",
  "x":"11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw","y":"eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8"},
 {"kty":"EC","kid":"EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw","use":"sig","alg":"ES256","crv":"P-256",
  "x":"PQHApUWm94mflvswQgAnfHlETMwJFqjUVSs7WU6LQy4","y":"7mj8IO-8V5VZjDbRVsJINC_Rq5ai5CDhFX18ceRsLWQ"},
 {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
 {"kty":"RSA","kid":"2011-04-29","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
]})";

const JwkSet& fixed_keys() {
  static const JwkSet keys = [] {
    auto set = JwkSet::parse(kFixedKeys);
    if (!set) std::abort();
    return std::move(set).value();
  }();
  return keys;
}

void check(bool ok) {
  if (!ok) std::abort();
}

void exercise_key(const PublicKey& key) {
  std::string tp = key.thumbprint();
  auto again = PublicKey::from_jwk(key.to_jwk());
  check(again.is_ok());
  check(again->type() == key.type());
  check(again->thumbprint() == tp);
  // A random signature must not verify under any algorithm.
  for (const char* alg : {"ES256", "ES384", "RS256", "RS384", "EdDSA", "HS256"}) {
    check(!key.verify(alg, "fuzz.input", std::string(64, '\x01')).is_ok());
  }
}

void exercise_chain(const X5c& x5c) {
  check(x5c.error.empty() != x5c.chain.empty());
  for (const Certificate& c : x5c.chain) {
    if (auto key = c.public_key()) exercise_key(*key);
    (void)c.subject();
    (void)c.san_uris();
  }
  if (!x5c.chain.empty()) {
    // Anchored at its own last certificate, at both ends of the leaf's validity.
    const Certificate& leaf = x5c.chain.front();
    for (int64_t at : {leaf.not_before(), leaf.not_after()}) {
      PathResult r = verify_certificate_path(x5c.chain, {x5c.chain.back()}, at);
      check(r.ok() == r.message.empty());
    }
  }
}

void exercise_set(const JwkSet& set) {
  for (const Jwk& k : set.keys()) {
    exercise_key(k.key);
    check(!set.find(k.kid).empty());
    if (k.x5c) exercise_chain(*k.x5c);
  }
}

hb::Status verify_text(std::string_view text, const JwkSet& keys) {
  auto jws = parse_compact_jws(text);
  if (!jws) return jws.error();
  // The signing input is exactly what was received before the second dot.
  std::size_t second_dot = text.find('.', text.find('.') + 1);
  check(jws->signing_input == text.substr(0, second_dot));
  check(jws->alg != "none" && !jws->alg.empty());
  return verify_compact_jws(*jws, keys);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const JwkSet& keys = fixed_keys();

  (void)verify_text(in, keys);

  if (auto set = JwkSet::parse(in)) exercise_set(*set);

  if (auto j = hb::parse_json(in, hb::JsonLimits{64 * 1024, 32})) {
    if (auto key = PublicKey::from_jwk(*j)) exercise_key(*key);
    (void)JwkSet::from_json(*j);
  }

  // "<jws>\n<jwks>": verify against keys the input brings along.
  if (auto nl = in.find('\n'); nl != std::string_view::npos) {
    if (auto own = JwkSet::parse(in.substr(nl + 1))) {
      exercise_set(*own);
      (void)verify_text(in.substr(0, nl), *own);
    }
  }

  // Strict decoders accept only the canonical encoding.
  if (auto d = base64url_decode(in)) check(base64url_encode(*d) == in);
  if (auto d = base64_decode(in)) check(base64_encode(*d) == in);
  if (auto d = hex_decode(in)) {
    std::string lower(in);
    for (char& c : lower) {
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    }
    check(hex_encode(*d) == lower);
  }
  return 0;
}
