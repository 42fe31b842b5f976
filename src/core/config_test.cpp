#include "core/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>
#include <fstream>
#include <map>

namespace hb {
namespace {

EnvLookup env_of(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

std::string write_temp(const std::string& text) {
  char name[] = "/tmp/hbcfgXXXXXX";
  int fd = mkstemp(name);
  ::close(fd);
  std::ofstream(name) << text;
  return name;
}

TEST(Config, DefaultsWithoutFile) {
  auto c = load_config("", env_of({}));
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->data_dir, "var");
  EXPECT_EQ(c->base_url(), "http://127.0.0.1:8080");
  EXPECT_EQ(c->token_url(), "http://127.0.0.1:8080/auth/token");
}

TEST(Config, FileThenEnvironment) {
  auto path = write_temp(R"(
[server]
listen = "127.0.0.1:9000"
public_url = "https://hb.example.org/"
trusted_proxies = ["10.0.0.2", "fd00::2"]
[limits]
body_bytes = 2048
[patients]
national_id_systems = ["urn:a", "urn:b"]
)");
  auto c = load_config(path, env_of({{"HEALTHBOOK_LIMITS_BODY_BYTES", "4096"},
                                     {"HEALTHBOOK_PATIENTS_INSURANCE_SYSTEMS", "urn:x, urn:y"}}));
  std::remove(path.c_str());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->listen, "127.0.0.1:9000");
  EXPECT_EQ(c->public_url, "https://hb.example.org");  // trailing slash dropped
  EXPECT_EQ(c->body_bytes, 4096u);                      // environment wins
  EXPECT_EQ(c->national_id_systems, (std::vector<std::string>{"urn:a", "urn:b"}));
  EXPECT_EQ(c->insurance_systems, (std::vector<std::string>{"urn:x", "urn:y"}));
  EXPECT_EQ(c->trusted_proxies, (std::vector<std::string>{"10.0.0.2", "fd00::2"}));
}

TEST(Config, NamesEveryBadKey) {
  auto path = write_temp("[server]\nio_threads = \"two\"\n[auth]\naccess_token_seconds = 3600\n");
  auto c = load_config(path, env_of({{"HEALTHBOOK_LOG_LEVEL", "loud"}}));
  std::remove(path.c_str());
  ASSERT_FALSE(c.is_ok());
  std::string all;
  for (auto& p : c.error().problems()) all += p.path + ";";
  EXPECT_NE(all.find("server.io_threads"), std::string::npos);
  EXPECT_NE(all.find("auth.access_token_seconds"), std::string::npos);
  EXPECT_NE(all.find("log.level"), std::string::npos);
}

TEST(Config, MissingFileAndSyntaxError) {
  EXPECT_FALSE(load_config("/nonexistent/healthbook.toml", env_of({})).is_ok());
  auto path = write_temp("[server\nlisten=");
  auto c = load_config(path, env_of({}));
  std::remove(path.c_str());
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.error().message().find("line"), std::string::npos);
}

TEST(Config, NameOrderIsFamilyFirstUnlessSetAndRefusesOtherWords) {
  auto d = load_config("", env_of({}));
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->name_order, "family-first");
  auto g = load_config("", env_of({{"HEALTHBOOK_PATIENTS_NAME_ORDER", "given-first"}}));
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_EQ(g->name_order, "given-first");
  auto bad = load_config("", env_of({{"HEALTHBOOK_PATIENTS_NAME_ORDER", "last-first"}}));
  ASSERT_FALSE(bad.is_ok());
  ASSERT_EQ(bad.error().problems().size(), 1u);
  EXPECT_EQ(bad.error().problems()[0].path, "patients.name_order");
}

// ---- notify ----
TEST(Config, NotifySectionsFromFileAndEnvironment) {
  auto path = write_temp(R"(
[sms]
transport = "http"
url = "https://sms.example/send"
content_type = "application/x-www-form-urlencoded"
body_template = "dest={to}&msg={text}"
retry_hours = 48
concurrency = 16

[email]
transport = "smtp"
url = "smtps://mail.example:465"
from = "no-reply@healthbook.example"
user = "hb"
)");
  auto c = load_config(path, env_of({{"HEALTHBOOK_EMAIL_PASSWORD", "s3cret"},
                                     {"HEALTHBOOK_SMS_AUTH_HEADER", "X-Api-Key: k1"}}));
  std::remove(path.c_str());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->sms_transport, "http");
  EXPECT_EQ(c->sms_body_template, "dest={to}&msg={text}");
  EXPECT_EQ(c->sms_auth_header, "X-Api-Key: k1");
  EXPECT_EQ(c->sms_retry_hours, 48);
  EXPECT_EQ(c->sms_concurrency, 16);
  EXPECT_EQ(c->email_url, "smtps://mail.example:465");
  EXPECT_EQ(c->email_password, "s3cret");
}

TEST(Config, NotifyDefaultsToSinksAndRefusesBadValues) {
  auto d = load_config("", env_of({}));
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->sms_transport, "sink");
  EXPECT_EQ(d->email_transport, "sink");
  EXPECT_EQ(d->sms_retry_hours, 24);
  EXPECT_EQ(d->sms_concurrency, 8);
  auto c = load_config("", env_of({{"HEALTHBOOK_SMS_TRANSPORT", "http"},
                                   {"HEALTHBOOK_SMS_BODY_TEMPLATE", "{to}"},
                                   {"HEALTHBOOK_SMS_RETRY_HOURS", "0"},
                                   {"HEALTHBOOK_SMS_CONCURRENCY", "65"},
                                   {"HEALTHBOOK_EMAIL_TRANSPORT", "smtp"},
                                   {"HEALTHBOOK_EMAIL_URL", "http://mail"}}));
  ASSERT_FALSE(c.is_ok());
  std::string paths;
  for (const auto& p : c.error().problems()) paths += p.path + " ";
  EXPECT_NE(paths.find("sms.url"), std::string::npos);
  EXPECT_NE(paths.find("sms.body_template"), std::string::npos);
  EXPECT_NE(paths.find("sms.retry_hours"), std::string::npos);
  EXPECT_NE(paths.find("sms.concurrency"), std::string::npos);
  EXPECT_NE(paths.find("email.url"), std::string::npos);
  EXPECT_NE(paths.find("email.from"), std::string::npos);
}
// ---- end notify ----

TEST(Config, OidcOffByDefaultAndCheckedWhenOn) {
  auto off = load_config("", env_of({}));
  ASSERT_TRUE(off.is_ok());
  EXPECT_TRUE(off->oidc_issuer.empty());
  EXPECT_EQ(off->oidc_national_id_claim, "national_id");
  EXPECT_EQ(off->oidc_callback_url(), "http://127.0.0.1:8080/api/v1/account/oidc/callback");

  auto path = write_temp(R"(
[server]
public_url = "https://healthbook.example.vn"
[oidc]
issuer = "https://eid.example.gov.vn/"
client_id = "healthbook"
scopes = ["national_id", "profile"]
)");
  auto on = load_config(path, env_of({{"HEALTHBOOK_OIDC_CLIENT_SECRET", "s3cret"},
                                      {"HEALTHBOOK_OIDC_NATIONAL_ID_CLAIM", "cccd"}}));
  std::remove(path.c_str());
  ASSERT_TRUE(on.is_ok()) << on.status().to_string();
  EXPECT_EQ(on->oidc_issuer, "https://eid.example.gov.vn/") << "kept as written: compared byte for byte";
  EXPECT_EQ(on->oidc_client_secret, "s3cret");
  EXPECT_EQ(on->oidc_national_id_claim, "cccd");
  EXPECT_EQ(on->oidc_scopes, (std::vector<std::string>{"national_id", "profile"}));
  EXPECT_EQ(on->oidc_callback_url(), "https://healthbook.example.vn/api/v1/account/oidc/callback");

  auto bad = load_config("", env_of({{"HEALTHBOOK_OIDC_ISSUER", "eid.example.gov.vn"},
                                     {"HEALTHBOOK_OIDC_REDIRECT_URI", "/callback"}}));
  ASSERT_FALSE(bad.is_ok());
  const Status refused = bad.status();
  std::string paths;
  for (const auto& p : refused.problems()) paths += p.path + " ";
  EXPECT_NE(paths.find("oidc.issuer"), std::string::npos);
  EXPECT_NE(paths.find("oidc.client_id"), std::string::npos);
  EXPECT_NE(paths.find("oidc.redirect_uri"), std::string::npos);
}

// A SMART Health Link's manifest URL may have at most 128 characters, and the longest we make is
// a share's, <public_url>/shl/s/<43-character token>: a longer public URL is refused at start
// (it used to leave the links without their SMART Health Link, without a word).
TEST(Config, RefusesAPublicUrlTooLongForSmartHealthLinks) {
  ASSERT_EQ(Config::kMaxPublicUrl, 78u);
  std::string longest = "https://healthbook.example.vn/";
  longest += std::string(Config::kMaxPublicUrl - longest.size(), 'p');
  auto ok = load_config("", env_of({{"HEALTHBOOK_SERVER_PUBLIC_URL", longest + "/"}}));
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ(ok->public_url, longest) << "the trailing slash is not counted";
  EXPECT_EQ((ok->public_url + "/shl/s/" + std::string(43, 't')).size(), 128u);

  auto refused = load_config("", env_of({{"HEALTHBOOK_SERVER_PUBLIC_URL", longest + "q"}}));
  ASSERT_FALSE(refused.is_ok());
  const Status status = refused.status();
  ASSERT_EQ(status.problems().size(), 1u) << status.to_string();
  EXPECT_EQ(status.problems()[0].path, "server.public_url");
  const std::string& message = status.problems()[0].message;
  EXPECT_NE(message.find("is 79 characters long; at most 78"), std::string::npos) << message;
  EXPECT_NE(message.find("128"), std::string::npos) << message;
}

}  // namespace
}  // namespace hb
