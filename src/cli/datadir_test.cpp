#include "cli/datadir.h"

#include <gtest/gtest.h>

namespace hb::cli {
namespace {

// tlog-tiles: a log's origin SHOULD be its URL prefix without the scheme.
TEST(LogOrigin, IsThePublicUrlWithoutItsSchemePlusLog) {
  EXPECT_EQ(log_origin_for("https://health.example.vn"), "health.example.vn/log");
  EXPECT_EQ(log_origin_for("https://health.example.vn/"), "health.example.vn/log");
  EXPECT_EQ(log_origin_for("http://127.0.0.1:8080"), "127.0.0.1:8080/log");
  // Served under a path behind a proxy: the path is part of the log's URL, so of its origin.
  EXPECT_EQ(log_origin_for("https://gov.example/healthbook"), "gov.example/healthbook/log");
  EXPECT_EQ(log_origin_for("https://gov.example/a/b//?q=1#f"), "gov.example/a/b/log");
  // Credentials in a URL never reach the origin.
  EXPECT_EQ(log_origin_for("https://user:pw@gov.example/x"), "gov.example/x/log");
  EXPECT_EQ(log_origin_for(""), "localhost/log");
}

}  // namespace
}  // namespace hb::cli
