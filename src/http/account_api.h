// The residents' account routes, /api/v1/account/... (docs/accounts.md): thin handlers over
// services::AccountService. The session travels in the HttpOnly cookie hb_session; every POST
// must carry the header X-Healthbook-CSRF (and, when the browser sends Origin, the server's own).
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "http/server.h"
#include "services/accounts.h"

namespace hb::http {

inline constexpr const char* kSessionCookie = "hb_session";
inline constexpr const char* kCsrfHeader = "x-healthbook-csrf";

// `parts`: the path split at '/', starting {"api", "v1", "account", ...}.
Response account_api(services::AccountService& accounts, const Config& config, const Request& req,
                     const std::vector<std::string>& parts);

}  // namespace hb::http
