#include "http/book_api.h"

#include <spdlog/spdlog.h>

#include <variant>

#include "http/account_api.h"

namespace hb::http {
namespace {

Response failed(const char* route, const Status& s) {
  if (s.code() == Code::kInternal) spdlog::error("health book {}: {}", route, s.message());
  return account_problem(s);
}

}  // namespace

bool is_book_route(const std::vector<std::string>& parts) {
  if (parts.size() < 4 || parts[2] != "me") return false;
  const std::string& r = parts[3];
  return r == "timeline" || r == "records" || r == "connections";
}

Response book_api(services::BookService& book, services::AccountService& accounts,
                  services::ProxyService* proxies, const Config& config, const Request& req,
                  const std::vector<std::string>& parts) {
  const std::string& m = req.method;
  const std::string& route = parts[3];
  const bool read = m == "GET" || m == "HEAD";
  // Shape first, so an unknown route says so whoever asks.
  const bool shape_ok = (route == "timeline" && parts.size() == 4) ||
                        (route == "records" && parts.size() == 6) ||
                        (route == "connections" && (parts.size() == 4 || parts.size() == 5));
  if (!shape_ok) return account_problem(not_found("no such endpoint"));
  const bool put = route == "connections" && parts.size() == 5;
  if (put ? m != "PUT" : !read) {
    return method_not_allowed(put ? "PUT" : "GET, HEAD");
  }
  if (put) {
    if (Status c = check_csrf(req, config); !c) return account_problem(c);
  }
  auto who = me_resident(accounts, proxies, config, req);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const auto& resident = std::get<services::Resident>(who);
  const std::string& addr = req.remote_address;

  if (route == "timeline") {
    auto out = book.timeline(resident, req.query, addr);
    return out ? resident_json(200, *out) : failed("timeline", out.error());
  }
  if (route == "records") {
    auto out = book.record(resident, parts[4], parts[5], addr);
    if (!out) return failed("records", out.error());
    Response r;
    r.set("Content-Type", "application/fhir+json; charset=utf-8");
    r.set("Cache-Control", "no-store");
    r.body = std::move(*out);
    return r;
  }
  if (!put) {
    auto out = book.connections(resident, addr);
    return out ? resident_json(200, *out) : failed("connections", out.error());
  }
  auto ct = req.header("content-type");
  if (!ct || ct->substr(0, ct->find(';')) != "application/json") {
    return account_problem(
        Status(Code::kUnsupportedMedia, "Content-Type must be application/json"));
  }
  auto out = book.set_connection(resident, parts[4], req.body, addr);
  return out ? resident_json(200, *out) : failed("connections", out.error());
}

}  // namespace hb::http
