#include "ledger/journal.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "crypto/random.h"
#include "ledger/log.h"
#include "ledger/merkle.h"
#include "ledger/receipt.h"
#include "ledger/verify.h"

namespace hb::ledger {
namespace {

namespace fs = std::filesystem;

std::string entry(uint64_t i) { return "doc-hash:" + std::to_string(i) + "|issuer:f1|kind:mc"; }

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("hb-journal-" + crypto::random_token(8));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

// A log over a tile folder and a journal beside it, as the server keeps it.
struct JournaledLog {
  fs::path dir;
  NoteSigner signer;
  std::size_t journal_bytes;
  std::unique_ptr<DirectoryTileStore> store;
  std::unique_ptr<Log> log;
  std::vector<std::string> seen;  // every checkpoint published

  JournaledLog(fs::path d, NoteSigner s, std::size_t bytes = std::size_t{1} << 20)
      : dir(std::move(d)), signer(std::move(s)), journal_bytes(bytes) {
    store = DirectoryTileStore::open(dir / "log").value();
    LogOptions o;
    o.journal = dir / "log.journal";
    o.journal_bytes = journal_bytes;
    auto opened = Log::open(*store, signer, o);
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    if (opened) log = std::move(*opened);
  }
  // Appends `batches` batches of `per` entries each, checking every receipt.
  void grow(int batches, int per) {
    for (int b = 0; b < batches; ++b) {
      std::vector<std::string> e;
      for (int i = 0; i < per; ++i) e.push_back(entry(log->size() + i));
      auto got = log->append(e);
      ASSERT_TRUE(got.is_ok()) << got.status().to_string();
      for (std::size_t i = 0; i < e.size(); ++i) {
        ASSERT_TRUE(verify_receipt((*got)[i].receipt, e[i], signer.verifier()).is_ok());
      }
      seen.push_back(log->checkpoint());
    }
  }
  uint64_t stored_size() {
    auto text = store->read("checkpoint");
    return open_checkpoint(text.value(), signer.verifier()).value().size;
  }
};

// What a crash would leave: the folder and the journal as they are now, with the log still open
// (everything a batch answered for was fdatasync'ed into the journal before the answer).
void crash_image(const fs::path& from, const fs::path& to) {
  fs::copy(from, to, fs::copy_options::recursive);
}

TEST(JournaledLog, BatchesGoToTheJournalNotTheTileFolder) {
  TempDir t;
  JournaledLog l(t.path, NoteSigner::generate("healthbook.example/log").value());
  l.grow(20, 30);  // 600 entries: two full level-0 tiles and a partial one
  EXPECT_EQ(l.log->size(), 600u);
  // The folder still has the empty tree's checkpoint, and the full tiles, written unsynced.
  EXPECT_EQ(l.stored_size(), 0u);
  EXPECT_TRUE(fs::exists(t.path / "log/tile/0/001"));
  EXPECT_TRUE(fs::exists(t.path / "log/tile/entries/001"));
  EXPECT_FALSE(fs::exists(t.path / "log/tile/0/002.p/88"));
  // Read through the log, it is complete: checkpoint and right edge from memory, every earlier
  // checkpoint consistent with the latest.
  auto report = verify_log(*l.log, l.signer.vkey(), l.seen);
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->entries, 600u);
  EXPECT_EQ(report->seen_checkpoints, 20u);
  // Narrower widths of the right edge are prefixes of it; nothing beyond the checkpoint exists.
  std::string p88 = l.log->read("tile/0/002.p/88").value();
  EXPECT_EQ(l.log->read("tile/0/002.p/3").value(), p88.substr(0, 3 * kHashSize));
  EXPECT_EQ(parse_entry_bundle(l.log->read("tile/entries/002.p/3").value(), 3).value()[2],
            entry(514));
  EXPECT_EQ(l.log->read("tile/0/002.p/89").status().code(), Code::kNotFound);
  EXPECT_EQ(l.log->read("tile/0/003").status().code(), Code::kNotFound);
  EXPECT_EQ(l.log->read("../log.journal").status().code(), Code::kNotFound);
  // Old receipts come from the same reader.
  EXPECT_TRUE(verify_receipt(l.log->receipt(7).value(), entry(7), l.signer.verifier()).is_ok());

  // Closing the log commits: the folder alone is the whole log.
  std::string last = l.log->checkpoint();
  l.log.reset();
  EXPECT_EQ(l.stored_size(), 600u);
  FolderTileReader folder(t.path / "log");
  auto on_disk = verify_log(folder, l.signer.vkey(), l.seen);
  ASSERT_TRUE(on_disk.is_ok()) << on_disk.status().to_string();
  EXPECT_EQ(on_disk->entries, 600u);
  // verify_log checked that the folder serves every seen checkpoint's partial tiles (20 of
  // them, sizes 30 to 600): those the batches only journaled were written on closing.
  EXPECT_EQ(on_disk->seen_checkpoints, 20u);
  for (const char* p : {"tile/0/002.p/28", "tile/entries/002.p/58", "tile/0/002.p/88",
                        "tile/1/000.p/1", "tile/1/000.p/2"}) {
    EXPECT_TRUE(fs::exists(t.path / "log" / p)) << p;
  }
  // A full tile stands for its partial ones, which the spec lets a log delete.
  EXPECT_FALSE(fs::exists(t.path / "log/tile/0/001.p/44"));
}

TEST(JournaledLog, ACrashImageReplaysEveryAnsweredBatch) {
  TempDir t;
  auto signer = NoteSigner::generate("healthbook.example/log").value();
  JournaledLog l(t.path / "live", signer);
  l.grow(12, 45);
  crash_image(t.path / "live", t.path / "crashed");

  JournaledLog again(t.path / "crashed", signer);
  ASSERT_NE(again.log, nullptr);
  EXPECT_EQ(again.log->size(), 540u);
  EXPECT_EQ(again.log->checkpoint(), l.log->checkpoint());  // Ed25519 signing is deterministic
  // The replay was committed: the folder alone verifies, consistent with what callers saw.
  EXPECT_EQ(again.stored_size(), 540u);
  FolderTileReader folder(t.path / "crashed/log");
  auto report = verify_log(folder, signer.vkey(), l.seen);
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  // And it goes on where it stopped, in both copies alike.
  l.grow(1, 3);
  again.grow(1, 3);
  EXPECT_EQ(again.log->checkpoint(), l.log->checkpoint());
}

TEST(JournaledLog, ATornLastRecordIsDropped) {
  TempDir t;
  auto signer = NoteSigner::generate("healthbook.example/log").value();
  std::string before_last;
  {
    JournaledLog l(t.path / "live", signer);
    l.grow(4, 10);
    before_last = l.log->checkpoint();
    l.grow(1, 10);
    crash_image(t.path / "live", t.path / "crashed");
  }
  // Records are written back to back from the start of the file: damage a byte of the fifth.
  std::size_t record = Journal::kRecordHeader;
  for (int i = 0; i < 10; ++i) record += 2 + entry(i).size();  // entries 0-9 and 40-49 match
  std::fstream f(t.path / "crashed/log.journal", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(4 * record + Journal::kRecordHeader + 5));
  f.put('#');
  f.close();
  JournaledLog again(t.path / "crashed", signer);
  ASSERT_NE(again.log, nullptr);
  EXPECT_EQ(again.log->size(), 40u);
  EXPECT_EQ(again.log->checkpoint(), before_last);
}

TEST(JournaledLog, AFullJournalCommitsAndStartsOver) {
  TempDir t;
  auto signer = NoteSigner::generate("healthbook.example/log").value();
  JournaledLog l(t.path / "live", signer, Journal::kMinCapacity);
  // ~1.1 KB a record: the 4 KiB journal fills every few batches, and the batch that does not fit
  // is committed to the folder with everything before it.
  l.grow(30, 25);
  uint64_t stored = l.stored_size();
  EXPECT_GT(stored, 600u);
  EXPECT_LT(stored, 750u);
  crash_image(t.path / "live", t.path / "crashed");
  // The journal's older records (from before its last start) are not replayed on top.
  JournaledLog again(t.path / "crashed", signer, Journal::kMinCapacity);
  ASSERT_NE(again.log, nullptr);
  EXPECT_EQ(again.log->size(), 750u);
  EXPECT_EQ(again.log->checkpoint(), l.log->checkpoint());
  // A batch bigger than the whole journal still goes through, as a commit.
  std::vector<std::string> big;
  for (int i = 0; i < 200; ++i) big.push_back(entry(750 + i));
  ASSERT_TRUE(again.log->append(big).is_ok());
  EXPECT_EQ(again.stored_size(), 950u);
}

// `threads` threads that each append `each` entries one at a time and check each receipt; every
// failure counts in `failures`, and each thread counts `running` down as it ends.
std::vector<std::thread> start_appenders(JournaledLog& l, int threads, int each,
                                         std::atomic<int>& failures, std::atomic<int>& running) {
  std::vector<std::thread> out;
  for (int i = 0; i < threads; ++i) {
    out.emplace_back([&l, &failures, &running, i, each] {
      for (int j = 0; j < each; ++j) {
        std::string e = "t" + std::to_string(i) + "-" + std::to_string(j);
        auto r = l.log->append(e);
        if (!r || !verify_receipt(r->receipt, e, l.signer.verifier()).is_ok()) ++failures;
      }
      --running;
    });
  }
  return out;
}

TEST(JournaledLog, ConcurrentAppendsShareRecords) {
  TempDir t;
  auto signer = NoteSigner::generate("healthbook.example/log").value();
  JournaledLog l(t.path / "live", signer);
  constexpr int kThreads = 16, kEach = 40;
  std::atomic<int> failures{0}, running{kThreads};
  for (auto& th : start_appenders(l, kThreads, kEach, failures, running)) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(l.log->size(), uint64_t{kThreads * kEach});
  crash_image(t.path / "live", t.path / "crashed");
  JournaledLog again(t.path / "crashed", signer);
  ASSERT_NE(again.log, nullptr);
  EXPECT_EQ(again.log->checkpoint(), l.log->checkpoint());
}

// flush() takes the lead between batches: the callers queued meanwhile are led on once it is
// done (none is left waiting), and what it committed is the stored checkpoint.
TEST(JournaledLog, FlushesBetweenConcurrentAppends) {
  TempDir t;
  auto signer = NoteSigner::generate("healthbook.example/log").value();
  JournaledLog l(t.path / "live", signer);
  constexpr int kThreads = 12, kEach = 60;
  std::atomic<int> failures{0}, running{kThreads};
  // Started first, so that it flushes all along, however quickly the appenders are done.
  std::thread flusher([&] {
    while (running.load() > 0) {
      if (!l.log->flush().is_ok()) ++failures;
    }
  });
  for (auto& th : start_appenders(l, kThreads, kEach, failures, running)) th.join();
  flusher.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(l.log->size(), uint64_t{kThreads * kEach});
  ASSERT_TRUE(l.log->flush().is_ok());
  EXPECT_EQ(l.stored_size(), l.log->size());
}

TEST(JournaledLog, AFailedCommitFailsItsBatchAndLeavesTheLog) {
  TempDir t;
  auto signer = NoteSigner::generate("healthbook.example/log").value();
  MemoryTileStore store;
  LogOptions o;
  o.journal = t.path / "log.journal";
  o.journal_bytes = Journal::kMinCapacity;
  auto log = Log::open(store, signer, o).value();
  std::vector<std::string> small{entry(0), entry(1)};
  ASSERT_TRUE(log->append(small).is_ok());
  EXPECT_EQ(store.commits(), 1);  // the empty tree's checkpoint only: the batch is in the journal
  // A batch too big for the journal is committed; when that fails, its callers get the error and
  // the log stays as it was, journal included.
  std::vector<std::string> big;
  for (int i = 2; i < 200; ++i) big.push_back(entry(i));
  std::string before = log->checkpoint();
  store.fail_next_commits(1);
  auto failed = log->append(big);
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  EXPECT_NE(failed.status().message().find("log commit failed"), std::string::npos);
  EXPECT_EQ(log->checkpoint(), before);
  EXPECT_EQ(log->size(), 2u);
  auto ok = log->append(big);
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ((*ok)[0].index, 2u);
  EXPECT_EQ(store.commits(), 2);
  // The folder serves what a client of the first checkpoint needs (tile/0/000.p/2) once the log
  // is flushed, as on stopping: the batch of that checkpoint went to the journal only.
  ASSERT_TRUE(log->flush().is_ok());
  auto report = verify_log(store, signer.vkey(), {before, log->checkpoint()});
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->entries, 200u);
}

TEST(Journal, RejectsATinyCapacityAndOversizedEntries) {
  TempDir t;
  EXPECT_EQ(Journal::open(t.path / "j", 100).status().code(), Code::kInvalid);
  auto j = Journal::open(t.path / "j", Journal::kMinCapacity).value();
  EXPECT_EQ(fs::file_size(t.path / "j"), Journal::kMinCapacity);
  j->restart(7);
  std::string big(65536, 'x');
  EXPECT_EQ(j->append(7, {&big}).code(), Code::kInvalid);
  std::string a = "a", b = "bb";
  ASSERT_TRUE(j->append(7, {&a, &b}).is_ok());
  EXPECT_EQ(j->replay(7).value(), (std::vector<std::string>{"a", "bb"}));
  EXPECT_TRUE(j->replay(6).value().empty());  // another base: not ours
  // One writer at a time.
  EXPECT_EQ(Journal::open(t.path / "j", Journal::kMinCapacity).status().code(), Code::kUnavailable);
  j.reset();
  // A journal of another size is rebuilt at the asked size once its contents are durable.
  auto k = Journal::open(t.path / "j", 2 * Journal::kMinCapacity).value();
  EXPECT_EQ(k->replay(7).value().size(), 2u);
  ASSERT_TRUE(k->rebuild().is_ok());
  EXPECT_EQ(fs::file_size(t.path / "j"), 2 * Journal::kMinCapacity);
  EXPECT_TRUE(k->replay(7).value().empty());
}

}  // namespace
}  // namespace hb::ledger
