// The signed-in resident's own verifiable documents, /api/v1/me/documents/... (docs/documents.md,
// "The patient's own documents"): thin handlers over services::DocumentService's resident_*
// calls. A full session (both factors) is needed; every POST is CSRF-checked like the account
// routes.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "http/server.h"
#include "services/accounts.h"
#include "services/documents.h"
#include "services/proxies.h"

namespace hb::http {

// `parts`: the path split at '/', starting {"api", "v1", "me", "documents", ...}.
Response me_documents_api(services::AccountService& accounts, services::ProxyService* proxies,
                          services::DocumentService& documents, const Config& config,
                          const Request& req, const std::vector<std::string>& parts);

}  // namespace hb::http
