// POSIX file helpers for the code that must know when bytes are on disk (the transparency log,
// its journal, the data folder's secrets): an owned descriptor, whole writes, folder syncs, and
// errors that name the file and the system's reason.
//
// Thread-safety: free functions over their arguments; a UniqueFd belongs to one thread at a time.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "core/status.h"

namespace hb {

// Owns a file descriptor (-1: none) and closes it when it goes.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives the descriptor up without closing it.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes now and returns close(2)'s result: for a written file, its error is a write error.
  int close();

 private:
  int fd_;
};

// kInternal "<what> <path>: <strerror(errno)>". Call it right after the failing call, while errno
// is still that call's.
Status os_error(std::string_view what, const std::filesystem::path& path);

// Writes all of `bytes` (write(2) again after a short write or EINTR). `path` names the file in
// the error.
Status write_all(int fd, std::string_view bytes, const std::filesystem::path& path);
// The same with pwrite(2) at `offset`.
Status write_all_at(int fd, std::string_view bytes, off_t offset,
                    const std::filesystem::path& path);

// fsync(2) of a folder: makes the names created or renamed in it durable.
Status fsync_dir(const std::filesystem::path& dir);

}  // namespace hb
