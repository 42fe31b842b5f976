#include "documents/health_card.h"

#include <map>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "documents/deflate.h"
#include "documents/numeric.h"
#include "fhir/validate.h"

namespace hb::documents {
namespace {

// Coding has only these members; an object with "display" and a code or system and nothing
// outside this set is a Coding (Reference.display, which must stay, always comes with other
// members or alone).
bool is_coding(const Json& obj) {
  if (!obj.contains("display") || !(obj.contains("code") || obj.contains("system"))) return false;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (k != "system" && k != "version" && k != "code" && k != "display" && k != "userSelected" &&
        k != "id" && k != "extension") {
      return false;
    }
  }
  return true;
}

class Minifier {
 public:
  explicit Minifier(std::map<std::string, std::string> refs) : refs_(std::move(refs)) {}

  Status walk(Json& node, const std::string& path) {
    if (node.is_array()) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        HB_RETURN_IF_ERROR(walk(node[i], path + "[" + std::to_string(i) + "]"));
      }
      return Status::ok();
    }
    if (!node.is_object()) return Status::ok();
    if (node.contains("resourceType")) {
      node.erase("id");
      node.erase("text");
      auto meta = node.find("meta");
      if (meta != node.end()) {
        if (meta->is_object() && meta->contains("security")) {
          Json kept = {{"security", (*meta)["security"]}};
          *meta = std::move(kept);
        } else {
          node.erase(meta);
        }
      }
    }
    if (node.contains("coding")) node.erase("text");  // CodeableConcept.text
    if (is_coding(node)) node.erase("display");
    auto ref = node.find("reference");
    if (ref != node.end() && ref->is_string()) {
      const std::string r = ref->get<std::string>();
      auto hit = refs_.find(r);
      if (hit == refs_.end()) {
        return invalid(path + ".reference \"" + r + "\" does not point to an entry of the bundle");
      }
      *ref = hit->second;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == "reference") continue;
      HB_RETURN_IF_ERROR(walk(it.value(), path + "." + it.key()));
    }
    return Status::ok();
  }

 private:
  std::map<std::string, std::string> refs_;
};

}  // namespace

bool valid_issuer_url(std::string_view iss) {
  // https only; plain http is accepted for the loopback host alone, so that a server on a
  // developer's machine (and the tests) can issue and verify: no one else can reach such an issuer.
  std::string_view kScheme = "https://";
  for (std::string_view loopback : {"http://localhost", "http://127.0.0.1"}) {
    if (iss.starts_with(loopback) && (iss.size() == loopback.size() || iss[loopback.size()] == ':' ||
                                      iss[loopback.size()] == '/')) {
      kScheme = "http://";
    }
  }
  if (!iss.starts_with(kScheme) || iss.size() <= kScheme.size()) return false;
  if (iss.ends_with('/')) return false;
  // A loop, not find_first_of, which calls memchr on the six characters once per character.
  for (char c : iss) {
    if (c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\r' || c == '\n') return false;
  }
  std::string_view host = iss.substr(kScheme.size());
  host = host.substr(0, host.find('/'));
  return !host.empty();
}

Result<Json> minify_bundle(const Json& bundle) {
  try {
    if (!bundle.is_object() || bundle.value("resourceType", "") != "Bundle") {
      return invalid("a health card holds a FHIR Bundle");
    }
    auto entries = bundle.find("entry");
    if (entries == bundle.end() || !entries->is_array() || entries->empty()) {
      return invalid("the Bundle has no entries");
    }
    std::map<std::string, std::string> refs;
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const Json& e = (*entries)[i];
      const std::string short_url = "resource:" + std::to_string(i);
      refs[short_url] = short_url;
      if (!e.is_object() || !e.contains("resource") || !e["resource"].is_object()) {
        return invalid("Bundle.entry[" + std::to_string(i) + "] has no resource");
      }
      if (e.contains("fullUrl") && e["fullUrl"].is_string()) {
        refs[e["fullUrl"].get<std::string>()] = short_url;
      }
      const Json& r = e["resource"];
      if (r.contains("id") && r["id"].is_string() && r.contains("resourceType") &&
          r["resourceType"].is_string()) {
        refs[r["resourceType"].get<std::string>() + "/" + r["id"].get<std::string>()] = short_url;
      }
    }
    Json out = {{"resourceType", "Bundle"}, {"type", bundle.value("type", "collection")}};
    Json out_entries = Json::array();
    Minifier m(std::move(refs));
    for (std::size_t i = 0; i < entries->size(); ++i) {
      Json resource = (*entries)[i]["resource"];
      HB_RETURN_IF_ERROR(m.walk(resource, "Bundle.entry[" + std::to_string(i) + "].resource"));
      out_entries.push_back({{"fullUrl", "resource:" + std::to_string(i)}, {"resource", std::move(resource)}});
    }
    out["entry"] = std::move(out_entries);
    return out;
  } catch (const std::exception& e) {
    return internal(std::string("bundle minification failed: ") + e.what());
  }
}

Result<IssuedCard> issue_health_card(const Json& bundle, const crypto::PrivateKey& key,
                                     const IssueOptions& options, const Clock& clock) {
  if (!valid_issuer_url(options.iss)) {
    return invalid("issuer URL must be https:// with a host and no trailing slash");
  }
  if (key.type() != crypto::KeyType::kEcP256) return invalid("health cards are signed with ES256");
  if (options.rid.size() > 24 ||
      options.rid.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_") != std::string::npos) {
    return invalid("rid must be at most 24 base64url characters");
  }
  if (!bundle.is_object()) return invalid("a health card holds a FHIR Bundle");
  HB_RETURN_IF_ERROR(fhir::validate_resource(bundle));
  HB_ASSIGN_OR_RETURN(Json fhir_bundle, minify_bundle(bundle));
  HB_RETURN_IF_ERROR(fhir::validate_resource(fhir_bundle));

  const int64_t nbf = unix_seconds(clock.now());
  Json types = Json::array({std::string(kHealthCardType)});
  for (const std::string& t : options.extra_types) types.push_back(t);
  Json vc = {
      {"type", std::move(types)},
      {"credentialSubject",
       {{"fhirVersion", std::string(kFhirVersion)}, {"fhirBundle", std::move(fhir_bundle)}}}};
  if (!options.rid.empty()) vc["rid"] = options.rid;
  Json payload = {{"iss", options.iss}, {"nbf", nbf}, {"vc", std::move(vc)}};
  if (options.expires) {
    const int64_t exp = unix_seconds(*options.expires);
    if (exp <= nbf) return invalid("a card must expire after it is issued");
    payload["exp"] = exp;
  }

  HB_ASSIGN_OR_RETURN(std::string compressed, deflate_raw(dump_json(payload)));
  Json header = {{"alg", "ES256"}, {"zip", "DEF"}, {"kid", options.kid.empty() ? key.public_key().thumbprint() : options.kid}};
  HB_ASSIGN_OR_RETURN(std::string jws, crypto::sign_compact_jws(key, header, compressed));
  if (jws.size() > kMaxSingleQrJws) {
    return Status(Code::kTooLarge, "health card too large for one QR code: the JWS is " +
                                       std::to_string(jws.size()) +
                                       " characters, the limit is 1195; share it as a link");
  }
  HB_ASSIGN_OR_RETURN(std::string qr_text, to_shc_numeric(jws));
  return IssuedCard{std::move(jws), std::move(qr_text)};
}

std::string health_card_file(const std::vector<std::string>& jws_list) {
  Json vcs = Json::array();
  for (const std::string& j : jws_list) vcs.push_back(j);
  return dump_json(Json{{"verifiableCredential", std::move(vcs)}});
}

std::string revocation_id(std::string_view secret, std::string_view kid, std::string_view user_id) {
  std::string key(secret);
  key += kid;
  std::string mac = crypto::hmac_sha256(key, user_id);
  return crypto::base64url_encode(std::string_view(mac).substr(0, 8));
}

}  // namespace hb::documents
