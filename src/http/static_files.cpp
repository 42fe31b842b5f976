#include "http/static_files.h"

#include <fstream>
#include <sstream>

#include "http/content_coding.h"

namespace hb::http {
namespace {

const char* content_type(const std::string& ext) {
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".webmanifest") return "application/manifest+json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

void secure_headers(Response& r, bool html) {
  r.set("X-Content-Type-Options", "nosniff");
  r.set("Referrer-Policy", "no-referrer");
  if (html) {
    r.set("Content-Security-Policy",
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
          "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
          "frame-ancestors 'none'; form-action 'self'");
    r.set("X-Frame-Options", "DENY");
  }
}

}  // namespace

StaticFiles::StaticFiles(std::filesystem::path root) : root_(std::move(root)) {
  std::error_code ec;
  present_ = !root_.empty() && std::filesystem::is_regular_file(root_ / "index.html", ec);
  if (present_) root_ = std::filesystem::canonical(root_, ec);
  if (ec) present_ = false;
}

// The client-side routes (web/src/router.tsx): each page, and each page with a path below it.
bool StaticFiles::is_app_route(std::string_view path) {
  if (path == "/" || path.rfind("/c/", 0) == 0 || path.rfind("/app", 0) == 0) return true;
  static constexpr std::string_view kPages[] = {
      "/verify",  "/book",  "/documents", "/connections", "/shares", "/access-log",
      "/account", "/login", "/signup",    "/s",           "/carers", "/reset"};
  for (std::string_view page : kPages) {
    if (path == page) return true;
    // "/book/Observation/abc" is the book's; "/bookmarks" is nobody's.
    if (path.size() > page.size() && path.rfind(page, 0) == 0 && path[page.size()] == '/')
      return true;
  }
  return false;
}

// `gzip`: the client accepts gzip. The build writes a precompressed "<name>.gz" beside each text
// file (web/vite.config.ts); it is sent instead, as the same file with Content-Encoding: gzip.
std::optional<Response> StaticFiles::file(const std::filesystem::path& p, bool immutable,
                                          bool gzip) const {
  std::filesystem::path source = p;
  bool compressed = false;
  if (gzip) {
    std::error_code ec;
    std::filesystem::path gz = p;
    gz += ".gz";
    if (std::filesystem::is_regular_file(gz, ec)) {
      source = gz;
      compressed = true;
    }
  }
  std::ifstream in(source, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  Response r;
  const std::string ext = p.extension().string();
  r.set("Content-Type", content_type(ext));
  r.set("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (compressed) r.set("Content-Encoding", "gzip");
  r.set("Vary", "Accept-Encoding");
  secure_headers(r, ext == ".html");
  r.body = ss.str();
  return r;
}

std::optional<Response> StaticFiles::serve(const Request& req) const {
  if (!present_ || (req.method != "GET" && req.method != "HEAD")) return std::nullopt;
  const std::string& path = req.path;
  const bool gzip = accepts_gzip(req.header("accept-encoding").value_or(""));
  if (is_app_route(path)) return file(root_ / "index.html", false, gzip);
  if (path.size() < 2 || path[0] != '/') return std::nullopt;
  // Only plain names: no "..", no empty or hidden segments, no backslashes.
  std::string_view rel = std::string_view(path).substr(1);
  size_t i = 0;
  while (i <= rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string_view::npos) j = rel.size();
    std::string_view seg = rel.substr(i, j - i);
    if (seg.empty() || seg[0] == '.' || seg.find('\\') != std::string_view::npos ||
        seg.find('\0') != std::string_view::npos) {
      return std::nullopt;
    }
    i = j + 1;
  }
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(root_ / std::string(rel), ec);
  if (ec || p.string().rfind(root_.string() + "/", 0) != 0 || !std::filesystem::is_regular_file(p, ec)) {
    return std::nullopt;
  }
  return file(p, rel.rfind("assets/", 0) == 0, gzip);
}

}  // namespace hb::http
