// The data folder: everything one Healthbook instance keeps on disk.
//
//   <data>/master.key              32 random bytes; wraps every data key (mode 0600)
//   <data>/healthbook.db           the SQLite store (+ -wal, -shm)
//   <data>/keys/log-ed25519.pem    signs transparency-log checkpoints (PKCS#8, 0600)
//   <data>/keys/issuer-es256.pem   signs SMART Health Cards (PKCS#8, 0600)
//
// `healthbook init` creates it and refuses to overwrite an existing one.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "core/status.h"
#include "crypto/envelope.h"
#include "store/store.h"

namespace hb::cli {

Status init_data_dir(const std::string& dir);

struct DataDir {
  std::string path;
  std::unique_ptr<crypto::MasterKey> master;
  std::unique_ptr<store::Store> store;
};

// Opens an initialised data folder (kNotFound with advice when it is not initialised).
Result<DataDir> open_data_dir(const std::string& dir);

}  // namespace hb::cli
