#include "services/facilities.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

#include "core/ids.h"
#include "crypto/keys.h"
#include "services/principal.h"

namespace hb::services {

bool acceptable_jwks_url(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return false;
  auto part = [&](CURLUPart which) {
    char* v = nullptr;
    std::string out;
    if (curl_url_get(u.get(), which, &v, 0) == CURLUE_OK && v) out = v;
    curl_free(v);
    return out;
  };
  std::string scheme = part(CURLUPART_SCHEME);
  std::string host = part(CURLUPART_HOST);
  if (!part(CURLUPART_USER).empty() || !part(CURLUPART_PASSWORD).empty() || host.empty()) return false;
  if (scheme == "https") return true;
  return scheme == "http" && (host == "localhost" || host == "127.0.0.1" || host == "[::1]");
}

const std::vector<std::string>& facility_kinds() {
  static const std::vector<std::string> kinds = {"public-hospital", "private-hospital", "clinic",
                                                 "health-centre", "laboratory", "pharmacy"};
  return kinds;
}

FacilityService::FacilityService(store::Store& store, const Clock& clock, std::string code_pattern)
    : store_(store), clock_(clock), code_re_(code_pattern), code_pattern_(std::move(code_pattern)) {}

Result<store::Facility> FacilityService::add(const NewFacility& in) {
  std::vector<Problem> problems;
  if (!std::regex_match(in.code, code_re_)) {
    problems.push_back({"code", "interconnection code \"" + in.code + "\" does not match " + code_pattern_, "value"});
  }
  if (in.name.empty() || in.name.size() > 200) problems.push_back({"name", "must be 1 to 200 characters", "value"});
  const auto& kinds = facility_kinds();
  if (std::find(kinds.begin(), kinds.end(), in.kind) == kinds.end()) {
    std::string all;
    for (const auto& k : kinds) all += (all.empty() ? "" : ", ") + k;
    problems.push_back({"kind", "must be one of " + all, "value"});
  }
  std::string region = in.region.empty() ? in.code.substr(0, std::min<size_t>(2, in.code.size())) : in.region;
  bool region_ok = !region.empty() && region.size() <= 16 &&
                   std::all_of(region.begin(), region.end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '-';
                   });
  if (!region_ok) problems.push_back({"region", "must be 1 to 16 characters of A-Z, 0-9 or -", "value"});
  if (!problems.empty()) return Status(Code::kInvalid, "invalid facility", std::move(problems));

  store::Facility f{new_uuid(), in.code, in.name, in.kind, region, "active", clock_.now()};
  Status s = store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto existing, w.facility_by_code(in.code));
    if (existing) return conflict("a facility with interconnection code " + in.code + " already exists");
    return w.put_facility(f);
  });
  HB_RETURN_IF_ERROR(s);
  return f;
}

Result<std::vector<store::Facility>> FacilityService::list() {
  std::vector<store::Facility> out;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(out, r.list_facilities());
    return Status::ok();
  }));
  return out;
}

Result<store::Facility> FacilityService::set_status(const std::string& code, const std::string& status) {
  if (status != "active" && status != "suspended") return invalid("status must be active or suspended");
  store::Facility f;
  Status s = store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto existing, w.facility_by_code(code));
    if (!existing) return not_found("no facility with interconnection code " + code);
    f = *existing;
    f.status = status;
    return w.put_facility(f);
  });
  HB_RETURN_IF_ERROR(s);
  return f;
}

Result<store::ApiClient> FacilityService::add_client(const NewClient& in) {
  std::vector<Problem> problems;
  if (in.jwks.empty() == in.jwks_url.empty()) {
    problems.push_back({"jwks", "give exactly one of an inline JWK Set or a JWK Set URL", "required"});
  }
  if (!in.jwks.empty()) {
    auto set = crypto::JwkSet::parse(in.jwks);
    if (!set) {
      problems.push_back({"jwks", "not a usable JWK Set: " + set.error().message(), "value"});
      for (const auto& p : set.error().problems()) problems.push_back({"jwks." + p.path, p.message, "value"});
    } else if (set->keys().empty()) {
      problems.push_back({"jwks", "the JWK Set has no keys", "value"});
    } else if (set->keys().size() > 1) {
      for (const auto& k : set->keys()) {
        if (k.kid.empty()) {
          problems.push_back({"jwks", "when a set has several keys each needs a kid", "value"});
          break;
        }
      }
    }
  }
  if (!in.jwks_url.empty() && !acceptable_jwks_url(in.jwks_url)) {
    problems.push_back({"jwks_url", "must be an https URL without credentials (http only for a loopback host)", "value"});
  }
  auto scopes = Scopes::parse(in.scopes);
  if (!scopes) problems.push_back({"scopes", scopes.error().message(), "value"});
  else if (scopes->empty()) problems.push_back({"scopes", "must grant at least one system scope", "value"});
  if (!problems.empty()) return Status(Code::kInvalid, "invalid client", std::move(problems));

  store::ApiClient c;
  c.client_id = new_uuid();
  c.name = in.name.empty() ? "client" : in.name;
  c.jwks = in.jwks;
  c.jwks_url = in.jwks_url;
  c.scopes = scopes->to_string();
  c.status = "active";
  c.created = clock_.now();
  Status s = store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto f, w.facility_by_code(in.facility_code));
    if (!f) return not_found("no facility with interconnection code " + in.facility_code);
    c.facility_id = f->id;
    return w.put_client(c);
  });
  HB_RETURN_IF_ERROR(s);
  return c;
}

Result<std::vector<store::ApiClient>> FacilityService::clients(const std::string& facility_code) {
  std::vector<store::ApiClient> out;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto f, r.facility_by_code(facility_code));
    if (!f) return not_found("no facility with interconnection code " + facility_code);
    HB_ASSIGN_OR_RETURN(out, r.clients_of(f->id));
    return Status::ok();
  }));
  return out;
}

}  // namespace hb::services
