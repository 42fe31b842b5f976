// The HTTP surface: routes requests to services and renders their results. Handlers stay thin:
// parse, authenticate, call a service, render. Errors on /fhir are OperationOutcomes; OAuth errors
// on /auth/token follow RFC 6749 section 5.2.
#pragma once

#include "core/config.h"
#include "http/server.h"
#include "ledger/tiles.h"
#include "services/access_log.h"
#include "services/accounts.h"
#include "services/auth.h"
#include "services/book.h"
#include "services/documents.h"
#include "services/proxies.h"
#include "services/records.h"
#include "services/oidc_login.h"
#include "services/shares.h"

namespace hb::http {

struct Services {
  const Config& config;
  services::AuthService& auth;
  services::RecordService& records;
  // The transparency log's published objects (checkpoint, tiles, entry bundles), served under
  // /log/, and its verifier key (/log/vkey).
  ledger::TileReader& log_tiles;
  std::string log_vkey;
  services::DocumentService& documents;
  // Residents' accounts: /api/v1/account/... (http/account_api.h).
  services::AccountService& accounts;
  // The resident's health book: /api/v1/me/{timeline,records,connections} (http/book_api.h).
  services::BookService& book;
  // Set only with testing.clock_control: POST /api/test/clock moves it forward.
  OffsetClock* test_clock = nullptr;
  // Residents' shares, access log and access alerts: /api/v1/me/{shares,access-log,notifications}
  // and the shares' SMART Health Link manifests at /shl/s/<token> (http/share_api.h).
  services::ShareService* shares = nullptr;
  services::AccessLogService* access_log = nullptr;
  // Guardians and carers acting for a person: the X-Healthbook-Acting-For header on /api/v1/me
  // and /api/v1/me/{carers,acting-for} (http/proxy_api.h). Null: no one acts for anyone.
  services::ProxyService* proxies = nullptr;
  // The national eID login, /api/v1/account/oidc/... (http/oidc_api.h); null when not configured.
  services::OidcLogin* oidc = nullptr;
};

Handler make_api_handler(Services s);

// The response for requests the server refuses before routing (see ServerOptions::error_page):
// an OperationOutcome on /fhir (and when the target is unknown), problem+json elsewhere.
// Requests that mostly wait for a durable commit: every write (POST, PUT, PATCH, DELETE) except
// POST /api/v1/verify, which only reads and is bound by CPU. They run on the server's waiting
// pool (ServerOptions::waits).
bool waits_for_commit(const Request& req);

Response refusal_page(int status, std::string_view reason, std::string_view target);

// `path` as it may be logged: the bearer secret in a document link (/c/<token>,
// /api/v1/links/<token>/...) or a SMART Health Link manifest (/shl/<token>, /shl/s/<token>) is
// replaced by "<token>"; the rest of the path stays, for what was asked.
std::string loggable_path(std::string_view path);

// The HTTP status for a service status code.
int http_status(Code code);

}  // namespace hb::http
