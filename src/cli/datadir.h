// The data folder: everything one Healthbook instance keeps on disk.
//
//   <data>/master.key              32 random bytes; wraps every data key (mode 0600)
//   <data>/healthbook.db           the SQLite store (+ -wal, -shm)
//   <data>/keys/log.skey           signs transparency-log checkpoints (signed-note key, 0600)
//   <data>/keys/log.vkey           its public verifier key (published at /log/vkey)
//   <data>/log/                    the transparency log: checkpoint, tiles, entry bundles, in the
//                                  C2SP tlog-tiles layout (served under /log/)
//
// `healthbook init` creates it and refuses to overwrite an existing one.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "core/status.h"
#include "crypto/envelope.h"
#include "ledger/log.h"
#include "store/store.h"

namespace hb::cli {

// `log_origin` names the transparency log (its checkpoints' first line), e.g. "example.org/log";
// it never changes for the life of the log. log_origin_for() derives it from the public URL.
Status init_data_dir(const std::string& dir, const std::string& log_origin);
std::string log_origin_for(const std::string& public_url);

struct DataDir {
  std::string path;
  std::unique_ptr<crypto::MasterKey> master;
  std::unique_ptr<store::Store> store;
};

// Opens an initialised data folder (kNotFound with advice when it is not initialised).
Result<DataDir> open_data_dir(const std::string& dir);

// The data folder's transparency log, opened for appending (checks the stored checkpoint and tiles
// against the log key).
struct OpenLog {
  std::unique_ptr<ledger::DirectoryTileStore> tiles;
  std::unique_ptr<ledger::Log> log;
  std::string vkey;
};
Result<OpenLog> open_log(const std::string& dir);

}  // namespace hb::cli
