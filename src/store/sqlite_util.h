// RAII owners for SQLite handles and a connection with a prepared-statement cache.
//
// Private to src/store. A Conn is used by one thread at a time (the writer thread, or whichever
// reader borrowed it from the pool); nothing here locks.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/status.h"

namespace hb::store::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Maps an SQLite result code to a Status. Constraint failures are the caller's problem
// (kConflict for uniqueness, kInvalid for a missing parent row); everything else is ours.
Status db_error(sqlite3* db, int rc, std::string_view what);

// A prepared statement borrowed from a Conn's cache (or owned, when the cache is full). Resets
// and clears its bindings when it goes out of scope so the next borrower starts clean.
//
// Text and blob bindings are not copied: the bound string must outlive the last step(). Binding
// a temporary std::string is therefore refused at compile time.
class Stmt {
 public:
  Stmt(sqlite3_stmt* s, bool* in_use) : s_(s), in_use_(in_use) {}
  explicit Stmt(StmtPtr owned) : s_(owned.get()), owned_(std::move(owned)) {}
  Stmt(Stmt&& o) noexcept
      : s_(std::exchange(o.s_, nullptr)),
        in_use_(std::exchange(o.in_use_, nullptr)),
        owned_(std::move(o.owned_)) {}
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() {
    if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
    if (in_use_ != nullptr) *in_use_ = false;
  }

  // Parameter indexes are 1-based, as in SQLite.
  void bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void bind(int i, std::string&&) = delete;
  void bind_blob(int i, const std::string& v) {
    // A zero-length blob must not be NULL: the column is NOT NULL.
    sqlite3_bind_blob(s_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void bind_blob(int i, std::string&&) = delete;

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }

  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    int n = sqlite3_column_bytes(s_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
  }
  std::string blob(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    int n = sqlite3_column_bytes(s_, col);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
  }
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
  bool* in_use_ = nullptr;
  StmtPtr owned_;
};

// One SQLite connection and its statement cache.
class Conn {
 public:
  // kWriter: synchronous = FULL, through the WAL buffer (sqlite_walbuf.h), whose DeferredWalSync
  // decides whether a commit's sync reaches the disk. kCheckpointer: copies the WAL back into the
  // database (never writes rows); its checkpoints sync the WAL before and the database after.
  enum class Role { kWriter, kReader, kCheckpointer };

  // Opens `path` (creating it for the writer) and applies the per-connection pragmas.
  static Result<std::unique_ptr<Conn>> open(const std::string& path, Role role);

  sqlite3* db() const { return db_.get(); }

  // Returns a cached prepared statement for `sql`, preparing it on first use. A statement that is
  // already borrowed (re-entrant use) or a full cache yields a fresh, uncached statement.
  Result<Stmt> prepare(std::string_view sql);

  // Runs one or more statements without results (pragmas, DDL, BEGIN/COMMIT).
  Status exec(const char* sql);

  // Steps a statement that returns no rows; SQLITE_DONE → ok, else the mapped error.
  Status run(Stmt& st, std::string_view what);

 private:
  explicit Conn(DbPtr db) : db_(std::move(db)) {}

  struct Entry {
    StmtPtr stmt;
    bool in_use = false;
  };
  // Lets find() take the SQL as a string_view without building a std::string.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  static constexpr size_t kMaxCached = 256;

  DbPtr db_;
  // Node-based: pointers to entries stay valid while the map grows.
  std::unordered_map<std::string, Entry, SqlHash, std::equal_to<>> cache_;
};

}  // namespace hb::store::sqlite
