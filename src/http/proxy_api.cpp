#include "http/proxy_api.h"

#include <spdlog/spdlog.h>

#include <variant>

#include "http/account_api.h"

namespace hb::http {
bool is_proxy_route(const std::vector<std::string>& parts) {
  return parts.size() >= 4 && parts[2] == "me" &&
         (parts[3] == "carers" || parts[3] == "acting-for");
}

Response proxy_api(services::AccountService& accounts, services::ProxyService& proxies,
                   const Config& config, const Request& req,
                   const std::vector<std::string>& parts) {
  const std::string& m = req.method;
  const bool read = m == "GET" || m == "HEAD";
  const std::string& what = parts[3];
  const char* allow = nullptr;
  if (what == "acting-for" && parts.size() == 4) allow = "GET";
  if (what == "carers" && parts.size() == 4) allow = "GET, POST";
  if (what == "carers" && parts.size() == 5) allow = "DELETE";
  if (!allow) return account_problem(not_found("no such endpoint"));
  if (auto refusal = refuse_method_or_csrf(req, config, allow)) return std::move(*refusal);
  auto who = me_resident(accounts, &proxies, config, req);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const services::Resident& me = std::get<services::Resident>(who);
  const std::string& addr = req.remote_address;

  Result<Json> out = Status(Code::kNotFound, "no such endpoint");
  int status = 200;
  if (what == "acting-for") {
    out = proxies.acting_for(me, addr);
  } else if (parts.size() == 5) {
    out = proxies.revoke_carer(me, parts[4], addr);
  } else if (read) {
    out = proxies.carers(me, addr);
  } else {
    auto ct = req.header("content-type");
    if (!ct || ct->substr(0, ct->find(';')) != "application/json") {
      return account_problem(
          Status(Code::kUnsupportedMedia, "Content-Type must be application/json"));
    }
    out = proxies.grant_carer(me, req.body, addr);
    status = 201;
  }
  if (!out) {
    if (out.error().code() == Code::kInternal) {
      spdlog::error("{} /api/v1/me/{}: {}", m, what, out.error().message());
    }
    return account_problem(out.error());
  }
  return resident_json(status, *out);
}

}  // namespace hb::http
