#include "ledger/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "crypto/encoding.h"
#include "crypto/random.h"
#include "ledger/receipt.h"
#include "ledger/verify.h"

namespace hb::ledger {
namespace fs = std::filesystem;

// --- MemoryTileStore -------------------------------------------------------------------------

Result<std::string> MemoryTileStore::read(std::string_view path) {
  std::lock_guard lk(mu_);
  auto it = objects_.find(std::string(path));
  if (it == objects_.end()) return not_found("no " + std::string(path));
  return it->second;
}

Status MemoryTileStore::commit(const TileObjects& objects) {
  std::lock_guard lk(mu_);
  if (failures_ > 0) {
    --failures_;
    return {Code::kUnavailable, "injected commit failure"};
  }
  for (const auto& [path, bytes] : objects) {
    if (!is_log_path(path)) return invalid("not a log path: " + path);
  }
  for (const auto& [path, bytes] : objects) objects_[path] = bytes;
  ++commits_;
  return Status::ok();
}

void MemoryTileStore::fail_next_commits(int n) {
  std::lock_guard lk(mu_);
  failures_ = n;
}

int MemoryTileStore::commits() const {
  std::lock_guard lk(mu_);
  return commits_;
}

void MemoryTileStore::put(const std::string& path, std::string bytes) {
  std::lock_guard lk(mu_);
  objects_[path] = std::move(bytes);
}

std::map<std::string, std::string> MemoryTileStore::objects() const {
  std::lock_guard lk(mu_);
  return objects_;
}

// --- DirectoryTileStore ----------------------------------------------------------------------

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting the error close() may carry for written data.
  int close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status os_error(const std::string& what, const fs::path& p) {
  return internal(what + " " + p.string() + ": " + std::strerror(errno));
}

Status fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return os_error("cannot open folder", dir);
  if (::fsync(fd.get()) != 0) return os_error("cannot fsync folder", dir);
  return Status::ok();
}

// mkdir -p below `root`, remembering the parent of every folder it creates (to fsync them).
Status make_dirs(const fs::path& root, const fs::path& rel_dir, std::set<fs::path>& dirty) {
  fs::path cur = root;
  for (const auto& part : rel_dir) {
    fs::path next = cur / part;
    if (::mkdir(next.c_str(), 0755) == 0) {
      dirty.insert(cur);
    } else if (errno != EEXIST) {
      return os_error("cannot create folder", next);
    }
    cur = next;
  }
  return Status::ok();
}

// Writes `bytes` to a new temporary file beside `target` and returns its path; nothing is synced.
Result<fs::path> write_temporary(const fs::path& target, std::string_view bytes) {
  fs::path tmp =
      target.parent_path() / ("." + target.filename().string() + ".tmp-" + crypto::random_token(8));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return os_error("cannot create", tmp);
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = os_error("cannot write", tmp);
      ::unlink(tmp.c_str());
      return s;
    }
    off += static_cast<std::size_t>(n);
  }
  if (fd.close() != 0) {
    Status s = os_error("cannot write", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  return tmp;
}

Status rename_into(const fs::path& tmp, const fs::path& target) {
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    Status s = os_error("cannot rename into", target);
    ::unlink(tmp.c_str());
    return s;
  }
  return Status::ok();
}

// Makes everything written to the file system that holds `root` durable: file data, new names
// and new folders, in one flush of the device (where an fsync per file and per folder cost one
// flush each, 5-8 per batch). Since Linux 5.8 syncfs reports write-back errors of any file on
// the file system since the last call, so an error here may be another file's; it still fails
// the commit, which is the safe side.
Status sync_file_system(const fs::path& root) {
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return os_error("cannot open folder", root);
  if (::syncfs(fd.get()) != 0) return os_error("cannot sync the file system of", root);
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<DirectoryTileStore>> DirectoryTileStore::open(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return internal("cannot create log folder " + root.string() + ": " + ec.message());
  return std::unique_ptr<DirectoryTileStore>(new DirectoryTileStore(root));
}

Result<std::string> DirectoryTileStore::read(std::string_view path) {
  return FolderTileReader(root_).read(path);
}

Status DirectoryTileStore::commit(const TileObjects& objects) {
  for (const auto& [path, bytes] : objects) {
    if (!is_log_path(path)) return invalid("not a log path: " + path);
  }
  std::set<fs::path> created;  // make_dirs' bookkeeping; syncfs covers the new folders
  std::optional<fs::path> checkpoint_tmp;
  for (const auto& obj : objects) {
    if (obj.first == "checkpoint") {
      HB_ASSIGN_OR_RETURN(checkpoint_tmp, write_temporary(root_ / "checkpoint", obj.second));
      continue;
    }
    fs::path rel(obj.first);
    HB_RETURN_IF_ERROR(make_dirs(root_, rel.parent_path(), created));
    fs::path target = root_ / rel;
    HB_ASSIGN_OR_RETURN(fs::path tmp, write_temporary(target, obj.second));
    HB_RETURN_IF_ERROR(rename_into(tmp, target));
  }
  // Everything the new checkpoint names, and the checkpoint's own bytes, are durable before the
  // checkpoint takes its name: a crash leaves the old checkpoint or the new one, never a new one
  // naming tiles that were lost.
  Status synced = sync_file_system(root_);
  if (!synced) {
    if (checkpoint_tmp) ::unlink(checkpoint_tmp->c_str());
    return synced;
  }
  if (checkpoint_tmp) {
    HB_RETURN_IF_ERROR(rename_into(*checkpoint_tmp, root_ / "checkpoint"));
    HB_RETURN_IF_ERROR(fsync_dir(root_));
  }
  return Status::ok();
}

// --- Log -------------------------------------------------------------------------------------

namespace {

// Hashes at level L (complete subtrees of height 8L) in a tree of `size` leaves.
uint64_t level_count(std::size_t level, uint64_t size) {
  std::size_t shift = kTileHeight * level;
  return shift >= 64 ? 0 : size >> shift;
}

Hash tile_root(std::string_view tile) {
  std::vector<Hash> hashes;
  hashes.reserve(kTileWidth);
  for (std::size_t i = 0; i < tile.size(); i += kHashSize)
    hashes.emplace_back(tile.substr(i, kHashSize));
  return root_from_leaf_hashes(hashes);
}

}  // namespace

Result<std::unique_ptr<Log>> Log::open(TileStore& store, NoteSigner signer, LogOptions options) {
  if (options.max_batch_entries == 0) return invalid("max_batch_entries must be positive");
  std::unique_ptr<Log> log(new Log(store, std::move(signer), options));
  HB_RETURN_IF_ERROR(log->load());
  return log;
}

Result<std::string> Log::sign_checkpoint(uint64_t size, const Hash& root) const {
  return sign_note(format_checkpoint(Checkpoint{signer_.name(), size, root, {}}), {&signer_});
}

Status Log::load() {
  auto text = store_.read("checkpoint");
  if (!text && text.status().code() != Code::kNotFound) return text.status();
  if (!text) {
    // A new log: publish the empty tree so /checkpoint exists from the start.
    HB_ASSIGN_OR_RETURN(std::string note, sign_checkpoint(0, empty_root()));
    HB_RETURN_IF_ERROR(store_.commit({{"checkpoint", note}}));
    edge_ = Edge{};
    edge_.checkpoint = note;
  } else {
    auto cp = open_checkpoint(*text, signer_.verifier(), signer_.name());
    if (!cp) return internal("stored checkpoint is not ours: " + cp.status().message());
    Edge e;
    e.size = cp->size;
    e.checkpoint = *text;
    for (std::size_t level = 0; level_count(level, e.size) > 0; ++level) {
      uint64_t count = level_count(level, e.size);
      uint32_t w = static_cast<uint32_t>(count % kTileWidth);
      e.partial.emplace_back();
      if (w == 0) continue;
      TileId id{static_cast<int>(level), count / kTileWidth, w};
      HB_ASSIGN_OR_RETURN(std::string bytes, store_.read(tile_path(id)));
      if (auto ok = parse_tile(bytes, w); !ok) {
        return internal(tile_path(id) + ": " + ok.status().message());
      }
      e.partial.back() = std::move(bytes);
      if (level == 0) {
        TileId bid{kEntriesLevel, id.index, w};
        HB_ASSIGN_OR_RETURN(e.bundle, store_.read(tile_path(bid)));
        if (auto ok = parse_entry_bundle(e.bundle, w); !ok) {
          return internal(tile_path(bid) + ": " + ok.status().message());
        }
      }
    }
    TileHashReader reader(e.size, fetch_from(store_));
    auto root = reader.root();
    if (!root) return internal("cannot recompute the stored root: " + root.status().message());
    if (*root != cp->root) return internal("stored tiles do not match the stored checkpoint");
    edge_ = std::move(e);
  }
  std::lock_guard lk(published_mu_);
  published_checkpoint_ = edge_.checkpoint;
  published_size_ = edge_.size;
  return Status::ok();
}

std::string Log::checkpoint() const {
  std::lock_guard lk(published_mu_);
  return published_checkpoint_;
}

uint64_t Log::size() const {
  std::lock_guard lk(published_mu_);
  return published_size_;
}

std::size_t Log::pending() const {
  std::lock_guard lk(mu_);
  return queue_.size();
}

Result<std::string> Log::receipt(uint64_t index) const {
  std::string note;
  uint64_t size;
  {
    std::lock_guard lk(published_mu_);
    note = published_checkpoint_;
    size = published_size_;
  }
  if (index >= size) return not_found("no entry " + std::to_string(index) + " in the log yet");
  TileHashReader reader(size, fetch_from(store_));
  HB_ASSIGN_OR_RETURN(std::vector<Hash> proof, reader.inclusion_proof(index));
  return format_receipt(Receipt{std::nullopt, index, std::move(proof), note});
}

Result<Appended> Log::append(std::string_view entry) {
  HB_ASSIGN_OR_RETURN(std::vector<Appended> r,
                      append(std::vector<std::string>{std::string(entry)}));
  return std::move(r[0]);
}

Result<std::vector<Appended>> Log::append(const std::vector<std::string>& entries) {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].size() > kMaxEntrySize) {
      return invalid("entry " + std::to_string(i) + " is " + std::to_string(entries[i].size()) +
                     " bytes; log entries are at most 65535");
    }
  }
  if (entries.empty()) return std::vector<Appended>{};

  Request req;
  req.entries = &entries;
  std::unique_lock lk(mu_);
  queue_.push_back(&req);
  while (!req.done) {
    if (leader_) {
      req.cv.wait(lk);
      continue;
    }
    // Lead: take everything queued (up to the batch limit) and write it as one batch.
    leader_ = true;
    std::vector<Request*> batch;
    std::size_t n = 0;
    while (!queue_.empty() &&
           (batch.empty() || n + queue_.front()->entries->size() <= options_.max_batch_entries)) {
      n += queue_.front()->entries->size();
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lk.unlock();
    run_batch(batch);
    lk.lock();
    for (Request* r : batch) {
      r->done = true;
      if (r != &req) r->cv.notify_one();
    }
    leader_ = false;
    // The first caller still queued leads the next batch.
    if (!queue_.empty()) queue_.front()->cv.notify_one();
  }
  return std::move(req.result);
}

void Log::run_batch(const std::vector<Request*>& batch) {
  Edge next = edge_;
  std::vector<std::vector<Appended>> results;
  Status s = build_and_commit(batch, next, results);
  if (!s.is_ok()) {
    for (Request* r : batch) r->result = s;  // edge_ untouched: the old checkpoint stands
    return;
  }
  edge_ = std::move(next);
  {
    std::lock_guard lk(published_mu_);
    published_checkpoint_ = edge_.checkpoint;
    published_size_ = edge_.size;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->result = std::move(results[i]);
}

Status Log::build_and_commit(const std::vector<Request*>& batch, Edge& next,
                             std::vector<std::vector<Appended>>& results) {
  const uint64_t old_size = next.size;
  std::map<std::string, std::string> writes;

  // Add every leaf, completing tiles (and the tiles above them) as they fill up.
  for (const Request* r : batch) {
    for (const std::string& entry : *r->entries) {
      HB_RETURN_IF_ERROR(append_bundle_entry(next.bundle, entry));
      ++next.size;
      Hash h = leaf_hash(entry);
      for (std::size_t level = 0;; ++level) {
        if (next.partial.size() == level) next.partial.emplace_back();
        next.partial[level] += h;
        if (next.partial[level].size() < kTileWidth * kHashSize) break;
        uint64_t index = level_count(level, next.size) / kTileWidth - 1;
        writes[tile_path({static_cast<int>(level), index, kTileWidth})] = next.partial[level];
        if (level == 0) {
          writes[tile_path({kEntriesLevel, index, kTileWidth})] = std::move(next.bundle);
          next.bundle.clear();
        }
        h = tile_root(next.partial[level]);
        next.partial[level].clear();
      }
    }
  }
  // Then the partial tiles that grew.
  for (const TileId& id : changed_tiles(old_size, next.size)) {
    if (id.full()) {
      if (writes.count(tile_path(id)) == 0) return internal("full tile missing from batch");
      continue;
    }
    const std::string& bytes = next.partial[id.level];
    if (bytes.size() != std::size_t{id.width} * kHashSize) {
      return internal("partial tile " + tile_path(id) + " has the wrong width");
    }
    writes[tile_path(id)] = bytes;
    if (id.level == 0) writes[tile_path({kEntriesLevel, id.index, id.width})] = next.bundle;
  }

  // Root, proofs and checkpoint come from the tiles as they will be published.
  TileFetch fetch = [&](const TileId& id) -> Result<std::string> {
    if (auto it = writes.find(tile_path(id)); it != writes.end()) return it->second;
    if (!id.full() && static_cast<std::size_t>(id.level) < next.partial.size() &&
        next.partial[id.level].size() == std::size_t{id.width} * kHashSize) {
      return next.partial[id.level];
    }
    return fetch_from(store_)(id);
  };
  TileHashReader reader(next.size, fetch);
  HB_ASSIGN_OR_RETURN(Hash root, reader.root());
  HB_ASSIGN_OR_RETURN(next.checkpoint, sign_checkpoint(next.size, root));

  results.clear();
  uint64_t index = old_size;
  for (const Request* r : batch) {
    std::vector<Appended> mine;
    mine.reserve(r->entries->size());
    for (std::size_t i = 0; i < r->entries->size(); ++i, ++index) {
      HB_ASSIGN_OR_RETURN(std::vector<Hash> proof, reader.inclusion_proof(index));
      mine.push_back(Appended{
          index, format_receipt(Receipt{std::nullopt, index, std::move(proof), next.checkpoint})});
    }
    results.push_back(std::move(mine));
  }

  TileObjects objects;
  objects.reserve(writes.size() + 1);
  for (auto& [path, bytes] : writes) objects.emplace_back(path, std::move(bytes));
  objects.emplace_back("checkpoint", next.checkpoint);
  Status s = store_.commit(objects);
  if (!s.is_ok()) return Status(s.code(), "log commit failed: " + s.message());
  return Status::ok();
}

}  // namespace hb::ledger
