#include "http/oidc_api.h"

#include <spdlog/spdlog.h>

#include "http/account_api.h"
#include "http/cookie.h"

namespace hb::http {
namespace {

std::string query_param(const Request& req, const char* name) {
  for (const auto& [k, v] : req.query) {
    if (k == name) return v;
  }
  return "";
}

std::string state_cookie(const Request& req) {
  for (const auto& [name, value] : req.headers) {
    if (name != "cookie") continue;
    if (auto v = cookie_value(value, kOidcStateCookie)) return *v;
  }
  return "";
}

Response redirect(const services::OidcRedirect& to, const Config& config) {
  Response r;
  r.status = 302;
  r.set("Location", to.location);
  r.set("Cache-Control", "no-store");
  // The callback's URL carries the code and the state: not for the next page's Referer.
  r.set("Referrer-Policy", "no-referrer");
  const bool https = config.base_url().rfind("https://", 0) == 0;
  const std::string secure = https ? "; Secure" : "";
  const std::string state_attrs = "; Path=/api/v1/account/oidc/; HttpOnly; SameSite=Lax" + secure;
  if (!to.state_cookie.empty()) {
    const auto max_age = std::chrono::seconds(services::OidcLogin::kStateLifetime).count();
    r.headers.emplace_back("Set-Cookie", std::string(kOidcStateCookie) + "=" + to.state_cookie +
                                             "; Max-Age=" + std::to_string(max_age) + state_attrs);
  } else if (to.clear_state_cookie) {
    r.headers.emplace_back("Set-Cookie",
                           std::string(kOidcStateCookie) + "=; Max-Age=0" + state_attrs);
  }
  if (!to.session_token.empty()) {
    // The same session cookie as every other login (http/account_api.cpp).
    services::AccountResult signed_in;
    signed_in.session_token = to.session_token;
    Response cookie = render_account_result(signed_in, config);
    for (auto& [n, v] : cookie.headers) {
      if (n == "Set-Cookie") r.headers.emplace_back(n, v);
    }
  }
  return r;
}

}  // namespace

Response oidc_api(services::OidcLogin* oidc, const Config& config, const Request& req,
                  const std::vector<std::string>& parts) {
  const std::string route = parts.size() > 4 ? parts[4] : "";
  if (parts.size() > 5 || (route != "" && route != "start" && route != "callback"))
    return account_problem(not_found("no such endpoint"));
  // start writes a state: GET only; the status may be asked with HEAD too.
  if (req.method != "GET" && !(req.method == "HEAD" && route.empty()))
    return method_not_allowed(route.empty() ? "GET, HEAD" : "GET");
  const bool enabled = oidc && oidc->enabled();
  if (route.empty()) {
    services::AccountResult status;
    status.body = {{"enabled", enabled}};
    return render_account_result(status, config);
  }
  if (!enabled) return account_problem(not_found("the national eID login is not configured"));
  Result<services::OidcRedirect> out = Status(Code::kNotFound, "no such endpoint");
  if (route == "start") {
    out = oidc->start(req.remote_address);
  } else {
    services::OidcLogin::Callback in{query_param(req, "code"), query_param(req, "state"),
                                     query_param(req, "error")};
    out = oidc->callback(in, state_cookie(req), req.remote_address);
  }
  if (!out) {
    // The browser is mid-navigation: a page, not a problem document. The message names no token.
    spdlog::error("eID login {}: {}", route, out.error().message());
    services::OidcRedirect failed;
    failed.location = "/login?error=oidc-failed";
    failed.clear_state_cookie = true;
    return redirect(failed, config);
  }
  return redirect(*out, config);
}

}  // namespace hb::http
