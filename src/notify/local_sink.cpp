#include "notify/local_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/json.h"

namespace hb::notify {
namespace {

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status append_line(const std::string& path, const std::string& line) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return Status(Code::kUnavailable, "cannot open the sink file: " + std::string(strerror(errno)));
  }
  // One write: O_APPEND keeps concurrent lines whole on a local file system.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd.get(), line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Status(Code::kUnavailable,
                    "cannot write the sink file: " + std::string(strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<LocalSink>> LocalSink::create(LocalSinkOptions o, const Clock& clock) {
  if (o.keep == 0 && o.path.empty()) return invalid("a sink needs a file or a memory to keep");
  return std::unique_ptr<LocalSink>(new LocalSink(std::move(o), clock));
}

Status LocalSink::send(const Outgoing& m) {
  const Time now = clock_.now();
  std::lock_guard<std::mutex> l(mu_);
  if (!options_.path.empty()) {
    Json j = {{"id", m.id}, {"time", format_instant(now)}, {"channel", channel_name(m.channel)},
              {"to", m.to}, {"subject", m.subject},        {"text", m.text}};
    HB_RETURN_IF_ERROR(append_line(options_.path, dump_json(j) + "\n"));
  }
  if (options_.keep > 0) {
    recent_.push_back({now, m});
    while (recent_.size() > options_.keep) recent_.pop_front();
  }
  return Status::ok();
}

std::vector<SinkEntry> LocalSink::recent() const {
  std::lock_guard<std::mutex> l(mu_);
  return {recent_.begin(), recent_.end()};
}

}  // namespace hb::notify
