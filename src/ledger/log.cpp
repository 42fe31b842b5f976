#include "ledger/log.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "core/file.h"
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

Status MemoryTileStore::write(const TileObjects& objects) {
  std::lock_guard lk(mu_);
  for (const auto& [path, bytes] : objects) {
    if (!is_log_path(path) || path == "checkpoint") return invalid("not a tile path: " + path);
  }
  for (const auto& [path, bytes] : objects) objects_[path] = bytes;
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

// Creates (`flags` decide how) and writes the file `p`; nothing is synced.
Status write_file(const fs::path& p, int flags, std::string_view bytes) {
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644));
  if (!fd.valid()) return os_error("cannot create", p);
  HB_RETURN_IF_ERROR(write_all(fd.get(), bytes, p));
  if (fd.close() != 0) return os_error("cannot write", p);
  return Status::ok();
}

// Writes `bytes` to a new temporary file beside `target` and returns its path; nothing is synced.
Result<fs::path> write_temporary(const fs::path& target, std::string_view bytes) {
  fs::path tmp =
      target.parent_path() / ("." + target.filename().string() + ".tmp-" + crypto::random_token(8));
  if (Status s = write_file(tmp, O_EXCL, bytes); !s.is_ok()) {
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
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return os_error("cannot open folder", root);
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

Status DirectoryTileStore::write(const TileObjects& objects) {
  for (const auto& [path, bytes] : objects) {
    if (!is_log_path(path) || path == "checkpoint") return invalid("not a tile path: " + path);
  }
  std::set<fs::path> created;  // make_dirs' bookkeeping; the next commit's syncfs covers them
  for (const auto& [path, bytes] : objects) {
    fs::path rel(path);
    HB_RETURN_IF_ERROR(make_dirs(root_, rel.parent_path(), created));
    // In place, without a temporary file and a rename: no checkpoint names these tiles yet, and
    // one a crash leaves torn is written again when the journal is replayed. (Creating the
    // temporary file cost a second inode allocation per tile.)
    HB_RETURN_IF_ERROR(write_file(root_ / rel, O_TRUNC, bytes));
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

// The first `width` entries of an entry bundle (length-prefixed, tiles.h).
Result<std::string> bundle_prefix(std::string_view bundle, uint32_t width) {
  std::size_t p = 0;
  for (uint32_t i = 0; i < width; ++i) {
    if (bundle.size() - p < 2) return internal("entry bundle shorter than its width");
    std::size_t len = (std::size_t{static_cast<unsigned char>(bundle[p])} << 8) |
                      static_cast<unsigned char>(bundle[p + 1]);
    if (bundle.size() - p - 2 < len) return internal("entry bundle shorter than its width");
    p += 2 + len;
  }
  return std::string(bundle.substr(0, p));
}

}  // namespace

Result<std::unique_ptr<Log>> Log::open(TileStore& store, NoteSigner signer, LogOptions options) {
  if (options.max_batch_entries == 0) return invalid("max_batch_entries must be positive");
  std::unique_ptr<Log> log(new Log(store, std::move(signer), std::move(options)));
  HB_RETURN_IF_ERROR(log->load());
  if (log->options_.journal) HB_RETURN_IF_ERROR(log->replay_journal());
  return log;
}

Log::~Log() {
  (void)flush();
  stop_writer();
}

void Log::stop_writer() {
  {
    std::lock_guard lk(pending_mu_);
    stop_ = true;
  }
  pending_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lk(sync_mu_);
    sync_stop_ = true;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
}

Result<std::string> Log::StoreView::read(std::string_view path) {
  {
    std::lock_guard lk(log_.pending_mu_);
    if (auto it = log_.pending_.find(path); it != log_.pending_.end()) return it->second;
  }
  return log_.store_.read(path);
}

void Log::writer_loop() {
  std::unique_lock lk(pending_mu_);
  for (;;) {
    pending_cv_.wait(lk, [&] { return stop_ || (!to_write_.empty() && !writer_failed_); });
    if (stop_) return;
    TileObjects objects;
    std::vector<std::string> paths(to_write_.begin(), to_write_.end());
    to_write_.clear();
    for (const std::string& p : paths) objects.emplace_back(p, pending_.find(p)->second);
    writing_ = true;
    lk.unlock();
    Status s = store_.write(objects);
    lk.lock();
    writing_ = false;
    if (s.is_ok()) {
      for (const std::string& p : paths) pending_.erase(p);
    } else {
      // Kept in memory for the next commit, which will meet the same trouble and fail the batch
      // that needs it, rather than this thread retrying in a loop.
      to_write_.insert(to_write_.begin(), paths.begin(), paths.end());
      writer_failed_ = true;
    }
    pending_cv_.notify_all();
  }
}

Result<std::string> Log::sign_checkpoint(uint64_t size, const Hash& root) const {
  return sign_note(format_checkpoint(Checkpoint{signer_.name(), size, root, {}}), {&signer_});
}

Status Log::load() {
  auto text = store_.read("checkpoint");
  if (!text && text.status().code() != Code::kNotFound) return text.status();
  auto e = std::make_shared<Edge>();
  if (!text) {
    // A new log: publish the empty tree so /checkpoint exists from the start.
    HB_ASSIGN_OR_RETURN(std::string note, sign_checkpoint(0, empty_root()));
    HB_RETURN_IF_ERROR(store_.commit({{"checkpoint", note}}));
    e->checkpoint = note;
  } else {
    auto cp = open_checkpoint(*text, signer_.verifier(), signer_.name());
    if (!cp) return internal("stored checkpoint is not ours: " + cp.status().message());
    e->size = cp->size;
    e->checkpoint = *text;
    for (std::size_t level = 0; level_count(level, e->size) > 0; ++level) {
      uint64_t count = level_count(level, e->size);
      uint32_t w = static_cast<uint32_t>(count % kTileWidth);
      e->partial.emplace_back();
      if (w == 0) continue;
      TileId id{static_cast<int>(level), count / kTileWidth, w};
      HB_ASSIGN_OR_RETURN(std::string bytes, store_.read(tile_path(id)));
      if (auto ok = parse_tile(bytes, w); !ok) {
        return internal(tile_path(id) + ": " + ok.status().message());
      }
      e->partial.back() = std::move(bytes);
      if (level == 0) {
        TileId bid{kEntriesLevel, id.index, w};
        HB_ASSIGN_OR_RETURN(e->bundle, store_.read(tile_path(bid)));
        if (auto ok = parse_entry_bundle(e->bundle, w); !ok) {
          return internal(tile_path(bid) + ": " + ok.status().message());
        }
      }
    }
    TileHashReader reader(e->size, fetch_from(store_));
    auto root = reader.root();
    if (!root) return internal("cannot recompute the stored root: " + root.status().message());
    if (*root != cp->root) return internal("stored tiles do not match the stored checkpoint");
  }
  durable_size_ = e->size;
  widths_size_ = e->size;
  publish(std::move(e));
  return Status::ok();
}

Status Log::replay_journal() {
  HB_ASSIGN_OR_RETURN(journal_, Journal::open(*options_.journal, options_.journal_bytes));
  writer_ = std::thread([this] { writer_loop(); });
  syncer_ = std::thread([this] { syncer_loop(); });
  std::shared_ptr<const Edge> edge = published();
  HB_ASSIGN_OR_RETURN(std::vector<std::string> entries, journal_->replay(edge->size));
  journal_->restart(edge->size);
  if (!entries.empty()) {
    std::vector<const std::string*> all;
    all.reserve(entries.size());
    for (const std::string& e : entries) all.push_back(&e);
    auto next = std::make_shared<Edge>(*edge);
    std::map<std::string, std::string> full;
    HB_RETURN_IF_ERROR(build(all, *next, full, nullptr));
    HB_RETURN_IF_ERROR(commit_edge(*next, std::move(full), /*every_width=*/true));
    publish(std::move(next));
  }
  return journal_->rebuild();
}

void Log::publish(std::shared_ptr<const Edge> next) {
  std::lock_guard lk(published_mu_);
  published_ = std::move(next);
}

std::shared_ptr<const Log::Edge> Log::published() const {
  std::lock_guard lk(published_mu_);
  return published_;
}

std::string Log::checkpoint() const { return published()->checkpoint; }

uint64_t Log::size() const { return published()->size; }

std::size_t Log::pending() const {
  std::lock_guard lk(mu_);
  return queue_.size();
}

Result<std::string> Log::read(std::string_view path) {
  std::shared_ptr<const Edge> edge = published();
  if (path == "checkpoint") return edge->checkpoint;
  auto id = parse_tile_path(path);
  if (!id) return not_found("no " + std::string(path) + " in the log");
  // Only what the published checkpoint covers: a tile a failed batch wrote is not the log's.
  uint32_t have = tile_width(id->level, id->index, edge->size);
  if (have == 0 || id->width > have) return not_found("no " + std::string(path) + " in the log");
  if (have < kTileWidth) {
    // The right edge of its level, kept in memory; a narrower width is a prefix of it.
    if (id->level == kEntriesLevel) return bundle_prefix(edge->bundle, id->width);
    return edge->partial[static_cast<std::size_t>(id->level)].substr(
        0, std::size_t{id->width} * kHashSize);
  }
  if (id->full()) return view_.read(path);
  // An earlier width of a tile now full, cut from the full tile: a `.p/` file of that width may
  // be left from a failed commit and hold entries that were never published.
  return prefix_of_full(view_, *id);
}

Result<std::string> Log::receipt(uint64_t index) const {
  std::shared_ptr<const Edge> edge = published();
  if (index >= edge->size) {
    return not_found("no entry " + std::to_string(index) + " in the log yet");
  }
  TileHashReader reader(edge->size, fetch_from(const_cast<Log&>(*this)));
  HB_ASSIGN_OR_RETURN(std::vector<Hash> proof, reader.inclusion_proof(index));
  return format_receipt(Receipt{std::nullopt, index, std::move(proof), edge->checkpoint});
}

// Batches a leader writes after its own before it hands over.
constexpr int kLeaderBatches = 4;

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
  bool lead = false;
  {
    std::lock_guard lk(mu_);
    queue_.push_back(&req);
    lead = !leader_;
    leader_ = true;
  }
  if (!lead) lead = await(req) == Request::kLead;
  if (lead) {
    // Take everything queued (up to the batch limit) and write it as one batch; then, while
    // callers are queued, the next batches too (a few), as handing over to a sleeping thread
    // costs a wake-up per batch. This caller's own request is queued until one of them takes it.
    Request* next = nullptr;
    for (int led = 0;;) {
      std::vector<Request*> batch;
      {
        std::lock_guard lk(mu_);
        std::size_t n = 0;
        while (!queue_.empty() && (batch.empty() || n + queue_.front()->entries->size() <=
                                                        options_.max_batch_entries)) {
          n += queue_.front()->entries->size();
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      run_batch(batch);
      release(batch, req);
      std::lock_guard lk(mu_);
      const bool mine_done = req.state.load(std::memory_order_relaxed) == Request::kReleased;
      if (queue_.empty() || (mine_done && ++led >= kLeaderBatches)) {
        next = step_down();
        break;
      }
    }
    wake(next, Request::kLead);
  }
  // Released by the caller before it in the batch's wake-up tree: release the next ones.
  for (Request* w : req.wake) wake(w, Request::kReleased);
  return std::move(req.result);
}

// A caller waits on its request's state with a bare futex. std::atomic::wait spins first and
// then calls sched_yield a few times before it sleeps: with 64 callers on 2 cores those yields
// took a fifth of the CPU time of log_bench.
static_assert(sizeof(std::atomic<int>) == sizeof(int) && std::atomic<int>::is_always_lock_free);

int Log::await(Request& r) {
  for (;;) {
    const int state = r.state.load(std::memory_order_acquire);
    if (state != Request::kWaiting) return state;
    // Sleeps only while the state is still kWaiting (else EAGAIN); EINTR and spurious wake-ups
    // come back here to look again.
    ::syscall(SYS_futex, reinterpret_cast<int*>(&r.state), FUTEX_WAIT_PRIVATE, Request::kWaiting,
              nullptr, nullptr, 0);
  }
}

void Log::wake(Request* r, Request::State to) {
  if (r == nullptr) return;
  // The caller may see the store, return and reuse its stack before the wake runs; the wake
  // only touches the futex at that address (a spurious wake-up at worst: waiters look again).
  r->state.store(to, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<int*>(&r->state), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
            0);
}

Log::Request* Log::step_down() {
  if (!queue_.empty() && lead_waiters_ == 0) return queue_.front();  // leader_ stays set
  leader_ = false;
  lead_cv_.notify_all();
  return nullptr;
}

void Log::release(const std::vector<Request*>& batch, Request& mine) {
  // Waking 30 callers one after the other took the leader about 250 us a batch, longer than the
  // batch's fdatasync. The leader wakes one; every caller woken wakes two more as it leaves
  // (a binary tree over the batch), so the wake-ups run on the callers' threads, in parallel.
  // The tree is written before the first release, which publishes it to every caller below.
  std::vector<Request*> others;
  others.reserve(batch.size());
  for (Request* r : batch) {
    if (r == &mine) {
      r->state.store(Request::kReleased, std::memory_order_relaxed);
    } else {
      others.push_back(r);
    }
  }
  for (std::size_t i = 0; i < others.size(); ++i) {
    others[i]->wake[0] = 2 * i + 1 < others.size() ? others[2 * i + 1] : nullptr;
    others[i]->wake[1] = 2 * i + 2 < others.size() ? others[2 * i + 2] : nullptr;
  }
  if (!others.empty()) wake(others[0], Request::kReleased);
}

void Log::lead() {
  std::unique_lock lk(mu_);
  ++lead_waiters_;
  lead_cv_.wait(lk, [&] { return !leader_; });
  --lead_waiters_;
  leader_ = true;
}

void Log::unlead() {
  Request* next = nullptr;
  {
    std::lock_guard lk(mu_);
    next = step_down();
  }
  wake(next, Request::kLead);
}

Status Log::flush() {
  if (!journal_) return Status::ok();
  lead();
  Status s = Status::ok();
  std::shared_ptr<const Edge> edge = published();
  if (durable_size_ != edge->size || widths_size_ != edge->size) {
    s = commit_edge(*edge, {}, /*every_width=*/true);
  }
  unlead();
  return s;
}

void Log::run_batch(const std::vector<Request*>& batch) {
  std::shared_ptr<const Edge> current = published();  // only the leader replaces it
  std::vector<const std::string*> entries;
  std::size_t bytes = 0;
  for (const Request* r : batch) {
    for (const std::string& e : *r->entries) {
      entries.push_back(&e);
      bytes += e.size();
    }
  }
  auto next = std::make_shared<Edge>(*current);
  std::map<std::string, std::string> full;
  std::unique_ptr<TileHashReader> reader;
  std::vector<std::vector<Appended>> results;
  Status s = add_leaves(entries, *next, full);

  // With a journal, the record is flushed (on the syncer thread) while this thread signs the
  // checkpoint and builds the receipts: the two took about the same time one after the other.
  const bool journaled = s.is_ok() && journal_ && journal_->fits(entries.size(), bytes);
  bool syncing = false;
  if (journaled) {
    s = journal_->write(current->size, entries);
    if (s.is_ok()) {
      start_sync();
      syncing = true;
    }
  }
  if (s.is_ok()) s = sign_edge(*next, full, &reader);

  // Receipts come from the tiles as they will be published.
  uint64_t index = current->size;
  for (std::size_t b = 0; s.is_ok() && b < batch.size(); ++b) {
    std::vector<Appended> mine;
    mine.reserve(batch[b]->entries->size());
    for (std::size_t i = 0; s.is_ok() && i < batch[b]->entries->size(); ++i, ++index) {
      auto proof = reader->inclusion_proof(index);
      if (!proof) {
        s = proof.status();
        break;
      }
      mine.push_back(Appended{index, format_receipt(Receipt{std::nullopt, index, std::move(*proof),
                                                            next->checkpoint})});
    }
    results.push_back(std::move(mine));
  }

  if (syncing) {
    Status synced = wait_sync();
    Status done = journal_->finish(s.is_ok() ? synced : Status(Code::kInternal, "batch failed"));
    if (s.is_ok()) s = done;
  } else if (s.is_ok() && !journaled) {
    s = commit_edge(*next, std::move(full));
  }
  if (s.is_ok() && journaled && !full.empty()) {
    // Readable before the batch is published; written to the folder by the writer thread.
    {
      std::lock_guard lk(pending_mu_);
      for (auto& [path, bytes] : full) {
        to_write_.push_back(path);
        pending_[path] = std::move(bytes);
      }
    }
    pending_cv_.notify_all();
  }
  if (!s.is_ok()) {
    if (journaled) s = Status(s.code(), "log commit failed: " + s.message());
    for (Request* r : batch) r->result = s;  // nothing published: the old checkpoint stands
    return;
  }
  edge_tiles_ = reader->take_right_edge();
  publish(std::move(next));
  batches_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->result = std::move(results[i]);
}

void Log::start_sync() {
  {
    std::lock_guard lk(sync_mu_);
    sync_go_ = true;
    sync_done_ = false;
  }
  sync_cv_.notify_all();
}

Status Log::wait_sync() {
  std::unique_lock lk(sync_mu_);
  sync_cv_.wait(lk, [&] { return sync_done_; });
  return sync_status_;
}

void Log::syncer_loop() {
  std::unique_lock lk(sync_mu_);
  for (;;) {
    sync_cv_.wait(lk, [&] { return sync_go_ || sync_stop_; });
    if (sync_stop_) return;
    sync_go_ = false;
    lk.unlock();
    Status s = journal_->sync();
    lk.lock();
    sync_status_ = s;
    sync_done_ = true;
    sync_cv_.notify_all();
  }
}

Status Log::build(const std::vector<const std::string*>& entries, Edge& next,
                  std::map<std::string, std::string>& full,
                  std::unique_ptr<TileHashReader>* reader_out) {
  HB_RETURN_IF_ERROR(add_leaves(entries, next, full));
  return sign_edge(next, full, reader_out);
}

Status Log::add_leaves(const std::vector<const std::string*>& entries, Edge& next,
                       std::map<std::string, std::string>& full) {
  // Add every leaf, completing tiles (and the tiles above them) as they fill up.
  for (const std::string* entry : entries) {
    HB_RETURN_IF_ERROR(append_bundle_entry(next.bundle, *entry));
    ++next.size;
    Hash h = leaf_hash(*entry);
    for (std::size_t level = 0;; ++level) {
      if (next.partial.size() == level) next.partial.emplace_back();
      next.partial[level] += h;
      if (next.partial[level].size() < kTileWidth * kHashSize) break;
      uint64_t index = level_count(level, next.size) / kTileWidth - 1;
      full[tile_path({static_cast<int>(level), index, kTileWidth})] = next.partial[level];
      if (level == 0) {
        full[tile_path({kEntriesLevel, index, kTileWidth})] = std::move(next.bundle);
        next.bundle.clear();
      }
      h = tile_root(next.partial[level]);
      next.partial[level].clear();
    }
  }
  return Status::ok();
}

Status Log::sign_edge(Edge& next, const std::map<std::string, std::string>& full,
                      std::unique_ptr<TileHashReader>* reader_out) {
  // The root comes from the tiles as they will be published: this batch's full tiles, the new
  // right edge, and the store (with the tiles not written yet) for everything older.
  TileFetch fetch = [this, &full, &next](const TileId& id) -> Result<std::string> {
    if (auto it = full.find(tile_path(id)); it != full.end()) return it->second;
    if (!id.full() && id.level >= 0 && static_cast<std::size_t>(id.level) < next.partial.size() &&
        next.partial[id.level].size() == std::size_t{id.width} * kHashSize) {
      return next.partial[id.level];
    }
    return fetch_from(view_)(id);
  };
  auto reader = std::make_unique<TileHashReader>(next.size, std::move(fetch));
  // The last batch's edge: only the hashes above this batch's leaves are new.
  reader->reuse(std::exchange(edge_tiles_, {}));
  HB_ASSIGN_OR_RETURN(Hash root, reader->root());
  HB_ASSIGN_OR_RETURN(next.checkpoint, sign_checkpoint(next.size, root));
  if (reader_out != nullptr) {
    *reader_out = std::move(reader);
  } else {
    edge_tiles_ = reader->take_right_edge();
  }
  return Status::ok();
}

Status Log::commit_edge(const Edge& next, std::map<std::string, std::string> full,
                        bool every_width) {
  TileObjects objects;
  // The full tiles of earlier batches that the writer has not written: this commit writes them.
  std::vector<std::string> taken;
  {
    std::unique_lock lk(pending_mu_);
    pending_cv_.wait(lk, [&] { return !writing_; });
    taken.assign(to_write_.begin(), to_write_.end());
    to_write_.clear();
    for (const std::string& p : taken) objects.emplace_back(p, pending_.find(p)->second);
  }
  objects.reserve(objects.size() + full.size() + 8);
  for (auto& [path, bytes] : full) objects.emplace_back(path, std::move(bytes));
  // The partial tiles that changed since the store last had a checkpoint (with a journal, the
  // batches since then wrote only full tiles).
  for (const TileId& id : changed_tiles(durable_size_, next.size)) {
    if (id.full()) continue;  // in `full`, or written by an earlier batch
    const std::string& bytes = next.partial[static_cast<std::size_t>(id.level)];
    if (bytes.size() != std::size_t{id.width} * kHashSize) {
      return internal("partial tile " + tile_path(id) + " has the wrong width");
    }
    objects.emplace_back(tile_path(id), bytes);
    if (id.level == 0)
      objects.emplace_back(tile_path({kEntriesLevel, id.index, id.width}), next.bundle);
  }
  if (every_width) {
    // Each level's right edge is one partial tile (or none); its narrower widths are prefixes.
    for (std::size_t level = 0; level < next.partial.size(); ++level) {
      const auto width = static_cast<uint32_t>(next.partial[level].size() / kHashSize);
      if (width == 0) continue;
      const uint64_t index = level_count(level, next.size) / kTileWidth;
      for (uint32_t w = 1; w < width; ++w) {
        objects.emplace_back(tile_path({static_cast<int>(level), index, w}),
                             next.partial[level].substr(0, std::size_t{w} * kHashSize));
        if (level != 0) continue;
        HB_ASSIGN_OR_RETURN(std::string bundle, bundle_prefix(next.bundle, w));
        objects.emplace_back(tile_path({kEntriesLevel, index, w}), std::move(bundle));
      }
    }
  }
  objects.emplace_back("checkpoint", next.checkpoint);
  Status s = store_.commit(objects);
  {
    std::lock_guard lk(pending_mu_);
    if (s.is_ok()) {
      for (const std::string& p : taken) pending_.erase(p);
      writer_failed_ = false;
    } else {
      to_write_.insert(to_write_.begin(), taken.begin(), taken.end());
    }
  }
  if (!s.is_ok()) return Status(s.code(), "log commit failed: " + s.message());
  durable_size_ = next.size;
  if (every_width) widths_size_ = next.size;
  if (journal_) journal_->restart(next.size);
  return Status::ok();
}

}  // namespace hb::ledger
