#include "notify/local_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "core/file.h"
#include "core/json.h"

namespace hb::notify {
namespace {

Status append_line(const std::string& path, const std::string& line) {
  // Unavailable, not internal: the outbox tries a failed delivery again later.
  const std::filesystem::path file(path);  // built before open(2): nothing may touch errno between
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid())
    return Status(Code::kUnavailable, os_error("cannot open the sink file", file).message());
  // One write: O_APPEND keeps concurrent lines whole on a local file system.
  if (Status s = write_all(fd.get(), line, file); !s.is_ok())
    return Status(Code::kUnavailable, s.message());
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
