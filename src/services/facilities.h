// Facility onboarding: the registry of facilities (interconnection code, name, kind, region,
// status) and their API clients (public JWK Set inline or by URL, allowed scopes).
//
// Thread-safety: safe from any thread.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace hb::services {

// An https URL (or http on a loopback host, for development), without user or password.
bool acceptable_jwks_url(const std::string& url);

// The kinds a facility may be.
const std::vector<std::string>& facility_kinds();

struct NewFacility {
  std::string code;
  std::string name;
  std::string kind;
  std::string region;  // empty: the first two characters of the code (the province)
};

struct NewClient {
  std::string facility_code;
  std::string name;
  std::string jwks;      // JWK Set JSON text, or
  std::string jwks_url;  // https URL (http only for localhost)
  std::string scopes = "system/*.cruds";
};

class FacilityService {
 public:
  FacilityService(store::Store& store, const Clock& clock, std::string code_pattern);

  Result<store::Facility> add(const NewFacility& f);
  Result<std::vector<store::Facility>> list();
  Result<store::Facility> set_status(const std::string& code, const std::string& status);
  Result<store::ApiClient> add_client(const NewClient& c);
  Result<std::vector<store::ApiClient>> clients(const std::string& facility_code);

 private:
  store::Store& store_;
  const Clock& clock_;
  std::regex code_re_;
  std::string code_pattern_;
};

}  // namespace hb::services
