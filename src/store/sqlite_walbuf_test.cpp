#include "store/sqlite_walbuf.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "store/sqlite_util.h"
#include "store/test_fixture.h"

namespace hb::store::sqlite {
namespace {

// This process's write system calls so far (Linux).
int64_t write_calls() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "syscw:") return value;
  }
  return -1;
}

int64_t count(Conn& c, const char* sql) {
  auto st = c.prepare(sql);
  if (!st.is_ok() || st->step() != SQLITE_ROW) throw std::runtime_error("query failed");
  return st->int64(0);
}

// Inserts rows of `size` random bytes each, in one transaction.
void insert(Conn& c, int rows, int size) {
  ASSERT_TRUE(c.exec("BEGIN").is_ok());
  for (int i = 0; i < rows; ++i) {
    auto st = c.prepare("INSERT INTO t(b) VALUES (randomblob(?1))");
    ASSERT_TRUE(st.is_ok());
    st->bind(1, int64_t{size});
    ASSERT_EQ(st->step(), SQLITE_DONE);
  }
  ASSERT_TRUE(c.exec("COMMIT").is_ok());
}

// A writer whose commits go out through the buffer (as the store's writer thread), a reader on
// the default VFS beside it, and the file reopened afterwards: every commit is readable at once
// and whole, whether it was one frame, many (written in several calls: the unix VFS writes at
// most 128 KiB a call) or more than the buffer holds.
TEST(WalBuffer, CommitsAreReadableAtOnceAndSurviveReopening) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  int64_t expected = 0;
  {
    auto writer = Conn::open(path, Conn::Role::kWriter);
    ASSERT_TRUE(writer.is_ok()) << writer.error().to_string();
    Conn& w = **writer;
    ASSERT_TRUE(w.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB NOT NULL)").is_ok());
    auto reader = Conn::open(path, Conn::Role::kReader);
    ASSERT_TRUE(reader.is_ok()) << reader.error().to_string();
    Conn& r = **reader;

    DeferredWalSync deferred(true);
    const struct {
      int rows;
      int size;
    } commits[] = {{1, 10}, {40, 3000}, {300, 3000}, {2, 5000}, {3000, 4000}, {1, 1}};
    for (const auto& c : commits) {
      insert(w, c.rows, c.size);
      expected += c.rows;
      // Another connection reads the WAL from the file, not from the writer's memory.
      EXPECT_EQ(count(r, "SELECT COUNT(*) FROM t"), expected);
      EXPECT_EQ(count(r, "SELECT COUNT(*) FROM t WHERE length(b) = 0"), 0);
    }
    // The point of it: a commit of ~300 pages is a few writes, not two a page.
    const int64_t before = write_calls();
    insert(w, 300, 3000);
    expected += 300;
    if (before >= 0) {
      EXPECT_LT(write_calls() - before, 30);
    }
    EXPECT_EQ(count(r, "SELECT COUNT(*) FROM t"), expected);
    // A rolled-back transaction leaves nothing behind.
    ASSERT_TRUE(w.exec("BEGIN").is_ok());
    ASSERT_TRUE(w.exec("INSERT INTO t(b) VALUES (randomblob(9000))").is_ok());
    ASSERT_TRUE(w.exec("ROLLBACK").is_ok());
    EXPECT_EQ(count(r, "SELECT COUNT(*) FROM t"), expected);
    // A checkpoint on the writer (real syncs) copies it all into the database.
    {
      DeferredWalSync real(false);
      int log = 0;
      int done = 0;
      ASSERT_EQ(sqlite3_wal_checkpoint_v2(w.db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done),
                SQLITE_OK);
      EXPECT_EQ(log, done);
    }
    insert(w, 5, 100);  // the WAL starts over
    expected += 5;
    EXPECT_EQ(count(r, "SELECT COUNT(*) FROM t"), expected);
  }
  auto again = Conn::open(path, Conn::Role::kReader);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(count(**again, "SELECT COUNT(*) FROM t"), expected);
  auto check = (*again)->prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.is_ok());
  ASSERT_EQ(check->step(), SQLITE_ROW);
  EXPECT_EQ(check->text(0), "ok");
}

TEST(WalBuffer, OnlyTheWriterUsesIt) {
  EXPECT_STREQ(wal_buffer_vfs(), "hb-walbuf");
  EXPECT_NE(sqlite3_vfs_find("hb-walbuf"), nullptr);
  EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find("hb-walbuf"));  // not the default
}

}  // namespace
}  // namespace hb::store::sqlite
