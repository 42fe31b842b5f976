#include "core/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace hb {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() { close(); }

int UniqueFd::close() {
  if (fd_ < 0) return 0;
  int rc = ::close(fd_);
  fd_ = -1;
  return rc;
}

Status os_error(std::string_view what, const std::filesystem::path& path) {
  const int err = errno;
  return internal(std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

Status write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error("cannot write", path);
    if (n == 0) return internal("cannot write " + path.string() + ": nothing was written");
    done += static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Status write_all_at(int fd, std::string_view bytes, off_t offset,
                    const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n =
        ::pwrite(fd, bytes.data() + done, bytes.size() - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error("cannot write", path);
    if (n == 0) return internal("cannot write " + path.string() + ": nothing was written");
    done += static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Status fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return os_error("cannot open folder", dir);
  if (::fsync(fd.get()) != 0) return os_error("cannot fsync folder", dir);
  return Status::ok();
}

}  // namespace hb
