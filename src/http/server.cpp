// The HTTP/1.1 server (see server.h). This is the only translation unit that includes Beast/Asio
// server code, to keep build times down.
//
// Per connection: one coroutine on its own strand. It drives a Beast request parser by hand over
// a reused flat_buffer (so a pipelined request already in the buffer costs no extra I/O), sends
// the request to the worker pool, and writes the response it gets back, serialized by hand into a
// reused string (no per-field allocations).
#include "http/server.h"

#include "core/url.h"

#include <pthread.h>
#include <utility>  // Boost 1.74's Asio needs it before its headers when C++20 coroutines are on.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cxxabi.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <typeinfo>
#include <unordered_set>

// g++ 12 mistakes Asio's recycling operator new/delete for coroutine frames (awaitable_frame_base)
// for a mismatched pair at every coroutine's end (a known GCC false positive).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#if !defined(BOOST_ASIO_HAS_CO_AWAIT)
#error "hb_http needs C++20 coroutine support in Asio (g++ >= 10 with -std=c++20)"
#endif

namespace hb::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view to_sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Request / Response helpers

std::optional<std::string_view> Request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

Response& Response::set(std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (iequals(n, name)) {
      v = std::move(value);
      return *this;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

// ---------------------------------------------------------------------------------------------
// Percent-encoding

// Percent-encoding lives in core/url.h (services parse URLs inside resources too); these are the
// server's names for it.
Result<std::string> percent_decode(std::string_view s, bool plus_as_space) {
  return url_decode(s, plus_as_space);
}

Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view raw) {
  return split_query(raw);
}

std::string percent_encode(std::string_view s) { return url_encode(s); }

// ---------------------------------------------------------------------------------------------
// Server internals

namespace {

constexpr std::size_t kReadChunk = 8192;
constexpr std::size_t kDrainLimit = 1 << 20;  // bytes discarded before closing on error
constexpr std::chrono::seconds kDrainTime{1};

void log_line(const char* what, const char* detail) {
  std::fprintf(stderr, "healthbook http: %s%s\n", what, detail);
}

// Only the exception's type is logged: messages may quote request data.
void log_exception_type(const char* where, const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::fprintf(stderr, "healthbook http: %s threw %s\n", where,
               status == 0 && name ? name : type.name());
  std::free(name);
}

// RFC 9110 IMF-fixdate, recomputed at most once a second per thread.
std::string_view http_date() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t last = -1;
  thread_local char buf[40];
  thread_local int len = 0;
  std::time_t now = std::time(nullptr);
  if (now != last) {
    std::tm t{};
    gmtime_r(&now, &t);
    len = std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[t.tm_wday],
                        t.tm_mday, kMonths[t.tm_mon], t.tm_year + 1900, t.tm_hour, t.tm_min,
                        t.tm_sec);
    last = now;
  }
  return {buf, static_cast<std::size_t>(len)};
}

void append_number(std::string& out, std::size_t n) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, n);
  out.append(tmp, r.ptr);
}

Response error_response(int status, std::string_view error) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body.reserve(error.size() + 12);
  r.body.append("{\"error\":\"").append(error).append("\"}");
  return r;
}

bool is_token_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool valid_header(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!is_token_char(c)) return false;
  }
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// Headers the server owns; a handler's copies are dropped.
bool managed_header(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "date") || iequals(name, "server") || iequals(name, "connection");
}

bool status_has_body(int status) { return !(status < 200 || status == 204 || status == 304); }

// Writes the status line and headers of `r` into `out`. `keep_alive` is in/out: a handler's
// "Connection: close" turns it off. Returns false if the response is malformed (bad status or
// header), in which case the caller sends a 500 instead.
bool serialize_head(std::string& out, const Response& r, unsigned version, bool& keep_alive) {
  if (r.status < 100 || r.status > 599) return false;
  for (const auto& [name, value] : r.headers) {
    if (!valid_header(name, value)) return false;
  }
  out.clear();
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(r.status));
  out.push_back(' ');
  auto st = bhttp::int_to_status(static_cast<unsigned>(r.status));
  if (st != bhttp::status::unknown) {
    auto reason = bhttp::obsolete_reason(st);
    out.append(reason.data(), reason.size());
  }
  out.append("\r\nServer: healthbook\r\nDate: ");
  out.append(http_date());
  out.append("\r\n");
  for (const auto& [name, value] : r.headers) {
    if (managed_header(name)) {
      if (iequals(name, "connection") && iequals(value, "close")) keep_alive = false;
      continue;
    }
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (status_has_body(r.status)) {
    out.append("Content-Length: ");
    append_number(out, r.body.size());
    out.append("\r\n");
  }
  // For HEAD the Content-Length is the one a GET would get; the caller does not send the body.
  if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (version < 11) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  return true;
}

// Splits a request target into its path and query. Accepts origin-form, absolute-form and "*".
bool split_target(std::string_view t, std::string_view& path, std::string_view& query) {
  if (t.empty()) return false;
  if (t[0] != '/') {
    if (t == "*") {
      path = t;
      query = {};
      return true;
    }
    std::size_t scheme = t.find("://");
    if (scheme == std::string_view::npos) return false;
    std::string_view rest = t.substr(scheme + 3);
    std::size_t pos = rest.find_first_of("/?#");
    if (pos == std::string_view::npos || rest[pos] != '/') {
      path = "/";
      query = pos != std::string_view::npos && rest[pos] == '?' ? rest.substr(pos + 1) : "";
      query = query.substr(0, query.find('#'));
      return true;
    }
    t = rest.substr(pos);
  }
  t = t.substr(0, t.find('#'));
  std::size_t q = t.find('?');
  path = t.substr(0, q);
  query = q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
  return true;
}

struct Conn {
  explicit Conn(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  // Waiting for the first byte of a request (nothing in flight). Only touched on the strand.
  bool idle = true;
};

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, Handler h) : opts(std::move(o)), handler(std::move(h)) {}

  ServerOptions opts;
  Handler handler;
  std::vector<asio::ip::address> trusted;  // opts.trusted_proxies, parsed by start()

  // Declared first so it is destroyed last: pending coroutine frames die with it.
  asio::io_context ioc{std::max(1, opts.io_threads)};
  asio::strand<asio::io_context::executor_type> accept_strand{ioc.get_executor()};
  tcp::acceptor acceptor{accept_strand};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<asio::thread_pool> pool;
  std::optional<asio::thread_pool> waiting_pool;  // for opts.waits requests; empty without it
  std::vector<std::thread> io_threads;

  std::atomic<bool> stopping{false};
  std::atomic<uint16_t> bound_port{0};

  std::mutex control_mu;  // start()/stop()/run_until_signal()
  bool started = false;
  bool stopped = false;

  std::mutex conns_mu;
  std::condition_variable conns_cv;
  std::unordered_set<std::shared_ptr<Conn>> conns;

  Status start();
  void stop(std::chrono::milliseconds grace);
  void run_until_signal();

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<Conn> c);
  asio::awaitable<void> serve_requests(Conn& c);
  asio::awaitable<void> reject(Conn& c, const beast::error_code& ec, std::string_view target);
  Response refuse(int status, std::string_view reason, std::string_view target) const {
    return opts.error_page ? opts.error_page(status, reason, target) : error_response(status, reason);
  }
  void forwarded_client(Request& req) const;
  void build_request(bhttp::request<bhttp::string_body>& msg, const std::string& remote,
                     Request& req, bool& bad_target);
  void invoke(const Request& req, Response& res) noexcept;
  void close_connections(bool idle_only);

  // Runs the handler on `on` (a pool) and resumes the awaiting coroutine on its own executor
  // (the connection's strand).
  template <typename CompletionToken>
  auto async_call_on_pool(asio::thread_pool& on, const Request& req, Response& res, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void()>(
        [this, &on, &req, &res](auto completion) {
          auto ex = asio::get_associated_executor(completion);
          asio::post(on.get_executor(),
                     [this, &req, &res, ex, completion = std::move(completion)]() mutable {
                       invoke(req, res);
                       asio::post(ex, std::move(completion));
                     });
        },
        token);
  }
};

void Server::Impl::invoke(const Request& req, Response& res) noexcept {
  try {
    res = handler(req);
  } catch (const std::exception& e) {
    log_exception_type("handler", typeid(e));
    res = error_response(500, "internal");
  } catch (...) {
    log_line("handler threw ", "a non-std exception");
    res = error_response(500, "internal");
  }
}

// The client behind a trusted proxy: X-Forwarded-For lists the addresses each proxy saw, the
// client's first; entries the client wrote itself can be anything, so the list is read from the
// right, skipping our own proxies, and the first other entry is the client.
void Server::Impl::forwarded_client(Request& req) const {
  beast::error_code ec;
  auto is_trusted = [&](const asio::ip::address& a) {
    return std::find(trusted.begin(), trusted.end(), a) != trusted.end();
  };
  const auto peer = asio::ip::make_address(req.remote_address, ec);
  if (ec || !is_trusted(peer)) return;
  std::string_view all;
  for (const auto& [name, value] : req.headers) {
    if (name == "x-forwarded-for") all = value;  // the last one, if a client sent its own too
  }
  while (!all.empty()) {
    const size_t comma = all.rfind(',');
    std::string_view item = comma == std::string_view::npos ? all : all.substr(comma + 1);
    all = comma == std::string_view::npos ? std::string_view() : all.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    const auto a = asio::ip::make_address(std::string(item), ec);
    if (ec) return;  // not an address: keep the proxy's own
    if (is_trusted(a)) continue;
    req.remote_address = a.to_string();
    return;
  }
}

void Server::Impl::build_request(bhttp::request<bhttp::string_body>& msg, const std::string& remote,
                                 Request& req, bool& bad_target) {
  bad_target = false;
  auto method = msg.method_string();
  req.method.assign(method.data(), method.size());
  auto target = msg.target();
  req.target.assign(target.data(), target.size());
  std::string_view path, query;
  if (!split_target(req.target, path, query)) {
    bad_target = true;
  } else {
    auto p = percent_decode(path, false);
    if (p) {
      req.path = std::move(*p);
    } else {
      bad_target = true;
    }
    req.raw_query.assign(query);
    req.query.clear();
    if (!query.empty()) {
      auto q = parse_query(query);
      if (q) {
        req.query = std::move(*q);
      } else {
        bad_target = true;
      }
    }
  }
  // Reuse the header strings' capacity from the previous request on this connection.
  std::size_t n = 0;
  for (const auto& field : msg) {
    if (n == req.headers.size()) req.headers.emplace_back();
    auto& [name, value] = req.headers[n++];
    auto fname = field.name_string();
    name.assign(fname.data(), fname.size());
    for (char& ch : name) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
    auto fvalue = field.value();
    value.assign(fvalue.data(), fvalue.size());
  }
  req.headers.resize(n);
  req.body = std::move(msg.body());
  req.remote_address = remote;
  if (!trusted.empty()) forwarded_client(req);
  req.keep_alive = msg.keep_alive();
}

asio::awaitable<void> Server::Impl::reject(Conn& c, const beast::error_code& ec,
                                           std::string_view target) {
  Response r;
  if (ec == bhttp::error::header_limit) {
    r = refuse(431, "header_too_large", target);
  } else if (ec == bhttp::error::body_limit) {
    r = refuse(413, "body_too_large", target);
  } else {
    r = refuse(400, "bad_request", target);
  }
  std::string head;
  bool keep = false;
  serialize_head(head, r, 11, keep);
  std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(r.body)};
  beast::error_code wec;
  c.stream.expires_after(opts.read_timeout);
  co_await asio::async_write(c.stream, bufs, asio::redirect_error(asio::use_awaitable, wec));
  if (wec) co_return;
  // Lingering close: stop sending, then discard what the client is still sending for a moment,
  // so that closing with unread data (which makes the kernel send RST) does not destroy the
  // response before the client has read it.
  c.stream.socket().shutdown(tcp::socket::shutdown_send, wec);
  c.stream.expires_after(kDrainTime);
  std::array<char, 4096> scratch;
  std::size_t drained = 0;
  while (drained < kDrainLimit) {
    std::size_t n = co_await c.stream.async_read_some(
        asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, wec));
    if (wec) break;
    drained += n;
  }
}

asio::awaitable<void> Server::Impl::serve_requests(Conn& c) {
  beast::flat_buffer buf;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser;
  Request req;
  Response res;
  std::string head;
  beast::error_code ec;
  std::string remote;
  {
    auto ep = c.stream.socket().remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
  }
  bool first = true;

  for (;;) {
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(opts.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser->body_limit(static_cast<std::uint64_t>(opts.body_limit));

    // read_timeout runs from the request's first byte; before that, the connection is idle.
    bool idle = buf.size() == 0;
    if (idle) {
      c.stream.expires_after(first ? opts.read_timeout : opts.idle_timeout);
    } else {
      c.stream.expires_after(opts.read_timeout);
    }
    bool sent_continue = false;
    for (;;) {
      if (buf.size() > 0) {
        std::size_t used = parser->put(buf.data(), ec);
        buf.consume(used);
        if (ec == bhttp::error::need_more) {
          ec = {};
        } else if (ec) {
          std::string target;
          // A Content-Length over the limit is refused while the headers are read, after the
          // request line: its target is known and chooses the refusal's format (FHIR or not).
          if (parser->is_header_done() || ec == bhttp::error::body_limit) {
            auto t = parser->get().target();
            target.assign(t.data(), t.size());
          }
          co_await reject(c, ec, target);
          co_return;
        } else if (parser->is_done()) {
          break;
        } else if (buf.size() > 0 && used > 0) {
          continue;  // header done; the body starts in the buffer
        }
        if (parser->is_header_done() && !sent_continue) {
          sent_continue = true;
          auto& msg = parser->get();
          auto expect = msg.find(bhttp::field::expect);
          if (msg.version() >= 11 && expect != msg.end() &&
              iequals(to_sv(expect->value()), "100-continue")) {
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            co_await asio::async_write(c.stream, asio::buffer(kContinue),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
          }
        }
      }
      if (idle) {
        if (stopping.load(std::memory_order_relaxed)) co_return;
        c.idle = true;
      }
      std::size_t n = co_await c.stream.async_read_some(
          buf.prepare(kReadChunk), asio::redirect_error(asio::use_awaitable, ec));
      c.idle = false;
      // EOF between requests, a timeout (Beast has closed the socket), a reset, or stop().
      if (ec) co_return;
      buf.commit(n);
      if (idle) {
        idle = false;
        c.stream.expires_after(opts.read_timeout);
      }
    }
    first = false;
    c.stream.expires_never();

    auto& msg = parser->get();
    bool bad_target = false;
    build_request(msg, remote, req, bad_target);
    const unsigned version = msg.version();
    const bool head_request = msg.method() == bhttp::verb::head;

    if (bad_target) {
      res = refuse(400, "bad_request", req.target);
    } else if (opts.run_inline && opts.run_inline(req)) {
      invoke(req, res);
    } else {
      asio::thread_pool& on = waiting_pool && opts.waits(req) ? *waiting_pool : *pool;
      co_await async_call_on_pool(on, req, res, asio::use_awaitable);
    }

    bool keep = req.keep_alive && !stopping.load(std::memory_order_relaxed);
    if (!serialize_head(head, res, version, keep)) {
      log_line("handler returned a malformed response (bad status or header) for ",
               req.method.c_str());
      res = error_response(500, "internal");
      serialize_head(head, res, version, keep);
    }
    const bool send_body = !head_request && status_has_body(res.status);
    std::array<asio::const_buffer, 2> bufs{
        asio::buffer(head),
        send_body ? asio::const_buffer(res.body.data(), res.body.size()) : asio::const_buffer()};
    c.stream.expires_after(opts.read_timeout);  // a client too slow to read is cut off too
    co_await asio::async_write(c.stream, bufs, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    res.body.clear();
    res.headers.clear();
    if (!keep) {
      c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
  }
}

asio::awaitable<void> Server::Impl::serve(std::shared_ptr<Conn> c) {
  {
    std::lock_guard lk(conns_mu);
    conns.insert(c);
  }
  // stop() sets `stopping` before it snapshots `conns`, so either it saw us or we see the flag.
  if (!stopping.load()) {
    try {
      co_await serve_requests(*c);
    } catch (const std::exception& e) {
      log_exception_type("connection", typeid(e));
    }
  }
  c->stream.close();
  {
    std::lock_guard lk(conns_mu);
    conns.erase(c);
  }
  conns_cv.notify_all();
}

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    tcp::socket socket(asio::make_strand(ioc));
    beast::error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping.load() || ec == asio::error::operation_aborted || !acceptor.is_open()) {
        co_return;
      }
      // Out of descriptors or similar: back off instead of spinning.
      log_line("accept failed: ", ec.message().c_str());
      asio::steady_timer timer(accept_strand, std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto c = std::make_shared<Conn>(std::move(socket));
    auto ex = c->stream.get_executor();
    asio::co_spawn(ex, serve(std::move(c)), asio::detached);
  }
}

Status Server::Impl::start() {
  std::lock_guard lk(control_mu);
  if (started) return Status(Code::kInvalid, "server already started");
  if (!handler) return Status(Code::kInvalid, "no handler");
  if (opts.io_threads < 1 || opts.worker_threads < 1 || (opts.waits && opts.waiting_threads < 1)) {
    return Status(Code::kInvalid, "io_threads, worker_threads and waiting_threads must be at least 1");
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(opts.address, ec);
  if (ec) return Status(Code::kInvalid, "bad listen address '" + opts.address + "'");
  trusted.clear();
  for (const std::string& p : opts.trusted_proxies) {
    auto a = asio::ip::make_address(p, ec);
    if (ec) return Status(Code::kInvalid, "trusted proxy '" + p + "' is not an IP address");
    trusted.push_back(a);
  }
  tcp::endpoint endpoint(address, opts.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return Status(Code::kUnavailable, "cannot listen on " + opts.address + ":" +
                                          std::to_string(opts.port) + ": " + ec.message());
  }
  bound_port = acceptor.local_endpoint(ec).port();

  started = true;
  pool.emplace(static_cast<std::size_t>(opts.worker_threads));
  if (opts.waits) waiting_pool.emplace(static_cast<std::size_t>(opts.waiting_threads));
  work.emplace(ioc.get_executor());
  asio::co_spawn(accept_strand, accept_loop(), asio::detached);
  io_threads.reserve(static_cast<std::size_t>(opts.io_threads));
  for (int i = 0; i < opts.io_threads; ++i) {
    io_threads.emplace_back([this] {
      pthread_setname_np(pthread_self(), "hb-io");
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          log_exception_type("io thread", typeid(e));
        }
      }
    });
  }
  return Status::ok();
}

void Server::Impl::close_connections(bool idle_only) {
  std::vector<std::shared_ptr<Conn>> snapshot;
  {
    std::lock_guard lk(conns_mu);
    snapshot.assign(conns.begin(), conns.end());
  }
  for (auto& c : snapshot) {
    asio::post(c->stream.get_executor(), [c, idle_only] {
      if (!idle_only || c->idle) c->stream.close();
    });
  }
}

void Server::Impl::stop(std::chrono::milliseconds grace) {
  std::lock_guard lk(control_mu);
  if (!started || stopped) return;
  stopped = true;
  stopping = true;
  auto deadline = std::chrono::steady_clock::now() + grace;

  asio::post(accept_strand, [this] {
    beast::error_code ec;
    acceptor.close(ec);
  });
  // Idle keep-alive connections go now; the others finish their request (with Connection: close).
  close_connections(/*idle_only=*/true);
  {
    std::unique_lock ul(conns_mu);
    conns_cv.wait_until(ul, deadline, [this] { return conns.empty(); });
  }
  // Past the grace period: cut everything still open. A handler still running on the pool keeps
  // its coroutine suspended; it is destroyed with the io_context.
  close_connections(/*idle_only=*/false);
  {
    std::unique_lock ul(conns_mu);
    conns_cv.wait_for(ul, std::chrono::milliseconds(200), [this] { return conns.empty(); });
  }
  work.reset();
  ioc.stop();
  for (auto& t : io_threads) t.join();
  io_threads.clear();
  pool->join();
  if (waiting_pool) waiting_pool->join();
  std::lock_guard cl(conns_mu);
  conns.clear();
}

void Server::Impl::run_until_signal() {
  {
    std::lock_guard lk(control_mu);
    if (stopped) return;
  }
  if (!started) {
    Status s = start();
    if (!s) {
      log_line("cannot start: ", s.to_string().c_str());
      return;
    }
  }
  std::promise<void> signalled;
  auto fut = signalled.get_future();
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&signalled](const beast::error_code&, int) { signalled.set_value(); });
  while (fut.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
    std::lock_guard lk(control_mu);
    if (stopped) break;  // someone else called stop()
  }
  stop(std::chrono::milliseconds(5000));
  // The io_context no longer runs; cancel the wait so nothing touches `signalled` later.
  beast::error_code ec;
  signals.cancel(ec);
}

// ---------------------------------------------------------------------------------------------
// Server

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { stop(); }

Status Server::start() { return impl_->start(); }

uint16_t Server::port() const { return impl_->bound_port.load(); }

void Server::stop(std::chrono::milliseconds grace) { impl_->stop(grace); }

void Server::run_until_signal() { impl_->run_until_signal(); }

}  // namespace hb::http
