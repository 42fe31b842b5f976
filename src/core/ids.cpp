#include "core/ids.h"

#include <openssl/rand.h>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace hb {

namespace {

std::atomic<uint64_t> g_forks{0};

}  // namespace

// RAND_bytes costs about a microsecond a call whatever its length, and a document makes about ten
// ids and as many nonces. A forked child drops what its parent had drawn (nothing may repeat).
void fill_public_random(void* out, std::size_t n) {
  struct Pool {
    uint8_t bytes[512];
    size_t used = sizeof bytes;
    uint64_t forks = 0;
  };
  thread_local Pool pool;
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(nullptr, nullptr, [] { g_forks.fetch_add(1); }); });
  const uint64_t forks = g_forks.load(std::memory_order_relaxed);
  if (pool.forks != forks) {
    pool.used = sizeof pool.bytes;
    pool.forks = forks;
  }
  if (n > sizeof pool.bytes) {
    if (RAND_bytes(static_cast<uint8_t*>(out), static_cast<int>(n)) != 1)
      throw std::runtime_error("RAND_bytes failed");
    return;
  }
  if (sizeof pool.bytes - pool.used < n) {
    if (RAND_bytes(pool.bytes, sizeof pool.bytes) != 1)
      throw std::runtime_error("RAND_bytes failed");
    pool.used = 0;
  }
  std::memcpy(out, pool.bytes + pool.used, n);
  pool.used += n;
}

std::string new_uuid() {
  uint8_t b[16];
  fill_public_random(b, sizeof b);
  const auto ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));  // unix_ts_ms
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  static const char* hex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(hex[b[i] >> 4]);
    s.push_back(hex[b[i] & 15]);
  }
  return s;
}

bool is_valid_fhir_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool is_uuid_shaped(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace hb
