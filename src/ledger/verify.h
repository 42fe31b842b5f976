// Whole-log verification, for `healthbook log verify <url-or-folder>` and for monitors.
//
// verify_log() reads a published log through a TileReader (a folder, or HTTP(S) with libcurl) and
// checks, in order:
//   1. the checkpoint is a signed note that verifies under the given vkey, with the key's name as
//      origin (or the origin given);
//   2. every entry bundle parses and each entry's leaf hash equals its slot in the level-0 tile;
//   3. every tile above level 0 equals the tile hashes re-derived from the level below, so the
//      whole tree is recomputed from the entries;
//   4. the recomputed root equals the checkpoint's root;
//   5. every previously seen checkpoint (note texts the caller kept) verifies under the same key
//      and is consistent with the latest one (a consistency proof built from the verified tiles
//      is checked with verify_consistency). A seen checkpoint larger than the latest means the
//      log went back in time, and fails;
//   6. the log still serves the partial tiles and entry bundle of every seen checkpoint's size
//      (tlog-tiles asks it to, except where the full tile now exists), equal to the verified ones.
// Memory use is about 1/8 byte per entry (the re-derived level-1 hashes and up); tiles are
// fetched once each.
//
// Thread-safety: verify_log is stateless; FolderTileReader is safe from any thread;
// HttpTileReader serialises its requests internally.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ledger/note.h"
#include "ledger/tiles.h"

namespace hb::ledger {

// Reads the tlog-tiles layout from a folder, without creating or writing anything.
class FolderTileReader final : public TileReader {
 public:
  explicit FolderTileReader(std::filesystem::path root) : root_(std::move(root)) {}
  Result<std::string> read(std::string_view path) override;

 private:
  std::filesystem::path root_;
};

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{60'000};
  std::size_t max_bytes = 17 * 1024 * 1024;  // a full entry bundle of maximal entries fits
};

// GET <prefix>/<path> over HTTP or HTTPS (libcurl; certificates verified). 404 and 410 are
// kNotFound, other failures kUnavailable.
class HttpTileReader final : public TileReader {
 public:
  static Result<std::unique_ptr<HttpTileReader>> open(std::string_view prefix,
                                                      HttpOptions options = {});
  ~HttpTileReader() override;
  Result<std::string> read(std::string_view path) override;

 private:
  HttpTileReader(std::string prefix, HttpOptions options, void* curl)
      : prefix_(std::move(prefix)), options_(options), curl_(curl) {}
  std::string prefix_;
  HttpOptions options_;
  std::mutex mu_;
  void* curl_;  // CURL*, owned; guarded by mu_
};

// "http://..." or "https://..." -> HttpTileReader, anything else -> FolderTileReader.
Result<std::unique_ptr<TileReader>> open_tile_reader(std::string_view url_or_folder);

struct VerifyReport {
  Checkpoint checkpoint;  // the latest, verified
  uint64_t entries = 0;
  uint64_t tiles = 0;  // tiles and entry bundles fetched and checked
  std::size_t seen_checkpoints = 0;
  std::string summary() const;
};

// Runs the checks above. kInvalid for a bad vkey or seen checkpoint text, kUnauthorized when a
// signature or origin does not match, kConflict when the log's contents do not add up (tampered
// tile or bundle, wrong root, inconsistent history), and the reader's errors for missing or
// unreachable objects. Messages name the object concerned.
Result<VerifyReport> verify_log(TileReader& reader, std::string_view vkey,
                                const std::vector<std::string>& seen_checkpoints,
                                std::string_view origin = {});

}  // namespace hb::ledger
