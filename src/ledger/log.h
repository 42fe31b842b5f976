// ledger::Log: the append-only transparency log that every issued or revoked document goes into.
//
// The log's whole state is what it publishes in the C2SP tlog-tiles layout (tiles.h): the signed
// checkpoint, the tiles and the entry bundles. A TileStore holds those objects by path, so a
// DirectoryTileStore folder can be served as /log/ by any static file server and verified as it
// is (verify.h). On open, the log reads the checkpoint and the partial tiles on its right edge and
// checks they reproduce the checkpoint's root.
//
// Appends are group-committed: callers that arrive while a batch is being written wait and then go
// out together in the next batch, which writes its new tiles, entry bundles and ONE new signed
// checkpoint in ONE TileStore::commit. A caller gets its indices and receipts (receipt.h) only
// after that commit returned; if it fails, every caller of the batch gets the error and the log
// stays at its previous checkpoint.
//
// Entries are opaque bytes (at most 65535): the caller decides what goes in (document hash,
// issuer id, kind, time). Never put patient data in an entry: the log is public and permanent.
//
// Thread-safety: Log is safe to use from many threads at once. MemoryTileStore is fully
// synchronised. DirectoryTileStore: read() from any thread, commit() from one thread at a time
// (the Log guarantees this).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
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
};

// In-memory store for tests, with fault injection and a commit counter.
class MemoryTileStore final : public TileStore {
 public:
  Result<std::string> read(std::string_view path) override;
  Status commit(const TileObjects& objects) override;

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
  const std::filesystem::path& root() const { return root_; }

 private:
  explicit DirectoryTileStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

struct LogOptions {
  // Upper bound on the entries of one batch (one checkpoint); one caller's request is never split.
  std::size_t max_batch_entries = 4096;
};

// What a caller gets back for each entry it appended.
struct Appended {
  uint64_t index = 0;
  std::string receipt;  // c2sp.org/tlog-proof@v1 text against the batch's checkpoint
};

class Log {
 public:
  // Opens the log kept in `store` (which must outlive the Log), signing checkpoints with `signer`
  // and using its key name as the checkpoint origin. An empty store gets a signed checkpoint of
  // size 0. kInternal when the stored checkpoint does not verify under the signer's key or the
  // stored tiles do not reproduce its root.
  static Result<std::unique_ptr<Log>> open(TileStore& store, NoteSigner signer,
                                           LogOptions options = {});

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
    const std::vector<std::string>* entries = nullptr;
    Result<std::vector<Appended>> result = Status(Code::kInternal, "not run");
    bool done = false;
    // Woken (under mu_) when the request is done or its caller is to lead the next batch: one
    // wake-up per caller per batch, where a shared condition woke every waiting thread.
    std::condition_variable cv;
  };

  Log(TileStore& store, NoteSigner signer, LogOptions options)
      : store_(store), signer_(std::move(signer)), options_(options) {}
  Status load();
  Result<std::string> sign_checkpoint(uint64_t size, const Hash& root) const;
  // Builds, commits and answers one batch. Called by one leader at a time.
  void run_batch(const std::vector<Request*>& batch);
  Status build_and_commit(const std::vector<Request*>& batch, Edge& next,
                          std::vector<std::vector<Appended>>& results);

  TileStore& store_;
  const NoteSigner signer_;
  const LogOptions options_;

  Edge edge_;  // only the batch leader (leader_ == true) touches it

  mutable std::mutex mu_;
  std::deque<Request*> queue_;  // guarded by mu_
  bool leader_ = false;         // guarded by mu_

  mutable std::mutex published_mu_;
  std::string published_checkpoint_;  // guarded by published_mu_
  uint64_t published_size_ = 0;       // guarded by published_mu_
};

}  // namespace hb::ledger
