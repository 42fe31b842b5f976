// The HTTP/1.1 server: Boost.Beast over Asio with C++20 coroutines, one coroutine per connection.
//
// I/O threads only parse and write; every request is handed to a worker pool where handlers may
// block (store reads, group-commit waits), then the response is written back on the connection's
// strand. Safe defaults: body size limit (413 before the body is read when Content-Length says so),
// header size limit, read timeouts (slowloris), keep-alive, graceful shutdown (stop accepting,
// finish in-flight requests, then close).
//
// Thread-safety: Handler is called concurrently from worker threads and must be thread-safe.
// start()/stop() from one controlling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace hb::http {

struct Request {
  std::string method;                 // "GET", "POST", ...
  std::string target;                 // raw request target, e.g. "/fhir/Patient?name=x"
  std::string path;                   // percent-decoded path without the query, e.g. "/fhir/Patient"
  std::string raw_query;              // the query string as received (no leading '?')
  // Query parameters, percent-decoded ('+' as space), in order of appearance.
  std::vector<std::pair<std::string, std::string>> query;
  // Header names lower-cased; repeated headers kept in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;         // client IP, without port (see ServerOptions::trusted_proxies)
  bool keep_alive = true;

  // First header value with this (lower-case) name, or nullopt.
  std::optional<std::string_view> header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Content-Type", "..."}
  std::string body;

  Response& set(std::string name, std::string value);
};

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;                 // 0 = pick a free port (see Server::port())
  int io_threads = 2;
  int worker_threads = 16;
  std::size_t body_limit = 16 * 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::seconds read_timeout{30};    // for headers and body of one request
  std::chrono::seconds idle_timeout{75};    // keep-alive idle
  // Optional. Requests for which this returns true skip the worker pool: the handler runs inline
  // on the I/O thread. Only for fast routes that never block (no store, no waits), where the hop
  // to the pool and back costs more than the work. Called on the I/O thread; must be thread-safe.
  std::function<bool(const Request&)> run_inline;
  // Optional. Requests for which this returns true run on a second pool of `waiting_threads`:
  // handlers that spend most of their time waiting (a write waiting for its durable commit). A
  // waiting thread costs no CPU, and writes that wait together share one fsync, so this pool is
  // large; the worker pool stays small so that reads do not queue behind CPU-bound scheduling.
  // Called on the I/O thread; must be thread-safe.
  std::function<bool(const Request&)> waits;
  int waiting_threads = 64;
  // Builds the response for requests the server refuses before any handler runs: 400 (malformed
  // request or target), 413 (body too large), 431 (headers too large). `target` is the request
  // target when it was read, else empty. Unset: a small JSON body {"error": reason}.
  std::function<Response(int status, std::string_view reason, std::string_view target)> error_page;
  // Reverse proxies (IP addresses) whose X-Forwarded-For is believed: for a request from one of
  // them, Request::remote_address is the rightmost X-Forwarded-For address that is not itself a
  // trusted proxy (what the proxy saw). From any other peer the header is ignored. Empty: the
  // peer's address always. A malformed header gives the peer's address.
  std::vector<std::string> trusted_proxies;
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the I/O and worker threads; returns once listening.
  Status start();
  // The bound port (useful with port 0).
  uint16_t port() const;
  // Stops accepting, lets in-flight requests finish (up to `grace`), then closes everything.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // Blocks until SIGINT or SIGTERM, then stop().
  void run_until_signal();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-decoding for paths and query components. kInvalid on bad escapes or invalid UTF-8.
Result<std::string> percent_decode(std::string_view s, bool plus_as_space);
// Splits "a=1&b=2" into decoded pairs.
Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view raw);
// Percent-encodes a query component (RFC 3986 unreserved kept).
std::string percent_encode(std::string_view s);

}  // namespace hb::http
