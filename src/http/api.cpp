#include "http/api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <typeinfo>

#include "core/text.h"
#include "core/url.h"
#include "fhir/outcome.h"
#include "fhir/search_params.h"
#include "fhir/validate.h"
#include "http/account_api.h"
#include "http/book_api.h"
#include "http/content_coding.h"
#include "http/cookie.h"
#include "http/me_documents_api.h"
#include "http/oidc_api.h"
#include "http/proxy_api.h"
#include "http/share_api.h"
#include "http/static_files.h"

namespace hb::http {
namespace {

constexpr const char* kFhirJson = "application/fhir+json; charset=utf-8";

Response fhir_error(const Status& s) {
  Response r;
  r.status = http_status(s.code());
  r.set("Content-Type", kFhirJson);
  if (s.code() == Code::kUnauthorized) r.set("WWW-Authenticate", "Bearer realm=\"healthbook\"");
  if (s.code() == Code::kInternal) {
    // Say nothing about internals to the caller; the log has the detail (never health data).
    r.body = dump_json(fhir::operation_outcome(Status(Code::kInternal, "internal error")));
  } else {
    r.body = dump_json(fhir::operation_outcome(s));
  }
  return r;
}

Response fhir_ok(const services::FhirResult& f, bool minimal) {
  Response r;
  r.status = f.status;
  if (!f.location.empty()) r.set(f.status == 201 ? "Location" : "Content-Location", f.location);
  if (!f.etag.empty()) r.set("ETag", f.etag);
  if (!f.last_modified.empty()) r.set("Last-Modified", f.last_modified);
  if (f.status != 204 && !minimal) {
    r.set("Content-Type", kFhirJson);
    r.body = f.body;
  }
  return r;
}

// RFC 9457 problem details, for /api: the status, a title, the message, and each problem with
// the JSON path it concerns.
// An error as RFC 9457 problem details.
Json problem_body(const Status& s) {
  Json p = {{"type", "about:blank"},
            {"status", http_status_of(s.code())},
            {"title", code_name(s.code())}};
  if (s.code() == Code::kInternal) {
    p["detail"] = "internal error";
  } else {
    p["detail"] = s.message();
    if (!s.problems().empty()) {
      Json errors = Json::array();
      for (const auto& pr : s.problems()) errors.push_back({{"path", pr.path}, {"message", pr.message}});
      p["errors"] = std::move(errors);
    }
  }
  return p;
}

Response problem(const Status& s) {
  Response r;
  r.status = http_status_of(s.code());
  r.set("Content-Type", "application/problem+json");
  if (s.code() == Code::kUnauthorized) r.set("WWW-Authenticate", "Bearer realm=\"healthbook\"");
  r.body = dump_json(problem_body(s));
  return r;
}

// 405, with the methods the resource does answer (RFC 9110 §15.5.6: Allow is required).
Response wrong_method(const char* allow) {
  Response r = problem(Status(Code::kMethodNotAllowed, std::string("use ") + allow));
  r.set("Allow", allow);
  return r;
}

Response fhir_wrong_method(const char* allow, const std::string& what) {
  Response r = fhir_error(Status(Code::kMethodNotAllowed, what));
  r.set("Allow", allow);
  return r;
}

Response json_response(int status, const Json& j) {
  Response r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = dump_json(j);
  return r;
}

Status check_fhir_body(const Request& req) {
  auto ct = req.header("content-type");
  if (!ct) return Status(Code::kUnsupportedMedia, "Content-Type application/fhir+json is required");
  std::string mt = media_type(*ct);
  if (mt != "application/fhir+json" && mt != "application/json") {
    return Status(Code::kUnsupportedMedia, "Content-Type must be application/fhir+json, not " + mt);
  }
  if (auto p = ascii_lower(*ct).find("charset="); p != std::string::npos) {
    std::string cs = ascii_lower(ct->substr(p + 8));
    if (cs.rfind("utf-8", 0) != 0 && cs.rfind("\"utf-8\"", 0) != 0) {
      return Status(Code::kUnsupportedMedia, "only UTF-8 bodies are accepted");
    }
  }
  if (!valid_utf8(req.body)) return invalid("the body is not valid UTF-8");
  return Status::ok();
}

// Accept and _format: we speak FHIR JSON only.
Status check_accept(const Request& req) {
  for (const auto& [k, v] : req.query) {
    if (k == "_format") {
      std::string f = ascii_lower(v);
      if (f != "json" && f != "application/json" && f != "application/fhir+json") {
        return Status(Code::kNotAcceptable, "_format " + v + " is not supported; only JSON");
      }
    }
  }
  auto accept = req.header("accept");
  if (!accept || accept->empty()) return Status::ok();
  std::string a = ascii_lower(*accept);
  if (a.find("json") != std::string::npos || a.find("*/*") != std::string::npos ||
      a.find("application/*") != std::string::npos) {
    return Status::ok();
  }
  return Status(Code::kNotAcceptable, "this server answers only in application/fhir+json");
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::optional<std::string> header_string(const Request& req, std::string_view name) {
  auto h = req.header(name);
  if (!h) return std::nullopt;
  return std::string(*h);
}

class Api {
 public:
  explicit Api(Services s) : s_(s), web_(s.config.web_root) {}

  Response handle(const Request& req) {
    const std::string& path = req.path;
    if (path == "/.well-known/smart-configuration" || path == "/fhir/.well-known/smart-configuration") {
      return json_response(200, s_.auth.smart_configuration());
    }
    if (path == "/fhir" || path.rfind("/fhir/", 0) == 0) return fhir(req);
    if (path == "/auth/token") return token(req);
    if (path.rfind("/log/", 0) == 0) return log(req);
    if (path.rfind("/issuers/", 0) == 0) return issuers(req);
    if (path.rfind("/shl/s/", 0) == 0 && s_.shares) return share_manifest_api(*s_.shares, req, split_path(path));
    if (path.rfind("/shl/", 0) == 0) return shl(req);
    if (path.rfind("/api/", 0) == 0) return api(req);
    if (auto page = web_.serve(req)) return std::move(*page);
    if (path == "/healthz") {
      Response r;
      r.set("Content-Type", "text/plain");
      r.body = "ok\n";
      return r;
    }
    Response r;
    r.status = 404;
    r.set("Content-Type", "application/problem+json");
    r.body = dump_json(Json{{"type", "about:blank"}, {"title", "Not Found"}, {"status", 404},
                            {"detail", "no such endpoint"}});
    return r;
  }

 private:
  Response token(const Request& req) {
    Response r;
    r.set("Cache-Control", "no-store");
    r.set("Pragma", "no-cache");
    auto fail = [&](int status, const char* error, const std::string& desc) {
      r.status = status;
      r.set("Content-Type", "application/json");
      r.body = dump_json(Json{{"error", error}, {"error_description", desc}});
      return r;
    };
    if (req.method != "POST") return fail(405, "invalid_request", "use POST");
    auto ct = req.header("content-type");
    if (!ct || media_type(*ct) != "application/x-www-form-urlencoded") {
      return fail(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    auto form = split_query(req.body);
    if (!form) return fail(400, "invalid_request", form.error().message());
    auto grant = s_.auth.token(*form, req.remote_address);
    if (!grant) {
      const Status& e = grant.error();
      int status = e.code() == Code::kUnauthorized ? 401
                   : e.code() == Code::kTooManyRequests ? 429
                   : e.code() == Code::kUnavailable ? 503
                   : e.code() == Code::kInternal ? 500 : 400;
      if (e.code() == Code::kInternal) spdlog::error("token endpoint: {}", e.message());
      spdlog::info("token request refused: {}", e.message());
      return fail(status, services::oauth_error(e.code()), e.code() == Code::kInternal ? "internal error" : e.message());
    }
    r.status = 200;
    r.set("Content-Type", "application/json");
    r.body = dump_json(Json{{"access_token", grant->access_token},
                            {"token_type", "bearer"},
                            {"expires_in", grant->expires_in},
                            {"scope", grant->scope}});
    return r;
  }

  // The C2SP tlog-tiles read API. Only the checkpoint changes as the log grows. A tile or entry
  // bundle path names its content for good, partial widths (`.p/<W>`) included: the spec has them
  // all cached for long. An object past the published tree is a 404, which is never cached.
  Response log(const Request& req) {
    Response r;
    if (req.method != "GET" && req.method != "HEAD") {
      r.status = 405;
      r.set("Allow", "GET, HEAD");
      return r;
    }
    std::string_view rel = std::string_view(req.path).substr(5);
    if (rel == "vkey") {
      r.set("Content-Type", "text/plain; charset=utf-8");
      r.body = s_.log_vkey + "\n";
      return r;
    }
    // A 404 is cacheable by default (RFC 9111 §4.2.2); an object past today's tree exists later.
    r.set("Cache-Control", "no-cache");
    // One spelling per object: the path as sent, with no percent-encoding (tiles.h).
    const std::string_view sent = std::string_view(req.target).substr(0, req.target.find('?'));
    if (sent != req.path || !ledger::is_log_path(rel)) {
      r.status = 404;
      r.set("Content-Type", "text/plain; charset=utf-8");
      r.body = "no such log object\n";
      return r;
    }
    auto bytes = s_.log_tiles.read(rel);
    if (!bytes) {
      r.status = bytes.error().code() == Code::kNotFound ? 404 : 500;
      if (r.status == 500) spdlog::error("log read {}: {}", rel, bytes.error().message());
      r.set("Content-Type", "text/plain; charset=utf-8");
      r.body = r.status == 404 ? "no such log object\n" : "internal error\n";
      return r;
    }
    const bool checkpoint = rel == "checkpoint";
    r.set("Content-Type", checkpoint ? "text/plain; charset=utf-8" : "application/octet-stream");
    r.set("Cache-Control", checkpoint ? "no-cache" : "public, max-age=31536000, immutable");
    r.body = std::move(*bytes);
    // tlog-tiles: entry bundles SHOULD be compressed at the HTTP layer (they shrink to about a
    // quarter); tiles are hashes, which do not compress.
    if (rel.starts_with("tile/entries/")) {
      r.set("Vary", "Accept-Encoding");
      if (accepts_gzip(req.header("accept-encoding").value_or(""))) {
        if (auto packed = gzip(r.body)) {
          r.body = std::move(*packed);
          r.set("Content-Encoding", "gzip");
        }
      }
    }
    return r;
  }

  // Public issuer metadata (SMART Health Cards): fetched by verifiers, also from browsers.
  Response issuers(const Request& req) {
    auto parts = split_path(req.path);  // issuers <code> .well-known jwks.json | crl <kid>.json
    Result<Json> out = Status(Code::kNotFound, "no such issuer document");
    if (req.method != "GET" && req.method != "HEAD") {
      out = Status(Code::kMethodNotAllowed, "use GET");
    } else if (parts.size() == 4 && parts[2] == ".well-known" && parts[3] == "jwks.json") {
      out = s_.documents.jwks(parts[1]);
    } else if (parts.size() == 5 && parts[2] == ".well-known" && parts[3] == "crl" &&
               parts[4].size() > 5 && parts[4].ends_with(".json")) {
      out = s_.documents.crl(parts[1], parts[4].substr(0, parts[4].size() - 5));
    }
    Response r = out ? json_response(200, *out) : problem(out.error());
    r.set("Access-Control-Allow-Origin", "*");
    if (!out && out.error().code() == Code::kMethodNotAllowed) r.set("Allow", "GET, HEAD");
    if (out) r.set("Cache-Control", "public, max-age=300");
    return r;
  }

  // The platform API (problem+json errors): document issuance for facility systems, and
  // verification for anyone.
  Response api(const Request& req) {
    auto parts = split_path(req.path);  // api v1 ...
    const std::string& m = req.method;
    if (parts.size() == 3 && parts[1] == "test" && parts[2] == "clock" && s_.test_clock &&
        (req.remote_address == "127.0.0.1" || req.remote_address == "::1") && m == "POST") {
      auto body = parse_json(req.body, JsonLimits{256, 2});
      if (!body || !body->is_object() || !body->contains("advanceSeconds") ||
          !(*body)["advanceSeconds"].is_number_integer() || (*body)["advanceSeconds"].get<int64_t>() < 0) {
        return problem(invalid("the body must be {\"advanceSeconds\": n} with n >= 0"));
      }
      s_.test_clock->advance(std::chrono::seconds((*body)["advanceSeconds"].get<int64_t>()));
      return json_response(200, Json{{"now", format_instant(s_.test_clock->now())}});
    }
    if (parts.size() < 3 || parts[1] != "v1") return problem(not_found("no such endpoint"));
    if (parts[2] == "issuers" && parts.size() == 3 && (m == "GET" || m == "HEAD")) {
      auto dir = s_.documents.issuer_directory();
      Response r = dir ? json_response(200, *dir) : problem(dir.error());
      r.set("Access-Control-Allow-Origin", "*");
      return r;
    }
    if (parts[2] == "verify" && parts.size() == 3) {
      if (m != "POST") return wrong_method("POST");
      auto body = parse_json(req.body, JsonLimits{256 * 1024, 8});
      if (!body) return problem(body.error());
      if (!body->is_object() || !body->contains("card") || !(*body)["card"].is_string()) {
        return problem(Status(Code::kInvalid, "the body must be {\"card\": \"<shc:/... or JWS or file>\"}",
                              {{"card", "required: a string", "required"}}));
      }
      auto verdict = s_.documents.verify((*body)["card"].get_ref<const std::string&>());
      return verdict ? json_response(200, *verdict) : problem(verdict.error());
    }
    if (parts[2] == "links" && parts.size() >= 4) return link(req, parts);
    if (parts[2] == "account" && parts.size() >= 4 && parts[3] == "oidc")
      return oidc_api(s_.oidc, s_.config, req, parts);
    if (parts[2] == "account") return account_api(s_.accounts, s_.config, req, parts);
    if (parts[2] == "me" && parts.size() >= 4 && parts[3] == "documents") {
      return me_documents_api(s_.accounts, s_.proxies, s_.documents, s_.config, req, parts);
    }
    if (parts[2] == "me" && parts.size() >= 4 && s_.shares && s_.access_log &&
        (parts[3] == "shares" || parts[3] == "access-log" || parts[3] == "notifications")) {
      return share_api(s_.accounts, s_.proxies, *s_.shares, *s_.access_log, s_.config, req, parts);
    }
    if (is_book_route(parts)) {
      return book_api(s_.book, s_.accounts, s_.proxies, s_.config, req, parts);
    }
    if (s_.proxies && is_proxy_route(parts)) {
      return proxy_api(s_.accounts, *s_.proxies, s_.config, req, parts);
    }
    if (parts[2] != "documents") return problem(not_found("no such endpoint"));
    auto principal = s_.auth.authenticate(req.header("authorization").value_or(""), req.remote_address);
    if (!principal) return problem(principal.error());
    if (parts.size() == 3) {
      if (m != "POST") return wrong_method("POST");
      auto ct = req.header("content-type");
      if (!ct || media_type(*ct) != "application/json") {
        return problem(Status(Code::kUnsupportedMedia, "Content-Type must be application/json"));
      }
      auto issued = s_.documents.issue(*principal, req.body);
      if (!issued) {
        if (issued.error().code() == Code::kInternal) spdlog::error("issue document: {}", issued.error().message());
        return problem(issued.error());
      }
      Response r = json_response(issued->status, issued->body);
      r.set("Location", "/api/v1/documents/" + issued->body["documentId"].get<std::string>());
      return r;
    }
    if (parts.size() == 4 && parts[3] == "batch" && m == "POST") {
      auto ct = req.header("content-type");
      if (!ct || media_type(*ct) != "application/json") {
        return problem(Status(Code::kUnsupportedMedia, "Content-Type must be application/json"));
      }
      auto issued = s_.documents.issue_batch(*principal, req.body);
      if (!issued) {
        if (issued.error().code() == Code::kInternal)
          spdlog::error("issue batch: {}", issued.error().message());
        return problem(issued.error());
      }
      // One result a request, in order: {"status": 201|200, "document": ...} or
      // {"status": 4xx|5xx, "problem": ...}.
      Json results = Json::array();
      for (auto& one : *issued) {
        if (one) {
          results.push_back({{"status", one->status}, {"document", std::move(one->body)}});
        } else {
          if (one.error().code() == Code::kInternal)
            spdlog::error("issue document: {}", one.error().message());
          results.push_back({{"status", http_status_of(one.error().code())},
                             {"problem", problem_body(one.error())}});
        }
      }
      return json_response(200, Json{{"documents", std::move(results)}});
    }
    if (parts.size() == 4 && (m == "GET" || m == "HEAD")) {
      auto st = s_.documents.status(*principal, parts[3]);
      return st ? json_response(200, *st) : problem(st.error());
    }
    if (parts.size() == 5 && parts[4] == "reopen-link" && m == "POST") {
      auto st = s_.documents.reopen_link(*principal, parts[3]);
      return st ? json_response(200, *st) : problem(st.error());
    }
    if (parts.size() == 5 && parts[4] == "revoke" && m == "POST") {
      auto st = s_.documents.revoke(*principal, parts[3], req.body);
      return st ? json_response(200, *st) : problem(st.error());
    }
    if (parts.size() == 5 && parts[4] == "qr.png" && (m == "GET" || m == "HEAD")) {
      auto png = s_.documents.card_png(*principal, parts[3]);
      if (!png) return problem(png.error());
      Response r;
      r.set("Content-Type", "image/png");
      r.set("Cache-Control", "no-store");
      r.body = std::move(*png);
      return r;
    }
    // A known path asked with a method it does not answer.
    if (parts.size() == 4)
      return wrong_method(parts[3] == "batch" ? "GET, HEAD, POST" : "GET, HEAD");
    if (parts.size() == 5 && (parts[4] == "reopen-link" || parts[4] == "revoke"))
      return wrong_method("POST");
    if (parts.size() == 5 && parts[4] == "qr.png") return wrong_method("GET, HEAD");
    return problem(not_found("no such endpoint"));
  }

  // The patient's document link (/c/<token> in the browser): GET the document with the cookie of
  // a browser that unlocked it, POST .../unlock {"birthDate"}, POST .../preferences {"showDiagnosis"}.
  Response link(const Request& req, const std::vector<std::string>& parts) {
    const std::string& token = parts[3];
    const std::string& m = req.method;
    std::string device;
    if (auto cookies = req.header("cookie")) {
      device = cookie_value(*cookies, "hb_link").value_or("");
    }
    Result<services::LinkResult> out = Status(Code::kNotFound, "no such endpoint");
    if (parts.size() == 4 && (m == "GET" || m == "HEAD")) {
      bool latest = false;
      for (const auto& [k, v] : req.query) latest |= k == "latest";
      out = s_.documents.open_link(token, device, req.remote_address, latest);
    } else if (parts.size() == 5 && m == "POST" && (parts[4] == "unlock" || parts[4] == "preferences")) {
      auto body = parse_json(req.body, JsonLimits{4096, 4});
      if (!body) return problem(body.error());
      if (parts[4] == "unlock") {
        if (!body->is_object() || !body->contains("birthDate") || !(*body)["birthDate"].is_string()) {
          return problem(Status(Code::kInvalid, "the body must be {\"birthDate\": \"YYYY-MM-DD\"}",
                                {{"birthDate", "required: a string", "required"}}));
        }
        out = s_.documents.unlock_link(token, (*body)["birthDate"].get<std::string>(), req.remote_address);
      } else {
        if (!body->is_object() || !body->contains("showDiagnosis") || !(*body)["showDiagnosis"].is_boolean()) {
          return problem(Status(Code::kInvalid, "the body must be {\"showDiagnosis\": true|false}",
                                {{"showDiagnosis", "required: a boolean", "required"}}));
        }
        out = s_.documents.link_preferences_refusal();
      }
    } else if (parts.size() == 4) {
      return wrong_method("GET, HEAD");
    } else if (parts.size() == 5 && (parts[4] == "unlock" || parts[4] == "preferences")) {
      return wrong_method("POST");
    }
    if (!out) {
      if (out.error().code() == Code::kInternal) spdlog::error("document link: {}", out.error().message());
      return problem(out.error());
    }
    Response r;
    r.status = out->status;
    r.set("Content-Type", out->status == 200 ? "application/json" : "application/problem+json");
    r.set("Cache-Control", "no-store");
    r.set("Referrer-Policy", "no-referrer");
    if (out->status == 429 && out->body.contains("retryAfter")) {
      r.set("Retry-After", std::to_string(out->body["retryAfter"].get<int64_t>()));
    }
    if (!out->device_token.empty()) {
      const bool https = s_.config.base_url().rfind("https://", 0) == 0;
      r.set("Set-Cookie", "hb_link=" + out->device_token + "; Path=/api/v1/links/" + token +
                              "; Max-Age=" + std::to_string(std::chrono::seconds(services::DocumentService::kDeviceLifetime).count()) +
                              "; HttpOnly; SameSite=Strict" + (https ? "; Secure" : ""));
    }
    r.body = dump_json(out->body);
    return r;
  }

  // SMART Health Links manifest requests for document links (POST /shl/<token>), from any viewer.
  Response shl(const Request& req) {
    auto parts = split_path(req.path);
    Response r;
    r.set("Access-Control-Allow-Origin", "*");
    r.set("Cache-Control", "no-store");
    if (req.method == "OPTIONS") {
      r.status = 204;
      r.set("Access-Control-Allow-Methods", parts.size() == 3 ? "GET" : "POST");
      r.set("Access-Control-Allow-Headers", "Content-Type");
      return r;
    }
    // A file the manifest gave as a `location` (single use, short-lived).
    if (parts.size() == 3 && parts[1] == "file" && req.method == "GET") {
      auto file = s_.documents.shl_location_file(parts[2]);
      if (!file) {
        Response p = problem(not_found("no such file: it was fetched already, or its time passed"));
        p.set("Access-Control-Allow-Origin", "*");
        return p;
      }
      r.set("Content-Type", "application/jose");
      r.body = std::move(*file);
      return r;
    }
    if (parts.size() != 2 || req.method != "POST") {
      Response p = problem(not_found("no such link"));
      p.set("Access-Control-Allow-Origin", "*");
      return p;
    }
    auto out = s_.documents.shl_manifest(parts[1], req.body, req.remote_address);
    if (!out) {
      Response p = problem(out.error());
      p.set("Access-Control-Allow-Origin", "*");
      return p;
    }
    r.status = out->status;
    r.set("Content-Type", out->status == 200 ? "application/json" : "application/problem+json");
    if (out->status == 429 && out->body.contains("retryAfter")) {
      r.set("Retry-After", std::to_string(out->body["retryAfter"].get<int64_t>()));
    }
    r.body = dump_json(out->body);
    return r;
  }

  Response fhir(const Request& req) {
    auto parts = split_path(req.path);  // parts[0] == "fhir"
    if (Status a = check_accept(req); !a) return fhir_error(a);
    if (parts.size() == 2 && parts[1] == "metadata") {
      if (req.method != "GET" && req.method != "HEAD")
        return fhir_wrong_method("GET, HEAD", "use GET");
      Response r;
      r.set("Content-Type", kFhirJson);
      r.body = dump_json(s_.records.capability_statement());
      return r;
    }
    auto principal = s_.auth.authenticate(req.header("authorization").value_or(""), req.remote_address);
    if (!principal) return fhir_error(principal.error());
    // Break the glass: the reason is the caller's; what it permits is the records service's rule.
    if (auto glass = req.header("x-healthbook-break-glass")) principal->emergency_reason = std::string(*glass);
    const services::Principal& who = *principal;
    bool minimal = false;
    if (auto prefer = req.header("prefer"); prefer && prefer->find("return=minimal") != std::string_view::npos) {
      minimal = true;
    }
    auto done = [&](const Result<services::FhirResult>& r) {
      if (!r) {
        if (r.error().code() == Code::kInternal) {
          spdlog::error("{} {}: {}", req.method, loggable_path(req.path), r.error().message());
        }
        return fhir_error(r.error());
      }
      return fhir_ok(*r, minimal);
    };
    const std::string& m = req.method;
    if (parts.size() == 1) {
      if (m != "POST")
        return fhir_wrong_method("POST", "POST a transaction or batch Bundle to the base");
      if (Status b = check_fhir_body(req); !b) return fhir_error(b);
      return done(s_.records.bundle(who, req.body));
    }
    const std::string& type = parts[1];
    if (!fhir::is_resource_type(type)) {
      return fhir_error(Status(Code::kNotFound, "unknown resource type \"" + type + "\""));
    }
    if (parts.size() == 2) {
      if (m == "GET" || m == "HEAD") return done(s_.records.search(who, type, req.query));
      if (m == "POST") {
        if (Status b = check_fhir_body(req); !b) return fhir_error(b);
        return done(s_.records.create(who, type, req.body, header_string(req, "if-none-exist")));
      }
      if (m == "PUT") {
        if (Status b = check_fhir_body(req); !b) return fhir_error(b);
        if (req.query.empty()) return fhir_error(invalid("PUT on a type needs search parameters (conditional update)"));
        return done(s_.records.conditional_update(who, type, req.query, req.body, header_string(req, "if-match")));
      }
      return fhir_wrong_method("GET, HEAD, POST, PUT", m + " is not supported on a type");
    }
    if (parts.size() == 3 && parts[2] == "_search") {
      if (m != "POST") return fhir_wrong_method("POST", "use POST for _search");
      auto ct = req.header("content-type");
      if (!ct || media_type(*ct) != "application/x-www-form-urlencoded") {
        return fhir_error(Status(Code::kUnsupportedMedia, "_search takes application/x-www-form-urlencoded"));
      }
      auto form = split_query(req.body);
      if (!form) return fhir_error(form.error());
      services::QueryParams all = req.query;
      all.insert(all.end(), form->begin(), form->end());
      return done(s_.records.search(who, type, all));
    }
    const std::string& id = parts[2];
    if (parts.size() == 3) {
      if (m == "GET" || m == "HEAD") return done(s_.records.read(who, type, id));
      if (m == "PUT") {
        if (Status b = check_fhir_body(req); !b) return fhir_error(b);
        return done(s_.records.update(who, type, id, req.body, header_string(req, "if-match")));
      }
      if (m == "DELETE") return done(s_.records.remove(who, type, id));
      return fhir_wrong_method("GET, HEAD, PUT, DELETE", m + " is not supported on an instance");
    }
    if (parts.size() == 4 && parts[3] == "_history" && (m == "GET" || m == "HEAD")) {
      return done(s_.records.history(who, type, id, req.query));
    }
    if (parts.size() == 5 && parts[3] == "_history" && (m == "GET" || m == "HEAD")) {
      return done(s_.records.vread(who, type, id, parts[4]));
    }
    return fhir_error(Status(Code::kNotFound, "no such FHIR endpoint"));
  }

  Services s_;
  StaticFiles web_;
};

}  // namespace

int http_status(Code code) { return http_status_of(code); }

bool waits_for_commit(const Request& req) {
  if (req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS") return false;
  return req.path != "/api/v1/verify";
}

Response refusal_page(int status, std::string_view reason, std::string_view target) {
  std::string text = reason == "body_too_large"     ? "the request body is larger than the limit"
                     : reason == "header_too_large" ? "the request headers are larger than the limit"
                                                    : "malformed HTTP request or request target";
  Code code = status == 413 ? Code::kTooLarge : Code::kInvalid;
  Response r;
  r.status = status;
  if (target.empty() || target.rfind("/fhir", 0) == 0) {
    r.set("Content-Type", kFhirJson);
    r.body = dump_json(fhir::operation_outcome(Status(code, text)));
  } else {
    r.set("Content-Type", "application/problem+json");
    r.body = dump_json(Json{{"type", "about:blank"}, {"status", status}, {"title", text}});
  }
  return r;
}

std::string loggable_path(std::string_view path) {
  // Longest first: /shl/s/<token> is a share's, /shl/<token> a document's.
  static constexpr std::string_view kSecretAfter[] = {"/c/", "/shl/s/", "/shl/", "/api/v1/links/"};
  for (std::string_view prefix : kSecretAfter) {
    if (path.substr(0, prefix.size()) != prefix) continue;
    std::string_view rest = path.substr(prefix.size());
    const size_t start = rest.find_first_not_of('/');  // "/c//<token>" names the same link
    if (start == std::string_view::npos) return std::string(path);
    rest.remove_prefix(start);
    const size_t end = rest.find('/');
    std::string out(prefix);
    out += "<token>";
    if (end != std::string_view::npos) out += rest.substr(end);
    return out;
  }
  return std::string(path);
}

Handler make_api_handler(Services s) {
  auto api = std::make_shared<Api>(s);
  return [api](const Request& req) {
    auto start = std::chrono::steady_clock::now();
    Response r;
    try {
      r = api->handle(req);
    } catch (const std::exception& e) {
      // A bug, not the caller's fault: say so in FHIR terms, log the kind of failure only.
      spdlog::error("{} {}: unexpected exception ({})", req.method, loggable_path(req.path),
                    typeid(e).name());
      r = fhir_error(Status(Code::kInternal, "internal error"));
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
    // Paths carry resource ids, never health data; query strings may, so they are not logged.
    spdlog::debug("{} {} {} {}us", req.method, loggable_path(req.path), r.status, us);
    return r;
  };
}

}  // namespace hb::http
