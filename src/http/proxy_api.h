// The proxy routes (docs/proxies.md): thin handlers over services::ProxyService.
//
//   GET    /api/v1/me/acting-for       everyone the signed-in person may act for now
//   GET    /api/v1/me/carers           the carers the person granted rights to
//   POST   /api/v1/me/carers           {"nationalId", "rights", "endsAt"}: grant (201)
//   DELETE /api/v1/me/carers/<id>      revoke at once
//
// A full resident session; POST and DELETE pass the CSRF check of account_api.h. With the
// X-Healthbook-Acting-For header naming someone else these answer 403 (or 404 without a relation):
// only the person themself manages their carers.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "http/server.h"
#include "services/accounts.h"
#include "services/proxies.h"

namespace hb::http {

bool is_proxy_route(const std::vector<std::string>& parts);

Response proxy_api(services::AccountService& accounts, services::ProxyService& proxies,
                   const Config& config, const Request& req, const std::vector<std::string>& parts);

}  // namespace hb::http
