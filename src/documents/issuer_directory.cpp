#include "documents/issuer_directory.h"

#include <algorithm>

#include <exception>

#include "documents/health_card.h"

namespace hb::documents {
namespace {

constexpr std::size_t kMaxDirectoryBytes = 8 * 1024 * 1024;

bool is_base64url(std::string_view s) {
  return !s.empty() && s.find_first_not_of(
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789-_") == std::string_view::npos;
}

Result<RevokedRid> parse_rid(std::string_view text) {
  RevokedRid out;
  std::size_t dot = text.find('.');
  out.rid = std::string(text.substr(0, dot));
  if (!is_base64url(out.rid) || out.rid.size() > 24) {
    return invalid("rid \"" + std::string(text) + "\" is not 1..24 base64url characters");
  }
  if (dot != std::string_view::npos) {
    std::string_view ts = text.substr(dot + 1);
    if (ts.empty() || ts.size() > 12 ||
        ts.find_first_not_of("0123456789") != std::string_view::npos) {
      return invalid("rid \"" + std::string(text) + "\" has a malformed timestamp");
    }
    out.before = std::stoll(std::string(ts));
  }
  return out;
}

}  // namespace

bool Crl::revokes(std::string_view rid, double nbf) const {
  for (const RevokedRid& r : rids) {
    if (r.rid != rid) continue;
    if (!r.before || nbf < static_cast<double>(*r.before)) return true;
  }
  return false;
}

Result<Crl> parse_crl(const Json& j) {
  if (!j.is_object()) return invalid("a CRL is a JSON object");
  Crl crl;
  if (!j.contains("kid") || !j["kid"].is_string()) return invalid("CRL needs a string \"kid\"");
  crl.kid = j["kid"].get<std::string>();
  if (j.value("method", "") != "rid") return invalid("CRL \"method\" must be \"rid\"");
  if (!j.contains("ctr") || !j["ctr"].is_number_integer() || j["ctr"].get<int64_t>() < 1) {
    return invalid("CRL \"ctr\" must be an integer >= 1");
  }
  crl.ctr = j["ctr"].get<int64_t>();
  if (!j.contains("rids") || !j["rids"].is_array()) return invalid("CRL needs a \"rids\" array");
  for (const Json& r : j["rids"]) {
    if (!r.is_string()) return invalid("CRL rids must be strings");
    HB_ASSIGN_OR_RETURN(RevokedRid rid, parse_rid(r.get<std::string>()));
    crl.rids.push_back(std::move(rid));
  }
  return crl;
}

Result<IssuerDirectory> IssuerDirectory::parse(std::string_view json_text) {
  auto j = parse_json(json_text, JsonLimits{kMaxDirectoryBytes, 32});
  if (!j) return invalid("issuer directory: " + j.error().message());
  return from_json(*j);
}

Result<IssuerDirectory> IssuerDirectory::from_json(const Json& j) {
  try {
    if (!j.is_object() || !j.contains("issuers") || !j["issuers"].is_array()) {
      return invalid("issuer directory needs an \"issuers\" array");
    }
    IssuerDirectory dir;
    std::vector<Problem> problems;
    const Json& list = j["issuers"];
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = "issuers[" + std::to_string(i) + "]";
      const Json& e = list[i];
      if (!e.is_object()) {
        problems.push_back({path, "must be an object", "structure"});
        continue;
      }
      TrustedIssuer issuer;
      if (!e.contains("iss") || !e["iss"].is_string() ||
          !valid_issuer_url(e["iss"].get<std::string>())) {
        problems.push_back(
            {path + ".iss", "must be an https URL without a trailing slash", "value"});
        continue;
      }
      issuer.iss = e["iss"].get<std::string>();
      if (dir.find(issuer.iss)) {
        problems.push_back({path + ".iss", "duplicate issuer " + issuer.iss, "value"});
        continue;
      }
      if (e.contains("name")) {
        if (!e["name"].is_string()) {
          problems.push_back({path + ".name", "must be a string", "value"});
        } else {
          issuer.name = e["name"].get<std::string>();
        }
      }
      if (!e.contains("jwks")) {
        problems.push_back({path + ".jwks", "missing", "required"});
        continue;
      }
      auto keys = crypto::JwkSet::from_json(e["jwks"]);
      if (!keys) {
        problems.push_back({path + ".jwks", keys.error().message(), "value"});
        continue;
      }
      issuer.keys = std::move(keys).value();
      for (const Json& k : e["jwks"]["keys"]) {
        if (k.contains("crlVersion") && k["crlVersion"].is_number_integer() && k.contains("kid") &&
            k["kid"].is_string()) {
          issuer.crl_versions[k["kid"].get<std::string>()] = k["crlVersion"].get<int64_t>();
        }
      }
      if (e.contains("crls")) {
        if (!e["crls"].is_array()) {
          problems.push_back({path + ".crls", "must be an array", "structure"});
          continue;
        }
        for (std::size_t c = 0; c < e["crls"].size(); ++c) {
          auto crl = parse_crl(e["crls"][c]);
          if (!crl) {
            problems.push_back(
                {path + ".crls[" + std::to_string(c) + "]", crl.error().message(), "value"});
            continue;
          }
          std::string kid = crl->kid;
          issuer.crls[kid] = std::move(crl).value();
        }
      }
      if (auto sup = e.find("superseded"); sup != e.end()) {
        if (!sup->is_array() || !std::all_of(sup->begin(), sup->end(), [](const Json& r) { return r.is_string(); })) {
          problems.push_back({path + ".superseded", "must be an array of rids", "structure"});
          continue;
        }
        for (const Json& r : *sup) issuer.superseded.push_back(r.get<std::string>());
        std::sort(issuer.superseded.begin(), issuer.superseded.end());
      }
      dir.issuers_.push_back(std::move(issuer));
    }
    if (auto anchors = j.find("trust_anchors"); anchors != j.end()) {
      if (!anchors->is_array()) {
        problems.push_back({"trust_anchors", "must be an array of PEM strings", "structure"});
      } else {
        for (std::size_t a = 0; a < anchors->size(); ++a) {
          const std::string path = "trust_anchors[" + std::to_string(a) + "]";
          if (!(*anchors)[a].is_string()) {
            problems.push_back({path, "must be a PEM string", "value"});
            continue;
          }
          auto certs = crypto::Certificate::from_pem((*anchors)[a].get<std::string>());
          if (!certs) {
            problems.push_back({path, certs.error().message(), "value"});
            continue;
          }
          dir.add_trust_anchors(std::move(certs).value());
        }
      }
    }
    if (!problems.empty()) {
      std::string msg = "issuer directory is invalid";
      for (const Problem& p : problems) msg += "; " + p.path + ": " + p.message;
      return Status(Code::kInvalid, std::move(msg), std::move(problems));
    }
    return dir;
  } catch (const std::exception& e) {
    return internal(std::string("issuer directory import failed: ") + e.what());
  }
}

void IssuerDirectory::add_trust_anchors(std::vector<crypto::Certificate> anchors) {
  for (crypto::Certificate& c : anchors) trust_anchors_.push_back(std::move(c));
}

const TrustedIssuer* IssuerDirectory::find(std::string_view iss) const {
  for (const TrustedIssuer& i : issuers_) {
    if (i.iss == iss) return &i;
  }
  return nullptr;
}

bool TrustedIssuer::was_superseded(std::string_view rid) const {
  return std::binary_search(superseded.begin(), superseded.end(), rid, std::less<>());
}

}  // namespace hb::documents
