// log_bench: the transparency log (ledger::Log over a DirectoryTileStore in a temporary folder,
// every batch durable) under concurrent appends, and inclusion proofs read back from its tiles.
// Google Benchmark program; scripts/bench runs it and reads its last line.
//
//   log_bench [--benchmark_filter=...] [--benchmark_color=false]
//
// Environment (knobs):
//   HB_LOG_BENCH_THREADS (64)         appending threads, each appending one entry at a time as the
//                                     server's handler threads do
//   HB_LOG_BENCH_SECONDS (3)          minimum measuring time of the append benchmark
//   HB_LOG_BENCH_ENTRY_BYTES (200)    size of an entry
//   HB_LOG_BENCH_PROOF_ENTRIES (300000) entries of the log the proofs are taken from
//   HB_LOG_BENCH_JOURNAL (1)          1: a journal beside the folder (as `healthbook serve` keeps
//                                     the log): a batch is durable with one fdatasync of it, the
//                                     folder is committed when it is full; 0: a folder commit
//                                     (syncfs) per batch
//   HB_LOG_BENCH_DIR (the temporary directory)  where the temporary log folders go; it must be on
//                                     the disk being measured (a tmpfs makes fsync free)
//
// Appends: every thread calls Log::append(entry) in a loop; the Log groups concurrent callers into
// batches, each made durable by one journal record (or, with HB_LOG_BENCH_JOURNAL=0, by one
// TileStore::commit: files written, synced, renamed, then the checkpoint). A counting TileStore
// between the Log and the folder counts the files and times the folder commits. Proofs:
// Log::receipt(index) for random indices (a fresh TileHashReader over the published tiles each
// time, read through the Log as /log/ serves them: the folder, the tiles not written yet and the
// right edge in memory; it reads the tiles, expands them, builds the proof and the receipt text),
// and the bare TileHashReader::inclusion_proof the same way.
//
// Only the public interfaces of ledger/log.h, tiles.h and receipt.h are used, so the program
// follows changes inside the log.
//
// The last line is "RESULT key=value ..." for scripts/bench.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "ledger/log.h"
#include "ledger/note.h"
#include "ledger/receipt.h"
#include "ledger/tiles.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using hb::ledger::Log;

double env_number(const char* name, double def) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atof(v) : def;
}

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(std::max<size_t>(i, 1), v.size()) - 1];
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "log_bench: %s\n", msg.c_str());
  std::exit(1);
}

// An entry shaped like the server's (a JSON line naming a card hash, an issuer and a time), padded
// to `bytes`.
std::string make_entry(uint64_t n, size_t bytes) {
  char head[256];
  std::snprintf(
      head, sizeof head,
      R"({"v":1,"op":"issue","card":"%016llx%048d","iss":"https://bench.example/issuers/01001",)"
      R"("kind":"mc-outpatient","n":%llu,"pad":")",
      static_cast<unsigned long long>(n), 0, static_cast<unsigned long long>(n));
  std::string e = head;
  if (e.size() + 2 < bytes) e.append(bytes - e.size() - 2, 'x');
  e += "\"}";
  return e;
}

// Counts and times the Log's commits (one per batch). The Log commits from one thread at a time.
class CountingStore final : public hb::ledger::TileStore {
 public:
  explicit CountingStore(hb::ledger::TileStore& inner) : inner_(inner) {}
  hb::Result<std::string> read(std::string_view path) override { return inner_.read(path); }
  hb::Status commit(const hb::ledger::TileObjects& objects) override {
    auto t = Clock::now();
    hb::Status s = inner_.commit(objects);
    std::lock_guard lock(mu_);
    commit_ms_.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    objects_ += objects.size();
    return s;
  }
  hb::Status write(const hb::ledger::TileObjects& objects) override {
    hb::Status s = inner_.write(objects);
    std::lock_guard lock(mu_);
    objects_ += objects.size();
    return s;
  }
  std::vector<double> commit_ms() const {
    std::lock_guard lock(mu_);
    return commit_ms_;
  }
  size_t objects() const {
    std::lock_guard lock(mu_);
    return objects_;
  }

 private:
  hb::ledger::TileStore& inner_;
  mutable std::mutex mu_;
  std::vector<double> commit_ms_;  // guarded by mu_
  size_t objects_ = 0;             // guarded by mu_
};

// A log in a fresh temporary folder, removed with it.
struct TempLog {
  fs::path dir;
  std::unique_ptr<hb::ledger::DirectoryTileStore> tiles;
  std::unique_ptr<CountingStore> counting;
  std::unique_ptr<Log> log;

  TempLog() {
    const char* parent = std::getenv("HB_LOG_BENCH_DIR");
    fs::path base =
        parent != nullptr && *parent != '\0' ? fs::path(parent) : fs::temp_directory_path();
    std::mt19937_64 rng(std::random_device{}());
    dir = base / ("hb-log-bench-" + std::to_string(rng() % 1000000000));
    auto t = hb::ledger::DirectoryTileStore::open(dir);
    if (!t) die("opening " + dir.string() + ": " + t.error().message());
    tiles = std::move(*t);
    counting = std::make_unique<CountingStore>(*tiles);
    auto signer = hb::ledger::NoteSigner::generate("bench.example/log");
    if (!signer) die("note signer: " + signer.error().message());
    hb::ledger::LogOptions options;
    if (env_number("HB_LOG_BENCH_JOURNAL", 1) != 0) options.journal = dir.string() + ".journal";
    auto l = Log::open(*counting, *signer, options);
    if (!l) die("opening the log: " + l.error().message());
    log = std::move(*l);
  }
  ~TempLog() {
    log.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::remove(dir.string() + ".journal", ec);
  }
  TempLog(const TempLog&) = delete;
};

// What the last (longest) run of each benchmark measured, for the RESULT line.
struct Figures {
  double append_rps = 0, append_seconds = 0, batches = 0, entries_per_batch = 0;
  double commit_p50_ms = 0, commit_p99_ms = 0, append_p50_ms = 0, append_p99_ms = 0;
  long append_errors = 0;
  std::size_t folder_commits = 0;
  int threads = 0;
  double receipt_p50_us = 0, receipt_p99_us = 0, proof_p50_us = 0, proof_p99_us = 0;
  uint64_t proof_log_size = 0;
} g_figures;

// ---- appends ------------------------------------------------------------------------------------

std::unique_ptr<TempLog> g_append_log;
std::atomic<long> g_append_errors{0};
Clock::time_point g_append_start;
std::mutex g_latency_mu;
std::vector<double> g_append_ms;  // guarded by g_latency_mu

void BM_LogAppend(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(env_number("HB_LOG_BENCH_ENTRY_BYTES", 200));
  if (state.thread_index() == 0) {
    g_append_log = std::make_unique<TempLog>();
    g_append_errors = 0;
    std::lock_guard lock(g_latency_mu);
    g_append_ms.clear();
  }
  const std::string entry = make_entry(static_cast<uint64_t>(state.thread_index()), bytes);
  std::vector<double> mine;
  bool first = state.thread_index() == 0;
  for (auto _ : state) {
    if (first) {  // right after the start barrier: every thread is in the loop
      g_append_start = Clock::now();
      first = false;
    }
    auto t = Clock::now();
    auto r = g_append_log->log->append(std::string_view(entry));
    mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    if (!r) {
      if (g_append_errors++ == 0) std::fprintf(stderr, "append: %s\n", r.error().message().c_str());
    }
  }
  {
    std::lock_guard lock(g_latency_mu);
    g_append_ms.insert(g_append_ms.end(), mine.begin(), mine.end());
  }
  if (state.thread_index() == 0) {
    // After the loop's closing barrier every thread has stopped appending (its latencies may
    // still be on their way into g_append_ms: the percentiles are read after the run).
    const double secs = std::chrono::duration<double>(Clock::now() - g_append_start).count();
    const auto commits = g_append_log->counting->commit_ms();
    const double n = static_cast<double>(g_append_log->log->size());
    const double batches = static_cast<double>(g_append_log->log->batches());
    Figures& f = g_figures;
    f.threads = state.threads();
    f.append_seconds = secs;
    f.append_rps = n / secs;
    f.batches = batches;
    f.entries_per_batch = batches > 0 ? n / batches : 0;
    f.commit_p50_ms = pct(commits, 0.5);
    f.commit_p99_ms = pct(commits, 0.99);
    f.folder_commits = commits.size();
    f.append_errors = g_append_errors;
    state.counters["appends_per_s"] = f.append_rps;
    state.counters["batches"] = batches;
    state.counters["entries_per_batch"] = f.entries_per_batch;
    state.counters["commit_p50_ms"] = f.commit_p50_ms;
    state.counters["files_per_batch"] =
        batches > 0 ? static_cast<double>(g_append_log->counting->objects()) / batches : 0;
    state.counters["folder_commits"] = static_cast<double>(commits.size());
    g_append_log.reset();
  }
}

// ---- proofs from tiles --------------------------------------------------------------------------

std::unique_ptr<TempLog> g_proof_log;

TempLog& proof_log() {
  if (g_proof_log) return *g_proof_log;
  const auto n = static_cast<uint64_t>(env_number("HB_LOG_BENCH_PROOF_ENTRIES", 300000));
  const size_t bytes = static_cast<size_t>(env_number("HB_LOG_BENCH_ENTRY_BYTES", 200));
  g_proof_log = std::make_unique<TempLog>();
  std::vector<std::string> batch;
  for (uint64_t i = 0; i < n;) {
    batch.clear();
    for (; i < n && batch.size() < 4096; ++i) batch.push_back(make_entry(i, bytes));
    auto r = g_proof_log->log->append(batch);
    if (!r) die("filling the proof log: " + r.error().message());
  }
  // One receipt checked end to end (signature and inclusion), so the timed ones are real proofs.
  const uint64_t probe = n / 3;
  auto receipt = g_proof_log->log->receipt(probe);
  if (!receipt) die("receipt: " + receipt.error().message());
  auto ok = hb::ledger::verify_receipt(*receipt, make_entry(probe, bytes),
                                       g_proof_log->log->verifier(), g_proof_log->log->origin());
  if (!ok) die("a receipt from the tiles does not verify: " + ok.error().message());
  g_figures.proof_log_size = g_proof_log->log->size();
  return *g_proof_log;
}

void BM_ReceiptFromTiles(benchmark::State& state) {
  TempLog& t = proof_log();
  const uint64_t size = t.log->size();
  std::mt19937_64 rng(42);
  std::vector<double> us;
  size_t proof_bytes = 0;
  for (auto _ : state) {
    const uint64_t index = rng() % size;
    auto s = Clock::now();
    auto r = t.log->receipt(index);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
    if (!r) die("receipt " + std::to_string(index) + ": " + r.error().message());
    proof_bytes += r->size();
    benchmark::DoNotOptimize(r);
  }
  g_figures.receipt_p50_us = pct(us, 0.5);
  g_figures.receipt_p99_us = pct(us, 0.99);
  state.counters["log_size"] = static_cast<double>(size);
  state.counters["p50_us"] = g_figures.receipt_p50_us;
  state.counters["p99_us"] = g_figures.receipt_p99_us;
  state.counters["receipt_bytes"] =
      us.empty() ? 0 : static_cast<double>(proof_bytes) / static_cast<double>(us.size());
}

void BM_InclusionProofFromTiles(benchmark::State& state) {
  TempLog& t = proof_log();
  const uint64_t size = t.log->size();
  std::mt19937_64 rng(43);
  std::vector<double> us;
  for (auto _ : state) {
    const uint64_t index = rng() % size;
    auto s = Clock::now();
    hb::ledger::TileHashReader reader(size, hb::ledger::fetch_from(*t.log));
    auto proof = reader.inclusion_proof(index);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
    if (!proof) die("proof " + std::to_string(index) + ": " + proof.error().message());
    benchmark::DoNotOptimize(proof);
  }
  g_figures.proof_p50_us = pct(us, 0.5);
  g_figures.proof_p99_us = pct(us, 0.99);
  state.counters["p50_us"] = g_figures.proof_p50_us;
  state.counters["p99_us"] = g_figures.proof_p99_us;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const int threads = static_cast<int>(env_number("HB_LOG_BENCH_THREADS", 64));
  const double seconds = env_number("HB_LOG_BENCH_SECONDS", 3);
  benchmark::RegisterBenchmark("log_append_durable", BM_LogAppend)
      ->Threads(threads)
      ->UseRealTime()
      ->MinTime(seconds)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("log_receipt_from_tiles", BM_ReceiptFromTiles)
      ->MinTime(1)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("log_inclusion_proof_from_tiles", BM_InclusionProofFromTiles)
      ->MinTime(1)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_proof_log.reset();
  const Figures& f = g_figures;
  {
    std::lock_guard lock(g_latency_mu);
    std::printf(
        "appends: %d threads, %.0f appends/s over %.2f s in %.0f batches (%.1f entries each; "
        "commit p50 "
        "%.2f ms, p99 %.2f ms over %zu folder commits; one append p50 %.2f ms, p99 %.2f ms); "
        "errors %ld\n",
        f.threads, f.append_rps, f.append_seconds, f.batches, f.entries_per_batch, f.commit_p50_ms,
        f.commit_p99_ms, f.folder_commits, pct(g_append_ms, 0.5), pct(g_append_ms, 0.99),
        f.append_errors);
    std::printf(
        "proofs from tiles, log of %llu entries: receipt p50 %.1f us, p99 %.1f us; bare inclusion "
        "proof "
        "p50 %.1f us, p99 %.1f us\n",
        static_cast<unsigned long long>(f.proof_log_size), f.receipt_p50_us, f.receipt_p99_us,
        f.proof_p50_us, f.proof_p99_us);
    std::printf(
        "RESULT append_rps=%.0f batches=%.0f entries_per_batch=%.1f commit_p50_ms=%.2f "
        "commit_p99_ms=%.2f "
        "append_p50_ms=%.2f append_p99_ms=%.2f append_errors=%ld threads=%d receipt_p50_us=%.1f "
        "receipt_p99_us=%.1f proof_p50_us=%.1f proof_p99_us=%.1f proof_log_size=%llu\n",
        f.append_rps, f.batches, f.entries_per_batch, f.commit_p50_ms, f.commit_p99_ms,
        pct(g_append_ms, 0.5), pct(g_append_ms, 0.99), f.append_errors, f.threads, f.receipt_p50_us,
        f.receipt_p99_us, f.proof_p50_us, f.proof_p99_us,
        static_cast<unsigned long long>(f.proof_log_size));
  }
  return f.append_errors ? 1 : 0;
}
