#include "harness.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/clock.h"
#include "crypto/random.h"

extern char** environ;

namespace hb::test {
namespace {

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*headers)[name] = value;
  }
  return size * n;
}

std::vector<char*> cstrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

Json HttpResponse::json() const {
  auto r = parse_json(body);
  if (!r) throw std::runtime_error("response is not JSON: " + body.substr(0, 200));
  return *r;
}

HttpResponse http(const std::string& method, const std::string& url, const std::string& body,
                  const std::vector<std::string>& headers) {
  HttpResponse resp;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST" || method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) resp.status = -static_cast<long>(rc);
  return resp;
}

CommandResult run_healthbook(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> argv = {HB_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> envv;
  for (char** e = environ; *e; ++e) envv.emplace_back(*e);
  envv.insert(envv.end(), env.begin(), env.end());
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
  posix_spawn_file_actions_addclose(&fa, err_pipe[0]);
  pid_t pid;
  auto cargv = cstrings(argv);
  auto cenv = cstrings(envv);
  if (posix_spawn(&pid, HB_BINARY, &fa, nullptr, cargv.data(), cenv.data()) != 0) throw std::runtime_error("spawn");
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);
  CommandResult r;
  r.out = drain(out_pipe[0]);
  r.err = drain(err_pipe[0]);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string gunzip(const std::string& data) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return "(not gzip)";
  std::string out(64 * 1024 + 64 * data.size(), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "(not gzip)";
}

Server::Server(const std::vector<std::string>& env) {
  char tmpl[] = "/tmp/hb-it-XXXXXX";
  data_dir_ = std::string(mkdtemp(tmpl)) + "/data";
  auto init = run_healthbook({"init", "--data", data_dir_});
  if (init.exit_code != 0) throw std::runtime_error("init failed: " + init.err);

  std::vector<std::string> argv = {HB_BINARY, "serve", "--data", data_dir_, "--listen", "127.0.0.1:0"};
  std::vector<std::string> envv;
  for (char** e = environ; *e; ++e) envv.emplace_back(*e);
  envv.push_back("HEALTHBOOK_LOG_LEVEL=warn");
  envv.insert(envv.end(), env.begin(), env.end());
  int out_pipe[2];
  if (pipe(out_pipe) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
  auto cargv = cstrings(argv);
  auto cenv = cstrings(envv);
  if (posix_spawn(&pid_, HB_BINARY, &fa, nullptr, cargv.data(), cenv.data()) != 0) {
    throw std::runtime_error("spawn serve");
  }
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  out_fd_ = out_pipe[0];
  // Wait for "listening on 127.0.0.1:PORT" (after any warnings logged at start, e.g. clock_control).
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto listening = [&out] {
    auto at = out.find("listening on ");
    return at != std::string::npos && out.find('\n', at) != std::string::npos;
  };
  while (!listening()) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("server did not start");
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) > 0) {
      char buf[256];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) throw std::runtime_error("server exited: " + out);
      out.append(buf, static_cast<size_t>(n));
    }
  }
  auto pos = out.find("listening on ");
  if (pos == std::string::npos) throw std::runtime_error("unexpected server output: " + out);
  std::string addr = out.substr(pos + 13, out.find('\n', pos) - pos - 13);
  base_ = "http://" + addr;
}

Server::~Server() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(data_dir_).parent_path(), ec);
}

void Server::add_facility(const std::string& code, const std::string& name, const std::string& kind) {
  auto r = run_healthbook({"facility", "add", "--data", data_dir_, "--code", code, "--name", name, "--kind", kind});
  if (r.exit_code != 0) throw std::runtime_error("facility add: " + r.err);
}

TestClient Server::add_client(const std::string& facility_code, crypto::KeyType type, const std::string& scopes) {
  auto key = crypto::PrivateKey::generate(type);
  if (!key) throw std::runtime_error("keygen");
  Json pub = key->public_key().to_jwk();
  std::string kid = key->public_key().thumbprint();
  pub["kid"] = kid;
  std::string alg = type == crypto::KeyType::kRsa ? "RS384" : type == crypto::KeyType::kEcP384 ? "ES384" : key->default_alg();
  Json jwks = {{"keys", Json::array({pub})}};
  auto r = run_healthbook({"client", "add", "--data", data_dir_, "--facility", facility_code, "--jwks", jwks.dump(),
                           "--scopes", scopes});
  if (r.exit_code != 0) throw std::runtime_error("client add: " + r.err);
  std::string id = r.out;
  while (!id.empty() && (id.back() == '\n')) id.pop_back();
  return TestClient{facility_code, id, *key, kid, alg};
}

std::string Server::assertion(const TestClient& c, const Json& overrides, const crypto::PrivateKey* sign_with,
                              const std::string& kid) const {
  int64_t now = unix_seconds(SystemClock::instance().now());
  Json claims = {{"iss", c.client_id}, {"sub", c.client_id}, {"aud", base_ + "/auth/token"},
                 {"exp", now + 240}, {"jti", crypto::random_token(16)}};
  for (auto it = overrides.begin(); it != overrides.end(); ++it) {
    if (it->is_null()) claims.erase(it.key());
    else claims[it.key()] = *it;
  }
  Json header = {{"alg", c.alg}, {"kid", kid.empty() ? c.kid : kid}, {"typ", "JWT"}};
  auto jws = crypto::sign_compact_jws(sign_with ? *sign_with : c.key, header, claims.dump());
  if (!jws) throw std::runtime_error("sign");
  return *jws;
}

HttpResponse Server::token_request(const std::string& assertion, const std::string& scope) const {
  auto esc = [](const std::string& s) {
    char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
    std::string out(e);
    curl_free(e);
    return out;
  };
  std::string form = "grant_type=client_credentials&scope=" + esc(scope) +
                     "&client_assertion_type=" + esc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                     "&client_assertion=" + esc(assertion);
  return http("POST", base_ + "/auth/token", form, {"Content-Type: application/x-www-form-urlencoded"});
}

std::string Server::token(const TestClient& c, const std::string& scope) const {
  auto r = token_request(assertion(c), scope);
  if (r.status != 200) throw std::runtime_error("token refused: " + r.body);
  return r.json()["access_token"].get<std::string>();
}

HttpResponse Server::get(const std::string& path, const std::string& token, const std::vector<std::string>& headers) const {
  std::vector<std::string> h = headers;
  if (!token.empty()) h.push_back("Authorization: Bearer " + token);
  h.push_back("Accept: application/fhir+json");
  return http("GET", base_ + path, "", h);
}

HttpResponse Server::send(const std::string& method, const std::string& path, const std::string& token,
                          const std::string& body, const std::vector<std::string>& headers) const {
  std::vector<std::string> h = headers;
  if (!token.empty()) h.push_back("Authorization: Bearer " + token);
  bool has_ct = false;
  for (const auto& x : h) has_ct |= x.rfind("Content-Type:", 0) == 0;
  if (!has_ct) h.push_back("Content-Type: application/fhir+json");
  return http(method, base_ + path, body, h);
}

Json patient_json(const Person& p) {
  return {{"resourceType", "Patient"},
          {"identifier", Json::array({{{"system", kNationalIdSystem}, {"value", p.national_id}}})},
          {"name", Json::array({{{"family", p.family}, {"given", Json::array({p.given})}}})},
          {"birthDate", p.birth_date},
          {"telecom", Json::array({{{"system", "phone"}, {"value", p.phone}, {"use", "mobile"}}})}};
}

std::string register_patient(const Server& server, const std::string& token, const Person& p,
                             const Json& extra) {
  Json patient = patient_json(p);
  for (const auto& [k, v] : extra.items()) patient[k] = v;
  auto r = server.send("POST", "/fhir/Patient", token, patient.dump());
  EXPECT_TRUE(r.status == 201 || r.status == 200) << r.body;
  return r.json().value("id", "");
}

std::string cookie_of(const HttpResponse& r) {
  auto it = r.headers.find("set-cookie");
  if (it == r.headers.end()) return "";
  return it->second.substr(0, it->second.find(';'));
}

std::string SmsCodes::next(const std::string& phone) {
  static const std::regex code(R"(code: ([0-9]{6})\.)");
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(server_.data_dir() + "/notify-sms.jsonl");
    std::string line;
    size_t n = 0;
    std::string found;
    while (std::getline(in, line)) {
      if (++n <= read_[phone]) continue;
      Json j = Json::parse(line);
      std::smatch m;
      std::string text = j["text"];
      if (j["to"] == phone && std::regex_search(text, m, code)) {
        found = m[1];
        read_[phone] = n;
      }
    }
    if (!found.empty()) return found;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ADD_FAILURE() << "no SMS code for " << phone;
  return "";
}

HttpResponse account_post(const Server& server, const std::string& route, const Json& body,
                          const std::string& cookie) {
  std::vector<std::string> h = {"X-Healthbook-CSRF: 1", "Content-Type: application/json"};
  if (!cookie.empty()) h.push_back("Cookie: " + cookie);
  return http("POST", server.base() + "/api/v1/account/" + route, body.dump(), h);
}

std::string sign_up(const Server& server, SmsCodes& codes, const Person& p) {
  auto start = account_post(server, "signup/start",
                            {{"nationalId", p.national_id}, {"birthDate", p.birth_date}});
  EXPECT_EQ(start.status, 202) << start.body;
  auto done = account_post(server, "signup/verify",
                           {{"challenge", start.json()["challenge"]},
                            {"code", codes.next(p.phone)},
                            {"password", kResidentPassword}});
  EXPECT_EQ(done.status, 201) << done.body;
  return cookie_of(done);
}

std::string log_in(const Server& server, SmsCodes& codes, const Person& p) {
  auto half = account_post(server, "login",
                           {{"nationalId", p.national_id}, {"password", kResidentPassword}});
  EXPECT_EQ(half.status, 200) << half.body;
  auto full =
      account_post(server, "login/second-factor", {{"code", codes.next(p.phone)}}, cookie_of(half));
  EXPECT_EQ(full.status, 200) << full.body;
  return cookie_of(full);
}

}  // namespace hb::test
