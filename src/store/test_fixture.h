// For the store's own tests: a fresh SQLite store in a temporary folder per test, removed after.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/ids.h"
#include "store/store.h"

namespace hb::store {

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
