// Helpers shared by the ledger tests (not part of the library: only *_test.cpp include this).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace hb::ledger::testing {

// tests/data/tlog/<rel>, found through HB_SOURCE_DIR (environment first, then the build define).
inline std::filesystem::path tlog_data(const std::string& rel) {
  const char* env = std::getenv("HB_SOURCE_DIR");
  std::filesystem::path root = env != nullptr ? env : HB_SOURCE_DIR;
  return root / "tests/data/tlog" / rel;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace hb::ledger::testing
