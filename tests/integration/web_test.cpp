// The web app's files, served by the real binary from server.web_root.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness.h"

namespace hb::test {
namespace {

std::string header(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(Web, ServesTheAppWithItsRoutesAndNothingElse) {
  char tmpl[] = "/tmp/hb-web-XXXXXX";
  std::string root = mkdtemp(tmpl);
  std::filesystem::create_directories(root + "/assets");
  std::ofstream(root + "/index.html") << "<!doctype html><title>app</title>";
  std::ofstream(root + "/assets/app-1234.js") << "console.log(1)";
  std::ofstream(root + "/assets/app-1234.js.gz") << "pretend-gzip";
  std::ofstream(root + "/.secret") << "no";
  std::ofstream(root + "/../hb-web-outside.txt") << "outside";
  Server server({"HEALTHBOOK_SERVER_WEB_ROOT=" + root});

  for (const char* route :
       {"/", "/verify", "/c/abcdefghijklmnop", "/book", "/book/Observation/abc-1", "/documents",
        "/documents/DOC-1", "/connections", "/shares", "/access-log", "/account", "/login",
        "/signup", "/s", "/s/"}) {
    auto page = server.get(route, "");
    EXPECT_EQ(page.status, 200) << route;
    EXPECT_EQ(page.body, "<!doctype html><title>app</title>") << route;
    EXPECT_NE(header(page, "content-security-policy").find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(header(page, "referrer-policy"), "no-referrer") << "link tokens must not leak";
  }
  auto js = server.get("/assets/app-1234.js", "");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)") << "no gzip asked for: the plain file";
  EXPECT_EQ(header(js, "content-encoding"), "");
  EXPECT_EQ(header(js, "vary"), "Accept-Encoding");
  auto zipped = server.get("/assets/app-1234.js", "", {"Accept-Encoding: gzip, br"});
  EXPECT_EQ(zipped.status, 200);
  EXPECT_EQ(zipped.body, "pretend-gzip") << "the precompressed twin";
  EXPECT_EQ(header(zipped, "content-encoding"), "gzip");
  EXPECT_NE(header(zipped, "content-type").find("javascript"), std::string::npos);
  EXPECT_NE(header(js, "cache-control").find("immutable"), std::string::npos);
  EXPECT_NE(header(js, "content-type").find("javascript"), std::string::npos);
  // (curl removes plain "/../" itself; the encoded form reaches the server.)
  for (const char* bad :
       {"/.secret", "/../hb-web-outside.txt", "/assets/%2e%2e/%2e%2e/hb-web-outside.txt",
        "/nope.js", "/bookmarks", "/signups", "/sw", "/documentsx"}) {
    EXPECT_EQ(server.get(bad, "").status, 404) << bad;
  }
  // The API still answers beside it.
  EXPECT_EQ(server.get("/fhir/metadata", "").status, 200);
  std::filesystem::remove_all(root);
  std::filesystem::remove(std::filesystem::path(root).parent_path() / "hb-web-outside.txt");
}

}  // namespace
}  // namespace hb::test
