// For the store's own tests: a fresh SQLite store in a temporary folder per test, removed after,
// and a temporary folder of one's own.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/ids.h"
#include "store/store.h"

namespace hb::store {

// A fresh directory, removed with everything in it when this goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hb-store-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hb-store-" + new_uuid());
    std::filesystem::create_directories(dir_);
    SqliteOptions o;
    o.path = (dir_ / "hb.db").string();
    o.synchronous_full = false;  // the tests are about what is stored, not about the disk
    auto opened = open_sqlite(o);
    ASSERT_TRUE(opened.is_ok()) << opened.error().to_string();
    store_ = std::move(*opened);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Status write(const std::function<Status(Writer&)>& fn) { return store_->write_sync(fn); }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace hb::store
