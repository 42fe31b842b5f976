#include "store/sqlite_util.h"

#include <mutex>

#include "store/sqlite_pcache.h"
#include "store/sqlite_walbuf.h"

namespace hb::store::sqlite {

Status db_error(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_TRIGGER:  // the append-only guards on audit
      return conflict(std::move(msg));
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_CHECK:
      return invalid(std::move(msg));
    default:
      return internal(std::move(msg));
  }
}

namespace {

// Process-wide settings, which SQLite accepts only before it initializes itself (a later call
// fails harmlessly and the defaults stay).
void configure_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Memory statistics put a global mutex around every allocation; nothing here reads them.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    // The statement journal (where a savepoint keeps the pages it may have to restore) grows in
    // chunks of this size, in memory, until it spills to a temporary file. The default 64 KiB
    // spills for most write closures; a journal kept in memory with temp_store = MEMORY grows in
    // 1 KiB chunks instead, a malloc/free pair per KiB journalled.
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 4 << 20);
    // Commits that do not walk the whole page cache after a B-tree rebalance (sqlite_pcache.h).
    install_page_cache();
  });
}

// Before main, so that nothing in the process (a test's own connection, say) can initialize
// SQLite first; Conn::open calls it again in case this file's initializers had not run yet.
[[maybe_unused]] const bool configured_at_start = (configure_library(), true);

}  // namespace

Result<std::unique_ptr<Conn>> Conn::open(const std::string& path, Role role) {
  configure_library();
  // Each connection is used by one thread at a time, so SQLite's own mutexes are not needed.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (role == Role::kWriter) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  // The writer's WAL frames go out in one write a commit (sqlite_walbuf.h).
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags,
                           role == Role::kWriter ? wal_buffer_vfs() : nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return db_error(db.get(), rc, "cannot open the database");
  sqlite3_extended_result_codes(db.get(), 1);
  std::unique_ptr<Conn> c(new Conn(std::move(db)));

  // 5 s of waiting for a lock before SQLITE_BUSY: only another process (a backup, the CLI) can
  // hold it, since this store has a single writer.
  HB_RETURN_IF_ERROR(c->exec("PRAGMA busy_timeout = 5000"));
  HB_RETURN_IF_ERROR(c->exec("PRAGMA foreign_keys = ON"));
  if (role == Role::kWriter) {
    HB_RETURN_IF_ERROR(c->exec("PRAGMA temp_store = MEMORY"));
    // The page cache is bounded per connection (negative = KiB) so RSS stays flat as data grows.
    HB_RETURN_IF_ERROR(c->exec("PRAGMA cache_size = -65536"));
    // journal_mode returns a row with the resulting mode; sqlite3_exec ignores rows, so check it.
    auto st = c->prepare("PRAGMA journal_mode = WAL");
    if (!st.is_ok()) return st.error();
    rc = st->step();
    if (rc != SQLITE_ROW || st->text(0) != "wal") {
      return internal("cannot switch the database to WAL mode");
    }
    // The store checkpoints when the WAL passes ~64 MiB (sqlite_store.cpp); a WAL that a long
    // read made grow further is cut back to this size when it starts over.
    HB_RETURN_IF_ERROR(c->exec("PRAGMA journal_size_limit = 134217728"));
    // FULL, durable store or not: its sync at each commit is when the WAL buffer writes the
    // commit's frames out. The store's writer thread defers those syncs (sqlite_walbuf.h), which
    // leaves them to its syncer when synchronous_full, and to nobody otherwise (SQLite's NORMAL).
    HB_RETURN_IF_ERROR(c->exec("PRAGMA synchronous = FULL"));
  } else if (role == Role::kCheckpointer) {
    // A checkpoint reads WAL frames and writes database pages directly: it needs no page cache.
    HB_RETURN_IF_ERROR(c->exec("PRAGMA cache_size = -1024"));
    HB_RETURN_IF_ERROR(c->exec("PRAGMA synchronous = FULL"));
  } else {
    HB_RETURN_IF_ERROR(c->exec("PRAGMA temp_store = MEMORY"));
    HB_RETURN_IF_ERROR(c->exec("PRAGMA cache_size = -32768"));
    HB_RETURN_IF_ERROR(c->exec("PRAGMA query_only = ON"));
  }
  return c;
}

Result<Stmt> Conn::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Stmt(it->second.stmt.get(), &it->second.in_use);
  }
  bool cacheable = it == cache_.end() && cache_.size() < kMaxCached;
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
  StmtPtr owned(raw);
  if (rc != SQLITE_OK) return db_error(db_.get(), rc, "prepare");
  if (!cacheable) return Stmt(std::move(owned));
  Entry& e = cache_.try_emplace(std::string(sql)).first->second;
  e.stmt = std::move(owned);
  e.in_use = true;
  return Stmt(e.stmt.get(), &e.in_use);
}

Status Conn::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::ok();
  std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  Status s = db_error(nullptr, rc, "exec");
  return Status(s.code(), "exec: " + msg);
}

Status Conn::run(Stmt& st, std::string_view what) {
  int rc = st.step();
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::ok();
  return db_error(db_.get(), rc, what);
}

}  // namespace hb::store::sqlite
