// Server configuration: defaults, then a TOML file, then environment variables.
//
// Every key can be overridden by an environment variable named HEALTHBOOK_<SECTION>_<KEY> in upper
// case, e.g. [server] listen -> HEALTHBOOK_SERVER_LISTEN, [limits] body_bytes ->
// HEALTHBOOK_LIMITS_BODY_BYTES. Lists in the environment are comma-separated.
// See docs/configuration.md for every key.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace hb {

struct Config {
  // [server]
  std::string data_dir = "var";
  std::string listen = "127.0.0.1:8080";
  // The public base URL clients use; token audience and links derive from it.
  // Empty means "http://<listen>".
  std::string public_url;
  // The longest public_url (without a trailing slash): a SMART Health Link's manifest URL may
  // have at most 128 characters, and the longest we make is a share's, <public_url>/shl/s/<43>.
  static constexpr std::size_t kMaxPublicUrl = 128 - 7 - 43;
  int io_threads = 2;
  // Handler threads; 0 = three per core (at least 4). More threads than that only add
  // scheduling delay on small machines (measured: docs/benchmarks.md).
  int worker_threads = 0;
  // Threads for writes, which mostly wait for their durable commit (and share it): many writes
  // can wait at once without taking a handler thread from reads.
  int waiting_threads = 64;
  // The built web app (Vite output), served at / with the SPA's routes; "" serves no web app.
  std::string web_root = "web/dist";
  // Reverse proxies (IP addresses) whose X-Forwarded-For names the client (http::ServerOptions).
  std::vector<std::string> trusted_proxies;

  // [limits]
  std::size_t body_bytes = 16 * 1024 * 1024;
  std::size_t json_depth = 64;
  int token_requests_per_minute = 120;  // per client, on /auth/token

  // [auth]
  int access_token_seconds = 300;       // at most 300
  int assertion_max_seconds = 300;      // client assertion exp at most this far ahead

  // [patients]: identifier systems that identify one person across facilities.
  std::vector<std::string> national_id_systems = {"urn:oid:2.16.704.1.1.1",
                                                  "http://hl7.org/fhir/sid/us-ssn"};
  std::vector<std::string> insurance_systems = {"urn:oid:2.16.704.1.1.2"};
  // How a full name is written here: "family-first" (Vietnam: Nguyễn Văn An) or "given-first".
  // Patients registered from documents get it as HumanName.text (fhir/human_name.h).
  std::string name_order = "family-first";

  // [facilities]
  std::string facility_code_pattern = "^[0-9]{5}$";

  // [accounts]: residents' accounts (docs/accounts.md). The Argon2id cost defaults to libsodium's
  // INTERACTIVE level (2 passes, 64 MiB); tests may lower it.
  int password_ops_limit = 2;
  int password_memory_kib = 64 * 1024;
  int session_idle_minutes = 30;
  int session_lifetime_hours = 12;
  // A guardian recorded on a child's Patient acts for the child until this birthday
  // (docs/proxies.md).
  int guardian_until_age = 16;

  // [oidc]: login with the national eID (docs/accounts.md). Off while issuer is "".
  std::string oidc_issuer;
  std::string oidc_client_id;
  std::string oidc_client_secret;  // a secret: prefer the environment variable
  std::string oidc_redirect_uri;   // "" = <public_url>/api/v1/account/oidc/callback
  std::string oidc_national_id_claim = "national_id";
  std::vector<std::string> oidc_scopes;  // asked for besides "openid"

  // [log]
  std::string log_level = "info";

  // [testing] Lets browser tests move the server's clock forward (POST /api/test/clock from
  // loopback). Never enable it on a real server.
  bool clock_control = false;
  // ---- notify ----
  // [sms]: how SMS notifications leave. "sink" writes them to <data_dir>/notify-sms.jsonl
  // (development only); "http" posts them to a gateway.
  std::string sms_transport = "sink";
  std::string sms_url;
  std::string sms_auth_header;    // "Name: value"; a secret: prefer the environment variable
  std::string sms_body_template;  // "" = the default for sms_content_type
  std::string sms_content_type = "application/json";  // or application/x-www-form-urlencoded
  // A message the gateway does not take is tried again (backoff up to 5 minutes) until this many
  // hours after it was queued: a gateway outage of hours must not lose certificate links.
  int sms_retry_hours = 24;
  // How many SMS are sent at once: a gateway that takes 0.2 s an answer, or one request that
  // hangs until its timeout, then holds up only one of them.
  int sms_concurrency = 8;
  // [email]: "sink" writes to <data_dir>/notify-email.jsonl; "smtp" sends through a server.
  std::string email_transport = "sink";
  std::string email_url;  // smtp://host:587 or smtps://host:465
  std::string email_from;
  std::string email_user;
  std::string email_password;  // a secret: prefer the environment variable
  // ---- end notify ----

  std::string base_url() const { return public_url.empty() ? "http://" + listen : public_url; }
  std::string token_url() const { return base_url() + "/auth/token"; }
  std::string oidc_callback_url() const {
    return oidc_redirect_uri.empty() ? base_url() + "/api/v1/account/oidc/callback"
                                     : oidc_redirect_uri;
  }
  // host and port from `listen`.
  Result<std::pair<std::string, uint16_t>> listen_address() const;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// Loads `file` (if non-empty; it must then exist) over the defaults, then applies the environment.
// kInvalid naming the key on a wrong type or value.
Result<Config> load_config(const std::string& file, const EnvLookup& env);

}  // namespace hb
