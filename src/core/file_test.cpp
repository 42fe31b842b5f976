#include "core/file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace hb {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hb-file-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path dir_;
};

TEST_F(FileTest, WritesEverythingAndAtAnOffset) {
  const fs::path p = dir_ / "a";
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600));
  ASSERT_TRUE(fd.valid());
  const std::string big(3 << 20, 'x');
  ASSERT_TRUE(write_all(fd.get(), big, p).is_ok());
  ASSERT_TRUE(write_all_at(fd.get(), "abc", 1, p).is_ok());
  EXPECT_EQ(fd.close(), 0);
  EXPECT_FALSE(fd.valid());
  const std::string back = read(p);
  ASSERT_EQ(back.size(), big.size());
  EXPECT_EQ(back.substr(0, 5), "xabcx");
}

TEST_F(FileTest, ErrorsNameTheFileAndTheReason) {
  const fs::path missing = dir_ / "no" / "such";
  Status s = fsync_dir(missing);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find(missing.string()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No such file or directory"), std::string::npos) << s.message();

  const fs::path p = dir_ / "read-only";
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CREAT, 0600));
  ASSERT_TRUE(fd.valid());
  Status w = write_all(fd.get(), "data", p);
  ASSERT_FALSE(w.is_ok());
  EXPECT_NE(w.message().find("cannot write " + p.string()), std::string::npos) << w.message();
  EXPECT_TRUE(fsync_dir(dir_).is_ok());
}

TEST_F(FileTest, OwnershipMovesAndClosesOnce) {
  const fs::path p = dir_ / "b";
  int raw = ::open(p.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(raw, 0);
  UniqueFd a(raw);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  EXPECT_EQ(b.get(), raw);
  UniqueFd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_EQ(c.close(), 0);
  EXPECT_EQ(c.close(), 0);               // nothing left to close
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);  // closed for real
  // Going out of scope closes; so does being assigned another descriptor.
  int scoped = -1;
  {
    UniqueFd d(::open(p.c_str(), O_RDONLY));
    scoped = d.get();
    ASSERT_GE(scoped, 0);
  }
  EXPECT_EQ(::fcntl(scoped, F_GETFD), -1);
  UniqueFd e(::open(p.c_str(), O_RDONLY));
  const int replaced = e.get();
  ASSERT_GE(replaced, 0);
  e = UniqueFd(::open(p.c_str(), O_RDONLY));  // opened while the old one is still open
  ASSERT_TRUE(e.valid());
  EXPECT_NE(e.get(), replaced);
  EXPECT_EQ(::fcntl(replaced, F_GETFD), -1);

  const int released = UniqueFd(::open(p.c_str(), O_RDONLY)).release();
  ASSERT_GE(released, 0);
  EXPECT_NE(::fcntl(released, F_GETFD), -1);  // release() gave it up open
  ::close(released);
}

}  // namespace
}  // namespace hb
