#include "cli/datadir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/keys.h"
#include "crypto/random.h"

namespace fs = std::filesystem;

namespace hb::cli {
namespace {

// Writes a new file with mode 0600, failing if it exists; fsyncs it.
Status write_secret(const fs::path& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return internal("cannot create " + path.string() + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n <= 0) {
      ::close(fd);
      return internal("cannot write " + path.string());
    }
    off += static_cast<size_t>(n);
  }
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return internal("cannot fsync " + path.string());
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

Status init_data_dir(const std::string& dir) {
  fs::path root(dir);
  if (fs::exists(root / "master.key") || fs::exists(root / "healthbook.db")) {
    return conflict("the data folder " + dir + " is already initialised; refusing to overwrite it");
  }
  std::error_code ec;
  fs::create_directories(root / "keys", ec);
  if (ec) return internal("cannot create " + dir + ": " + ec.message());
  fs::permissions(root, fs::perms::owner_all, ec);
  fs::permissions(root / "keys", fs::perms::owner_all, ec);

  auto log_key = crypto::PrivateKey::generate(crypto::KeyType::kEd25519);
  if (!log_key) return log_key.error();
  auto issuer_key = crypto::PrivateKey::generate(crypto::KeyType::kEcP256);
  if (!issuer_key) return issuer_key.error();
  HB_RETURN_IF_ERROR(write_secret(root / "keys" / "log-ed25519.pem", log_key->to_pem()));
  HB_RETURN_IF_ERROR(write_secret(root / "keys" / "issuer-es256.pem", issuer_key->to_pem()));
  // The master key last: its presence marks the folder as initialised.
  HB_RETURN_IF_ERROR(write_secret(root / "master.key", crypto::random_bytes(32)));
  auto opened = open_data_dir(dir);  // creates and migrates the database
  if (!opened) return opened.error();
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

}  // namespace hb::cli
