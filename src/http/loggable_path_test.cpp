#include <gtest/gtest.h>

#include "http/api.h"

namespace hb::http {
namespace {

constexpr const char* kToken = "q7Xv2mYp9LwR4tBn8KcZ1A";

TEST(LoggablePath, DropsTheTokenOfADocumentLink) {
  EXPECT_EQ(loggable_path(std::string("/c/") + kToken), "/c/<token>");
  EXPECT_EQ(loggable_path(std::string("/api/v1/links/") + kToken), "/api/v1/links/<token>");
  EXPECT_EQ(loggable_path(std::string("/api/v1/links/") + kToken + "/unlock"),
            "/api/v1/links/<token>/unlock");
  EXPECT_EQ(loggable_path(std::string("/api/v1/links/") + kToken + "/qr.png"),
            "/api/v1/links/<token>/qr.png");
}

TEST(LoggablePath, DropsTheTokenOfASmartHealthLinkManifest) {
  EXPECT_EQ(loggable_path(std::string("/shl/") + kToken), "/shl/<token>");
  // A share's manifest: the token follows /s/, which must not be taken for the token.
  EXPECT_EQ(loggable_path(std::string("/shl/s/") + kToken), "/shl/s/<token>");
}

TEST(LoggablePath, ExtraSlashesDoNotLetTheTokenThrough) {
  const std::string logged = loggable_path(std::string("/c//") + kToken + "/x");
  EXPECT_EQ(logged.find(kToken), std::string::npos) << logged;
  EXPECT_EQ(logged, "/c/<token>/x");
}

TEST(LoggablePath, KeepsPathsWithoutSecrets) {
  EXPECT_EQ(loggable_path("/fhir/Patient/0b6f5a9e-4c1d-4d7e-9a51-2f0c3b8e7d10"),
            "/fhir/Patient/0b6f5a9e-4c1d-4d7e-9a51-2f0c3b8e7d10");
  EXPECT_EQ(loggable_path("/log/tile/0/000"), "/log/tile/0/000");
  EXPECT_EQ(loggable_path("/c/"), "/c/");
  EXPECT_EQ(loggable_path("/cx/abc"), "/cx/abc");
  EXPECT_EQ(loggable_path(""), "");
}

}  // namespace
}  // namespace hb::http
