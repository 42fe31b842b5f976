#include "store/sqlite_walbuf.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

namespace hb::store::sqlite {

namespace {

constexpr const char* kVfsName = "hb-walbuf";
// A transaction larger than this (a bulk load) writes its frames in several calls.
constexpr size_t kMaxBuffered = 8u << 20;

// The unix VFS writes at most 128 KiB - 1 bytes a call (it masks the length to 17 bits, and
// reports a write of an exact multiple of 128 KiB as a full disk).
constexpr size_t kMaxWrite = 124u << 10;

thread_local bool t_defer_sync = false;

sqlite3_vfs* g_base = nullptr;  // the default VFS, which does the I/O
sqlite3_vfs g_vfs;

// A WAL file: the base VFS's file object follows this header in the memory SQLite allocated.
struct WalFile {
  sqlite3_file base;  // first, so that a sqlite3_file* is a WalFile*
  sqlite3_file* real;
  std::string pending;      // frames appended since the last write-out
  sqlite3_int64 start = 0;  // the file offset of pending[0]
};

constexpr size_t header_size() { return (sizeof(WalFile) + 15) & ~size_t{15}; }

WalFile* wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }
const sqlite3_io_methods* real_methods(WalFile* w) { return w->real->pMethods; }

int write_out(WalFile* w) {
  int rc = SQLITE_OK;
  for (size_t done = 0; done < w->pending.size() && rc == SQLITE_OK; done += kMaxWrite) {
    const size_t n = std::min(kMaxWrite, w->pending.size() - done);
    rc = real_methods(w)->xWrite(w->real, w->pending.data() + done, static_cast<int>(n),
                                 w->start + static_cast<sqlite3_int64>(done));
  }
  // Written or not, the frames are gone: on an error SQLite fails the commit, which then never
  // appears in the WAL index.
  w->pending.clear();
  return rc;
}

bool overlaps(const WalFile* w, sqlite3_int64 off, sqlite3_int64 n) {
  if (w->pending.empty()) return false;
  const sqlite3_int64 end = w->start + static_cast<sqlite3_int64>(w->pending.size());
  return off < end && w->start < off + n;
}

int wal_close(sqlite3_file* f) {
  WalFile* w = wal(f);
  int rc = write_out(w);
  int rc2 = real_methods(w)->xClose(w->real);
  w->~WalFile();
  return rc != SQLITE_OK ? rc : rc2;
}

int wal_read(sqlite3_file* f, void* out, int n, sqlite3_int64 off) {
  WalFile* w = wal(f);
  if (overlaps(w, off, n)) {
    if (int rc = write_out(w); rc != SQLITE_OK) return rc;
  }
  return real_methods(w)->xRead(w->real, out, n, off);
}

int wal_write(sqlite3_file* f, const void* data, int n, sqlite3_int64 off) {
  WalFile* w = wal(f);
  const bool appends =
      !w->pending.empty() && off == w->start + static_cast<sqlite3_int64>(w->pending.size());
  if (!appends || w->pending.size() + static_cast<size_t>(n) > kMaxBuffered) {
    if (int rc = write_out(w); rc != SQLITE_OK) return rc;
    w->start = off;
  }
  try {
    w->pending.append(static_cast<const char*>(data), static_cast<size_t>(n));
  } catch (const std::bad_alloc&) {
    w->pending.clear();
    return SQLITE_IOERR_NOMEM;
  }
  return SQLITE_OK;
}

int wal_truncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = wal(f);
  if (int rc = write_out(w); rc != SQLITE_OK) return rc;
  return real_methods(w)->xTruncate(w->real, size);
}

int wal_sync(sqlite3_file* f, int flags) {
  WalFile* w = wal(f);
  if (int rc = write_out(w); rc != SQLITE_OK) return rc;
  if (t_defer_sync) return SQLITE_OK;
  return real_methods(w)->xSync(w->real, flags);
}

int wal_file_size(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = wal(f);
  if (int rc = write_out(w); rc != SQLITE_OK) return rc;
  return real_methods(w)->xFileSize(w->real, size);
}

int wal_lock(sqlite3_file* f, int level) {
  return real_methods(wal(f))->xLock(wal(f)->real, level);
}
int wal_unlock(sqlite3_file* f, int level) {
  return real_methods(wal(f))->xUnlock(wal(f)->real, level);
}
int wal_check_reserved(sqlite3_file* f, int* out) {
  return real_methods(wal(f))->xCheckReservedLock(wal(f)->real, out);
}

int wal_file_control(sqlite3_file* f, int op, void* arg) {
  WalFile* w = wal(f);
  if (int rc = write_out(w); rc != SQLITE_OK) return rc;
  return real_methods(w)->xFileControl(w->real, op, arg);
}

int wal_sector_size(sqlite3_file* f) { return real_methods(wal(f))->xSectorSize(wal(f)->real); }
int wal_device(sqlite3_file* f) {
  return real_methods(wal(f))->xDeviceCharacteristics(wal(f)->real);
}

int wal_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real_methods(wal(f))->xShmMap(wal(f)->real, page, size, extend, out);
}
int wal_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_methods(wal(f))->xShmLock(wal(f)->real, offset, n, flags);
}
void wal_shm_barrier(sqlite3_file* f) { real_methods(wal(f))->xShmBarrier(wal(f)->real); }
int wal_shm_unmap(sqlite3_file* f, int remove) {
  return real_methods(wal(f))->xShmUnmap(wal(f)->real, remove);
}

int wal_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  WalFile* w = wal(f);
  if (overlaps(w, off, n)) {
    if (int rc = write_out(w); rc != SQLITE_OK) return rc;
  }
  return real_methods(w)->xFetch(w->real, off, n, out);
}
int wal_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return real_methods(wal(f))->xUnfetch(wal(f)->real, off, p);
}

const sqlite3_io_methods kWalMethods = {
    3,
    wal_close,
    wal_read,
    wal_write,
    wal_truncate,
    wal_sync,
    wal_file_size,
    wal_lock,
    wal_unlock,
    wal_check_reserved,
    wal_file_control,
    wal_sector_size,
    wal_device,
    wal_shm_map,
    wal_shm_lock,
    wal_shm_barrier,
    wal_shm_unmap,
    wal_fetch,
    wal_unfetch,
};

int vfs_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) {
    // Not a WAL: the base VFS's file, in the same memory (szOsFile leaves it room).
    return g_base->xOpen(g_base, name, f, flags, out_flags);
  }
  auto* w = new (f) WalFile{};
  w->base.pMethods = nullptr;  // until the real file is open: SQLite then does not close it
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + header_size());
  int rc = g_base->xOpen(g_base, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK || w->real->pMethods == nullptr) {
    if (w->real->pMethods != nullptr) w->real->pMethods->xClose(w->real);
    w->~WalFile();
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  // The base's methods must have what this file forwards (the unix VFS's have version 3).
  if (w->real->pMethods->iVersion < 3) {
    w->real->pMethods->xClose(w->real);
    w->~WalFile();
    return SQLITE_CANTOPEN;
  }
  w->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

// Everything but opening files is the base VFS's.
int vfs_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_base->xDelete(g_base, name, sync_dir);
}
int vfs_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int vfs_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base->xFullPathname(g_base, name, n, out);
}
void* vfs_dl_open(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void vfs_dl_error(sqlite3_vfs*, int n, char* out) { g_base->xDlError(g_base, n, out); }
void (*vfs_dl_sym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return g_base->xDlSym(g_base, h, sym);
}
void vfs_dl_close(sqlite3_vfs*, void* h) { g_base->xDlClose(g_base, h); }
int vfs_randomness(sqlite3_vfs*, int n, char* out) { return g_base->xRandomness(g_base, n, out); }
int vfs_sleep(sqlite3_vfs*, int us) { return g_base->xSleep(g_base, us); }
int vfs_current_time(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int vfs_last_error(sqlite3_vfs*, int n, char* out) { return g_base->xGetLastError(g_base, n, out); }
int vfs_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_base->xCurrentTimeInt64(g_base, out);
}

}  // namespace

const char* wal_buffer_vfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_base = sqlite3_vfs_find(nullptr);
    if (g_base == nullptr || g_base->iVersion < 2) return;  // left unregistered: opening fails
    std::memset(&g_vfs, 0, sizeof g_vfs);
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(header_size()) + g_base->szOsFile;
    g_vfs.mxPathname = g_base->mxPathname;
    g_vfs.zName = kVfsName;
    g_vfs.xOpen = vfs_open;
    g_vfs.xDelete = vfs_delete;
    g_vfs.xAccess = vfs_access;
    g_vfs.xFullPathname = vfs_full_pathname;
    g_vfs.xDlOpen = vfs_dl_open;
    g_vfs.xDlError = vfs_dl_error;
    g_vfs.xDlSym = vfs_dl_sym;
    g_vfs.xDlClose = vfs_dl_close;
    g_vfs.xRandomness = vfs_randomness;
    g_vfs.xSleep = vfs_sleep;
    g_vfs.xCurrentTime = vfs_current_time;
    g_vfs.xGetLastError = vfs_last_error;
    g_vfs.xCurrentTimeInt64 = vfs_current_time_int64;
    sqlite3_vfs_register(&g_vfs, 0);
  });
  return kVfsName;
}

DeferredWalSync::DeferredWalSync(bool defer) : previous_(t_defer_sync) { t_defer_sync = defer; }
DeferredWalSync::~DeferredWalSync() { t_defer_sync = previous_; }

}  // namespace hb::store::sqlite
