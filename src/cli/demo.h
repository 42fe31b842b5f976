// Demo data: three facilities with API clients, and the Synthea sample patients with their
// records, registered through the same services a facility system uses. One facility also
// registers some of the same people, so the cross-facility person matching is visible.
#pragma once

#include <string>

#include "core/config.h"
#include "core/status.h"
#include "crypto/envelope.h"
#include "store/store.h"

namespace hb::cli {

struct DemoSummary {
  int facilities = 0;
  int clients = 0;
  int resources = 0;
  std::string client_files;  // where the demo clients' private keys were written
};

Result<DemoSummary> load_demo(const Config& config, store::Store& store, const crypto::MasterKey& master,
                              const std::string& data_dir, const std::string& synthea_dir);

}  // namespace hb::cli
