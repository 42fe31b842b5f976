#include "ledger/verify.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include "ledger/log.h"
#include "ledger/receipt.h"
#include "ledger/test_util.h"

namespace hb::ledger {
namespace {

constexpr const char* kTesseraLogVkey =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

std::vector<std::string> tessera_checkpoints() {
  std::vector<std::string> out;
  for (int n = 0; n <= 15; ++n) {
    out.push_back(
        testing::read_file(testing::tlog_data("tessera-log/checkpoint." + std::to_string(n))));
  }
  return out;
}

TEST(VerifyLog, TesseraReferenceLogFromFolder) {
  FolderTileReader reader(testing::tlog_data("tessera-log"));
  auto report = verify_log(reader, kTesseraLogVkey, tessera_checkpoints());
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->checkpoint.size, 15u);
  EXPECT_EQ(report->entries, 15u);
  EXPECT_EQ(report->seen_checkpoints, 16u);
  std::printf("[ info ] %s\n", report->summary().c_str());
}

TEST(VerifyLog, TesseraEntriesAndReceipts) {
  FolderTileReader reader(testing::tlog_data("tessera-log"));
  auto bundle = reader.read("tile/entries/000.p/15");
  ASSERT_TRUE(bundle.is_ok());
  auto entries = parse_entry_bundle(*bundle, 15);
  ASSERT_TRUE(entries.is_ok());
  EXPECT_EQ((*entries)[0], "one");
  EXPECT_EQ((*entries)[2], "three");
  // A receipt for "three", built from the tiles, verifies against the tessera key.
  std::string cp = reader.read("checkpoint").value();
  TileHashReader tiles(15, fetch_from(reader));
  Receipt r{std::nullopt, 2, tiles.inclusion_proof(2).value(), cp};
  auto key = NoteVerifier::parse(kTesseraLogVkey).value();
  EXPECT_TRUE(verify_receipt(format_receipt(r), "three", key).is_ok());
  EXPECT_FALSE(verify_receipt(format_receipt(r), "four", key).is_ok());
  // Every earlier checkpoint's root is reproduced from the size-15 tiles.
  auto seen = tessera_checkpoints();
  for (uint64_t n = 0; n <= 15; ++n) {
    auto c = open_checkpoint(seen[n], key);
    ASSERT_TRUE(c.is_ok());
    EXPECT_EQ(tree_root(n, tiles.nodes()).value(), c->root) << n;
  }
}

TEST(VerifyLog, RejectsWrongKeyAndOrigin) {
  FolderTileReader reader(testing::tlog_data("tessera-log"));
  auto other = NoteSigner::generate("example.com/log/testdata").value();
  EXPECT_EQ(verify_log(reader, other.vkey(), {}).status().code(), Code::kUnauthorized);
  EXPECT_EQ(verify_log(reader, kTesseraLogVkey, {}, "example.com/elsewhere").status().code(),
            Code::kUnauthorized);
  EXPECT_EQ(verify_log(reader, "not a key", {}).status().code(), Code::kInvalid);
}

struct OurLog {
  MemoryTileStore store;
  NoteSigner signer = NoteSigner::generate("healthbook.example/log").value();
  std::unique_ptr<Log> log = Log::open(store, signer).value();
  std::vector<std::string> seen;
  void grow(int batches, int per) {
    for (int b = 0; b < batches; ++b) {
      std::vector<std::string> e;
      for (int i = 0; i < per; ++i) e.push_back("entry " + std::to_string(log->size() + i));
      ASSERT_TRUE(log->append(e).is_ok());
      seen.push_back(log->checkpoint());
    }
  }
};

TEST(VerifyLog, OurLogWithHistory) {
  OurLog l;
  l.grow(40, 1);
  l.grow(30, 97);  // crosses several full level-0 tiles and a level-1 tile
  auto report = verify_log(l.store, l.signer.vkey(), l.seen);
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->entries, l.log->size());
  EXPECT_EQ(report->seen_checkpoints, l.seen.size());
}

TEST(VerifyLog, DetectsTamperedTile) {
  OurLog l;
  l.grow(3, 200);
  auto tile = l.store.read("tile/0/001").value();
  tile[40] ^= 1;
  l.store.put("tile/0/001", tile);
  auto r = verify_log(l.store, l.signer.vkey(), {});
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_NE(r.status().message().find("tile/0/001"), std::string::npos) << r.status().message();
}

TEST(VerifyLog, DetectsTamperedEntryAndUpperTile) {
  {
    OurLog l;
    l.grow(2, 300);
    auto bundle = l.store.read("tile/entries/000").value();
    bundle[3] ^= 1;
    l.store.put("tile/entries/000", bundle);
    EXPECT_EQ(verify_log(l.store, l.signer.vkey(), {}).status().code(), Code::kConflict);
  }
  {
    OurLog l;
    l.grow(2, 300);
    auto objects = l.store.objects();
    std::string path = "tile/1/000.p/2";
    ASSERT_EQ(objects.count(path), 1u);
    std::string t = objects[path];
    t[0] ^= 1;
    l.store.put(path, t);
    EXPECT_EQ(verify_log(l.store, l.signer.vkey(), {}).status().code(), Code::kConflict);
  }
  {
    // A bundle with one entry too many or too few is refused by the strict parser.
    OurLog l;
    l.grow(1, 5);
    l.store.put("tile/entries/000.p/5",
                l.store.read("tile/entries/000.p/5").value() + std::string("\x00\x01x", 3));
    EXPECT_EQ(verify_log(l.store, l.signer.vkey(), {}).status().code(), Code::kConflict);
  }
}

// A reader that no longer has one object: a log that lost (or never wrote) it.
struct Hiding final : TileReader {
  TileReader& inner;
  std::string hidden;
  Hiding(TileReader& r, std::string h) : inner(r), hidden(std::move(h)) {}
  Result<std::string> read(std::string_view path) override {
    if (path == hidden) return not_found("hidden");
    return inner.read(path);
  }
};

TEST(VerifyLog, ASeenCheckpointsPartialTilesMustStillBeServed) {
  OurLog l;
  l.grow(3, 10);  // checkpoints of sizes 10, 20 and 30, all inside tile 0
  ASSERT_TRUE(verify_log(l.store, l.signer.vkey(), l.seen).is_ok());
  for (const char* path : {"tile/0/000.p/20", "tile/entries/000.p/20"}) {
    Hiding lost(l.store, path);
    ASSERT_TRUE(verify_log(lost, l.signer.vkey(), {}).is_ok()) << "not needed without it seen";
    auto r = verify_log(lost, l.signer.vkey(), l.seen);
    EXPECT_EQ(r.status().code(), Code::kConflict) << path;
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  }
  // Served, but not what the verified tiles say.
  l.store.put("tile/0/000.p/10", std::string(10 * kHashSize, 'x'));
  EXPECT_EQ(verify_log(l.store, l.signer.vkey(), l.seen).status().code(), Code::kConflict);
  // Once the tile is full, its partial widths may go.
  OurLog full;
  full.grow(2, 200);
  Hiding gone(full.store, "tile/0/000.p/200");
  EXPECT_TRUE(verify_log(gone, full.signer.vkey(), full.seen).is_ok());
}

TEST(VerifyLog, DetectsForkAndRollback) {
  OurLog a;
  a.grow(3, 10);
  // A second log under the same key (a split view) diverges after entry 20.
  MemoryTileStore fork_store;
  {
    auto fork = Log::open(fork_store, a.signer).value();
    std::vector<std::string> e;
    for (int i = 0; i < 20; ++i) e.push_back("entry " + std::to_string(i));
    e.push_back("something else");
    ASSERT_TRUE(fork->append(e).is_ok());
    std::vector<std::string> seen = {fork->checkpoint()};
    auto r = verify_log(a.store, a.signer.vkey(), seen);
    EXPECT_EQ(r.status().code(), Code::kConflict) << r.status().to_string();
  }
  // A seen checkpoint larger than the latest: the log went back in time.
  std::vector<std::string> seen = {a.log->checkpoint()};
  MemoryTileStore small;
  {
    auto s = Log::open(small, a.signer).value();
    ASSERT_TRUE(s->append("entry 0").is_ok());
  }
  EXPECT_EQ(verify_log(small, a.signer.vkey(), seen).status().code(), Code::kConflict);
}

TEST(VerifyLog, MissingTileIsReported) {
  OurLog l;
  l.grow(1, 300);
  MemoryTileStore copy;
  TileObjects objs;
  for (auto& [p, b] : l.store.objects()) {
    if (p != "tile/entries/000") objs.emplace_back(p, b);
  }
  ASSERT_TRUE(copy.commit(objs).is_ok());
  EXPECT_EQ(verify_log(copy, l.signer.vkey(), {}).status().code(), Code::kNotFound);
}

// A tiny HTTP/1.1 server on a loopback port serving a folder under /log/.
class FolderServer {
 public:
  explicit FolderServer(std::filesystem::path root) : reader_(std::move(root)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { serve(); });
  }
  ~FolderServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string prefix() const { return "http://127.0.0.1:" + std::to_string(port_) + "/log/"; }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
      }
      ++requests_;
      std::string path = req.substr(4, req.find(' ', 4) - 4);
      std::string resp;
      Result<std::string> body = not_found("");
      if (path.rfind("/log/", 0) == 0) body = reader_.read(path.substr(5));
      if (body.is_ok()) {
        resp = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body->size()) +
               "\r\nConnection: close\r\n\r\n" + *body;
      } else {
        resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      }
      for (std::size_t off = 0; off < resp.size();) {
        ssize_t n = ::send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      ::close(c);
    }
  }
  FolderTileReader reader_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

TEST(VerifyLog, OverHttp) {
  FolderServer server(testing::tlog_data("tessera-log"));
  auto reader = open_tile_reader(server.prefix());
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  auto report = verify_log(**reader, kTesseraLogVkey, tessera_checkpoints());
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->checkpoint.size, 15u);
  EXPECT_GE(server.requests(), 3);
  EXPECT_EQ((*reader)->read("tile/0/999").status().code(), Code::kNotFound);
}

TEST(VerifyLog, OpenTileReaderChoosesByScheme) {
  EXPECT_TRUE(open_tile_reader(testing::tlog_data("tessera-log").string()).is_ok());
  EXPECT_EQ(open_tile_reader("/no/such/folder").status().code(), Code::kNotFound);
  EXPECT_FALSE(HttpTileReader::open("ftp://example.com/log").is_ok());
}

}  // namespace
}  // namespace hb::ledger
