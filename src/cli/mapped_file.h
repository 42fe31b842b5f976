// A regular file mapped read-only into memory, for the CLI's batch inputs.
//
// `healthbook verify` reads files of tens of MB (one card a line). Read into a string, 34 MB cost
// about 20 ms of page faults and copying, a microsecond per card; mapped with MAP_POPULATE, whose
// page-cache pages are mapped in one pass, it costs about 2 ms. The caveat of every mapping: if
// another process truncates the file while it is mapped, reading the lost pages raises SIGBUS.
//
// Thread-safety: an immutable view once open; safe to read from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hb::cli {

class MappedFile {
 public:
  // The file at `path`, or nullopt when it cannot be opened, is not a regular file, is empty, or
  // cannot be mapped: the caller then reads it the ordinary way.
  static std::optional<MappedFile> open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view view() const { return {data_, size_}; }

 private:
  MappedFile(const char* data, std::size_t size) : data_(data), size_(size) {}

  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace hb::cli
