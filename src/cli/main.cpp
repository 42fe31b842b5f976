// healthbook: the one binary. Subcommands: init, serve, facility, client, demo.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "cli/datadir.h"
#include "cli/demo.h"
#include "cli/mapped_file.h"
#include "core/config.h"
#include "http/api.h"
#include "http/server.h"
#include "documents/issuer_directory.h"
#include "documents/verify.h"
#include "ledger/verify.h"
#include "notify/outbox.h"
#include "notify/transports.h"
#include "crypto/encoding.h"
#include "crypto/x509.h"
#include "services/auth.h"
#include "services/facilities.h"
#include "services/housekeeping.h"
#include "services/records.h"
#include "services/accounts.h"
#include "services/oidc_login.h"
#include "services/access_log.h"
#include "services/shares.h"
#include "services/vault.h"

// jemalloc's settings (read at start-up when the binary is linked with jemalloc; an unused symbol
// otherwise). Its defaults keep 4 arenas per core and 10 s of freed pages: under 64 concurrent
// searches the server then held 580 MiB; with 2 arenas, freed pages returned after 1 s and smaller
// thread caches it held 141 MiB (peak 291) at the same throughput (docs/benchmarks.md).
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0,tcache_max:4096";
}

namespace {

using namespace hb;

int fail(const Status& s) {
  std::cerr << "healthbook: " << s.message() << "\n";
  for (const auto& p : s.problems()) {
    std::cerr << "  " << (p.path.empty() ? "" : p.path + ": ") << p.message << "\n";
  }
  return s.code() == Code::kInvalid || s.code() == Code::kConflict || s.code() == Code::kNotFound ? 2 : 1;
}

struct Common {
  std::string config_file;
  std::string data_dir;
  std::string listen;
};

Result<Config> load(const Common& c) {
  HB_ASSIGN_OR_RETURN(Config cfg, load_config(c.config_file, process_env()));
  if (!c.data_dir.empty()) cfg.data_dir = c.data_dir;
  if (!c.listen.empty()) {
    cfg.listen = c.listen;
    HB_RETURN_IF_ERROR(cfg.listen_address().status());
  }
  return cfg;
}

void add_common(CLI::App* app, Common& c, bool with_listen = false) {
  app->add_option("-c,--config", c.config_file, "TOML configuration file (keys overridable by HEALTHBOOK_* variables)");
  app->add_option("-d,--data", c.data_dir, "data folder (default ./var, or server.data_dir)");
  if (with_listen) app->add_option("-l,--listen", c.listen, "address to listen on, host:port (default 127.0.0.1:8080)");
}

std::string read_arg_or_file(const std::string& v) {
  if (!v.empty() && (v[0] == '{' || v[0] == '[')) return v;
  std::ifstream in(v);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int serve(const Common& common) {
  auto cfg = load(common);
  if (!cfg) return fail(cfg.error());
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));
  auto dd = cli::open_data_dir(cfg->data_dir);
  if (!dd) return fail(dd.error());
  auto log = cli::open_log(cfg->data_dir);
  if (!log) return fail(log.error());
  auto addr = cfg->listen_address();
  // The clock every service reads; browser tests may move it forward (testing.clock_control).
  OffsetClock test_clock;
  const Clock& clock = cfg->clock_control ? static_cast<const Clock&>(test_clock) : SystemClock::instance();
  if (cfg->clock_control) spdlog::warn("testing.clock_control is on: the clock can be moved over HTTP. Never on a real server");
  http::ServerOptions so;
  so.address = addr->first;
  so.port = addr->second;
  so.io_threads = cfg->io_threads;
  so.worker_threads = cfg->worker_threads > 0
                          ? cfg->worker_threads
                          : std::max(4, 3 * static_cast<int>(std::thread::hardware_concurrency()));
  so.waiting_threads = cfg->waiting_threads;
  so.waits = http::waits_for_commit;
  so.body_limit = cfg->body_bytes;
  so.trusted_proxies = cfg->trusted_proxies;
  so.error_page = http::refusal_page;
  // The services need the public URL, which with port 0 is known only once the server is bound:
  // requests that arrive before the handler is installed get 503.
  std::atomic<http::Handler*> installed{nullptr};
  http::Server server(so, [&installed](const http::Request& req) {
    http::Handler* h = installed.load(std::memory_order_acquire);
    if (!h) {
      http::Response r;
      r.status = 503;
      r.set("Retry-After", "1");
      return r;
    }
    return (*h)(req);
  });
  if (Status s = server.start(); !s) return fail(s);
  if (cfg->public_url.empty()) cfg->public_url = "http://" + so.address + ":" + std::to_string(server.port());
  services::Vault vault(*dd->master);
  // Checked when the configuration was read (core/config.cpp).
  const fhir::NameOrder name_order =
      fhir::parse_name_order(cfg->name_order).value_or(fhir::NameOrder::kFamilyFirst);
  services::RecordsOptions ro{cfg->base_url(), cfg->national_id_systems, cfg->insurance_systems,
                              JsonLimits{cfg->body_bytes, cfg->json_depth}, name_order};
  services::RecordService records(*dd->store, vault, clock, ro);
  services::AuthOptions ao{cfg->token_url(), cfg->base_url(), cfg->access_token_seconds,
                           cfg->assertion_max_seconds, cfg->token_requests_per_minute};
  services::AuthService auth(*dd->store, clock, ao);
  // Notifications: SMS (and e-mail) through the outbox; development sinks write to the data folder.
  auto transports = notify::make_transports(*cfg, clock);
  if (!transports) return fail(transports.error());
  auto notify_secret = crypto::hex_decode(vault.blind("notify-keys", "v1"));
  if (!notify_secret) return fail(notify_secret.error());
  auto notify_keys = notify::OutboxKeys::derive(*notify_secret);
  if (!notify_keys) return fail(notify_keys.error());
  auto outbox = notify::Outbox::create(*dd->store, *transports->sms, *transports->email, *notify_keys, clock);
  if (!outbox) return fail(outbox.error());
  (*outbox)->start();
  services::DocumentService documents(*dd->store, vault, records, *log->log, clock,
                                     {cfg->base_url(), vault.blind("shc-rid", "v1")}, outbox->get());
  services::AccountOptions acct;
  auto codes_secret = crypto::hex_decode(vault.blind("account-codes", "v1"));
  if (!codes_secret) return fail(codes_secret.error());
  acct.codes_secret = *codes_secret;
  acct.national_id_systems = cfg->national_id_systems;
  acct.name_order = name_order;
  acct.password_cost = {static_cast<uint64_t>(cfg->password_ops_limit),
                        static_cast<std::size_t>(cfg->password_memory_kib) * 1024};
  acct.idle = std::chrono::minutes(cfg->session_idle_minutes);
  acct.lifetime = std::chrono::hours(cfg->session_lifetime_hours);
  services::AccountService accounts(*dd->store, vault, clock, acct, outbox->get());
  records.set_outbox(outbox->get());  // break-the-glass notices
  services::BookService book(*dd->store, vault, clock);
  // Residents' shares and access log (docs/sharing.md); the access-alert tailer follows the audit log.
  services::ShareService shares(*dd->store, vault, documents, clock, {cfg->base_url(), acct.password_cost});
  services::AccessLogService access_log(*dd->store, vault, clock, {cfg->base_url()}, outbox->get());
  access_log.start();
  // Forgets expired tokens, codes and sessions (services/housekeeping.h), every 10 minutes.
  services::Housekeeping housekeeping(*dd->store, clock, {acct.idle, acct.lifetime, std::chrono::minutes(10)});
  housekeeping.start();
  // The national eID login (OpenID Connect), when an issuer is configured.
  services::OidcOptions oo;
  oo.issuer = cfg->oidc_issuer;
  oo.client_id = cfg->oidc_client_id;
  oo.client_secret = cfg->oidc_client_secret;
  oo.redirect_uri = cfg->oidc_callback_url();
  oo.national_id_claim = cfg->oidc_national_id_claim;
  oo.scopes = cfg->oidc_scopes;
  auto oidc_secret = crypto::hex_decode(vault.blind("oidc-state", "v1"));
  if (!oidc_secret) return fail(oidc_secret.error());
  oo.state_secret = *oidc_secret;
  auto oidc_http = services::make_curl_oidc_http(std::chrono::seconds(10));
  std::optional<services::OidcLogin> oidc;
  if (!oo.issuer.empty()) oidc.emplace(*dd->store, accounts, clock, std::move(oo), *oidc_http);
  services::ProxyService proxies(*dd->store, vault, clock,
                                 {cfg->national_id_systems, cfg->guardian_until_age, name_order});
  http::Handler api = http::make_api_handler(
      {*cfg, auth, records, *log->log, log->vkey, documents, accounts, book,
       cfg->clock_control ? &test_clock : nullptr, &shares, &access_log, &proxies,
       oidc ? &*oidc : nullptr});
  installed.store(&api, std::memory_order_release);
  spdlog::info("healthbook serving on http://{}:{} (public URL {}), data in {}", so.address, server.port(),
               cfg->base_url(), cfg->data_dir);
  // Scripts and tests read the port from this line when they ask for port 0.
  std::cout << "listening on " << so.address << ":" << server.port() << std::endl;
  server.run_until_signal();
  installed.store(nullptr);
  housekeeping.stop();
  access_log.stop();
  (*outbox)->stop();
  if (Status s = dd->store->flush(); !s) return fail(s);
  if (Status s = log->log->flush(); !s) return fail(s);
  spdlog::info("healthbook stopped");
  return 0;
}

// `healthbook log verify`: the seen-checkpoints file holds the signed checkpoints verified before,
// each followed by a blank line.
int log_verify(const std::string& source, const std::string& vkey_arg, const std::string& seen_file) {
  std::string vkey = vkey_arg;
  if (vkey.find('+') == std::string::npos) {
    vkey = read_arg_or_file(vkey_arg);
    if (vkey.empty()) return fail(invalid("cannot read the verifier key from " + vkey_arg));
  }
  while (!vkey.empty() && (vkey.back() == '\n' || vkey.back() == '\r' || vkey.back() == ' ')) vkey.pop_back();
  std::vector<std::string> seen;
  if (!seen_file.empty() && std::filesystem::exists(seen_file)) {
    // Notes one after another, each followed by a blank line. A note has a blank line of its own
    // (between its text and its signatures), so a note ends at the first blank line that follows
    // one of its signature lines ("\u2014 name sig"), or at a line that is not a signature there
    // (a checkpoint saved with `curl ... > seen`, then another appended, has no blank line
    // between).
    std::istringstream in(read_arg_or_file(seen_file));
    std::string line, note;
    bool signed_yet = false;
    while (std::getline(in, line)) {
      const bool signature = line.rfind("\xe2\x80\x94 ", 0) == 0;
      if (signed_yet && !signature) {
        seen.push_back(note);
        note.clear();
        signed_yet = false;
      }
      if (line.empty() && note.empty()) continue;
      note += line + "\n";
      if (signature) signed_yet = true;
    }
    if (!note.empty()) seen.push_back(note);
  }
  auto reader = ledger::open_tile_reader(source);
  if (!reader) return fail(reader.error());
  auto report = ledger::verify_log(**reader, vkey, seen);
  if (!report) return fail(report.error());
  std::cout << report->summary() << "\n";
  if (!seen_file.empty()) {
    auto latest = (*reader)->read("checkpoint");
    if (!latest) return fail(latest.error());
    // Each note followed by a blank line, whatever the file ended with so far.
    std::string before;
    if (std::filesystem::exists(seen_file)) before = read_arg_or_file(seen_file);
    std::ofstream out(seen_file, std::ios::app);
    if (!before.empty() && !before.ends_with("\n")) out << "\n";
    if (!before.empty() && !before.ends_with("\n\n")) out << "\n";
    out << *latest << "\n";
    if (!out) return fail(internal("cannot write " + seen_file));
  }
  return 0;
}

// `healthbook verify`: the same verdicts as /verify, offline, against a trusted issuer directory.
//
// What is verified: the shc:/ text or JWS given as the argument; a .smart-health-card file (one
// verdict per credential); or a text file (or "-" for standard input) of cards one per line, shc:/
// or JWS, blank lines ignored. A chunked card (shc:/1/2/..., deprecated) takes as many consecutive
// lines as it has chunks. A file of one line is verified as one card, as before.
struct CardInput {
  std::size_t line = 0;                 // first line of the card in a batch file; 0 otherwise
  std::vector<std::string_view> parts;  // one text, or the chunks of a chunked QR card
};

// The total of chunks N of "shc:/i/N/...", or 0 for anything else.
int shc_chunk_total(std::string_view t) {
  // Most lines are whole cards, "shc:/" and digits only: one memchr for the '/' of a chunk header
  // instead of reading their thousands of digits one at a time.
  if (!t.starts_with("shc:/") || t.find('/', 5) == std::string_view::npos) return 0;
  std::size_t i = 5;
  auto digits = [&] {
    std::size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return t.substr(from, i - from);
  };
  if (digits().empty() || i >= t.size() || t[i] != '/') return 0;
  ++i;
  std::string_view total = digits();
  if (total.empty() || total.size() > 3 || i >= t.size() || t[i] != '/') return 0;
  return std::stoi(std::string(total));
}

std::vector<CardInput> split_card_lines(std::string_view text) {
  std::vector<std::pair<std::size_t, std::string_view>> lines;
  std::size_t number = 0;
  for (std::size_t at = 0; at <= text.size();) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(at, nl - at);
    ++number;
    if (l.ends_with('\r')) l.remove_suffix(1);  // CRLF files; other whitespace is the card's defect
    // A line of spaces or tabs is as blank as an empty one; a card's own text has none around it.
    if (l.find_first_not_of(" \t\r\f\v") != std::string_view::npos) lines.emplace_back(number, l);
    at = nl + 1;
  }
  std::vector<CardInput> cards;
  for (std::size_t i = 0; i < lines.size();) {
    CardInput c{lines[i].first, {lines[i].second}};
    const int total = shc_chunk_total(lines[i].second);
    ++i;
    // The other chunks of the same card follow; the verifier reports missing or foreign ones.
    for (int k = 1; k < total && i < lines.size() && shc_chunk_total(lines[i].second) == total; ++k, ++i) {
      c.parts.push_back(lines[i].second);
    }
    cards.push_back(std::move(c));
  }
  return cards;
}

// Asks for the card's text to be brought into the cache while the card before it is verified.
// split_card_lines has read the whole batch (tens of MB) before the first card is verified, so
// each card's text is back in main memory by its turn, and its first reads (the last byte, to
// strip whitespace; then the digits) waited for it.
void prefetch(const CardInput& c) {
  for (std::string_view part : c.parts) {
    for (std::size_t at = 0; at < part.size(); at += 64) __builtin_prefetch(part.data() + at);
    if (!part.empty()) __builtin_prefetch(part.data() + part.size() - 1);
  }
}

// A picture or another binary file: not a card's text, and not lines of cards either.
bool binary_content(std::string_view text) {
  return text.starts_with("\x89PNG") || text.starts_with("\xFF\xD8\xFF") ||
         text.starts_with("GIF8") || text.substr(0, 4096).find('\0') != std::string_view::npos;
}

// The text past the whitespace and byte order marks it starts with: what kind of input it is (the
// verdict still refuses them around a card).
std::string_view past_space(std::string_view t) {
  for (;;) {
    if (t.starts_with("\xEF\xBB\xBF")) {
      t.remove_prefix(3);
    } else if (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) {
      t.remove_prefix(1);
    } else {
      return t;
    }
  }
}

int verify_card(const std::string& card_arg, const std::string& issuers_file,
                const std::string& anchors_file, const std::string& type, bool as_json) {
  // --type payload and bundle check a card's parts on their own, without a signature: no issuer
  // is involved, so no directory either.
  const bool cards = type == "card";
  documents::IssuerDirectory directory;
  if (cards && issuers_file.empty()) {
    const int code = fail(invalid("--issuers is required"));
    std::cerr << "  run healthbook verify --help for the options\n";
    return code;
  }
  if (!issuers_file.empty()) {
    std::ifstream in(issuers_file);
    if (!in) return fail(not_found("cannot read the issuer directory " + issuers_file));
    std::ostringstream ss;
    ss << in.rdbuf();
    auto parsed = documents::IssuerDirectory::parse(ss.str());
    if (!parsed) return fail(parsed.error());
    directory = std::move(parsed).value();
  }
  if (!anchors_file.empty()) {
    std::ifstream in(anchors_file);
    if (!in) return fail(not_found("cannot read the trust anchors " + anchors_file));
    std::ostringstream ss;
    ss << in.rdbuf();
    auto anchors = crypto::Certificate::from_pem(ss.str());
    if (!anchors) {
      return fail(invalid("trust anchors " + anchors_file + ": " + anchors.error().message()));
    }
    directory.add_trust_anchors(std::move(anchors).value());
  }
  const Clock& clock = SystemClock::instance();
  // The text output names the outcome and reason only; --json shows the bundle too.
  documents::VerifyOptions options;
  options.copy_bundle = as_json;

  // The input: standard input, a file, or the argument's own text. A card's text is no file name
  // (a JWS is too long for one): asking the file system about it is an error to ignore, never a
  // reason to stop. "shc:/..." is always a card.
  std::error_code fs_error;
  const bool from_stdin = card_arg == "-";
  const bool from_file =
      !from_stdin && !card_arg.starts_with("shc:/") && std::filesystem::exists(card_arg, fs_error);
  const std::string_view arg_text = past_space(card_arg);
  if (!from_stdin && !from_file && !arg_text.starts_with("shc:") && !arg_text.starts_with("ey") &&
      !arg_text.starts_with("{")) {
    // Not a card's text either: a mistyped file name, which "unsupported_input" would not say.
    return fail(not_found("no such file: " + card_arg +
                          " (give a file, - for standard input, or the shc:/ "
                          "or JWS text itself)"));
  }
  if (from_file && std::filesystem::is_directory(card_arg, fs_error)) {
    return fail(invalid(card_arg + " is a folder; give a file of cards"));
  }
  std::string owned = card_arg;  // the argument itself, standard input, or a file read in pieces
  std::optional<cli::MappedFile> mapped;
  std::string_view text = owned;
  std::string name;
  if (from_stdin) {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    owned = ss.str();
    text = owned;
    name = "-";
  } else if (from_file) {
    // A regular file is mapped (cli/mapped_file.h): a batch of cards is tens of MB, and reading it
    // cost a microsecond per card in page faults and copying. Anything else is read in large
    // pieces into a string reserved at the file's size. (Pipes such as <(...) have no size and
    // just grow; an unreadable file reads as empty, as it always has.)
    mapped = cli::MappedFile::open(card_arg);
    if (mapped) {
      text = mapped->view();
    } else {
      std::ifstream in(card_arg, std::ios::binary);
      std::error_code size_error;
      const auto size = std::filesystem::file_size(card_arg, size_error);
      owned.clear();
      if (!size_error) owned.reserve(size);
      char piece[64 * 1024];
      while (in.read(piece, sizeof piece) || in.gcount() > 0) {
        owned.append(piece, static_cast<std::size_t>(in.gcount()));
      }
      text = owned;
    }
    name = card_arg;
  }
  // Each verdict is reported as soon as it is made and then dropped: a batch of many cards holds
  // one decoded card at a time.
  std::size_t total = 0;
  // valid, invalid, revoked, superseded (replaced), and valid but not checked for revocation
  std::size_t counts[5] = {0, 0, 0, 0, 0};
  Json out = Json::array();
  std::string buffer;  // text output, written in large pieces
  auto report = [&](documents::Verdict& v, std::size_t line) {
    ++total;
    const bool revoked = v.outcome == documents::Outcome::kRevoked;
    ++counts[v.outcome == documents::Outcome::kValid ? 0 : revoked ? (v.superseded ? 3 : 2) : 1];
    if (v.valid() && v.has(documents::Reason::kCrlOutdated)) ++counts[4];
    if (as_json) {
      Json j = documents::verdict_json(v);
      if (line > 0) j["line"] = line;
      out.push_back(std::move(j));
      return;
    }
    // Appended piece by piece: no temporary strings per card.
    if (line > 0) {
      char digits[24];
      auto end = std::to_chars(digits, digits + sizeof digits, line).ptr;
      buffer += "line ";
      buffer.append(digits, end);
      buffer += ": ";
    }
    buffer += documents::verdict_word(v);
    if (!cards) {
      buffer += type == "payload" ? " (a payload alone: its claims and bundle, with no signature)"
                                  : " (a FHIR bundle alone, with no signature)";
    } else if (!v.iss.empty() && v.outcome != documents::Outcome::kInvalid) {
      buffer += ": issued by ";
      buffer += v.issuer_name.empty() ? v.iss : v.issuer_name;
    } else if (!v.iss.empty()) {
      // What a refused card claims: never the directory's name, as if that issuer had said it.
      buffer += ": says it is from ";
      buffer += v.iss;
    }
    if (!v.valid()) {
      buffer += " (";
      if (!(revoked && v.superseded)) {
        buffer += documents::reason_name(v.reason);
        buffer += ": ";
      }
      buffer += v.message;
      buffer += ")";
    }
    buffer += "\n";
    // Every other finding, a line each: an invalid card's further errors, and warnings.
    bool shown = false;  // the error on the verdict's line, once
    for (const documents::Finding& f : v.findings) {
      const bool error = f.severity == documents::Severity::kError;
      if (error && v.outcome != documents::Outcome::kInvalid) continue;  // the revocation itself
      if (error && !shown && f.reason == v.reason && f.message == v.message) {
        shown = true;
        continue;
      }
      buffer += error ? "  error " : "  warning ";
      buffer += documents::reason_name(f.reason);
      buffer += ": ";
      buffer += f.message;
      buffer += "\n";
    }
    if (buffer.size() > 64 * 1024) {
      std::cout << buffer;
      buffer.clear();
    }
  };
  bool batch = false;
  const bool json_text = past_space(text).starts_with("{");
  if (binary_content(text)) {
    documents::Verdict v;
    v.add(documents::Reason::kUnsupportedInput, documents::Severity::kError,
          "a picture or another binary file: healthbook verify reads a card's text (the shc:/ "
          "text its QR code holds, a JWS or a .smart-health-card file); the /verify page reads "
          "pictures");
    v.finish();
    report(v, 0);
  } else if (type == "payload") {
    documents::Verdict v = documents::check_payload_text(text, clock, true, options);
    report(v, 0);
  } else if (type == "bundle") {
    documents::Verdict v = documents::check_bundle_text(text);
    report(v, 0);
  } else if (name.ends_with(".smart-health-card") || (json_text && from_file)) {
    // A card file: every credential in it, and its name must say what it is.
    for (auto& v : documents::verify_health_card_file(name, text, directory, clock, options)) {
      report(v, 0);
    }
  } else if (json_text) {
    // The JSON of a card file, given as the argument or on standard input: every credential.
    for (auto& v : documents::verify_health_cards(text, directory, clock, options)) report(v, 0);
  } else if (!name.empty()) {
    // A text file: one card per line. A single card keeps the single-card output.
    std::vector<CardInput> inputs = split_card_lines(text);
    batch = inputs.size() > 1;
    // One verdict for the whole batch: each card's payload is parsed into the tree of the card
    // before (verify_health_card_into).
    documents::Verdict verdict;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      if (k + 1 < inputs.size()) prefetch(inputs[k + 1]);
      const CardInput& c = inputs[k];
      if (c.parts.size() == 1) {
        documents::verify_health_card_into(c.parts[0], directory, clock, options, verdict);
      } else {
        verdict = documents::verify_health_card_qr(c.parts, directory, clock, options);
      }
      report(verdict, batch ? c.line : 0);
    }
    if (inputs.empty()) {
      documents::Verdict none = documents::verify_health_card("", directory, clock, options);
      report(none, 0);
    }
  } else {
    // The argument itself: one card, exactly as given.
    documents::Verdict v = documents::verify_health_card(text, directory, clock, options);
    report(v, 0);
  }
  if (as_json) {
    std::cout << dump_json(total == 1 && !batch ? out[0] : out) << "\n";
  } else {
    if (total > 1) {
      buffer += std::to_string(total) + " cards: " + std::to_string(counts[0]) + " valid, " +
                std::to_string(counts[1]) + " invalid, " + std::to_string(counts[2]) + " revoked";
      if (counts[3] > 0) buffer += ", " + std::to_string(counts[3]) + " superseded";
      if (counts[4] > 0) {
        buffer += "; " + std::to_string(counts[4]) + " of the valid not checked for revocation";
      }
      buffer += "\n";
    }
    std::cout << buffer;
  }
  // 0: every card valid; 1: any card not valid; 3: every card valid, but some could not be
  // checked for revocation (the directory's revocation list is older than its issuer's).
  if (total == 0 || counts[0] < total) return 1;
  return counts[4] > 0 ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Healthbook: national digital-health platform (FHIR R4 records, facility onboarding)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");

  Common common;

  auto* init = app.add_subcommand("init", "create a data folder: master key, log and issuer keys, database");
  add_common(init, common);

  auto* serve_cmd = app.add_subcommand("serve", "start the HTTP server (FHIR API at /fhir, token endpoint at /auth/token)");
  add_common(serve_cmd, common, true);

  auto* facility = app.add_subcommand("facility", "manage the facility registry");
  facility->require_subcommand(1);
  services::NewFacility nf;
  auto* fadd = facility->add_subcommand("add", "register a facility");
  add_common(fadd, common);
  fadd->add_option("--code", nf.code, "interconnection code (unique; pattern facilities.code_pattern, default 5 digits)")->required();
  fadd->add_option("--name", nf.name, "facility name")->required();
  fadd->add_option("--kind", nf.kind, "public-hospital, private-hospital, clinic, health-centre, laboratory or pharmacy")->required();
  fadd->add_option("--region", nf.region, "province/region code (default: first two characters of the code)");
  auto* flist = facility->add_subcommand("list", "list facilities");
  add_common(flist, common);
  std::string status_code;
  auto* fsuspend = facility->add_subcommand("suspend", "suspend a facility: its clients are refused at once");
  add_common(fsuspend, common);
  fsuspend->add_option("code", status_code, "interconnection code")->required();
  auto* factivate = facility->add_subcommand("activate", "re-activate a suspended facility");
  add_common(factivate, common);
  factivate->add_option("code", status_code, "interconnection code")->required();

  auto* client = app.add_subcommand("client", "manage facility API clients");
  client->require_subcommand(1);
  services::NewClient nc;
  std::string jwks_arg;
  auto* cadd = client->add_subcommand("add", "register an API client for a facility; prints its client_id");
  add_common(cadd, common);
  cadd->add_option("--facility", nc.facility_code, "interconnection code of the facility")->required();
  cadd->add_option("--name", nc.name, "a name for the client system");
  auto* jw = cadd->add_option("--jwks", jwks_arg, "the client's public JWK Set: a file, or inline JSON");
  auto* ju = cadd->add_option("--jwks-url", nc.jwks_url, "URL of the client's public JWK Set");
  jw->excludes(ju);
  cadd->add_option("--scopes", nc.scopes, "scopes the client may request (default system/*.cruds)");
  auto* clist = client->add_subcommand("list", "list a facility's clients");
  add_common(clist, common);
  std::string list_code;
  clist->add_option("--facility", list_code, "interconnection code")->required();

  auto* log_cmd = app.add_subcommand("log", "the transparency log");
  log_cmd->require_subcommand(1);
  auto* lverify = log_cmd->add_subcommand(
      "verify", "re-derive the whole log from its tiles and check its checkpoint, its entries and that "
                "every checkpoint seen before is consistent with the latest");
  std::string log_source, log_vkey_arg, log_seen_file;
  lverify->add_option("source", log_source, "the log: its URL (https://host/log) or a folder")->required();
  lverify->add_option("--vkey", log_vkey_arg, "the log's verifier key (signed-note vkey), or a file holding it")
      ->required();
  lverify->add_option("--seen", log_seen_file,
                      "file of checkpoints seen before (blank-line separated); checked, then the latest is added");

  auto* verify_cmd = app.add_subcommand(
      "verify",
      "verify SMART Health Cards offline: a .smart-health-card file (every credential in it), an "
      "argument holding shc:/..., a JWS or a card file's JSON, or a text file (- for standard "
      "input) of "
      "cards one per line (shc:/... or JWS; a chunked card on consecutive lines); one verdict per "
      "card "
      "with its warnings, and a total for several; exit 0 when every card is valid, 1 when not "
      "(the "
      "reasons are printed), 3 when every card is valid but some could not be checked for "
      "revocation "
      "(the directory's revocation list is older than the issuer's)");
  std::string card_arg, issuers_file, anchors_file, verify_type = "card";
  bool verify_json = false;
  verify_cmd
      ->add_option("card", card_arg, "file name (- for standard input), or the card's text itself")
      ->required();
  verify_cmd->add_option(
      "--issuers", issuers_file,
      "trusted issuer directory (JSON; a server publishes its own at /api/v1/issuers); "
      "required for cards");
  verify_cmd
      ->add_option(
          "--type", verify_type,
          "what is given: card (the default), or for issuers' tooling a card's parts on their own, "
          "without a signature: payload (the JWT claims as JSON) or bundle (the FHIR bundle)")
      ->check(CLI::IsMember({"card", "payload", "bundle"}));
  verify_cmd->add_option("--trust-anchors", anchors_file,
                         "PEM file of root certificates of a PKI trust framework, added to the directory's "
                         "\"trust_anchors\": an issuer key with an x5c certificate chain must then chain to one of "
                         "them, name the issuer in its subjectAltName and have been valid when the card was issued");
  verify_cmd->add_flag("--json", verify_json, "print the verdict as JSON");

  auto* outbox_cmd = app.add_subcommand("outbox", "notifications waiting, sent or failed (never their recipients)");
  outbox_cmd->require_subcommand(1);
  auto* olist = outbox_cmd->add_subcommand("list", "the newest notifications first");
  std::string outbox_status;
  int outbox_limit = 50;
  add_common(olist, common);
  olist->add_option("--status", outbox_status, "only queued, sending, sent, failed or dead");
  olist->add_option("--limit", outbox_limit, "how many (default 50)")->check(CLI::Range(1, 10000));

  auto* demo = app.add_subcommand("demo", "load demo facilities, clients and the Synthea sample records");
  add_common(demo, common);
  std::string synthea = "tests/data/synthea-10";
  demo->add_option("--from", synthea, "folder of the Synthea NDJSON sample")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help (and --help-all) print their text and exit 0, as CLI11 does. A command-line mistake is
    // a usage error like the others here: exit 2 and one plain line, not CLI11's own exit codes
    // (106 for a missing option), which scripts would have to know.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    const int code = fail(invalid(e.what()));
    std::cerr << "  run healthbook --help (or healthbook <command> --help) for the options\n";
    return code;
  }

  if (*serve_cmd) return serve(common);
  if (*lverify) return log_verify(log_source, log_vkey_arg, log_seen_file);
  if (*verify_cmd)
    return verify_card(card_arg, issuers_file, anchors_file, verify_type, verify_json);

  auto cfg = load(common);
  if (!cfg) return fail(cfg.error());
  spdlog::set_level(spdlog::level::warn);

  if (*init) {
    if (Status s = cli::init_data_dir(cfg->data_dir, cli::log_origin_for(cfg->base_url())); !s) return fail(s);
    std::cout << "initialised " << cfg->data_dir << " (master key, log and issuer keys, database)\n";
    return 0;
  }
  auto dd = cli::open_data_dir(cfg->data_dir);
  if (!dd) return fail(dd.error());
  services::FacilityService facilities(*dd->store, SystemClock::instance(), cfg->facility_code_pattern);

  if (*fadd) {
    auto f = facilities.add(nf);
    if (!f) return fail(f.error());
    std::cout << "added facility " << f->code << " (" << f->name << ", " << f->kind << ", region " << f->region << ")\n";
    return 0;
  }
  if (*flist) {
    auto list = facilities.list();
    if (!list) return fail(list.error());
    for (const auto& f : *list) {
      std::cout << f.code << "\t" << f.status << "\t" << f.kind << "\t" << f.region << "\t" << f.name << "\n";
    }
    return 0;
  }
  if (*fsuspend || *factivate) {
    auto f = facilities.set_status(status_code, *fsuspend ? "suspended" : "active");
    if (!f) return fail(f.error());
    std::cout << "facility " << f->code << " is now " << f->status << "\n";
    return 0;
  }
  if (*cadd) {
    if (!jwks_arg.empty()) {
      nc.jwks = read_arg_or_file(jwks_arg);
      if (nc.jwks.empty()) return fail(invalid("cannot read the JWK Set from " + jwks_arg));
    }
    auto c = facilities.add_client(nc);
    if (!c) return fail(c.error());
    std::cout << c->client_id << "\n";
    return 0;
  }
  if (*clist) {
    auto list = facilities.clients(list_code);
    if (!list) return fail(list.error());
    for (const auto& c : *list) std::cout << c.client_id << "\t" << c.status << "\t" << c.scopes << "\t" << c.name << "\n";
    return 0;
  }
  if (*olist) {
    std::vector<store::OutboxMessage> list;
    Status s = dd->store->read([&](store::Reader& r) -> Status {
      HB_ASSIGN_OR_RETURN(list, r.outbox_list(outbox_status, 0, outbox_limit));
      return Status::ok();
    });
    if (!s) return fail(s);
    for (const auto& m : list) {
      // When the next try is due, while the outbox keeps trying (a "sending" message's is when its
      // claim lapses: not shown).
      const bool waiting = m.status == "queued" || m.status == "failed";
      std::cout << m.id << "\t" << m.channel << "\t" << m.status << "\tattempts " << m.attempts << "\t"
                << format_instant(m.created) << "\t" << (m.sent_at ? format_instant(*m.sent_at) : "-") << "\t"
                << (waiting ? "next " + format_instant(m.next_attempt) : "-") << "\t"
                << (m.last_error.empty() ? "-" : m.last_error) << "\n";
    }
    return 0;
  }
  if (*demo) {
    auto s = cli::load_demo(*cfg, *dd->store, *dd->master, cfg->data_dir, synthea);
    if (!s) return fail(s.error());
    std::cout << "demo loaded: " << s->facilities << " facilities, " << s->clients << " API clients, "
              << s->resources << " resources\nclient keys for trying the API: " << s->client_files << "\n";
    return 0;
  }
  return 0;
}
