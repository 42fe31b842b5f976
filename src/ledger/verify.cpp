#include "ledger/verify.h"

#include <curl/curl.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace hb::ledger {
namespace fs = std::filesystem;

// --- Readers ---------------------------------------------------------------------------------

Result<std::string> FolderTileReader::read(std::string_view path) {
  if (!is_log_path(path)) return invalid("not a log path: " + std::string(path));
  fs::path p = root_ / std::string(path);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return not_found("no " + p.string());
  std::ifstream in(p, std::ios::binary);
  if (!in) return internal("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return internal("cannot read " + p.string());
  return ss.str();
}

namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

struct Body {
  std::string data;
  std::size_t max = 0;
  bool too_large = false;
};

size_t on_body(char* ptr, size_t size, size_t n, void* user) {
  auto* b = static_cast<Body*>(user);
  std::size_t len = size * n;
  if (b->data.size() + len > b->max) {
    b->too_large = true;
    return 0;  // aborts the transfer
  }
  b->data.append(ptr, len);
  return len;
}

bool curl_ready() {
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ready;
}

}  // namespace

Result<std::unique_ptr<HttpTileReader>> HttpTileReader::open(std::string_view prefix,
                                                             HttpOptions options) {
  if (prefix.substr(0, 7) != "http://" && prefix.substr(0, 8) != "https://") {
    return invalid("log URL must start with http:// or https://");
  }
  if (!curl_ready()) return internal("libcurl failed to initialise");
  CURL* c = curl_easy_init();
  if (c == nullptr) return internal("curl_easy_init failed");
  std::string p(prefix);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return std::unique_ptr<HttpTileReader>(new HttpTileReader(std::move(p), options, c));
}

HttpTileReader::~HttpTileReader() { CurlPtr owned(static_cast<CURL*>(curl_)); }

Result<std::string> HttpTileReader::read(std::string_view path) {
  if (!is_log_path(path)) return invalid("not a log path: " + std::string(path));
  std::lock_guard lk(mu_);
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  std::string url = prefix_ + "/" + std::string(path);
  Body body;
  body.max = options_.max_bytes;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip and friends, as tlog-tiles suggests
  curl_easy_setopt(c, CURLOPT_USERAGENT, "healthbook-log-verify");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(c);
  if (body.too_large) {
    return Status(Code::kTooLarge, url + ": larger than " + std::to_string(body.max) + " bytes");
  }
  if (rc != CURLE_OK) {
    return Status(Code::kUnavailable, url + ": " + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status == 404 || status == 410) return not_found(url + ": HTTP " + std::to_string(status));
  if (status != 200) {
    return Status(Code::kUnavailable, url + ": HTTP " + std::to_string(status));
  }
  return std::move(body.data);
}

Result<std::unique_ptr<TileReader>> open_tile_reader(std::string_view url_or_folder) {
  if (url_or_folder.substr(0, 7) == "http://" || url_or_folder.substr(0, 8) == "https://") {
    HB_ASSIGN_OR_RETURN(auto r, HttpTileReader::open(url_or_folder));
    return std::unique_ptr<TileReader>(std::move(r));
  }
  std::error_code ec;
  if (!fs::is_directory(std::string(url_or_folder), ec)) {
    return not_found("no log folder " + std::string(url_or_folder));
  }
  return std::unique_ptr<TileReader>(new FolderTileReader(std::string(url_or_folder)));
}

// --- Verification ----------------------------------------------------------------------------

namespace {

Status broken(const std::string& what) { return {Code::kConflict, "log does not verify: " + what}; }

Hash mth_of(const std::vector<Hash>& hashes, std::size_t begin, std::size_t count) {
  return root_from_leaf_hashes(
      std::vector<Hash>(hashes.begin() + static_cast<std::ptrdiff_t>(begin),
                        hashes.begin() + static_cast<std::ptrdiff_t>(begin + count)));
}

// The tree re-derived from the entries: every hash at levels 8, 16, ... plus the level-0 tiles
// the root and the seen checkpoints need.
struct DerivedTree {
  std::vector<std::vector<Hash>> upper;          // upper[L]: hashes at level 8L, L >= 1
  std::map<uint64_t, std::vector<Hash>> level0;  // kept level-0 tiles by index

  Result<Hash> node(int level, uint64_t index) const {
    int L = level / kTileHeight, s = level % kTileHeight;
    uint64_t first = index << s, count = uint64_t{1} << s;
    if (L == 0) {
      auto it = level0.find(first / kTileWidth);
      uint64_t off = first % kTileWidth;
      if (it == level0.end() || off + count > it->second.size()) {
        return internal("re-derived tree lacks level-0 subtree " + std::to_string(index));
      }
      return mth_of(it->second, off, count);
    }
    if (static_cast<std::size_t>(L) >= upper.size() || first + count > upper[L].size()) {
      return internal("re-derived tree lacks subtree " + std::to_string(level) + "/" +
                      std::to_string(index));
    }
    return mth_of(upper[L], first, count);
  }
  NodeSource nodes() const {
    return [this](int level, uint64_t index) { return node(level, index); };
  }
};

}  // namespace

std::string VerifyReport::summary() const {
  return checkpoint.origin + ": " + std::to_string(checkpoint.size) + " entries verified (" +
         std::to_string(tiles) + " tiles and bundles), consistent with " +
         std::to_string(seen_checkpoints) + " previously seen checkpoint(s)";
}

Result<VerifyReport> verify_log(TileReader& reader, std::string_view vkey,
                                const std::vector<std::string>& seen_checkpoints,
                                std::string_view origin) {
  auto key = NoteVerifier::parse(vkey);
  if (!key) return invalid("verifier key: " + key.status().message());
  HB_ASSIGN_OR_RETURN(std::string text, reader.read("checkpoint"));
  auto latest = open_checkpoint(text, *key, origin);
  if (!latest) {
    return Status(latest.status().code(), "checkpoint: " + latest.status().message());
  }
  const uint64_t size = latest->size;

  std::vector<Checkpoint> seen;
  for (std::size_t i = 0; i < seen_checkpoints.size(); ++i) {
    auto c = open_checkpoint(seen_checkpoints[i], *key, origin);
    if (!c) {
      return Status(c.status().code(),
                    "seen checkpoint " + std::to_string(i) + ": " + c.status().message());
    }
    if (c->size > size) {
      return broken("seen checkpoint " + std::to_string(i) + " has size " +
                    std::to_string(c->size) + ", above the latest " + std::to_string(size) +
                    " (the log went back in time)");
    }
    seen.push_back(std::move(c).value());
  }

  VerifyReport report;
  report.checkpoint = *latest;
  DerivedTree tree;
  // Level-0 tiles to keep: the right edge of the latest tree and of every seen one.
  std::set<uint64_t> keep = {size / kTileWidth};
  for (const Checkpoint& c : seen) keep.insert(c.size / kTileWidth);

  TileFetch fetch = fetch_from(reader);
  auto fetch_tile = [&](const TileId& id) -> Result<std::vector<Hash>> {
    auto bytes = fetch(id);
    if (!bytes)
      return Status(bytes.status().code(), tile_path(id) + ": " + bytes.status().message());
    ++report.tiles;
    auto hashes = parse_tile(*bytes, id.width);
    if (!hashes) return broken(tile_path(id) + ": " + hashes.status().message());
    return hashes;
  };

  // Level 0: entries against leaf hashes.
  tree.upper.emplace_back();  // upper[0] unused
  tree.upper.emplace_back();
  for (uint64_t n = 0; tile_width(0, n, size) > 0; ++n) {
    TileId id{0, n, tile_width(0, n, size)};
    HB_ASSIGN_OR_RETURN(std::vector<Hash> hashes, fetch_tile(id));
    TileId bid{kEntriesLevel, n, id.width};
    auto bundle = fetch(bid);
    if (!bundle)
      return Status(bundle.status().code(), tile_path(bid) + ": " + bundle.status().message());
    ++report.tiles;
    auto entries = parse_entry_bundle(*bundle, id.width);
    if (!entries) return broken(tile_path(bid) + ": " + entries.status().message());
    for (uint32_t i = 0; i < id.width; ++i) {
      if (leaf_hash((*entries)[i]) != hashes[i]) {
        return broken("entry " + std::to_string(n * kTileWidth + i) + " in " + tile_path(bid) +
                      " does not hash to its slot in " + tile_path(id));
      }
    }
    report.entries += id.width;
    if (id.full()) tree.upper[1].push_back(mth_of(hashes, 0, kTileWidth));
    if (keep.count(n) != 0) tree.level0[n] = std::move(hashes);
  }

  // Levels 1 and up: each published tile must equal the hashes re-derived from below.
  for (int level = 1; !tree.upper[level].empty(); ++level) {
    tree.upper.emplace_back();
    const std::vector<Hash>& derived = tree.upper[level];
    for (uint64_t n = 0; tile_width(level, n, size) > 0; ++n) {
      TileId id{level, n, tile_width(level, n, size)};
      HB_ASSIGN_OR_RETURN(std::vector<Hash> hashes, fetch_tile(id));
      for (uint32_t i = 0; i < id.width; ++i) {
        if (hashes[i] != derived[n * kTileWidth + i]) {
          return broken(tile_path(id) + " hash " + std::to_string(i) +
                        " does not match the tiles below it");
        }
      }
      if (id.full()) tree.upper[level + 1].push_back(mth_of(hashes, 0, kTileWidth));
    }
  }

  HB_ASSIGN_OR_RETURN(Hash root, tree_root(size, tree.nodes()));
  if (root != latest->root) return broken("the tiles do not hash to the checkpoint's root");

  for (std::size_t i = 0; i < seen.size(); ++i) {
    HB_ASSIGN_OR_RETURN(std::vector<Hash> proof,
                        consistency_proof(seen[i].size, size, tree.nodes()));
    Status s = verify_consistency(seen[i].size, size, proof, seen[i].root, latest->root);
    if (!s.is_ok()) {
      return broken("seen checkpoint " + std::to_string(i) + " (size " +
                    std::to_string(seen[i].size) +
                    ") is not consistent with the latest: " + s.message());
    }
  }
  // A client holding a seen checkpoint reads the partial tiles of its size (step 6).
  for (std::size_t i = 0; i < seen.size(); ++i) {
    const uint64_t s = seen[i].size;
    auto missing = [&](const TileId& id, const std::string& why) {
      return broken("seen checkpoint " + std::to_string(i) + " (size " + std::to_string(s) +
                    "): " + tile_path(id) + " " + why);
    };
    for (int level = 0; (s >> (kTileHeight * level)) > 0; ++level) {
      const uint64_t n = (s >> (kTileHeight * level)) / kTileWidth;
      const uint32_t w = tile_width(level, n, s);
      if (w == 0 || w == kTileWidth || tile_width(level, n, size) == kTileWidth) continue;
      const TileId id{level, n, w};
      auto bytes = reader.read(tile_path(id));
      if (!bytes) return missing(id, "is not served: " + bytes.status().message());
      ++report.tiles;
      auto hashes = parse_tile(*bytes, w);
      if (!hashes) return missing(id, hashes.status().message());
      for (uint32_t k = 0; k < w; ++k) {
        const Hash& want = level == 0 ? tree.level0[n][k] : tree.upper[level][n * kTileWidth + k];
        if ((*hashes)[k] != want) return missing(id, "differs from the verified tiles");
      }
      if (level != 0) continue;
      const TileId bid{kEntriesLevel, n, w};
      auto bundle = reader.read(tile_path(bid));
      if (!bundle) return missing(bid, "is not served: " + bundle.status().message());
      ++report.tiles;
      auto entries = parse_entry_bundle(*bundle, w);
      if (!entries) return missing(bid, entries.status().message());
      for (uint32_t k = 0; k < w; ++k) {
        if (leaf_hash((*entries)[k]) != tree.level0[n][k]) {
          return missing(bid, "differs from the verified entries");
        }
      }
    }
  }
  report.seen_checkpoints = seen.size();
  return report;
}

}  // namespace hb::ledger
