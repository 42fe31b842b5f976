// ledger::Log: the append-only transparency log that every issued or revoked document goes into.
//
// The log's whole state is what it publishes in the C2SP tlog-tiles layout (tiles.h): the signed
// checkpoint, the tiles and the entry bundles. A TileStore holds those objects by path, so a
// DirectoryTileStore folder can be verified as it is (verify.h). On open, the log reads the
// checkpoint and the partial tiles on its right edge and checks they reproduce the checkpoint's
// root. Readers go through the Log (it is a TileReader): the checkpoint and the partial tiles of
// the right edge come from memory, everything else from the store.
//
// Appends are group-committed: callers that arrive while a batch is being written wait and then go
// out together in the next batch, with ONE new signed checkpoint. A caller gets its indices and
// receipts (receipt.h) only after the batch is durable; if that fails, every caller of the batch
// gets the error and the log stays at its previous checkpoint. A batch is made durable in one of
// two ways:
//   - without a journal, one TileStore::commit of its new tiles, entry bundles and checkpoint;
//   - with a journal (LogOptions::journal, journal.h), one record of its entries in the journal
//     (one fdatasync); its partial tiles stay in memory, and a writer thread writes its full
//     tiles without syncing (served from memory until then: creating files is what costs). When the
//     journal is full, the batch that does not fit is committed the first way, which makes
//     everything before it durable too, and the journal starts over. On open, the entries the
//     journal holds beyond the stored checkpoint are appended again and committed. flush() (and the
//     destructor) commit what the journal holds, so a stopped log leaves a complete tile folder.
//     Complete means what tlog-tiles asks a log to serve: for every checkpoint it published, the
//     partial tiles of that size, unless the full tile exists. The batches of a journal write no
//     partial tiles, so flush() and the commit after a replay write every width of the right
//     edge's partial tiles, up to 255 of each level (a static file server then serves the folder).
//
// Entries are opaque bytes (at most 65535): the caller decides what goes in (document hash,
// issuer id, kind, time). Never put patient data in an entry: the log is public and permanent.
//
// Thread-safety: Log is safe to use from many threads at once. MemoryTileStore is fully
// synchronised. DirectoryTileStore: read() from any thread, commit() and write() from one thread
// at a time (the Log guarantees this).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/status.h"
#include "ledger/journal.h"
#include "ledger/note.h"
#include "ledger/tiles.h"

namespace hb::ledger {

// A batch of objects to write: (tlog-tiles path, bytes).
using TileObjects = std::vector<std::pair<std::string, std::string>>;

// Where a log keeps its objects.
class TileStore : public TileReader {
 public:
  // Makes every object durable. The "checkpoint" object, if present, is the commit point: it is
  // replaced only after everything else is durable, and a failed commit leaves the old checkpoint
  // in place. (Other objects a failed commit may have written are tiles of a size no checkpoint
  // ever named; the next commit overwrites them.)
  virtual Status commit(const TileObjects& objects) = 0;
  // Writes tiles (not the checkpoint) without waiting for them to be durable; the next commit
  // makes them durable. A crash may leave one of them torn, so only write what can be rebuilt:
  // a log with a journal writes its full tiles this way, and replaying the journal rewrites them.
  virtual Status write(const TileObjects& objects) = 0;
};

// In-memory store for tests, with fault injection and a commit counter.
class MemoryTileStore final : public TileStore {
 public:
  Result<std::string> read(std::string_view path) override;
  Status commit(const TileObjects& objects) override;
  Status write(const TileObjects& objects) override;

  // The next `n` commits fail with kUnavailable and write nothing.
  void fail_next_commits(int n);
  int commits() const;
  // Overwrites one object outside any commit (to simulate tampering or corruption).
  void put(const std::string& path, std::string bytes);
  std::map<std::string, std::string> objects() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> objects_;  // guarded by mu_
  int commits_ = 0;                             // guarded by mu_
  int failures_ = 0;                            // guarded by mu_
};

// A folder in the tlog-tiles layout. A commit writes every object to a temporary file in its
// target folder and renames it into place, writes the new checkpoint to a temporary file, makes
// all of it durable with one syncfs(2) of the folder's file system (one device flush for the
// whole batch), and only then renames the checkpoint into place and fsyncs the folder. Paths are
// checked with is_log_path, so nothing outside the folder can be named.
class DirectoryTileStore final : public TileStore {
 public:
  // Creates the folder if it does not exist.
  static Result<std::unique_ptr<DirectoryTileStore>> open(const std::filesystem::path& root);

  Result<std::string> read(std::string_view path) override;
  Status commit(const TileObjects& objects) override;
  Status write(const TileObjects& objects) override;
  const std::filesystem::path& root() const { return root_; }

 private:
  explicit DirectoryTileStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

struct LogOptions {
  // Upper bound on the entries of one batch (one checkpoint); one caller's request is never split.
  std::size_t max_batch_entries = 4096;
  // The journal file (journal.h), if any, and the size it is created with. The journal should be
  // on the same file system as the store, whose syncfs then covers what the log wrote unsynced.
  std::optional<std::filesystem::path> journal;
  std::size_t journal_bytes = std::size_t{16} << 20;
};

// What a caller gets back for each entry it appended.
struct Appended {
  uint64_t index = 0;
  std::string receipt;  // c2sp.org/tlog-proof@v1 text against the batch's checkpoint
};

class Log final : public TileReader {
 public:
  // Opens the log kept in `store` (which must outlive the Log), signing checkpoints with `signer`
  // and using its key name as the checkpoint origin. An empty store gets a signed checkpoint of
  // size 0. kInternal when the stored checkpoint does not verify under the signer's key or the
  // stored tiles do not reproduce its root.
  static Result<std::unique_ptr<Log>> open(TileStore& store, NoteSigner signer,
                                           LogOptions options = {});
  // Flushes (best effort; call flush() first to see its errors).
  ~Log() override;

  // The published log by tlog-tiles path: the latest checkpoint, the partial tiles and entry
  // bundles of its right edge (any width up to the current one) from memory, the rest from the
  // store.
  Result<std::string> read(std::string_view path) override;

  // Commits what only the journal holds so the store alone has the whole log (a no-op without a
  // journal or when it is empty).
  Status flush();

  // Appends entries in order; they get consecutive indices. kInvalid (and nothing appended) when
  // an entry is over 65535 bytes; otherwise the batch's commit status.
  Result<std::vector<Appended>> append(const std::vector<std::string>& entries);
  Result<Appended> append(std::string_view entry);

  // The latest signed checkpoint and its size.
  std::string checkpoint() const;
  uint64_t size() const;
  const std::string& origin() const { return signer_.name(); }
  NoteVerifier verifier() const { return signer_.verifier(); }
  // Appends waiting for the batch in flight to finish (a gauge for metrics, and for tests).
  std::size_t pending() const;
  // Batches made durable since the log was opened (a counter for metrics and benchmarks).
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  // A receipt for entry `index` against the latest checkpoint, computed from the stored tiles.
  Result<std::string> receipt(uint64_t index) const;

 private:
  // The right edge of the tree: what the next batch builds on.
  struct Edge {
    uint64_t size = 0;
    std::vector<std::string> partial;  // partial[L]: the partial tile at level L (32 * width bytes)
    std::string bundle;                // the partial entry bundle
    std::string checkpoint;            // signed note for `size`
  };
  struct Request {
    // What another thread tells the waiting caller, stored with release order and waited on with
    // a futex (await()): a woken caller reads its result without taking mu_, where a condition
    // variable had every woken caller queue again for the lock the leader and new callers hold.
    enum State : int { kWaiting, kLead, kReleased };
    const std::vector<std::string>* entries = nullptr;
    Result<std::vector<Appended>> result = Status(Code::kInternal, "not run");
    Request* wake[2] = {nullptr, nullptr};  // whom the caller releases as it returns
    std::atomic<int> state{kWaiting};
  };

  Log(TileStore& store, NoteSigner signer, LogOptions options)
      : store_(store), signer_(std::move(signer)), options_(std::move(options)) {}
  Status load();
  Status replay_journal();
  Result<std::string> sign_checkpoint(uint64_t size, const Hash& root) const;
  // Builds, makes durable and answers one batch. Called by one leader at a time.
  void run_batch(const std::vector<Request*>& batch);
  // Releases a written batch's callers (see the wake tree in log.cpp).
  void release(const std::vector<Request*>& batch, Request& mine);
  // The leader steps down (under mu_): the first caller still queued is the one to lead next
  // (returned, to be woken once mu_ is let go), unless none is queued or flush() waits.
  Request* step_down();
  // Waits until another thread moves `r` on from kWaiting; returns the state it moved it to.
  static int await(Request& r);
  static void wake(Request* r, Request::State to);
  // Adds `entries` to `next` (a copy of the published edge): the full tiles they complete go to
  // `full`, and `next` gets the new root's signed checkpoint. With `reader`, the caller can then
  // take proofs in the new tree.
  Status build(const std::vector<const std::string*>& entries, Edge& next,
               std::map<std::string, std::string>& full, std::unique_ptr<TileHashReader>* reader);
  // build() in two steps: the leaves and the tiles they fill, then the root and checkpoint.
  Status add_leaves(const std::vector<const std::string*>& entries, Edge& next,
                    std::map<std::string, std::string>& full);
  Status sign_edge(Edge& next, const std::map<std::string, std::string>& full,
                   std::unique_ptr<TileHashReader>* reader);
  // The journal's fdatasync on the syncer thread.
  void start_sync();
  Status wait_sync();
  void syncer_loop();
  // Makes `next` durable the first way (see the top of the file): `full`, its partial tiles and
  // its checkpoint in one TileStore::commit; the journal then starts over. With `every_width`,
  // the narrower widths of the right edge's partial tiles too (for the checkpoints of the batches
  // that only went to the journal).
  Status commit_edge(const Edge& next, std::map<std::string, std::string> full,
                     bool every_width = false);
  void publish(std::shared_ptr<const Edge> next);
  std::shared_ptr<const Edge> published() const;
  // Waits to be the batch leader, as a batch does (for flush()).
  void lead();
  void unlead();
  // The store, with the full tiles the writer has not written yet.
  class StoreView final : public TileReader {
   public:
    explicit StoreView(Log& log) : log_(log) {}
    Result<std::string> read(std::string_view path) override;

   private:
    Log& log_;
  };
  void writer_loop();
  void stop_writer();

  TileStore& store_;
  const NoteSigner signer_;
  const LogOptions options_;
  std::unique_ptr<Journal> journal_;  // only the batch leader touches it
  // The right edge's expanded tiles from the last batch (TileHashReader::take_right_edge): hints
  // for the next one, which checks them against its tiles; only the batch leader touches them.
  TileHashReader::Tiles edge_tiles_;
  uint64_t durable_size_ = 0;         // the store's checkpoint size; only the batch leader
  // The size whose right edge has every width in the store (commit_edge's every_width). A folder
  // found on open is taken as complete: flush() left it so, or a replay completes it. Leader only.
  uint64_t widths_size_ = 0;

  mutable std::mutex mu_;
  std::deque<Request*> queue_;       // guarded by mu_
  bool leader_ = false;              // guarded by mu_
  int lead_waiters_ = 0;             // flush() calls waiting to lead; guarded by mu_
  std::condition_variable lead_cv_;  // for flush(): signalled when a leader steps down

  mutable std::mutex published_mu_;
  std::shared_ptr<const Edge> published_;  // guarded by published_mu_; replaced, never changed
  std::atomic<uint64_t> batches_{0};

  // Full tiles of durable batches, until the writer has written them (or a commit took them).
  StoreView view_{*this};
  std::mutex pending_mu_;
  std::condition_variable pending_cv_;
  std::map<std::string, std::string, std::less<>> pending_;  // guarded by pending_mu_
  std::deque<std::string> to_write_;  // guarded by pending_mu_: paths in pending_, oldest first
  bool writing_ = false;              // guarded by pending_mu_: the writer holds some of them
  bool writer_failed_ = false;        // guarded by pending_mu_: left to the next commit
  bool stop_ = false;                 // guarded by pending_mu_
  std::thread writer_;

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool sync_go_ = false;               // guarded by sync_mu_
  bool sync_done_ = false;             // guarded by sync_mu_
  bool sync_stop_ = false;             // guarded by sync_mu_
  Status sync_status_ = Status::ok();  // guarded by sync_mu_
  std::thread syncer_;
};

}  // namespace hb::ledger
