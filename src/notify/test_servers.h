// Real loopback servers for the transport tests: a minimal HTTP/1.1 server and a minimal SMTP
// responder, each on a thread, on 127.0.0.1 and a port the kernel picks. They record what they
// were sent so that tests can check the bytes on the wire. Test-only; not part of hb_notify.
//
// Thread-safety: the recorded data is guarded by mu_; read it through the accessors.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace hb::notify::testing {

// A connection being served: buffered reads with a deadline, so a test never hangs.
class Conn {
 public:
  Conn(int fd, const std::atomic<bool>& stop) : fd_(fd), stop_(stop) {}
  ~Conn() { ::close(fd_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Reads until `delim` is in the buffer; returns what precedes it (consumed with it).
  bool read_until(const std::string& delim, std::string& out) {
    for (;;) {
      size_t at = buf_.find(delim);
      if (at != std::string::npos) {
        out = buf_.substr(0, at);
        buf_.erase(0, at + delim.size());
        return true;
      }
      if (!fill()) return false;
    }
  }
  bool read_n(size_t n, std::string& out) {
    while (buf_.size() < n) {
      if (!fill()) return false;
    }
    out = buf_.substr(0, n);
    buf_.erase(0, n);
    return true;
  }
  void write(const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
      ssize_t n = ::send(fd_, s.data() + done, s.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }
  // Waits, without reading, until the peer closes or the server stops.
  void hold() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char c;
        if (::recv(fd_, &c, 1, MSG_PEEK) <= 0) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }

 private:
  bool fill() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, 50);
      if (r < 0) return false;
      if (r == 0) continue;
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
    return false;
  }

  int fd_;
  const std::atomic<bool>& stop_;
  std::string buf_;
};

// Accepts connections on 127.0.0.1 and serves them one after another on its own thread, or, when
// `concurrent`, each on a thread of its own (all joined when the server goes).
class LoopbackServer {
 public:
  using Handler = std::function<void(Conn&)>;

  explicit LoopbackServer(Handler h, bool concurrent = false)
      : handler_(std::move(h)), concurrent_(concurrent) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ::close(fd_);
      throw std::runtime_error("bind/listen failed");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  uint16_t port() const { return port_; }
  int connections() const { return connections_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      if (concurrent_) {
        sessions_.emplace_back([this, c] {
          Conn conn(c, stop_);
          handler_(conn);
        });
        continue;
      }
      Conn conn(c, stop_);
      handler_(conn);
    }
    for (std::thread& t : sessions_) t.join();
  }

  Handler handler_;
  const bool concurrent_;
  std::vector<std::thread> sessions_;  // the serving thread's own
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;  // last: starts after the rest exists
};

struct HttpRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

struct HttpRecorderOptions {
  std::vector<int> statuses{200};      // one per request, in order; the last one repeats
  bool hang = false;                   // read each request and never answer
  std::string hang_on;                 // ...or only those whose body holds this
  std::chrono::milliseconds delay{0};  // wait this long before each answer (a slow gateway)
  bool concurrent = false;             // serve connections at once, a thread each
};

// Answers each request with the next status of `statuses` (the last one repeats), or, with
// `hang`, reads the request and never answers. One request per connection.
class HttpRecorder {
 public:
  explicit HttpRecorder(std::vector<int> statuses, bool hang = false)
      : HttpRecorder(HttpRecorderOptions{std::move(statuses), hang}) {}
  explicit HttpRecorder(HttpRecorderOptions o)
      : options_(std::move(o)), server_([this](Conn& c) { handle(c); }, options_.concurrent) {}

  std::string url(const std::string& path = "/sms") const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  // Waits up to `timeout` until `n` requests have been answered; whether they were.
  bool wait_answered(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return answered_ >= n; });
  }

 private:
  void handle(Conn& c) {
    std::string head;
    if (!c.read_until("\r\n\r\n", head)) return;
    HttpRequest r;
    size_t eol = head.find("\r\n");
    std::string line = head.substr(0, eol);
    size_t sp1 = line.find(' ');
    size_t sp2 = line.find(' ', sp1 + 1);
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t at = eol == std::string::npos ? head.size() : eol + 2;
    while (at < head.size()) {
      size_t end = head.find("\r\n", at);
      if (end == std::string::npos) end = head.size();
      std::string h = head.substr(at, end - at);
      size_t colon = h.find(':');
      if (colon != std::string::npos) {
        std::string name = h.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        size_t v = h.find_first_not_of(' ', colon + 1);
        r.headers[name] = v == std::string::npos ? "" : h.substr(v);
      }
      at = end + 2;
    }
    size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    if (!c.read_n(length, r.body)) return;
    int status;
    {
      std::lock_guard<std::mutex> l(mu_);
      requests_.push_back(r);
      status = options_.statuses[std::min(requests_.size() - 1, options_.statuses.size() - 1)];
    }
    if (options_.hang ||
        (!options_.hang_on.empty() && r.body.find(options_.hang_on) != std::string::npos)) {
      c.hold();
      return;
    }
    if (options_.delay.count() > 0) std::this_thread::sleep_for(options_.delay);
    const std::string body = R"({"echo":"the gateway says hi"})";
    c.write("HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
            "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
            body);
    {
      std::lock_guard<std::mutex> l(mu_);
      ++answered_;
    }
    cv_.notify_all();
  }

  const HttpRecorderOptions options_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;  // with mu_: a request was answered
  std::vector<HttpRequest> requests_;   // guarded by mu_
  std::size_t answered_ = 0;            // guarded by mu_
  LoopbackServer server_;               // last: serves once the rest exists
};

struct SmtpSession {
  std::vector<std::string> commands;  // as received, without CRLF
  std::string data;                   // the DATA section, without the final ".\r\n"
};

// A minimal SMTP responder: 220, EHLO/HELO, MAIL, RCPT (answered with `rcpt_reply`), DATA, RSET,
// NOOP, QUIT. No TLS, no AUTH.
class SmtpRecorder {
 public:
  explicit SmtpRecorder(int rcpt_reply = 250)
      : rcpt_reply_(rcpt_reply), server_([this](Conn& c) { handle(c); }) {}

  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(server_.port()); }
  // The sessions recorded so far, after waiting up to 5 s for at least `at_least` of them: the
  // client may see the server's "221 bye" before the server thread has recorded its session.
  std::vector<SmtpSession> sessions(std::size_t at_least = 0) const {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::seconds(5), [&] { return sessions_.size() >= at_least; });
    return sessions_;
  }

 private:
  void handle(Conn& c) {
    SmtpSession s;
    c.write("220 test.local ESMTP ready\r\n");
    std::string line;
    while (c.read_until("\r\n", line)) {
      s.commands.push_back(line);
      std::string verb = line.substr(0, 4);
      std::transform(verb.begin(), verb.end(), verb.begin(), ::toupper);
      if (verb == "EHLO") {
        c.write("250-test.local\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n");
      } else if (verb == "HELO" || verb == "MAIL" || verb == "RSET" || verb == "NOOP") {
        c.write("250 OK\r\n");
      } else if (verb == "RCPT") {
        c.write(std::to_string(rcpt_reply_) + (rcpt_reply_ < 300 ? " OK\r\n" : " No\r\n"));
      } else if (verb == "DATA") {
        c.write("354 go ahead\r\n");
        std::string data;
        if (!c.read_until("\r\n.\r\n", data)) break;
        s.data = data + "\r\n";
        c.write("250 queued\r\n");
      } else if (verb == "QUIT") {
        c.write("221 bye\r\n");
        break;
      } else {
        c.write("502 not implemented\r\n");
      }
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      sessions_.push_back(std::move(s));
    }
    cv_.notify_all();
  }

  const int rcpt_reply_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<SmtpSession> sessions_;  // guarded by mu_
  LoopbackServer server_;              // last
};

}  // namespace hb::notify::testing
