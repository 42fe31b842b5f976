#include "ledger/log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <set>
#include <thread>

#include "crypto/random.h"
#include "ledger/receipt.h"

namespace hb::ledger {
namespace {

namespace fs = std::filesystem;

NoteSigner test_signer() { return NoteSigner::generate("healthbook.example/log").value(); }

std::string log_entry(uint64_t i) { return "doc-hash:" + std::to_string(i) + "|issuer:f1|kind:mc"; }

// A store whose commits can be held at a gate, to make batching deterministic.
class GatedStore final : public TileStore {
 public:
  Result<std::string> read(std::string_view path) override { return inner.read(path); }
  Status commit(const TileObjects& objects) override {
    int call;
    {
      std::unique_lock lk(mu_);
      call = ++calls_;
      ++waiting_;
      cv_.notify_all();
      cv_.wait(lk, [&] { return open_; });
      --waiting_;
      if (fail_calls_.count(call) != 0) return {Code::kUnavailable, "injected failure"};
    }
    return inner.commit(objects);
  }
  Status write(const TileObjects& objects) override { return inner.write(objects); }
  // The n-th call of commit() (counting from 1) fails without writing anything.
  void fail_call(int n) {
    std::lock_guard lk(mu_);
    fail_calls_.insert(n);
  }
  void close_gate() {
    std::lock_guard lk(mu_);
    open_ = false;
  }
  void open_gate() {
    std::lock_guard lk(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait_for_committer() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return waiting_ > 0; });
  }
  MemoryTileStore inner;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int waiting_ = 0;
  int calls_ = 0;
  std::set<int> fail_calls_;
};

void wait_pending(const Log& log, std::size_t n) {
  while (log.pending() < n) std::this_thread::yield();
}

TEST(Log, NewLogPublishesEmptyCheckpoint) {
  MemoryTileStore store;
  auto signer = test_signer();
  auto log = Log::open(store, signer);
  ASSERT_TRUE(log.is_ok()) << log.status().to_string();
  EXPECT_EQ((*log)->size(), 0u);
  auto cp = open_checkpoint(store.read("checkpoint").value(), signer.verifier());
  ASSERT_TRUE(cp.is_ok()) << cp.status().to_string();
  EXPECT_EQ(cp->size, 0u);
  EXPECT_EQ(store.commits(), 1);
}

TEST(Log, AppendsAndReceiptsVerify) {
  MemoryTileStore store;
  auto signer = test_signer();
  auto log = Log::open(store, signer).value();
  MemoryTree reference;
  for (uint64_t i = 0; i < 600; i += 37) {
    std::vector<std::string> batch;
    for (uint64_t j = i; j < i + 37; ++j) batch.push_back(log_entry(j));
    auto got = log->append(batch);
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    ASSERT_EQ(got->size(), batch.size());
    for (std::size_t j = 0; j < batch.size(); ++j) {
      reference.append(batch[j]);
      EXPECT_EQ((*got)[j].index, i + j);
      auto cp = verify_receipt((*got)[j].receipt, batch[j], signer.verifier());
      ASSERT_TRUE(cp.is_ok()) << cp.status().to_string();
      EXPECT_EQ(cp->size, i + 37);
      EXPECT_FALSE(verify_receipt((*got)[j].receipt, "other", signer.verifier()).is_ok());
    }
    EXPECT_EQ(open_checkpoint(log->checkpoint(), signer.verifier())->root, reference.root());
  }
  // Receipts of old entries, from the stored tiles.
  for (uint64_t i : {0, 255, 256, 511, 600}) {
    auto r = log->receipt(i);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_TRUE(verify_receipt(*r, log_entry(i), signer.verifier()).is_ok());
  }
  EXPECT_EQ(log->receipt(log->size()).status().code(), Code::kNotFound);
  // What is stored is exactly the tlog-tiles objects: a full level-0 tile and bundle exist.
  auto objects = store.objects();
  EXPECT_EQ(objects.count("tile/0/000"), 1u);
  EXPECT_EQ(objects.count("tile/entries/001"), 1u);
  EXPECT_EQ(objects.count("tile/1/000.p/2"), 1u);
}

TEST(Log, RejectsOversizedEntryWithoutAppending) {
  MemoryTileStore store;
  auto log = Log::open(store, test_signer()).value();
  EXPECT_EQ(log->append(std::string(65536, 'x')).status().code(), Code::kInvalid);
  EXPECT_TRUE(log->append(std::string(65535, 'x')).is_ok());
  EXPECT_EQ(log->size(), 1u);
  EXPECT_TRUE(log->append(std::vector<std::string>{})->empty());
}

TEST(Log, ConcurrentAppendsGetDistinctIndicesAndValidReceipts) {
  MemoryTileStore store;
  auto signer = test_signer();
  auto log = Log::open(store, signer).value();
  constexpr int kThreads = 8, kPerThread = 60;
  std::vector<std::vector<std::pair<std::string, Appended>>> got(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string e = "t" + std::to_string(t) + "-" + std::to_string(i);
        std::vector<std::string> req{e};
        if (i % 5 == 0) req.push_back(e + "b");  // some callers append two at once
        auto r = log->append(req);
        if (!r) {
          ++failures;
          continue;
        }
        for (std::size_t k = 0; k < req.size(); ++k) got[t].emplace_back(req[k], (*r)[k]);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  std::set<uint64_t> indices;
  std::size_t total = 0;
  for (const auto& per : got) {
    for (const auto& [e, a] : per) {
      EXPECT_TRUE(indices.insert(a.index).second) << "index " << a.index << " given twice";
      auto cp = verify_receipt(a.receipt, e, signer.verifier());
      ASSERT_TRUE(cp.is_ok()) << cp.status().to_string();
      ++total;
    }
  }
  EXPECT_EQ(total, log->size());
  EXPECT_EQ(*indices.rbegin(), total - 1);
  // Batching happened: fewer commits than appends (plus the initial empty checkpoint).
  EXPECT_LE(store.commits(), 1 + kThreads * kPerThread);
  std::printf("[ info ] %d appends from %d threads in %d commits\n", kThreads * kPerThread,
              kThreads, store.commits() - 1);
  // Each caller's own entries come back in the order it appended them.
  for (const auto& per : got) {
    for (std::size_t k = 1; k < per.size(); ++k)
      EXPECT_LT(per[k - 1].second.index, per[k].second.index);
  }
}

TEST(Log, WaitingCallersShareOneCommit) {
  GatedStore store;
  auto signer = test_signer();
  auto log = Log::open(store, signer).value();
  ASSERT_EQ(store.inner.commits(), 1);
  store.close_gate();
  std::thread first([&] { ASSERT_TRUE(log->append("first").is_ok()); });
  store.wait_for_committer();  // "first" is being committed, alone
  constexpr int kWaiting = 6;
  std::vector<std::thread> others;
  std::vector<Result<Appended>> results(kWaiting, Status(Code::kInternal, "unset"));
  for (int i = 0; i < kWaiting; ++i) {
    others.emplace_back([&, i] { results[i] = log->append("w" + std::to_string(i)); });
  }
  wait_pending(*log, kWaiting);
  store.open_gate();
  first.join();
  for (auto& t : others) t.join();
  EXPECT_EQ(store.inner.commits(), 3);  // open, "first", and one for all six waiting callers
  std::set<std::string> checkpoints;
  for (int i = 0; i < kWaiting; ++i) {
    ASSERT_TRUE(results[i].is_ok()) << results[i].status().to_string();
    EXPECT_GE(results[i]->index, 1u);
    auto cp = verify_receipt(results[i]->receipt, "w" + std::to_string(i), signer.verifier());
    ASSERT_TRUE(cp.is_ok());
    EXPECT_EQ(cp->size, 1u + kWaiting);
    checkpoints.insert(parse_receipt(results[i]->receipt)->checkpoint);
  }
  EXPECT_EQ(checkpoints.size(), 1u);  // one signed checkpoint for the batch
}

TEST(Log, FailedCommitFailsEveryCallerOfTheBatch) {
  GatedStore store;
  auto signer = test_signer();
  auto log = Log::open(store, signer).value();                                // commit 1
  ASSERT_TRUE(log->append(std::vector<std::string>{"a", "b", "c"}).is_ok());  // commit 2
  store.close_gate();
  std::thread first([&] { ASSERT_TRUE(log->append("d").is_ok()); });  // commit 3
  store.wait_for_committer();
  constexpr int kWaiting = 4;
  std::vector<Result<Appended>> results(kWaiting, Status(Code::kInternal, "unset"));
  std::vector<std::thread> others;
  for (int i = 0; i < kWaiting; ++i) {
    others.emplace_back([&, i] { results[i] = log->append("x" + std::to_string(i)); });
  }
  wait_pending(*log, kWaiting);
  store.fail_call(4);  // the batch of the four waiting callers
  store.open_gate();
  first.join();
  for (auto& t : others) t.join();
  for (const auto& r : results) {
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), Code::kUnavailable);
  }
  EXPECT_EQ(log->size(), 4u);
  auto cp = open_checkpoint(log->checkpoint(), signer.verifier());
  EXPECT_EQ(cp->size, 4u);
  EXPECT_EQ(store.inner.read("checkpoint").value(), log->checkpoint());
  auto next = log->append("e");
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(next->index, 4u);
}

TEST(Log, FailedBatchLeavesOldCheckpointAndLogRecovers) {
  MemoryTileStore store;
  auto signer = test_signer();
  auto log = Log::open(store, signer).value();
  ASSERT_TRUE(log->append(std::vector<std::string>{"a", "b"}).is_ok());
  std::string cp = log->checkpoint();
  auto stored = store.objects();

  store.fail_next_commits(1);
  auto failed = log->append(std::vector<std::string>{"c", "d", "e"});
  ASSERT_FALSE(failed.is_ok());
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  EXPECT_EQ(log->size(), 2u);
  EXPECT_EQ(log->checkpoint(), cp);
  EXPECT_EQ(store.objects(), stored);

  // The next append builds on the old state, not on the failed batch.
  auto ok = log->append("c2");
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->index, 2u);
  MemoryTree ref;
  for (const char* e : {"a", "b", "c2"}) ref.append(e);
  EXPECT_EQ(open_checkpoint(log->checkpoint(), signer.verifier())->root, ref.root());
  // And a reopened log agrees.
  auto again = Log::open(store, signer);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ((*again)->size(), 3u);
}

TEST(Log, ReopensFromStoreAfterRestart) {
  MemoryTileStore store;
  auto signer = test_signer();
  MemoryTree ref;
  for (int round = 0; round < 5; ++round) {
    auto log = Log::open(store, signer);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    EXPECT_EQ((*log)->size(), ref.size());
    std::vector<std::string> batch;
    for (int i = 0; i < 150; ++i) batch.push_back(log_entry(ref.size() + i));
    auto got = (*log)->append(batch);
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    for (const auto& e : batch) ref.append(e);
    EXPECT_EQ(open_checkpoint((*log)->checkpoint(), signer.verifier())->root, ref.root());
  }
  // Another key cannot take over the log.
  EXPECT_EQ(Log::open(store, test_signer()).status().code(), Code::kInternal);
}

TEST(Log, AnEarlierWidthOfAFullTileComesFromTheFullTile) {
  MemoryTileStore store;
  auto signer = test_signer();
  auto log = Log::open(store, signer).value();
  std::vector<std::string> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(log_entry(i));
  ASSERT_TRUE(log->append(batch).is_ok());
  // What a failed commit may leave: tiles of width 20, built from entries never published.
  std::string stale_tile(20 * kHashSize, 'x');
  std::string stale_bundle;
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(append_bundle_entry(stale_bundle, "never published").is_ok());
  store.put("tile/0/000.p/20", stale_tile);
  store.put("tile/entries/000.p/20", stale_bundle);
  batch.clear();
  for (int i = 10; i < 300; ++i) batch.push_back(log_entry(i));
  ASSERT_TRUE(log->append(batch).is_ok());  // tile 0 is full now

  const std::string full = log->read("tile/0/000").value();
  EXPECT_EQ(log->read("tile/0/000.p/20").value(), full.substr(0, 20 * kHashSize));
  auto bundle = log->read("tile/entries/000.p/20");
  ASSERT_TRUE(bundle.is_ok()) << bundle.status().to_string();
  auto entries = parse_entry_bundle(*bundle, 20);
  ASSERT_TRUE(entries.is_ok()) << entries.status().to_string();
  EXPECT_EQ((*entries)[19], log_entry(19));
  // Receipts read through the log too.
  auto r = log->receipt(5);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(verify_receipt(*r, log_entry(5), signer.verifier()).is_ok());
}

TEST(Log, RefusesToOpenOverCorruptTiles) {
  MemoryTileStore store;
  auto signer = test_signer();
  {
    auto log = Log::open(store, signer).value();
    ASSERT_TRUE(log->append(std::vector<std::string>{"a", "b", "c"}).is_ok());
  }
  std::string tile = store.read("tile/0/000.p/3").value();
  tile[5] ^= 1;
  store.put("tile/0/000.p/3", tile);
  EXPECT_EQ(Log::open(store, signer).status().code(), Code::kInternal);
}

TEST(DirectoryTileStore, PersistsInTlogTilesLayout) {
  fs::path dir = fs::temp_directory_path() / ("hb-ledger-" + crypto::random_token(8));
  auto signer = test_signer();
  {
    auto store = DirectoryTileStore::open(dir).value();
    auto log = Log::open(*store, signer).value();
    std::vector<std::string> batch;
    for (int i = 0; i < 300; ++i) batch.push_back(log_entry(i));
    ASSERT_TRUE(log->append(batch).is_ok());
  }
  EXPECT_TRUE(fs::exists(dir / "checkpoint"));
  EXPECT_TRUE(fs::exists(dir / "tile/0/000"));
  EXPECT_TRUE(fs::exists(dir / "tile/0/001.p/44"));
  EXPECT_TRUE(fs::exists(dir / "tile/1/000.p/1"));
  EXPECT_TRUE(fs::exists(dir / "tile/entries/000"));
  EXPECT_TRUE(fs::exists(dir / "tile/entries/001.p/44"));
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
  {
    auto store = DirectoryTileStore::open(dir).value();
    auto log = Log::open(*store, signer);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    EXPECT_EQ((*log)->size(), 300u);
    auto r = (*log)->append("after restart");
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->index, 300u);
    EXPECT_TRUE(verify_receipt(r->receipt, "after restart", signer.verifier()).is_ok());
    EXPECT_EQ(store->read("../etc/passwd").status().code(), Code::kInvalid);
    EXPECT_EQ(store->read("tile/0/999").status().code(), Code::kNotFound);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hb::ledger
