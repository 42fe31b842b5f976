// The resident's health book routes, /api/v1/me/{timeline,records,connections}
// (docs/health-book.md): thin handlers over services::BookService. They need a full session
// (AccountService::resident); a change (PUT) also passes the CSRF check of account_api.h.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "http/server.h"
#include "services/accounts.h"
#include "services/book.h"
#include "services/documents.h"
#include "services/proxies.h"

namespace hb::http {

// Whether `parts` ({"api", "v1", "me", ...}) is one of the health book's routes.
bool is_book_route(const std::vector<std::string>& parts);

Response book_api(services::BookService& book, services::AccountService& accounts,
                  services::ProxyService* proxies, const Config& config, const Request& req,
                  const std::vector<std::string>& parts);

}  // namespace hb::http
