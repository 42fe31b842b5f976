// The national eID login routes, /api/v1/account/oidc/... (docs/accounts.md): thin handlers over
// services::OidcLogin. The browser navigates through them (no fetch), so every answer but the
// status one is a 302; the login's state travels in the HttpOnly cookie hb_oidc (SameSite=Lax:
// the provider's redirect back is a cross-site top-level navigation, which Strict would strip).
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "http/server.h"
#include "services/oidc_login.h"

namespace hb::http {

inline constexpr const char* kOidcStateCookie = "hb_oidc";

// GET oidc ({"enabled"}), GET oidc/start, GET oidc/callback. `oidc` is null when the server has
// no eID login configured. `parts`: {"api", "v1", "account", "oidc", ...}.
Response oidc_api(services::OidcLogin* oidc, const Config& config, const Request& req,
                  const std::vector<std::string>& parts);

}  // namespace hb::http
