// A running `healthbook serve` in a fresh data folder, and an HTTP client for tests.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "crypto/keys.h"

namespace hb::test {

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  Json json() const;  // parsed body (throws on invalid JSON: a test failure)
};

HttpResponse http(const std::string& method, const std::string& url, const std::string& body = "",
                  const std::vector<std::string>& headers = {});

// Runs the healthbook binary with arguments; returns exit code, stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult run_healthbook(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

// A facility client able to get tokens: its key and client_id.
struct TestClient {
  std::string facility_code;
  std::string client_id;
  crypto::PrivateKey key;
  std::string kid;
  std::string alg;
};

class Server {
 public:
  // Initialises a data folder, starts the server on a free port.
  explicit Server(const std::vector<std::string>& env = {});
  ~Server();
  Server(const Server&) = delete;

  const std::string& base() const { return base_; }
  const std::string& data_dir() const { return data_dir_; }
  std::vector<std::string> data_args() const { return {"--data", data_dir_}; }

  void add_facility(const std::string& code, const std::string& name, const std::string& kind);
  TestClient add_client(const std::string& facility_code, crypto::KeyType type = crypto::KeyType::kEcP384,
                        const std::string& scopes = "system/*.cruds");
  // A signed client assertion; overrides let tests forge bad ones.
  std::string assertion(const TestClient& c, const Json& overrides = Json::object(),
                        const crypto::PrivateKey* sign_with = nullptr, const std::string& kid = "") const;
  HttpResponse token_request(const std::string& assertion, const std::string& scope = "system/*.cruds") const;
  // A fresh access token (fails the test if refused).
  std::string token(const TestClient& c, const std::string& scope = "system/*.cruds") const;

  HttpResponse get(const std::string& path, const std::string& token,
                   const std::vector<std::string>& headers = {}) const;
  HttpResponse send(const std::string& method, const std::string& path, const std::string& token,
                    const std::string& body, const std::vector<std::string>& headers = {}) const;

 private:
  std::string data_dir_;
  std::string base_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
};

std::string read_file(const std::string& path);
// The data of a gzip member (RFC 1952), or "(not gzip)" when it does not inflate.
std::string gunzip(const std::string& data);

// ---- residents (accounts, book, shares, proxies tests) ----

// A person as facilities register them and as they sign up.
struct Person {
  std::string national_id, birth_date, phone, family, given;
};
inline const Person kMai{"079201001234", "1990-04-12", "+84901234567", "Nguyen", "Thi Mai"};
inline const Person kBinh{"079201005678", "1985-01-30", "+84907654321", "Tran", "Van Binh"};
inline const std::string kResidentPassword = "correct horse 42";
inline const std::string kNationalIdSystem = "urn:oid:2.16.704.1.1.1";
// The headers the resident API asks for.
inline const std::string kCsrf = "X-Healthbook-CSRF: 1";
inline const std::string kJsonCt = "Content-Type: application/json";

// A server for the resident tests: its clock can be moved over HTTP, and Argon2id is cheap (these
// tests are about the flows, not the hash).
inline std::unique_ptr<Server> resident_server() {
  return std::make_unique<Server>(std::vector<std::string>{
      "HEALTHBOOK_TESTING_CLOCK_CONTROL=1", "HEALTHBOOK_ACCOUNTS_PASSWORD_OPS_LIMIT=1",
      "HEALTHBOOK_ACCOUNTS_PASSWORD_MEMORY_KIB=8"});
}

// The person's Patient resource: national id, name, birth date and mobile phone.
Json patient_json(const Person& p);
// POSTs the Patient (with `extra` members merged in) at the facility of `token`; its id.
std::string register_patient(const Server& server, const std::string& token, const Person& p,
                             const Json& extra = Json::object());
// The name=value of a response's Set-Cookie ("" when none).
std::string cookie_of(const HttpResponse& r);

// The SMS codes the server sent (its development sink), each read once.
class SmsCodes {
 public:
  explicit SmsCodes(const Server& server) : server_(server) {}
  // The newest code sent to `phone` that was not read before, waiting up to 5 s for one.
  std::string next(const std::string& phone);

 private:
  const Server& server_;
  std::map<std::string, size_t> read_;  // per phone: lines of the sink already read
};

// POST /api/v1/account/<route> with the CSRF header (and the cookie when given).
HttpResponse account_post(const Server& server, const std::string& route, const Json& body,
                          const std::string& cookie = "");
// Sign-up (a full session cookie) and a later login through the SMS second factor.
std::string sign_up(const Server& server, SmsCodes& codes, const Person& p);
std::string log_in(const Server& server, SmsCodes& codes, const Person& p);

}  // namespace hb::test
