#include "store/sqlite_pcache.h"

#include <sqlite3.h>

#include <atomic>
#include <new>

namespace hb::store::sqlite {
namespace {

// SQLite's default page cache, as it was before the layer went in.
sqlite3_pcache_methods2 base;
std::atomic<int64_t> parked{0};
std::atomic<unsigned> largest_rekey{0};

// The byte offset SQLite locks on (sqlite3PendingByte): only SQLite's own tests move it.
constexpr unsigned kPendingByte = 0x40000000;

struct Cache {
  sqlite3_pcache* inner;
  unsigned spare;  // the page number balance_nonroot parks a page under
};

Cache* of(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

// The default cache's number for page `key`. SQLite never asks for page 0 (a pager refuses it as
// corrupt before it reaches the cache), so 0 is free to stand for the spare number.
unsigned inner_key(const Cache* c, unsigned key) { return key == c->spare ? 0 : key; }

int init(void*) { return base.xInit(base.pArg); }
void shutdown(void*) { base.xShutdown(base.pArg); }

sqlite3_pcache* create(int page_size, int extra, int purgeable) {
  auto* c = new (std::nothrow) Cache{nullptr, kPendingByte / static_cast<unsigned>(page_size) + 1};
  if (c == nullptr) return nullptr;
  c->inner = base.xCreate(page_size, extra, purgeable);
  if (c->inner == nullptr) {
    delete c;
    return nullptr;
  }
  return reinterpret_cast<sqlite3_pcache*>(c);
}

void cache_size(sqlite3_pcache* p, int n) { base.xCachesize(of(p)->inner, n); }
int page_count(sqlite3_pcache* p) { return base.xPagecount(of(p)->inner); }

sqlite3_pcache_page* fetch(sqlite3_pcache* p, unsigned key, int create_flag) {
  return base.xFetch(of(p)->inner, inner_key(of(p), key), create_flag);
}

void unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  base.xUnpin(of(p)->inner, page, discard);
}

void rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned from, unsigned to) {
  Cache* c = of(p);
  if (to == c->spare) parked.fetch_add(1, std::memory_order_relaxed);
  const unsigned inner_to = inner_key(c, to);
  if (inner_to > largest_rekey.load(std::memory_order_relaxed))
    largest_rekey.store(inner_to, std::memory_order_relaxed);
  base.xRekey(c->inner, page, inner_key(c, from), inner_to);
}

// Drops pages numbered `limit` and up. A page parked under the spare number (0 to the default
// cache) is never among them: SQLite moves it back within the same rebalance, before any
// truncation.
void truncate(sqlite3_pcache* p, unsigned limit) { base.xTruncate(of(p)->inner, limit); }

void destroy(sqlite3_pcache* p) {
  base.xDestroy(of(p)->inner);
  delete of(p);
}

void shrink(sqlite3_pcache* p) { base.xShrink(of(p)->inner); }

}  // namespace

bool install_page_cache() {
  if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &base) != SQLITE_OK || base.xCreate == nullptr)
    return false;
  sqlite3_pcache_methods2 layer{};
  layer.iVersion = 1;
  layer.pArg = nullptr;
  layer.xInit = init;
  layer.xShutdown = shutdown;
  layer.xCreate = create;
  layer.xCachesize = cache_size;
  layer.xPagecount = page_count;
  layer.xFetch = fetch;
  layer.xUnpin = unpin;
  layer.xRekey = rekey;
  layer.xTruncate = truncate;
  layer.xDestroy = destroy;
  layer.xShrink = shrink;
  return sqlite3_config(SQLITE_CONFIG_PCACHE2, &layer) == SQLITE_OK;
}

PageCacheStats page_cache_stats() {
  return {parked.load(std::memory_order_relaxed), largest_rekey.load(std::memory_order_relaxed)};
}

}  // namespace hb::store::sqlite
