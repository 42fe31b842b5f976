#include "http/account_api.h"

#include <spdlog/spdlog.h>

#include "core/text.h"
#include "http/cookie.h"

namespace hb::http {
namespace {

// scheme://host[:port] of a URL.
std::string origin_of(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

}  // namespace

Response account_problem(const Status& s) {
  Response r;
  r.status = http_status_of(s.code());
  r.set("Content-Type", "application/problem+json");
  r.set("Cache-Control", "no-store");
  Json p = {{"type", "about:blank"}, {"status", r.status}, {"title", code_name(s.code())}};
  if (s.code() == Code::kInternal) {
    p["detail"] = "internal error";
  } else {
    p["detail"] = s.message();
    if (!s.problems().empty()) {
      Json errors = Json::array();
      for (const auto& pr : s.problems())
        errors.push_back({{"path", pr.path}, {"message", pr.message}});
      p["errors"] = std::move(errors);
    }
  }
  r.body = dump_json(p);
  return r;
}

Response resident_json(int status, const Json& body) {
  Response r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.set("Cache-Control", "no-store");
  r.body = dump_json(body);
  return r;
}

Response method_not_allowed(const char* allow) {
  Response r = account_problem(Status(Code::kMethodNotAllowed, std::string("use ") + allow));
  r.status = 405;
  r.set("Allow", allow);
  return r;
}

std::optional<Response> refuse_method_or_csrf(const Request& req, const Config& config,
                                              const char* allow) {
  const std::string& m = req.method;
  const bool read = m == "GET" || m == "HEAD";
  const std::string_view methods(allow);
  if (methods.find(read ? std::string_view("GET") : std::string_view(m)) == std::string_view::npos) {
    return method_not_allowed(allow);
  }
  if (!read) {
    if (Status c = check_csrf(req, config); !c) return account_problem(c);
  }
  return std::nullopt;
}

// CSRF: a cross-site page cannot set a custom header without a CORS preflight, which this server
// never grants; a browser's Origin, when sent, must be this server's.
Status check_csrf(const Request& req, const Config& config) {
  auto mark = req.header(kCsrfHeader);
  if (!mark || mark->empty()) {
    return Status(Code::kForbidden, "account requests must carry the X-Healthbook-CSRF header");
  }
  if (auto origin = req.header("origin"); origin && *origin != origin_of(config.base_url())) {
    return Status(Code::kForbidden, "this request comes from another site");
  }
  if (auto site = req.header("sec-fetch-site"); site && *site == "cross-site") {
    return Status(Code::kForbidden, "this request comes from another site");
  }
  return Status::ok();
}

std::variant<services::Resident, Response> me_resident(services::AccountService& accounts,
                                                       services::ProxyService* proxies,
                                                       const Config& config, const Request& req) {
  auto who = accounts.resident(session_cookie(req), req.remote_address);
  if (!who) {
    spdlog::error("resident session: {}", who.error().message());
    return account_problem(who.error());
  }
  if (auto* refusal = std::get_if<services::AccountResult>(&*who)) {
    return render_account_result(*refusal, config);
  }
  services::Resident self = std::get<services::Resident>(std::move(*who));
  const std::string_view acting_for = req.header(kActingForHeader).value_or("");
  if (acting_for.empty() || acting_for == self.patient_id) return self;
  if (!proxies) return account_problem(not_found("no such person"));
  auto subject = proxies->act_for(self, acting_for);
  if (!subject) {
    if (subject.error().code() == Code::kInternal) {
      spdlog::error("acting for: {}", subject.error().message());
    }
    return account_problem(subject.error());
  }
  return std::move(*subject);
}

std::string session_cookie(const Request& req) {
  for (const auto& [name, value] : req.headers) {
    if (name != "cookie") continue;
    if (auto v = cookie_value(value, kSessionCookie)) return *v;
  }
  return "";
}

namespace {

// A JSON object body's string members; kInvalid naming each missing one. Members named in
// `optional` may be left out (they come back empty) but must be strings when present.
Result<std::vector<std::string>> strings(const Request& req,
                                         std::initializer_list<const char*> names,
                                         std::initializer_list<const char*> optional = {}) {
  auto ct = req.header("content-type");
  const std::string mt = ct ? media_type(*ct) : "";
  if (mt != "application/json")
    return Status(Code::kUnsupportedMedia, "Content-Type must be application/json");
  HB_ASSIGN_OR_RETURN(Json body, parse_json(req.body, JsonLimits{8 * 1024, 4}));
  std::vector<std::string> out;
  std::vector<Problem> problems;
  for (const char* n : names) {
    if (!body.is_object() || !body.contains(n) || !body[n].is_string()) {
      problems.push_back({n, "required: a string", "required"});
      out.emplace_back();
    } else {
      out.push_back(body[n].get<std::string>());
    }
  }
  for (const char* n : optional) {
    if (!body.is_object() || !body.contains(n)) {
      out.emplace_back();
    } else if (!body[n].is_string()) {
      problems.push_back({n, "must be a string", "invalid"});
      out.emplace_back();
    } else {
      out.push_back(body[n].get<std::string>());
    }
  }
  if (!problems.empty()) return Status(Code::kInvalid, "the body is missing members", problems);
  return out;
}

}  // namespace

Response render_account_result(const services::AccountResult& a, const Config& config) {
  Response r;
  r.status = a.status;
  r.set("Content-Type", a.status < 300 ? "application/json" : "application/problem+json");
  r.set("Cache-Control", "no-store");
  if (a.status == 429 && a.retry_after > 0) r.set("Retry-After", std::to_string(a.retry_after));
  const bool https = config.base_url().rfind("https://", 0) == 0;
  const std::string attrs =
      "; Path=/; HttpOnly; SameSite=Strict" + std::string(https ? "; Secure" : "");
  if (!a.session_token.empty()) {
    const int64_t max_age = int64_t{config.session_lifetime_hours} * 3600;
    r.set("Set-Cookie", std::string(kSessionCookie) + "=" + a.session_token +
                            "; Max-Age=" + std::to_string(max_age) + attrs);
  } else if (a.clear_session) {
    r.set("Set-Cookie", std::string(kSessionCookie) + "=; Max-Age=0" + attrs);
  }
  r.body = dump_json(a.body);
  return r;
}

Response account_api(services::AccountService& accounts, const Config& config, const Request& req,
                     const std::vector<std::string>& parts) {
  std::string route;
  for (size_t i = 3; i < parts.size(); ++i) route += (i > 3 ? "/" : "") + parts[i];
  const std::string& m = req.method;
  const std::string& addr = req.remote_address;
  const std::string session = session_cookie(req);

  Result<services::AccountResult> out = Status(Code::kNotFound, "no such endpoint");
  if (route == "me") {
    if (m != "GET" && m != "HEAD") return method_not_allowed("GET, HEAD");
    out = accounts.me(session, addr);
  } else {
    static const char* kPosts[] = {
        "signup/start", "signup/verify", "login",  "login/sms",        "login/second-factor",
        "totp/setup",   "totp/confirm",  "logout", "logout-everywhere", "password",
        "reset/start",  "reset/finish"};
    bool known = false;
    for (const char* p : kPosts) known |= route == p;
    if (!known) return account_problem(not_found("no such endpoint"));
    if (m != "POST") return method_not_allowed("POST");
    if (Status c = check_csrf(req, config); !c) return account_problem(c);
    if (route == "signup/start") {
      auto b = strings(req, {"nationalId", "birthDate"});
      out = b ? accounts.start_signup((*b)[0], (*b)[1], addr)
              : Result<services::AccountResult>(b.error());
    } else if (route == "signup/verify") {
      auto b = strings(req, {"challenge", "code", "password"});
      out = b ? accounts.finish_signup((*b)[0], (*b)[1], (*b)[2], addr)
              : Result<services::AccountResult>(b.error());
    } else if (route == "reset/start") {
      auto b = strings(req, {"nationalId", "birthDate"});
      out = b ? accounts.start_reset((*b)[0], (*b)[1], addr)
              : Result<services::AccountResult>(b.error());
    } else if (route == "reset/finish") {
      auto b = strings(req, {"challenge", "code", "password"}, {"authenticatorCode"});
      out = b ? accounts.finish_reset((*b)[0], (*b)[1], (*b)[2], (*b)[3], addr)
              : Result<services::AccountResult>(b.error());
    } else if (route == "login") {
      auto b = strings(req, {"nationalId", "password"});
      out = b ? accounts.login((*b)[0], (*b)[1], addr) : Result<services::AccountResult>(b.error());
    } else if (route == "login/sms") {
      out = accounts.send_login_code(session, addr);
    } else if (route == "login/second-factor") {
      auto b = strings(req, {"code"});
      out = b ? accounts.second_factor(session, (*b)[0], addr)
              : Result<services::AccountResult>(b.error());
    } else if (route == "totp/setup") {
      out = accounts.totp_setup(session, addr);
    } else if (route == "totp/confirm") {
      auto b = strings(req, {"code"});
      out = b ? accounts.totp_confirm(session, (*b)[0], addr)
              : Result<services::AccountResult>(b.error());
    } else if (route == "logout") {
      out = accounts.logout(session, addr);
    } else if (route == "logout-everywhere") {
      out = accounts.logout_everywhere(session, addr);
    } else if (route == "password") {
      auto b = strings(req, {"currentPassword", "newPassword"});
      out = b ? accounts.change_password(session, (*b)[0], (*b)[1], addr)
              : Result<services::AccountResult>(b.error());
    }
  }
  if (!out) {
    if (out.error().code() == Code::kInternal)
      spdlog::error("account {}: {}", route, out.error().message());
    return account_problem(out.error());
  }
  return render_account_result(*out, config);
}

}  // namespace hb::http
