// The web app's files (the Vite build in web/dist), served from a folder.
//
// Paths under /assets/ have content hashes in their names and are cached for a year; every other
// file, and index.html, is revalidated. The app's own routes (/verify, /c/<token>, ...) get
// index.html. A client that accepts gzip gets a file's precompressed "<name>.gz" twin when the
// build wrote one. Every HTML answer carries a strict Content-Security-Policy and Referrer-Policy
// no-referrer: link tokens live in URLs and must not leak to other sites.
//
// Thread-safety: immutable after construction; serve() is safe from any thread.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "http/server.h"

namespace hb::http {

class StaticFiles {
 public:
  // `root` may be missing: then nothing is served (nullopt), and the server still runs.
  explicit StaticFiles(std::filesystem::path root);

  // The answer for a GET/HEAD of `path`, or nullopt when it is not the web app's.
  std::optional<Response> serve(const Request& req) const;

  // True for the client-side routes that get index.html.
  static bool is_app_route(std::string_view path);

 private:
  std::optional<Response> file(const std::filesystem::path& p, bool immutable, bool gzip) const;
  std::filesystem::path root_;
  bool present_ = false;
};

}  // namespace hb::http
