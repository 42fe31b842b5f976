#include "cli/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

namespace hb::cli {
namespace {

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("hb_mapped_file_test_" + std::to_string(::getpid()) + "_" + name);
}

TEST(MappedFile, ViewsTheWholeFile) {
  const auto path = temp_path("cards.txt");
  std::string content = "shc:/56\r\n\nshc:/77";
  content += std::string("\0\xff", 2);
  { std::ofstream(path, std::ios::binary) << content; }
  auto mapped = MappedFile::open(path.string());
  ASSERT_TRUE(mapped.has_value());
  EXPECT_EQ(mapped->view(), content);
  // Moving hands the mapping over; the moved-from file views nothing.
  MappedFile moved = std::move(*mapped);
  EXPECT_EQ(moved.view(), content);
  EXPECT_TRUE(mapped->view().empty());
  std::filesystem::remove(path);
}

TEST(MappedFile, LeavesTheRestToTheCaller) {
  const auto empty = temp_path("empty.txt");
  { std::ofstream(empty, std::ios::binary); }
  EXPECT_FALSE(MappedFile::open(empty.string()).has_value());
  std::filesystem::remove(empty);
  EXPECT_FALSE(MappedFile::open(temp_path("missing.txt").string()).has_value());
  EXPECT_FALSE(MappedFile::open(std::filesystem::temp_directory_path().string()).has_value());
}

}  // namespace
}  // namespace hb::cli
