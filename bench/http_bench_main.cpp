// http_bench: the HTTP server with a trivial handler, to measure the server's own cost per request.
//
//   http_bench [--port N] [--io N] [--workers N] [--inline]
//   wrk -t2 -c64 -d10s --latency http://127.0.0.1:N/x
//
// --inline runs the handler on the I/O thread (ServerOptions::run_inline) instead of the pool.
// Stops on SIGINT/SIGTERM.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "http/server.h"

int main(int argc, char** argv) {
  hb::http::ServerOptions opts;
  opts.port = 0;
  bool run_inline = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> int { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (arg == "--port") {
      opts.port = static_cast<uint16_t>(next());
    } else if (arg == "--io") {
      opts.io_threads = next();
    } else if (arg == "--workers") {
      opts.worker_threads = next();
    } else if (arg == "--inline") {
      run_inline = true;
    } else {
      std::fprintf(stderr, "usage: %s [--port N] [--io N] [--workers N] [--inline]\n", argv[0]);
      return 2;
    }
  }
  if (run_inline) opts.run_inline = [](const hb::http::Request&) { return true; };

  hb::http::Server server(opts, [](const hb::http::Request&) {
    hb::http::Response r;
    r.headers.emplace_back("Content-Type", "text/plain");
    r.body = "ok";
    return r;
  });
  hb::Status s = server.start();
  if (!s) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u (io=%d workers=%d%s)\n", server.port(), opts.io_threads,
              opts.worker_threads, run_inline ? ", inline" : "");
  std::fflush(stdout);
  server.run_until_signal();
  return 0;
}
