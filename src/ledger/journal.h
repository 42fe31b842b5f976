// ledger::Journal: the transparency log's durable step, one fdatasync per batch.
//
// Without a journal every batch of the log writes its new tiles, entry bundles and checkpoint as
// files and makes them durable with a syncfs of the tile folder. Creating files costs ext4 a
// journal commit each time, and that, not the flush, held the log near 20,000 appends a second.
// With a journal a batch is durable once its entries are in one record of a preallocated file
// (pwrite + fdatasync, no metadata changes); the tiles are derived from the entries, so the log
// writes them without syncing and serves the partial ones from memory. When the journal is full
// the log makes its tiles durable with one syncfs and starts the journal over (Log, log.h).
//
// The file is written once with zeros at its full size, so a record never grows it. A record:
//
//   "hbj1" | base u64 | first_index u64 | count u32 | payload bytes u32 | crc32 u32 | payload
//
// big-endian, where the payload is `count` entries, each a u16 length and the entry bytes (the
// entry-bundle encoding), and the CRC-32 covers base..payload. `base` is the size of the tree
// whose tiles were durable when the journal last started over: records from before that start
// have another base, so replay stops at them. Replay also stops at a record whose CRC does not
// match (a write torn by a crash: its callers never got an answer) or whose first index does not
// follow the previous record's entries.
//
// Thread-safety: none; the log calls it from its batch leader only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/file.h"
#include "core/status.h"

namespace hb::ledger {

class Journal {
 public:
  static constexpr std::size_t kRecordHeader = 32;
  static constexpr std::size_t kMinCapacity = 4096;

  // Opens the journal file at `path`, creating it (zero-filled, `capacity` bytes, durable) when
  // it does not exist. An existing file keeps its size until rebuild(). The file is locked
  // (flock) while open: kUnavailable when another process (or another Journal) has it.
  static Result<std::unique_ptr<Journal>> open(const std::filesystem::path& path,
                                               std::size_t capacity);
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // The entries recorded on top of a tree of `base` entries, in order, from the start of the
  // file up to the first record that does not follow (see above).
  Result<std::vector<std::string>> replay(uint64_t base) const;

  // Replaces the file with a zero-filled one of the capacity given to open(), if its size
  // differs. Only call it when everything the journal held is durable elsewhere.
  Status rebuild();

  // Starts over at the beginning of the file: records from now on build on a tree of `base`
  // entries, whose tiles must already be durable. Writes nothing.
  void restart(uint64_t base);

  // Whether a record of `count` entries totalling `entry_bytes` fits in what is left.
  bool fits(std::size_t count, std::size_t entry_bytes) const;

  // Writes one record of `entries` (each at most 65535 bytes), the first of which gets index
  // `first_index`, and makes it durable: write() + sync() + finish().
  Status append(uint64_t first_index, const std::vector<const std::string*>& entries);

  // The same in steps, so the log can work while the record is being flushed:
  // write() puts the record in the file (not durable yet), sync() makes it durable (and may run
  // on another thread; nothing else may touch the journal meanwhile), and finish() ends the
  // record: given sync()'s success it counts the record, otherwise (or when the batch failed for
  // another reason) it overwrites the record's header with zeros so a replay cannot pick it up.
  // If even that fails, every later write fails too (the file's state is unknown until the log
  // is opened again).
  Status write(uint64_t first_index, const std::vector<const std::string*>& entries);
  Status sync();
  Status finish(Status synced);

  // Records written since the last restart (a gauge for tests and metrics).
  std::size_t records() const { return records_; }
  std::size_t capacity() const { return size_; }

 private:
  Journal(std::filesystem::path path, UniqueFd fd, std::size_t size, std::size_t capacity)
      : path_(std::move(path)), fd_(std::move(fd)), size_(size), capacity_(capacity) {}

  std::filesystem::path path_;
  UniqueFd fd_;
  std::size_t size_;      // the file's size
  std::size_t capacity_;  // the size rebuild() gives it
  uint64_t base_ = 0;
  std::size_t offset_ = 0;  // where the next record goes
  std::size_t records_ = 0;
  std::size_t written_ = 0;  // bytes of the record write() put in, until finish()
  bool broken_ = false;
  std::string buffer_;  // reused record buffer
};

}  // namespace hb::ledger
