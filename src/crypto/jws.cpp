// JWK Sets and compact JWS (RFC 7515 section 7.1): strict parsing, signing, verification.
#include <exception>

#include "crypto/encoding.h"
#include "crypto/keys.h"
#include "crypto/keys_internal.h"
#include "crypto/x509.h"

namespace hb::crypto {
namespace {

// A published key set is small; these bound what a hostile one can make us parse.
constexpr std::size_t kMaxJwksBytes = 1024 * 1024;
constexpr std::size_t kMaxKeys = 256;

// Optional string member: absent gives "", present but not a string is a problem.
bool optional_string(const Json& obj, const char* name, std::string& out) {
  auto it = obj.find(name);
  if (it == obj.end()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

Result<JwkSet> jwks_from_json(const Json& j, std::vector<Jwk>& keys) {
  if (!j.is_object()) return invalid("a JWK Set must be a JSON object");
  auto it = j.find("keys");
  if (it == j.end() || !it->is_array()) return invalid("a JWK Set needs a \"keys\" array");
  if (it->size() > kMaxKeys) return Status(Code::kTooLarge, "JWK Set has more than 256 keys");

  std::vector<Problem> problems;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& entry = (*it)[i];
    const std::string path = "keys[" + std::to_string(i) + "]";
    std::size_t problems_before = problems.size();
    auto key = PublicKey::from_jwk(entry);
    if (!key) {
      if (key.error().problems().empty()) {
        problems.push_back({path, key.error().message(), "value"});
      }
      for (const Problem& p : key.error().problems()) {
        problems.push_back({p.path.empty() ? path : path + "." + p.path, p.message, "value"});
      }
      continue;
    }
    std::string kid, alg, use;
    if (!optional_string(entry, "kid", kid))
      problems.push_back({path + ".kid", "must be a string", "value"});
    if (!optional_string(entry, "alg", alg))
      problems.push_back({path + ".alg", "must be a string", "value"});
    if (!optional_string(entry, "use", use))
      problems.push_back({path + ".use", "must be a string", "value"});
    if (!alg.empty()) {
      auto type = detail::key_type_for_alg(alg);
      if (!type) {
        problems.push_back({path + ".alg", "unsupported alg \"" + alg + "\"", "value"});
      } else if (*type != key->type()) {
        problems.push_back({path + ".alg", "alg \"" + alg + "\" does not fit the key", "value"});
      }
    }
    if (problems.size() == problems_before) {
      std::string thumbprint = key->thumbprint();
      std::shared_ptr<X5c> x5c;
      if (auto chain = entry.find("x5c"); chain != entry.end()) {
        x5c = std::make_shared<X5c>();
        auto parsed = parse_x5c(*chain);
        if (parsed) {
          x5c->chain = std::move(parsed).value();
        } else {
          x5c->error = parsed.error().message();
        }
      }
      keys.push_back(Jwk{std::move(kid), std::move(alg), std::move(use), std::move(key).value(),
                         std::move(thumbprint), std::move(x5c)});
    }
  }
  if (!problems.empty()) {
    std::string msg = "JWK Set has unusable keys";
    for (const Problem& p : problems) msg += "; " + p.path + ": " + p.message;
    return Status(Code::kInvalid, std::move(msg), std::move(problems));
  }
  return JwkSet();  // the caller moves `keys` in
}

}  // namespace

Result<JwkSet> JwkSet::parse(std::string_view json_text) {
  auto j = parse_json(json_text, JsonLimits{kMaxJwksBytes, 16});
  if (!j) return j.error();
  return from_json(*j);
}

Result<JwkSet> JwkSet::from_json(const Json& j) {
  try {
    std::vector<Jwk> keys;
    auto set = jwks_from_json(j, keys);
    if (!set) return set.error();
    set->keys_ = std::move(keys);
    return set;
  } catch (const std::exception& e) {
    return internal(std::string("JWK Set import failed: ") + e.what());
  }
}

std::vector<const Jwk*> JwkSet::find(std::string_view kid) const {
  std::vector<const Jwk*> out;
  for (const Jwk& k : keys_) {
    if (k.kid == kid) out.push_back(&k);
  }
  return out;
}

Result<CompactJws> parse_compact_jws(std::string_view text, std::size_t max_len) {
  try {
    if (text.size() > max_len) {
      return invalid("JWS is " + std::to_string(text.size()) + " characters, over the limit of " +
                     std::to_string(max_len));
    }
    auto dot1 = text.find('.');
    auto dot2 = dot1 == std::string_view::npos ? dot1 : text.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || text.find('.', dot2 + 1) != std::string_view::npos) {
      return invalid("a compact JWS has exactly three dot-separated parts");
    }
    std::string_view h64 = text.substr(0, dot1);
    std::string_view p64 = text.substr(dot1 + 1, dot2 - dot1 - 1);
    std::string_view s64 = text.substr(dot2 + 1);
    if (h64.empty()) return invalid("JWS header is empty");
    if (s64.empty()) return invalid("JWS signature is empty (unsigned or detached JWS)");

    CompactJws jws;
    auto header_bytes = base64url_decode(h64);
    if (!header_bytes) return invalid("JWS header: " + header_bytes.error().message());
    auto payload = base64url_decode(p64);
    if (!payload) return invalid("JWS payload: " + payload.error().message());
    auto signature = base64url_decode(s64);
    if (!signature) return invalid("JWS signature: " + signature.error().message());

    // JSON text must not start with a byte order mark (RFC 8259 section 8.1); the JSON parser
    // would skip one silently, so refuse it here.
    if (header_bytes->starts_with("\xEF\xBB\xBF")) return invalid("JWS header starts with a BOM");
    auto header = parse_json(*header_bytes, JsonLimits{max_len, 16});
    if (!header) return invalid("JWS header: " + header.error().message());
    if (!header->is_object()) return invalid("JWS header is not a JSON object");

    auto alg = header->find("alg");
    if (alg == header->end()) return invalid("JWS header has no \"alg\"");
    if (!alg->is_string()) return invalid("JWS header \"alg\" is not a string");
    jws.alg = alg->get<std::string>();
    if (jws.alg.empty()) return invalid("JWS header \"alg\" is empty");
    if (jws.alg == "none" || jws.alg == "None" || jws.alg == "NONE") {
      return invalid("unsecured JWS (\"alg\":\"none\") is not accepted");
    }
    auto kid = header->find("kid");
    if (kid != header->end()) {
      if (!kid->is_string()) return invalid("JWS header \"kid\" is not a string");
      jws.kid = kid->get<std::string>();
    }
    // RFC 7515 section 4.1.11: extensions listed in "crit" must be understood; we understand none
    // (this also rules out RFC 7797 unencoded payloads).
    if (header->contains("crit"))
      return invalid("JWS header \"crit\" names extensions we do not support");

    jws.header = std::move(header).value();
    jws.payload = std::move(payload).value();
    jws.signature = std::move(signature).value();
    jws.signing_input = std::string(text.substr(0, dot2));
    return jws;
  } catch (const std::exception& e) {
    return internal(std::string("JWS parsing failed: ") + e.what());
  }
}

Result<std::string> sign_compact_jws(const PrivateKey& key, Json header, std::string_view payload) {
  try {
    if (header.is_null()) header = Json::object();
    if (!header.is_object()) return invalid("JWS header must be a JSON object");
    auto alg = header.find("alg");
    if (alg == header.end()) {
      header["alg"] = key.default_alg();
    } else if (!alg->is_string()) {
      return invalid("JWS header \"alg\" must be a string");
    }
    const std::string alg_name = header["alg"].get<std::string>();
    std::string input = base64url_encode(dump_json(header));
    input += '.';
    input += base64url_encode(payload);
    HB_ASSIGN_OR_RETURN(std::string signature, key.sign(alg_name, input));
    input += '.';
    input += base64url_encode(signature);
    return input;
  } catch (const std::exception& e) {
    return internal(std::string("JWS signing failed: ") + e.what());
  }
}

Status verify_compact_jws(const CompactJws& jws, const JwkSet& keys) {
  auto type = detail::key_type_for_alg(jws.alg);
  if (!type) return unauthorized("unsupported JWS alg \"" + jws.alg + "\"");
  for (const Jwk* k : keys.find(jws.kid)) {
    if (k->key.type() != *type) continue;
    // A key published for one algorithm or for encryption is not used for anything else.
    if (!k->alg.empty() && k->alg != jws.alg) continue;
    if (!k->use.empty() && k->use != "sig") continue;
    return k->key.verify(jws.alg, jws.signing_input, jws.signature);
  }
  if (jws.kid.empty())
    return unauthorized("JWS has no kid and no key without a kid fits " + jws.alg);
  return unauthorized("no key with kid \"" + jws.kid + "\" fits " + jws.alg);
}

}  // namespace hb::crypto
