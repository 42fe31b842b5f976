// The residents' account routes, /api/v1/account/... (docs/accounts.md): thin handlers over
// services::AccountService. The session travels in the HttpOnly cookie hb_session; every POST
// must carry the header X-Healthbook-CSRF (and, when the browser sends Origin, the server's own).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/config.h"
#include "http/server.h"
#include "services/accounts.h"
#include "services/proxies.h"

namespace hb::http {

inline constexpr const char* kSessionCookie = "hb_session";
inline constexpr const char* kCsrfHeader = "x-healthbook-csrf";
// Names the person a /api/v1/me request acts for (a patient id); absent: the signed-in person.
inline constexpr const char* kActingForHeader = "x-healthbook-acting-for";

// The hb_session cookie's value ("" when none).
std::string session_cookie(const Request& req);
// CSRF check for a state-changing resident request: the X-Healthbook-CSRF header, and Origin /
// Sec-Fetch-Site (when the browser sends them) naming this server. kForbidden otherwise.
Status check_csrf(const Request& req, const Config& config);
// An AccountResult as HTTP (JSON or problem+json, the session cookie set or cleared).
Response render_account_result(const services::AccountResult& a, const Config& config);
// A Status as problem+json (no-store; internal errors say only "internal error").
Response account_problem(const Status& s);
// A resident route's JSON answer: never cached (it is someone's data).
Response resident_json(int status, const Json& body);
// 405 as problem+json with the Allow header ("GET, POST").
Response method_not_allowed(const char* allow);
// Whether a resident route takes the request: its method is among `allow` ("GET, POST"; HEAD goes
// with GET), and a change carries the CSRF header. The refusal to send (405 or 403), else nothing.
std::optional<Response> refuse_method_or_csrf(const Request& req, const Config& config,
                                              const char* allow);

// The person a /api/v1/me request acts on: the full session's own person, or the one the
// X-Healthbook-Acting-For header names when `proxies` finds a live guardian or carer relation
// (else 404, as for an unknown id: the header alone reaches no one). A Response when refused.
std::variant<services::Resident, Response> me_resident(services::AccountService& accounts,
                                                       services::ProxyService* proxies,
                                                       const Config& config, const Request& req);

// `parts`: the path split at '/', starting {"api", "v1", "account", ...}.
Response account_api(services::AccountService& accounts, const Config& config, const Request& req,
                     const std::vector<std::string>& parts);

}  // namespace hb::http
