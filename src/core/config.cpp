#include "core/config.h"

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

#include <toml++/toml.h>

namespace hb {
namespace {

std::string env_name(std::string_view section, std::string_view key) {
  std::string s = "HEALTHBOOK_";
  for (char c : section) s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  s.push_back('_');
  for (char c : key) s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return s;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

// Applies one key from the TOML table and the environment to `target`.
class Binder {
 public:
  Binder(const toml::table* root, const EnvLookup& env) : root_(root), env_(env) {}

  void str(std::string_view section, std::string_view key, std::string& target) {
    if (auto* n = node(section, key)) {
      if (auto v = n->value<std::string>()) target = *v;
      else bad(section, key, "a string");
    }
    if (auto e = env_(env_name(section, key))) target = *e;
  }

  template <typename Int>
  void integer(std::string_view section, std::string_view key, Int& target, int64_t lo, int64_t hi) {
    std::optional<int64_t> v;
    if (auto* n = node(section, key)) {
      if (auto x = n->value<int64_t>()) v = *x;
      else bad(section, key, "an integer");
    }
    if (auto e = env_(env_name(section, key))) {
      char* end = nullptr;
      long long x = std::strtoll(e->c_str(), &end, 10);
      if (e->empty() || *end != '\0') bad(section, key, "an integer");
      else v = x;
    }
    if (v) {
      if (*v < lo || *v > hi) {
        problems_.push_back({std::string(section) + "." + std::string(key),
                             "must be between " + std::to_string(lo) + " and " + std::to_string(hi),
                             "value"});
      } else {
        target = static_cast<Int>(*v);
      }
    }
  }

  void list(std::string_view section, std::string_view key, std::vector<std::string>& target) {
    if (auto* n = node(section, key)) {
      if (auto* arr = n->as_array()) {
        std::vector<std::string> out;
        for (auto& el : *arr) {
          if (auto s = el.value<std::string>()) out.push_back(*s);
          else bad(section, key, "a list of strings");
        }
        target = out;
      } else {
        bad(section, key, "a list of strings");
      }
    }
    if (auto e = env_(env_name(section, key))) target = split_list(*e);
  }

  void boolean(std::string_view section, std::string_view key, bool& target) {
    if (auto* n = node(section, key)) {
      if (auto v = n->value<bool>()) target = *v;
      else bad(section, key, "true or false");
    }
    if (auto e = env_(env_name(section, key))) {
      if (*e == "1" || *e == "true") target = true;
      else if (*e == "0" || *e == "false") target = false;
      else problems_.push_back({env_name(section, key), "must be true or false (or 1 or 0)", "value"});
    }
  }

  std::vector<Problem>& problems() { return problems_; }

 private:
  const toml::node* node(std::string_view section, std::string_view key) {
    if (!root_) return nullptr;
    auto* sec = root_->get_as<toml::table>(section);
    return sec ? sec->get(key) : nullptr;
  }
  void bad(std::string_view section, std::string_view key, const char* want) {
    problems_.push_back(
        {std::string(section) + "." + std::string(key), std::string("must be ") + want, "value"});
  }

  const toml::table* root_;
  const EnvLookup& env_;
  std::vector<Problem> problems_;
};

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Result<std::pair<std::string, uint16_t>> Config::listen_address() const {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return invalid("server.listen must be host:port, got \"" + listen + "\"");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string port_text = listen.substr(colon + 1);
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return invalid("server.listen has a bad port \"" + port_text + "\"");
  }
  return std::pair<std::string, uint16_t>(host, static_cast<uint16_t>(port));
}

Result<Config> load_config(const std::string& file, const EnvLookup& env) {
  Config c;
  toml::table table;
  bool have_table = false;
  if (!file.empty()) {
    if (!std::filesystem::exists(file)) return invalid("config file " + file + " does not exist");
    try {
      table = toml::parse_file(file);
      have_table = true;
    } catch (const toml::parse_error& e) {
      std::ostringstream msg;
      msg << "config file " << file << " line " << e.source().begin.line << ": " << e.description();
      return invalid(msg.str());
    }
  }
  Binder b(have_table ? &table : nullptr, env);
  b.str("server", "data_dir", c.data_dir);
  b.str("server", "listen", c.listen);
  b.str("server", "public_url", c.public_url);
  b.integer("server", "io_threads", c.io_threads, 1, 64);
  b.integer("server", "worker_threads", c.worker_threads, 0, 1024);
  b.integer("server", "waiting_threads", c.waiting_threads, 1, 1024);
  b.str("server", "web_root", c.web_root);
  b.list("server", "trusted_proxies", c.trusted_proxies);
  b.integer("limits", "body_bytes", c.body_bytes, 1024, int64_t{1} << 30);
  b.integer("limits", "json_depth", c.json_depth, 8, 1000);
  b.integer("limits", "token_requests_per_minute", c.token_requests_per_minute, 1, 1000000);
  b.integer("auth", "access_token_seconds", c.access_token_seconds, 10, 300);
  b.integer("auth", "assertion_max_seconds", c.assertion_max_seconds, 10, 300);
  b.list("patients", "national_id_systems", c.national_id_systems);
  b.list("patients", "insurance_systems", c.insurance_systems);
  b.str("patients", "name_order", c.name_order);
  b.integer("accounts", "password_ops_limit", c.password_ops_limit, 1, 20);
  b.integer("accounts", "password_memory_kib", c.password_memory_kib, 8, 4 * 1024 * 1024);
  b.integer("accounts", "session_idle_minutes", c.session_idle_minutes, 1, 24 * 60);
  b.integer("accounts", "session_lifetime_hours", c.session_lifetime_hours, 1, 24 * 30);
  b.integer("accounts", "guardian_until_age", c.guardian_until_age, 1, 21);
  b.str("facilities", "code_pattern", c.facility_code_pattern);
  b.str("oidc", "issuer", c.oidc_issuer);
  b.str("oidc", "client_id", c.oidc_client_id);
  b.str("oidc", "client_secret", c.oidc_client_secret);
  b.str("oidc", "redirect_uri", c.oidc_redirect_uri);
  b.str("oidc", "national_id_claim", c.oidc_national_id_claim);
  b.list("oidc", "scopes", c.oidc_scopes);
  b.str("log", "level", c.log_level);
  b.boolean("testing", "clock_control", c.clock_control);
  // ---- notify ----
  b.str("sms", "transport", c.sms_transport);
  b.str("sms", "url", c.sms_url);
  b.str("sms", "auth_header", c.sms_auth_header);
  b.str("sms", "body_template", c.sms_body_template);
  b.str("sms", "content_type", c.sms_content_type);
  b.integer("sms", "retry_hours", c.sms_retry_hours, 1, 24 * 7);
  b.integer("sms", "concurrency", c.sms_concurrency, 1, 64);
  b.str("email", "transport", c.email_transport);
  b.str("email", "url", c.email_url);
  b.str("email", "from", c.email_from);
  b.str("email", "user", c.email_user);
  b.str("email", "password", c.email_password);
  // ---- end notify ----

  auto& problems = b.problems();
  try {
    std::regex re(c.facility_code_pattern);
  } catch (const std::regex_error&) {
    problems.push_back({"facilities.code_pattern", "is not a valid regular expression", "value"});
  }
  if (auto la = c.listen_address(); !la) problems.push_back({"server.listen", la.error().message(), "value"});
  if (!c.public_url.empty() && c.public_url.rfind("http://", 0) != 0 && c.public_url.rfind("https://", 0) != 0) {
    problems.push_back({"server.public_url", "must start with http:// or https://", "value"});
  }
  while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  if (c.public_url.size() > Config::kMaxPublicUrl) {
    // Longer, and the links' SMART Health Links would break the spec's limit: they were left out
    // of the link page without a word.
    problems.push_back(
        {"server.public_url",
         "is " + std::to_string(c.public_url.size()) + " characters long; at most " +
             std::to_string(Config::kMaxPublicUrl) +
             " are allowed, so that a SMART Health Link's manifest URL (<public_url>/shl/s/ and a "
             "43-character token) stays within the 128 characters the specification allows",
         "value"});
  }
  if (!c.oidc_issuer.empty()) {
    // The issuer is compared byte for byte with the provider's documents and tokens, so it is
    // taken as written (no trailing slash removed).
    if (c.oidc_issuer.rfind("https://", 0) != 0 && c.oidc_issuer.rfind("http://", 0) != 0)
      problems.push_back({"oidc.issuer", "must start with https:// (or http:// for testing)", "value"});
    if (c.oidc_client_id.empty())
      problems.push_back({"oidc.client_id", "is needed when oidc.issuer is set", "value"});
    if (c.oidc_national_id_claim.empty())
      problems.push_back({"oidc.national_id_claim", "must name a claim", "value"});
  }
  if (!c.oidc_redirect_uri.empty() && c.oidc_redirect_uri.rfind("https://", 0) != 0 &&
      c.oidc_redirect_uri.rfind("http://", 0) != 0) {
    problems.push_back({"oidc.redirect_uri", "must start with http:// or https://", "value"});
  }
  if (c.name_order != "family-first" && c.name_order != "given-first") {
    problems.push_back({"patients.name_order", "must be family-first or given-first", "value"});
  }
  static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
  bool level_ok = false;
  for (auto* l : levels) level_ok |= c.log_level == l;
  if (!level_ok) problems.push_back({"log.level", "must be one of trace, debug, info, warn, error, off", "value"});
  // ---- notify ----
  // Only the shape is checked here; notify/ checks the rest when it builds the transports.
  auto starts = [](const std::string& s, const char* p) { return s.rfind(p, 0) == 0; };
  if (c.sms_transport != "sink" && c.sms_transport != "http") {
    problems.push_back({"sms.transport", "must be sink or http", "value"});
  } else if (c.sms_transport == "http" && !starts(c.sms_url, "http://") &&
             !starts(c.sms_url, "https://")) {
    problems.push_back(
        {"sms.url", "must start with http:// or https:// when transport is http", "value"});
  }
  if (c.sms_content_type != "application/json" &&
      c.sms_content_type != "application/x-www-form-urlencoded") {
    problems.push_back({"sms.content_type",
                        "must be application/json or application/x-www-form-urlencoded", "value"});
  }
  if (!c.sms_body_template.empty() && (c.sms_body_template.find("{to}") == std::string::npos ||
                                       c.sms_body_template.find("{text}") == std::string::npos)) {
    problems.push_back({"sms.body_template", "must contain {to} and {text}", "value"});
  }
  if (!c.sms_auth_header.empty() &&
      (c.sms_auth_header.find(':') == std::string::npos ||
       c.sms_auth_header.find_first_of("\r\n") != std::string::npos)) {
    problems.push_back({"sms.auth_header", "must be one \"Name: value\" line", "value"});
  }
  if (c.email_transport != "sink" && c.email_transport != "smtp") {
    problems.push_back({"email.transport", "must be sink or smtp", "value"});
  } else if (c.email_transport == "smtp") {
    if (!starts(c.email_url, "smtp://") && !starts(c.email_url, "smtps://")) {
      problems.push_back(
          {"email.url", "must start with smtp:// or smtps:// when transport is smtp", "value"});
    }
    if (c.email_from.find('@') == std::string::npos) {
      problems.push_back(
          {"email.from", "must be an e-mail address when transport is smtp", "value"});
    }
  }
  if (c.email_user.empty() && !c.email_password.empty()) {
    problems.push_back({"email.password", "needs email.user", "value"});
  }
  // ---- end notify ----
  if (!problems.empty()) {
    return Status(Code::kInvalid, "invalid configuration", std::move(problems));
  }
  return c;
}

}  // namespace hb
