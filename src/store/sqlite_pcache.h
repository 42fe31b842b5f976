// A thin layer over SQLite's own page cache that keeps B-tree rebalancing from making every
// commit scan the whole cache.
//
// When SQLite rebalances a B-tree it puts the new pages in ascending order, swapping two pages
// through a spare page number: the "pending byte" page (1 GiB / page size + 1, 262,145 for
// 4 KiB pages), which never holds data. The default page cache (pcache1) remembers the largest
// page number it has held, and at the end of every write transaction it drops the pages past the
// database's end: when that largest number is further past the end than its hash table is long,
// it walks every bucket of the table. After a rebalance the largest number is 262,145, so the
// next commit walks all of it: ~8,000-16,000 buckets for the store writer's 64 MiB cache, about
// a tenth of the writer thread's time under document issuance (perf, docs/benchmarks.md).
//
// The layer passes every call to the default cache and gives it page number 0 (which SQLite never
// uses) in place of the spare one, so the default cache's largest number stays the database's
// end. Nothing else changes: the pages, their order, what is kept and what is evicted.
//
// Private to src/store. Installed once a process, before SQLite initializes (sqlite_util.cpp).
#pragma once

#include <cstdint>

namespace hb::store::sqlite {

// Installs the layer around the default page cache; false if SQLite had already initialized
// (the default cache then stays as it is: slower commits, nothing wrong).
bool install_page_cache();

// For tests, counted from the start of the process over all connections: how many times a page
// was parked under the spare number, and the largest page number a rekey gave the default cache.
struct PageCacheStats {
  int64_t parked = 0;
  unsigned largest_rekey = 0;
};
PageCacheStats page_cache_stats();

}  // namespace hb::store::sqlite
