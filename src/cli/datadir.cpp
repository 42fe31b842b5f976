#include "cli/datadir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/file.h"
#include "crypto/keys.h"
#include "crypto/random.h"

namespace fs = std::filesystem;

namespace hb::cli {
namespace {

// Writes a new file with mode 0600, failing if it exists; fsyncs it.
Status write_secret(const fs::path& path, const std::string& bytes) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return os_error("cannot create", path);
  HB_RETURN_IF_ERROR(write_all(fd.get(), bytes, path));
  if (::fsync(fd.get()) != 0) return os_error("cannot fsync", path);
  if (fd.close() != 0) return os_error("cannot write", path);
  return Status::ok();
}

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// tlog-tiles: the origin SHOULD be the log's URL prefix without its scheme, here
// "<host>[:port][/path]/log" for a log served at <public_url>/log/.
std::string log_origin_for(const std::string& public_url) {
  std::string_view u = public_url;
  if (auto p = u.find("://"); p != std::string_view::npos) u.remove_prefix(p + 3);
  if (auto p = u.find_first_of("?#"); p != std::string_view::npos) u = u.substr(0, p);
  std::string_view host = u.substr(0, u.find('/'));
  std::string_view path = u.substr(host.size());
  if (auto at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
  while (path.ends_with('/')) path.remove_suffix(1);
  return std::string(host.empty() ? "localhost" : host) + std::string(path) + "/log";
}

Status init_data_dir(const std::string& dir, const std::string& log_origin) {
  fs::path root(dir);
  if (fs::exists(root / "master.key") || fs::exists(root / "healthbook.db")) {
    return conflict("the data folder " + dir + " is already initialised; refusing to overwrite it");
  }
  std::error_code ec;
  fs::create_directories(root / "keys", ec);
  if (ec) return internal("cannot create " + dir + ": " + ec.message());
  fs::permissions(root, fs::perms::owner_all, ec);
  fs::permissions(root / "keys", fs::perms::owner_all, ec);

  // The log's key name is its origin (C2SP tlog-checkpoint).
  HB_ASSIGN_OR_RETURN(auto log_key, ledger::NoteSigner::generate(log_origin));
  HB_RETURN_IF_ERROR(write_secret(root / "keys" / "log.skey", log_key.skey() + "\n"));
  HB_RETURN_IF_ERROR(write_secret(root / "keys" / "log.vkey", log_key.vkey() + "\n"));
  // The master key last: its presence marks the folder as initialised.
  HB_RETURN_IF_ERROR(write_secret(root / "master.key", crypto::random_bytes(32)));
  auto opened = open_data_dir(dir);  // creates and migrates the database
  if (!opened) return opened.error();
  auto log = open_log(dir);  // writes the log's first checkpoint (size 0)
  if (!log) return log.error();
  return Status::ok();
}

Result<DataDir> open_data_dir(const std::string& dir) {
  fs::path root(dir);
  if (!fs::exists(root / "master.key")) {
    return not_found("no initialised data folder at " + dir + " (run: healthbook init --data " + dir + ")");
  }
  HB_ASSIGN_OR_RETURN(auto key, read_file(root / "master.key"));
  if (key.size() != 32) return invalid(dir + "/master.key must hold exactly 32 bytes");
  HB_ASSIGN_OR_RETURN(auto master, crypto::MasterKey::create(key));
  store::SqliteOptions opts;
  opts.path = (root / "healthbook.db").string();
  HB_ASSIGN_OR_RETURN(auto store, store::open_sqlite(opts));
  DataDir d;
  d.path = dir;
  d.master = std::make_unique<crypto::MasterKey>(std::move(master));
  d.store = std::move(store);
  return d;
}

Result<OpenLog> open_log(const std::string& dir) {
  fs::path root(dir);
  auto skey = read_file(root / "keys" / "log.skey");
  if (!skey) {
    return not_found("the data folder " + dir + " has no transparency-log key (keys/log.skey); it was "
                     "made by an older healthbook: create a new one with healthbook init");
  }
  std::string text = *skey;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  HB_ASSIGN_OR_RETURN(auto signer, ledger::NoteSigner::parse(text));
  OpenLog out;
  out.vkey = signer.vkey();
  HB_ASSIGN_OR_RETURN(out.tiles, ledger::DirectoryTileStore::open(root / "log"));
  // The journal makes each batch durable with one fdatasync; the tile folder catches up when the
  // journal fills and when the log closes (ledger/log.h).
  ledger::LogOptions options;
  options.journal = root / "log.journal";
  HB_ASSIGN_OR_RETURN(out.log, ledger::Log::open(*out.tiles, std::move(signer), options));
  return out;
}

}  // namespace hb::cli
