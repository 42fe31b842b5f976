// An SQLite VFS for the store's writer connection that writes a commit's WAL frames in one call.
//
// SQLite writes each WAL frame as two pwrite calls (its 24-byte header, then the page), so a
// commit of 150 pages costs 300 system calls, and each 4 KiB page straddles two pages of the
// kernel's cache. This VFS keeps the frames a transaction appends in a buffer and writes them
// with one call when SQLite syncs the WAL at commit (synchronous = FULL), before SQLite publishes
// the commit in the shared WAL index, so a reader never looks for a frame that is not in the file.
// Any read, non-appending write, truncation or size query of the WAL writes the buffer first.
// Other files (the database, the shared memory) pass straight through.
//
// Private to src/store. Files that are not a connection's WAL are the default VFS's own.
#pragma once

namespace hb::store::sqlite {

// The VFS's name for sqlite3_open_v2, registered (not as the default) on the first call.
const char* wal_buffer_vfs();

// While one of these lives on a thread, a WAL sync from that thread (the commit's) only writes
// the buffered frames and skips the fdatasync: the store's syncer thread makes commits durable,
// one fdatasync for many. Checkpoints leave the scope, so that they sync the WAL before copying
// it into the database.
class DeferredWalSync {
 public:
  explicit DeferredWalSync(bool defer);
  ~DeferredWalSync();
  DeferredWalSync(const DeferredWalSync&) = delete;
  DeferredWalSync& operator=(const DeferredWalSync&) = delete;

 private:
  bool previous_;
};

}  // namespace hb::store::sqlite
