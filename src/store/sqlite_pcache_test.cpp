#include "store/sqlite_pcache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>
#include <stdexcept>
#include <string>

#include "store/sqlite_util.h"
#include "store/test_fixture.h"

namespace hb::store::sqlite {
namespace {

std::string text(Conn& c, const char* sql) {
  auto st = c.prepare(sql);
  if (!st.is_ok() || st->step() != SQLITE_ROW) throw std::runtime_error("query failed");
  return std::string(st->text(0));
}

// Random keys split and rebalance the index's pages, and a rebalance parks pages under the spare
// page number (1 GiB / 4 KiB + 1). The default cache must never be given that number, and the
// data must come out whole, through the writer, a reader beside it, and after reopening.
TEST(PageCache, RebalancesParkPagesWithoutTheDefaultCacheSeeingTheSpareNumber) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  std::set<std::string> keys;
  const int64_t parked_before = page_cache_stats().parked;
  {
    auto writer = Conn::open(path, Conn::Role::kWriter);  // installs the layer (first SQLite use)
    ASSERT_TRUE(writer.is_ok()) << writer.error().to_string();
    Conn& w = **writer;
    ASSERT_TRUE(
        w.exec("CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID").is_ok());
    auto reader = Conn::open(path, Conn::Role::kReader);
    ASSERT_TRUE(reader.is_ok()) << reader.error().to_string();
    for (int tx = 0; tx < 200; ++tx) {
      ASSERT_TRUE(w.exec("BEGIN").is_ok());
      for (int i = 0; i < 40; ++i) {
        auto st = w.prepare(
            "INSERT INTO t(k, v) VALUES (hex(randomblob(16)), randomblob(120)) RETURNING k");
        ASSERT_TRUE(st.is_ok());
        ASSERT_EQ(st->step(), SQLITE_ROW);
        keys.insert(std::string(st->text(0)));
        ASSERT_EQ(st->step(), SQLITE_DONE);
      }
      ASSERT_TRUE(w.exec("COMMIT").is_ok());
      if (tx % 50 == 49) {
        EXPECT_EQ(text(**reader, "SELECT count(*) FROM t"), std::to_string(keys.size()));
      }
    }
    EXPECT_EQ(text(w, "PRAGMA integrity_check"), "ok");
  }
  const PageCacheStats stats = page_cache_stats();
  EXPECT_GT(stats.parked, parked_before)
      << "no rebalance parked a page: the test no longer covers it";
  constexpr unsigned kSpare = 0x40000000 / 4096 + 1;  // the pending byte's page, 4 KiB pages
  EXPECT_LT(stats.largest_rekey, kSpare) << "the default cache was given the spare page number";

  auto again = Conn::open(path, Conn::Role::kWriter);
  ASSERT_TRUE(again.is_ok()) << again.error().to_string();
  EXPECT_EQ(text(**again, "PRAGMA integrity_check"), "ok");
  std::set<std::string> stored;
  auto st = (*again)->prepare("SELECT k FROM t ORDER BY k");
  ASSERT_TRUE(st.is_ok());
  while (st->step() == SQLITE_ROW) stored.insert(std::string(st->text(0)));
  EXPECT_EQ(stored, keys);
}

}  // namespace
}  // namespace hb::store::sqlite
