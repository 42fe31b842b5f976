#include "ledger/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "core/file.h"
#include "crypto/random.h"

namespace hb::ledger {
namespace fs = std::filesystem;

namespace {

constexpr char kMagic[4] = {'h', 'b', 'j', '1'};

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

// The CRC-32 of the record at `record` with `payload` bytes after its header: the header's fields
// after the magic (base, first index, count, payload bytes), then the payload.
uint32_t record_crc(const char* record, std::size_t payload) {
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(record + 4), 24);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(record + Journal::kRecordHeader),
              static_cast<uInt>(payload));
  return static_cast<uint32_t>(crc);
}

// Writes a zero-filled file of `size` bytes at `path` durably: written beside it, synced, renamed
// into place, folder synced. Real zeros, not a sparse or fallocated file: a record written into a
// hole or an unwritten extent changes the file's block map, and its fdatasync would wait for a
// file-system journal commit, the cost the journal is there to avoid.
Status create_zeroed(const fs::path& path, std::size_t size) {
  fs::path tmp =
      path.parent_path() / ("." + path.filename().string() + ".tmp-" + crypto::random_token(8));
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return os_error("cannot create", tmp);
  const std::string zeros(std::size_t{1} << 20, '\0');
  Status s = Status::ok();
  for (std::size_t off = 0; off < size && s.is_ok(); off += zeros.size()) {
    s = write_all_at(fd.get(), std::string_view(zeros).substr(0, size - off),
                     static_cast<off_t>(off), tmp);
  }
  if (s.is_ok() && ::fsync(fd.get()) != 0) s = os_error("cannot fsync", tmp);
  if (fd.close() != 0 && s.is_ok()) s = os_error("cannot write", tmp);
  if (s.is_ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    s = os_error("cannot rename into", path);
  if (!s.is_ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return fsync_dir(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::open(const fs::path& path, std::size_t capacity) {
  if (capacity < kMinCapacity) return invalid("a log journal needs at least 4096 bytes");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return os_error("cannot read", path);
    HB_RETURN_IF_ERROR(create_zeroed(path, capacity));
    if (::stat(path.c_str(), &st) != 0) return os_error("cannot read", path);
  }
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return os_error("cannot open", path);
  // One writer: a second process appending to the same log would fork it.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const bool busy = errno == EWOULDBLOCK;
    Status s = busy ? Status(Code::kUnavailable, "the log journal " + path.string() +
                                                     " is in use by another process (is a "
                                                     "healthbook server running on this folder?)")
                    : os_error("cannot lock", path);
    return s;
  }
  return std::unique_ptr<Journal>(
      new Journal(path, std::move(fd), static_cast<std::size_t>(st.st_size), capacity));
}

Result<std::vector<std::string>> Journal::replay(uint64_t base) const {
  std::string file(size_, '\0');
  std::size_t got = 0;
  while (got < size_) {
    ssize_t n = ::pread(fd_.get(), file.data() + got, size_ - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error("cannot read", path_);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  file.resize(got);

  std::vector<std::string> entries;
  std::size_t off = 0;
  while (off + kRecordHeader <= file.size()) {
    const auto* h = reinterpret_cast<const unsigned char*>(file.data() + off);
    if (std::memcmp(h, kMagic, 4) != 0) break;
    uint64_t rec_base = get_be(h + 4, 8);
    uint64_t first = get_be(h + 12, 8);
    uint64_t count = get_be(h + 20, 4);
    uint64_t payload = get_be(h + 24, 4);
    uint32_t crc = static_cast<uint32_t>(get_be(h + 28, 4));
    if (rec_base != base || first != base + entries.size()) break;
    if (payload > file.size() - off - kRecordHeader) break;
    uint32_t want = record_crc(file.data() + off, payload);
    if (want != crc) break;
    // The payload is the entry-bundle encoding of `count` entries with nothing left over.
    std::vector<std::string> mine;
    std::size_t p = off + kRecordHeader;
    const std::size_t end = p + payload;
    while (p + 2 <= end && mine.size() < count) {
      std::size_t len = get_be(reinterpret_cast<const unsigned char*>(file.data() + p), 2);
      if (len > end - p - 2) break;
      mine.emplace_back(file.data() + p + 2, len);
      p += 2 + len;
    }
    // A record whose CRC matches but whose payload does not parse was not written by us.
    if (mine.size() != count || p != end) {
      return internal("log journal " + path_.string() + ": the record at byte " +
                      std::to_string(off) + " is malformed");
    }
    for (auto& e : mine) entries.push_back(std::move(e));
    off = end;
  }
  return entries;
}

Status Journal::rebuild() {
  if (size_ == capacity_) return Status::ok();
  HB_RETURN_IF_ERROR(create_zeroed(path_, capacity_));
  UniqueFd fd(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return os_error("cannot open", path_);
  // The new file is not locked yet: lock it before letting the old one (and its lock) go.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return os_error("cannot lock", path_);
  fd_ = std::move(fd);  // closes the old file, which lets its lock go
  size_ = capacity_;
  restart(base_);
  return Status::ok();
}

void Journal::restart(uint64_t base) {
  base_ = base;
  offset_ = 0;
  records_ = 0;
}

bool Journal::fits(std::size_t count, std::size_t entry_bytes) const {
  std::size_t need = kRecordHeader + 2 * count + entry_bytes;
  return offset_ <= size_ && need <= size_ - offset_;
}

Status Journal::append(uint64_t first_index, const std::vector<const std::string*>& entries) {
  HB_RETURN_IF_ERROR(write(first_index, entries));
  return finish(sync());
}

Status Journal::write(uint64_t first_index, const std::vector<const std::string*>& entries) {
  if (broken_) {
    return Status(Code::kUnavailable, "the log journal " + path_.string() +
                                          " could not be written and its state is unknown; "
                                          "reopen the log");
  }
  std::size_t bytes = 0;
  for (const std::string* e : entries) {
    if (e->size() > 65535) return invalid("log entries are at most 65535 bytes");
    bytes += e->size();
  }
  if (!fits(entries.size(), bytes)) return internal("log journal record does not fit");

  buffer_.clear();
  buffer_.append(kMagic, 4);
  put_be(buffer_, base_, 8);
  put_be(buffer_, first_index, 8);
  put_be(buffer_, entries.size(), 4);
  put_be(buffer_, 2 * entries.size() + bytes, 4);
  put_be(buffer_, 0, 4);  // CRC, filled in below
  for (const std::string* e : entries) {
    put_be(buffer_, e->size(), 2);
    buffer_ += *e;
  }
  const uint32_t crc = record_crc(buffer_.data(), buffer_.size() - kRecordHeader);
  for (int i = 0; i < 4; ++i) buffer_[28 + i] = static_cast<char>((crc >> (8 * (3 - i))) & 0xff);

  written_ = buffer_.size();
  Status s = write_all_at(fd_.get(), buffer_, static_cast<off_t>(offset_), path_);
  if (!s.is_ok()) return finish(s);
  return Status::ok();
}

Status Journal::sync() {
  if (::fdatasync(fd_.get()) != 0) return os_error("cannot fdatasync", path_);
  return Status::ok();
}

Status Journal::finish(Status synced) {
  if (written_ == 0) return synced;
  if (synced.is_ok()) {
    offset_ += written_;
    written_ = 0;
    ++records_;
    return synced;
  }
  // The callers are told the batch failed, so a replay must not bring it back.
  written_ = 0;
  char zeros[kRecordHeader] = {};
  if (!write_all_at(fd_.get(), std::string_view(zeros, sizeof zeros), static_cast<off_t>(offset_),
                    path_)
           .is_ok() ||
      ::fdatasync(fd_.get()) != 0) {
    broken_ = true;
  }
  return synced;
}

}  // namespace hb::ledger
