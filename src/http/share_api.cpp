#include "http/share_api.h"

#include <spdlog/spdlog.h>

#include "core/text.h"
#include "http/account_api.h"

namespace hb::http {
namespace {

Status needs_json(const Request& req) {
  auto ct = req.header("content-type");
  const std::string mt = ct ? media_type(*ct) : "";
  if (mt != "application/json") {
    return Status(Code::kUnsupportedMedia, "Content-Type must be application/json");
  }
  return Status::ok();
}

std::string query_value(const Request& req, std::string_view name) {
  for (const auto& [k, v] : req.query) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace

Response share_api(services::AccountService& accounts, services::ProxyService* proxies,
                   services::ShareService& shares, services::AccessLogService& access_log,
                   const Config& config, const Request& req,
                   const std::vector<std::string>& parts) {
  const std::string& m = req.method;
  const std::string& addr = req.remote_address;
  const std::string what = parts.size() > 3 ? parts[3] : "";
  const bool read = m == "GET" || m == "HEAD";

  // Which route, and which methods it takes, before anything is checked.
  const char* allow = nullptr;
  if (what == "shares" && parts.size() == 4) allow = "GET, POST";
  if (what == "shares" && parts.size() == 5) allow = "DELETE";
  if (what == "access-log" && parts.size() == 4) allow = "GET";
  if (what == "notifications" && parts.size() == 4) allow = "GET, PUT";
  if (!allow) return account_problem(not_found("no such endpoint"));
  if (auto refusal = refuse_method_or_csrf(req, config, allow)) return std::move(*refusal);

  auto resident = me_resident(accounts, proxies, config, req);
  if (auto* refusal = std::get_if<Response>(&resident)) return std::move(*refusal);
  const services::Resident& who = std::get<services::Resident>(resident);

  Result<Json> out = Status(Code::kNotFound, "no such endpoint");
  int status = 200;
  if (what == "shares" && parts.size() == 4 && read) {
    out = shares.list(who, addr);
  } else if (what == "shares" && parts.size() == 4) {
    if (Status s = needs_json(req); !s) return account_problem(s);
    out = shares.create(who, req.body, addr);
    status = 201;
  } else if (what == "shares") {
    out = shares.revoke(who, parts[4], addr);
  } else if (what == "access-log") {
    out = access_log.access_log(who, query_value(req, "cursor"), query_value(req, "limit"), addr);
  } else if (what == "notifications" && read) {
    out = access_log.notifications(who, addr);
  } else if (what == "notifications") {
    if (Status s = needs_json(req); !s) return account_problem(s);
    out = access_log.set_notifications(who, req.body, addr);
  }
  if (!out) {
    if (out.error().code() == Code::kInternal) {
      spdlog::error("{} /api/v1/me/{}: {}", m, what, out.error().message());
    }
    return account_problem(out.error());
  }
  Response r = resident_json(status, *out);
  if (status == 201) r.set("Location", "/api/v1/me/shares/" + (*out)["id"].get<std::string>());
  // The answer that carries a share's link must not leak it through a Referer.
  r.set("Referrer-Policy", "no-referrer");
  return r;
}

Response share_manifest_api(services::ShareService& shares, const Request& req,
                            const std::vector<std::string>& parts) {
  Response r;
  r.set("Access-Control-Allow-Origin", "*");
  r.set("Cache-Control", "no-store");
  if (req.method == "OPTIONS") {
    r.status = 204;
    r.set("Access-Control-Allow-Methods", "POST");
    r.set("Access-Control-Allow-Headers", "Content-Type");
    return r;
  }
  auto cors = [](Response p) {
    p.set("Access-Control-Allow-Origin", "*");
    return p;
  };
  if (parts.size() != 3) return cors(account_problem(not_found("no such link")));
  if (req.method != "POST") return cors(method_not_allowed("POST"));
  auto out = shares.manifest(parts[2], req.body, req.remote_address);
  if (!out) {
    if (out.error().code() == Code::kInternal) {
      spdlog::error("share manifest: {}", out.error().message());
    }
    return cors(account_problem(out.error()));
  }
  r.status = out->status;
  r.set("Content-Type", out->status == 200 ? "application/json" : "application/problem+json");
  if (out->status == 429 && out->body.contains("retryAfter")) {
    r.set("Retry-After", std::to_string(out->body["retryAfter"].get<int64_t>()));
  }
  r.body = dump_json(out->body);
  return r;
}

}  // namespace hb::http
