// hb_load: the load generator behind `make bench` (scripts/bench). Not a test: it prints figures.
//
//   hb_load keygen  --out PREFIX                       writes PREFIX.pem and PREFIX.jwks.json
//   (ES256) hb_load token   --base URL --key PEM --client-id ID hb_load ingest-synthea   --dir
//   tests/data/synthea-10 --copies N [--bundle 250] [--conns 4] hb_load load-synthetic   --patients
//   N --obs M [--bundle 250] [--conns 4] hb_load latency  --mode read|search --patients N [--n
//   2000] [--conns 1] hb_load delay    --key2 PEM --client-id2 ID [--n 1000] [--background-conns 0]
//   hb_load issue    [--n 2000] [--conns 8] [--first 0] [--patients 0] [--batch 0] [--save-cards
//   FILE] [--save-links FILE] hb_load rate     --base URL --links FILE [--mode unlock|link|page]
//   [--rate 2000] [--seconds 10]
//                    [--conns 32] [--grace 2] [--save-devices FILE]     fixed arrival rate (open
//                    loop)
//
// Every command but keygen and rate takes --base URL --key PEM --client-id ID. Access tokens come
// from POST /auth/token with a private_key_jwt assertion (ES256) whose aud is the token_endpoint
// that
// /.well-known/smart-configuration announces; they are renewed every 200 s (they live 300 s).
//
// Each connection is one thread with one keep-alive libcurl handle. Bodies are generated as text
// on the fly (no JSON library on the hot path) so the client costs little CPU; each command
// prints its own CPU time (getrusage) next to the figures so that can be checked.
// The last line of each command is "RESULT key=value ..." for scripts/bench.
#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "crypto/keys.h"
#include "crypto/random.h"

namespace {

using Clock = std::chrono::steady_clock;
using hb::Json;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "hb_load: %s\n", msg.c_str());
  std::exit(1);
}

// ---- arguments ------------------------------------------------------------------------------

struct Args {
  std::map<std::string, std::string> kv;
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  std::string need(const std::string& k) const {
    auto it = kv.find(k);
    if (it == kv.end()) die("missing --" + k);
    return it->second;
  }
  long num(const std::string& k, long def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : std::stol(it->second);
  }
};

// ---- HTTP -----------------------------------------------------------------------------------

size_t append_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

struct Reply {
  long status = 0;  // negative: a curl error
  std::string body;
  std::string location;
  std::string link_cookie;  // the value of a Set-Cookie: hb_link=...
};

size_t grab_headers(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  auto value = [&](size_t skip) {
    std::string v(line.substr(skip));
    while (!v.empty() && (v.front() == ' ')) v.erase(0, 1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.pop_back();
    return v;
  };
  auto* r = static_cast<Reply*>(user);
  if (line.size() > 9 && strncasecmp(line.data(), "location:", 9) == 0) {
    r->location = value(9);
  } else if (line.size() > 11 && strncasecmp(line.data(), "set-cookie:", 11) == 0) {
    std::string v = value(11);
    if (v.rfind("hb_link=", 0) == 0) r->link_cookie = v.substr(8, v.find(';') - 8);
  }
  return size * n;
}

// One keep-alive connection (a libcurl easy handle reused for every request).
class Conn {
 public:
  Conn() : h_(curl_easy_init()) {
    if (!h_) die("curl_easy_init");
    curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h_, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, grab_headers);
  }
  ~Conn() { curl_easy_cleanup(h_); }
  Conn(const Conn&) = delete;

  Reply request(const char* method, const std::string& url, const std::string* body,
                const std::vector<std::string>& headers) {
    Reply r;
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for big bodies
    curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(h_, CURLOPT_HEADERDATA, &r);
    if (body) {
      curl_easy_setopt(h_, CURLOPT_POST, 1L);
      curl_easy_setopt(h_, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
      curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, method);
    } else {
      curl_easy_setopt(h_, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, nullptr);
    }
    CURLcode rc = curl_easy_perform(h_);
    if (rc == CURLE_OK) {
      curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &r.status);
    } else {
      r.status = -static_cast<long>(rc);
      r.body = curl_easy_strerror(rc);
    }
    curl_slist_free_all(list);
    return r;
  }

 private:
  CURL* h_;
};

std::string esc(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
  std::string out(e);
  curl_free(e);
  return out;
}

// ---- tokens ---------------------------------------------------------------------------------

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TokenSource {
 public:
  TokenSource(std::string base, std::string client_id, const std::string& pem_file)
      : base_(std::move(base)), client_id_(std::move(client_id)) {
    auto k = hb::crypto::PrivateKey::from_pem(read_file(pem_file));
    if (!k) die("bad key in " + pem_file + ": " + k.error().to_string());
    key_ = std::make_unique<hb::crypto::PrivateKey>(*k);
    kid_ = key_->public_key().thumbprint();
    // SMART discovery: the assertion's aud is the token endpoint the server announces.
    Conn c;
    Reply r = c.request("GET", base_ + "/.well-known/smart-configuration", nullptr, {});
    if (r.status != 200) die("smart-configuration: HTTP " + std::to_string(r.status) + " " + r.body);
    auto j = hb::parse_json(r.body);
    if (!j || !j->contains("token_endpoint")) die("smart-configuration without token_endpoint");
    aud_ = (*j)["token_endpoint"].get<std::string>();
  }

  // A valid access token, renewed when older than 200 s.
  std::string get() {
    std::lock_guard<std::mutex> lock(mu_);
    if (token_.empty() || seconds_since(got_) > 200) {
      token_ = fetch();
      got_ = Clock::now();
    }
    return token_;
  }
  std::string header() { return "Authorization: Bearer " + get(); }

 private:
  std::string fetch() {
    int64_t now = hb::unix_seconds(hb::SystemClock::instance().now());
    Json claims = {{"iss", client_id_}, {"sub", client_id_}, {"aud", aud_},
                   {"exp", now + 240}, {"jti", hb::crypto::random_token(16)}};
    Json header = {{"alg", "ES256"}, {"kid", kid_}, {"typ", "JWT"}};
    auto jws = hb::crypto::sign_compact_jws(*key_, header, claims.dump());
    if (!jws) die("signing the assertion: " + jws.error().to_string());
    std::string form = "grant_type=client_credentials&scope=" + esc("system/*.cruds") +
                       "&client_assertion_type=" + esc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                       "&client_assertion=" + esc(*jws);
    Conn c;
    Reply r = c.request("POST", base_ + "/auth/token", &form, {"Content-Type: application/x-www-form-urlencoded"});
    if (r.status != 200) die("token refused: HTTP " + std::to_string(r.status) + " " + r.body);
    auto j = hb::parse_json(r.body);
    if (!j) die("token response is not JSON");
    return (*j)["access_token"].get<std::string>();
  }

  std::string base_, client_id_, aud_, kid_;
  std::unique_ptr<hb::crypto::PrivateKey> key_;
  std::mutex mu_;
  std::string token_;
  Clock::time_point got_;
};

// ---- statistics -----------------------------------------------------------------------------

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  if (i == 0) i = 1;
  return v[std::min(i, v.size()) - 1];
}

// ---- bundle ingest ----------------------------------------------------------------------------

// A unit of work: builds a transaction Bundle body and says how many resources it holds.
struct Task {
  std::function<size_t(std::string&)> build;
};

struct IngestStats {
  size_t resources = 0;
  size_t bundles = 0;
  size_t bytes = 0;
  size_t errors = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

// Sends the tasks over `conns` connections (one thread each), each task as POST /fhir.
IngestStats run_tasks(const std::string& base, TokenSource& tokens, const std::vector<Task>& tasks,
                      int conns, const std::atomic<bool>* stop = nullptr) {
  IngestStats total;
  std::mutex mu;
  std::atomic<size_t> next{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&] {
      Conn conn;
      IngestStats mine;
      std::string body;
      while (!(stop && stop->load())) {
        size_t i = next.fetch_add(1);
        if (i >= tasks.size()) break;
        body.clear();
        size_t n = tasks[i].build(body);
        auto s = Clock::now();
        Reply r = conn.request("POST", base + "/fhir", &body,
                               {tokens.header(), "Content-Type: application/fhir+json",
                                "Accept: application/fhir+json", "Prefer: return=minimal"});
        mine.latencies_ms.push_back(seconds_since(s) * 1e3);
        if (r.status != 200) {
          if (mine.errors++ < 3) {
            std::fprintf(stderr, "bundle %zu: HTTP %ld %s\n", i, r.status, r.body.substr(0, 600).c_str());
          }
          continue;
        }
        mine.resources += n;
        mine.bundles += 1;
        mine.bytes += body.size();
      }
      std::lock_guard<std::mutex> lock(mu);
      total.resources += mine.resources;
      total.bundles += mine.bundles;
      total.bytes += mine.bytes;
      total.errors += mine.errors;
      total.latencies_ms.insert(total.latencies_ms.end(), mine.latencies_ms.begin(), mine.latencies_ms.end());
    });
  }
  for (auto& t : threads) t.join();
  total.seconds = seconds_since(t0);
  return total;
}

void print_ingest(const char* what, const IngestStats& s) {
  std::printf("%-28s %9zu resources %6zu bundles %7.1f MB in %7.2f s = %8.0f resources/s"
              "  (bundle p50 %.0f ms, p99 %.0f ms, errors %zu)\n",
              what, s.resources, s.bundles, s.bytes / 1e6, s.seconds, s.resources / s.seconds,
              pct(s.latencies_ms, 0.5), pct(s.latencies_ms, 0.99), s.errors);
  std::fflush(stdout);
}

void open_bundle(std::string& b) { b += R"({"resourceType":"Bundle","type":"transaction","entry":[)"; }
void close_bundle(std::string& b) { b += "]}"; }
void add_put(std::string& b, bool first, std::string_view type, std::string_view id, std::string_view resource) {
  if (!first) b += ',';
  b += R"({"resource":)";
  b += resource;
  b += R"(,"request":{"method":"PUT","url":")";
  b += type;
  b += '/';
  b += id;
  b += R"("}})";
}

// ---- Synthea replication ---------------------------------------------------------------------

// Types in the order their references need them (as `healthbook demo` loads them). The first four
// are shared by every copy (referenced by identifier); the rest are replicated with fresh ids.
constexpr const char* kSyntheaTypes[] = {"Organization", "Location", "Practitioner", "PractitionerRole",
                                         "Patient", "Encounter", "Condition", "AllergyIntolerance",
                                         "Immunization", "MedicationRequest", "Procedure",
                                         "DocumentReference"};
constexpr int kShared = 4;

struct Patch {
  size_t off;
  size_t len;
  bool ssn;  // else: a UUID whose first 8 characters become the copy's prefix
};

struct Line {
  std::string type;
  std::string id;
  size_t id_uuid_off = std::string::npos;  // unused when not a UUID
  std::string text;
  std::vector<Patch> patches;
};

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool uuid_at(const std::string& s, size_t i) {
  if (i + 36 > s.size()) return false;
  for (size_t k = 0; k < 36; ++k) {
    char c = s[i + k];
    if (k == 8 || k == 13 || k == 18 || k == 23) {
      if (c != '-') return false;
    } else if (!is_hex(c)) {
      return false;
    }
  }
  return true;
}

std::string copy_prefix(int copy) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", 0xbe000000u + static_cast<unsigned>(copy));
  return buf;
}

std::string map_text(const Line& l, int copy, const std::string& prefix) {
  std::string out;
  out.reserve(l.text.size() + 16);
  size_t at = 0;
  for (const auto& p : l.patches) {
    out.append(l.text, at, p.off - at);
    if (p.ssn) {
      out += 'B';
      out += std::to_string(copy);
      out += '-';
      out.append(l.text, p.off, p.len);
    } else {
      out += prefix;
      out.append(l.text, p.off + 8, 28);
    }
    at = p.off + p.len;
  }
  out.append(l.text, at, std::string::npos);
  return out;
}

std::string map_id(const std::string& id, const std::string& prefix) {
  if (id.size() == 36) return prefix + id.substr(8);
  return id;
}

int cmd_ingest_synthea(const Args& a) {
  std::string base = a.need("base");
  TokenSource tokens(base, a.need("client-id"), a.need("key"));
  std::string dir = a.need("dir");
  int copies = static_cast<int>(a.num("copies", 15));
  int first_copy = static_cast<int>(a.num("first-copy", 0));  // to add copies to a loaded store
  size_t bundle = static_cast<size_t>(a.num("bundle", 250));
  int conns = static_cast<int>(a.num("conns", 4));

  std::vector<std::vector<Line>> by_type(std::size(kSyntheaTypes));
  std::set<std::string> replicated_ids;
  for (size_t t = 0; t < std::size(kSyntheaTypes); ++t) {
    std::string file = dir + "/" + kSyntheaTypes[t] + ".000.ndjson";
    std::ifstream in(file);
    if (!in) die("cannot read " + file);
    std::string text;
    while (std::getline(in, text)) {
      if (text.empty()) continue;
      auto j = hb::parse_json(text);
      if (!j) die("bad JSON in " + file);
      Line l;
      l.type = kSyntheaTypes[t];
      l.id = (*j)["id"].get<std::string>();
      l.text = std::move(text);
      if (static_cast<int>(t) >= kShared) replicated_ids.insert(l.id);
      by_type[t].push_back(std::move(l));
    }
  }
  // Where each copy differs: every UUID that is the id of a replicated resource, and the SSN.
  size_t total_per_copy = 0, shared = 0;
  for (size_t t = 0; t < by_type.size(); ++t) {
    for (auto& l : by_type[t]) {
      if (static_cast<int>(t) < kShared) {
        ++shared;
        continue;
      }
      ++total_per_copy;
      for (size_t i = 0; i + 36 <= l.text.size(); ++i) {
        if (uuid_at(l.text, i) && replicated_ids.count(l.text.substr(i, 36))) {
          l.patches.push_back({i, 36, false});
          i += 35;
        }
      }
      if (l.type == "Patient") {
        const std::string key = R"("system":"http://hl7.org/fhir/sid/us-ssn","value":")";
        auto p = l.text.find(key);
        if (p != std::string::npos) {
          size_t v = p + key.size();
          size_t e = l.text.find('"', v);
          l.patches.push_back({v, e - v, true});
          std::sort(l.patches.begin(), l.patches.end(), [](const Patch& x, const Patch& y) { return x.off < y.off; });
        }
      }
    }
  }
  std::printf("synthea sample: %zu shared resources (Organization, Location, Practitioner, PractitionerRole), "
              "%zu per copy, %d copies = %zu resources to ingest\n",
              shared, total_per_copy, copies, total_per_copy * static_cast<size_t>(copies));

  // Shared resources first, once (not part of the figure: they are 2% of one copy).
  std::vector<const Line*> shared_lines;
  for (int t = 0; t < kShared; ++t) {
    for (const auto& l : by_type[t]) shared_lines.push_back(&l);
  }
  std::vector<Task> shared_tasks;
  for (size_t from = 0; from < shared_lines.size(); from += bundle) {
    size_t to = std::min(shared_lines.size(), from + bundle);
    shared_tasks.push_back({[&, from, to](std::string& b) {
      open_bundle(b);
      for (size_t i = from; i < to; ++i) add_put(b, i == from, shared_lines[i]->type, shared_lines[i]->id, shared_lines[i]->text);
      close_bundle(b);
      return to - from;
    }});
  }
  auto s0 = run_tasks(base, tokens, shared_tasks, 1);
  if (s0.errors) die("loading the shared resources failed");

  // Then the patients of every copy, then everything else (which needs its patient to exist).
  struct Item {
    const Line* line;
    int copy;
  };
  std::vector<Item> patients, rest;
  for (int c = first_copy; c < first_copy + copies; ++c) {
    for (const auto& l : by_type[kShared]) patients.push_back({&l, c});
  }
  for (size_t t = kShared + 1; t < by_type.size(); ++t) {
    for (int c = first_copy; c < first_copy + copies; ++c) {
      for (const auto& l : by_type[t]) rest.push_back({&l, c});
    }
  }
  auto tasks_of = [&](const std::vector<Item>& items) {
    std::vector<Task> tasks;
    for (size_t from = 0; from < items.size(); from += bundle) {
      size_t to = std::min(items.size(), from + bundle);
      tasks.push_back({[&items, from, to](std::string& b) {
        open_bundle(b);
        for (size_t i = from; i < to; ++i) {
          const Line& l = *items[i].line;
          std::string prefix = copy_prefix(items[i].copy);
          add_put(b, i == from, l.type, map_id(l.id, prefix), map_text(l, items[i].copy, prefix));
        }
        close_bundle(b);
        return to - from;
      }});
    }
    return tasks;
  };
  auto ptasks = tasks_of(patients);
  auto rtasks = tasks_of(rest);
  double cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  auto s1 = run_tasks(base, tokens, ptasks, conns);
  print_ingest("  patients", s1);
  auto s2 = run_tasks(base, tokens, rtasks, conns);
  print_ingest("  clinical resources", s2);
  double wall = seconds_since(t0);
  double cpu = cpu_seconds() - cpu0;
  size_t n = s1.resources + s2.resources;
  std::vector<double> lat = s1.latencies_ms;
  lat.insert(lat.end(), s2.latencies_ms.begin(), s2.latencies_ms.end());
  std::printf("synthea ingest: %zu resources in %.2f s = %.0f resources/s over %d connections, bundles of %zu; "
              "client CPU %.2f s (%.0f%% of one core)\n",
              n, wall, n / wall, conns, bundle, cpu, 100 * cpu / wall);
  std::printf("RESULT ingest_resources=%zu ingest_seconds=%.2f ingest_rps=%.0f bundle_p50_ms=%.0f bundle_p99_ms=%.0f "
              "errors=%zu client_cpu_pct=%.0f patient_id=%s\n",
              n, wall, n / wall, pct(lat, 0.5), pct(lat, 0.99), s1.errors + s2.errors, 100 * cpu / wall,
              map_id(by_type[kShared][0].id, copy_prefix(first_copy)).c_str());
  return s1.errors + s2.errors ? 1 : 0;
}

// ---- synthetic Patients and Observations -------------------------------------------------------

struct Loinc {
  const char* code;
  const char* display;
  const char* unit;
  int base;
};
constexpr Loinc kCodes[] = {{"8867-4", "Heart rate", "/min", 60},
                            {"8480-6", "Systolic blood pressure", "mm[Hg]", 110},
                            {"8462-4", "Diastolic blood pressure", "mm[Hg]", 70},
                            {"29463-7", "Body weight", "kg", 50},
                            {"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 80}};

// Ids in UUID form (the server creates by PUT only at UUID-shaped ids): the hex of the first six
// bytes of the run's prefix (zero-padded), a kind (0 = Patient, 1 + tag = Observation), and the
// item's number. bench/search.lua builds the same Patient ids.
std::string bench_id(const std::string& prefix, unsigned kind, long n) {
  unsigned char p[6] = {0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < 6 && i < prefix.size(); ++i) p[i] = static_cast<unsigned char>(prefix[i]);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%04x-8000-%012lx", p[0], p[1], p[2], p[3],
                p[4], p[5], kind & 0xffff, static_cast<unsigned long>(n));
  return buf;
}

std::string patient_id(const std::string& prefix, long i) { return bench_id(prefix, 0, i); }

std::string patient_json(const std::string& prefix, long i) {
  const std::string id = patient_id(prefix, i);
  static const char* fam[] = {"Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui"};
  char buf[512];
  std::snprintf(buf, sizeof buf,
                R"({"resourceType":"Patient","id":"%s","identifier":[{"system":"urn:oid:2.16.704.1.1.1","value":"%s-%09ld"}],)"
                R"("name":[{"family":"%s","given":["Van","%ld"]}],"gender":"%s","birthDate":"%04ld-%02ld-%02ld"})",
                id.c_str(), prefix.c_str(), i, fam[i % 8], i, i % 2 ? "male" : "female", 1940 + i % 70, 1 + i % 12, 1 + i % 28);
  return buf;
}

std::string observation_json(const std::string& id, const std::string& pid, long j) {
  const Loinc& c = kCodes[j % 5];
  char buf[1024];
  long day = j / 5;
  std::snprintf(buf, sizeof buf,
                R"({"resourceType":"Observation","id":"%s","status":"final","category":[{"coding":[{"system":)"
                R"("http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],)"
                R"("code":{"coding":[{"system":"http://loinc.org","code":"%s","display":"%s"}]},)"
                R"("subject":{"reference":"Patient/%s"},"effectiveDateTime":"2024-%02ld-%02ldT08:%02ld:00Z",)"
                R"("valueQuantity":{"value":%ld,"unit":"%s","system":"http://unitsofmeasure.org","code":"%s"}})",
                id.c_str(), c.code, c.display, pid.c_str(), 1 + (day / 28) % 12, 1 + day % 28, j % 60, c.base + (j * 7) % 40,
                c.unit, c.unit);
  return buf;
}

std::vector<Task> patient_tasks(const std::string& prefix, long patients, size_t bundle) {
  std::vector<Task> tasks;
  for (long from = 0; from < patients; from += static_cast<long>(bundle)) {
    long to = std::min(patients, from + static_cast<long>(bundle));
    tasks.push_back({[prefix, from, to](std::string& b) {
      open_bundle(b);
      for (long i = from; i < to; ++i) add_put(b, i == from, "Patient", patient_id(prefix, i), patient_json(prefix, i));
      close_bundle(b);
      return static_cast<size_t>(to - from);
    }});
  }
  return tasks;
}

// Observations patient by patient (a facility sends a patient's results together).
std::vector<Task> observation_tasks(const std::string& prefix, long patients, long per, size_t bundle,
                                    const std::string& id_tag = "") {
  std::vector<Task> tasks;
  long total = patients * per;
  for (long from = 0; from < total; from += static_cast<long>(bundle)) {
    long to = std::min(total, from + static_cast<long>(bundle));
    tasks.push_back({[prefix, per, from, to, id_tag](std::string& b) {
      open_bundle(b);
      for (long k = from; k < to; ++k) {
        std::string pid = patient_id(prefix, k / per);
        std::string oid = bench_id(prefix, 1 + static_cast<unsigned>(std::hash<std::string>{}(id_tag) % 0xfffe), k);
        add_put(b, k == from, "Observation", oid, observation_json(oid, pid, k % per));
      }
      close_bundle(b);
      return static_cast<size_t>(to - from);
    }});
  }
  return tasks;
}

int cmd_load_synthetic(const Args& a) {
  std::string base = a.need("base");
  TokenSource tokens(base, a.need("client-id"), a.need("key"));
  long patients = a.num("patients", 10000);
  long per = a.num("obs", 100);
  size_t bundle = static_cast<size_t>(a.num("bundle", 250));
  int conns = static_cast<int>(a.num("conns", 4));
  std::string prefix = a.get("prefix", "bp");
  double cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  auto s1 = run_tasks(base, tokens, patient_tasks(prefix, patients, bundle), conns);
  print_ingest("  patients", s1);
  auto obs = observation_tasks(prefix, patients, per, bundle);
  // Progress every tenth, so a slow run shows where it is.
  IngestStats s2;
  size_t step = std::max<size_t>(1, obs.size() / 10);
  for (size_t from = 0; from < obs.size(); from += step) {
    std::vector<Task> part(obs.begin() + static_cast<long>(from),
                           obs.begin() + static_cast<long>(std::min(obs.size(), from + step)));
    auto s = run_tasks(base, tokens, part, conns);
    s2.resources += s.resources;
    s2.bundles += s.bundles;
    s2.bytes += s.bytes;
    s2.errors += s.errors;
    s2.seconds += s.seconds;
    s2.latencies_ms.insert(s2.latencies_ms.end(), s.latencies_ms.begin(), s.latencies_ms.end());
    std::printf("    observations %zu/%ld: %.0f resources/s in this slice\n", s2.resources, patients * per,
                s.resources / s.seconds);
    std::fflush(stdout);
  }
  print_ingest("  observations", s2);
  double wall = seconds_since(t0);
  double cpu = cpu_seconds() - cpu0;
  size_t n = s1.resources + s2.resources;
  std::printf("synthetic load: %zu resources in %.1f s = %.0f resources/s; client CPU %.2f s (%.0f%% of one core)\n",
              n, wall, n / wall, cpu, 100 * cpu / wall);
  std::printf("RESULT load_resources=%zu load_seconds=%.1f load_rps=%.0f errors=%zu client_cpu_pct=%.0f\n", n, wall,
              n / wall, s1.errors + s2.errors, 100 * cpu / wall);
  return s1.errors + s2.errors ? 1 : 0;
}

// ---- request latency, one request at a time per connection --------------------------------------

int cmd_latency(const Args& a) {
  std::string base = a.need("base");
  TokenSource tokens(base, a.need("client-id"), a.need("key"));
  std::string mode = a.get("mode", "search");
  long patients = a.num("patients", 10000);
  long n = a.num("n", 2000);
  int conns = static_cast<int>(a.num("conns", 1));
  std::string prefix = a.get("prefix", "bp");
  std::string fixed_id = a.get("id");
  std::mutex mu;
  std::vector<double> lat;
  std::atomic<long> errors{0}, entries{0};
  const std::string auth = tokens.header();  // before the clock starts
  double cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      Conn conn;
      std::mt19937_64 rng(1234 + static_cast<unsigned>(c));
      std::vector<double> mine;
      for (long i = 0; i < n / conns; ++i) {
        std::string url;
        long p = static_cast<long>(rng() % static_cast<unsigned long>(patients));
        if (mode == "read") {
          url = base + "/fhir/Patient/" + (fixed_id.empty() ? patient_id(prefix, p) : fixed_id);
        } else {
          url = base + "/fhir/Observation?patient=" + patient_id(prefix, p) + "&code=http://loinc.org%7C" +
                kCodes[rng() % 5].code;
        }
        auto s = Clock::now();
        Reply r = conn.request("GET", url, nullptr, {auth, "Accept: application/fhir+json"});
        mine.push_back(seconds_since(s) * 1e3);
        if (r.status != 200) {
          if (errors++ < 3) std::fprintf(stderr, "GET %s: HTTP %ld %s\n", url.c_str(), r.status, r.body.substr(0, 300).c_str());
        } else if (mode == "search") {
          size_t k = 0;
          for (size_t at = r.body.find("\"fullUrl\""); at != std::string::npos; at = r.body.find("\"fullUrl\"", at + 1)) ++k;
          entries += static_cast<long>(k);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  double wall = seconds_since(t0);
  double cpu = cpu_seconds() - cpu0;
  std::printf("%s latency over %d connection(s): %zu requests in %.2f s = %.0f/s; p50 %.2f ms, p90 %.2f ms, "
              "p99 %.2f ms, max %.2f ms; errors %ld; %.1f entries per search page; client CPU %.0f%% of one core\n",
              mode.c_str(), conns, lat.size(), wall, lat.size() / wall, pct(lat, 0.5), pct(lat, 0.9), pct(lat, 0.99),
              pct(lat, 1.0), errors.load(), lat.empty() ? 0.0 : static_cast<double>(entries) / lat.size(),
              100 * cpu / wall);
  std::printf("RESULT rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%ld entries=%.1f\n",
              lat.size() / wall, pct(lat, 0.5), pct(lat, 0.9), pct(lat, 0.99), pct(lat, 1.0), errors.load(),
              lat.empty() ? 0.0 : static_cast<double>(entries) / lat.size());
  return errors ? 1 : 0;
}

// ---- ingest-to-readable delay ---------------------------------------------------------------------

int cmd_delay(const Args& a) {
  std::string base = a.need("base");
  TokenSource writer_tokens(base, a.need("client-id"), a.need("key"));
  TokenSource reader_tokens(base, a.need("client-id2"), a.need("key2"));
  long n = a.num("n", 1000);
  int bg_conns = static_cast<int>(a.num("background-conns", 0));
  long poll_us = a.num("poll-us", 1000);
  std::string run = hb::crypto::random_token(6);
  for (auto& ch : run) {
    if (ch == '_') ch = 'x';
  }
  Conn writer;
  const std::string pid = bench_id(run + "dl", 0, 0);
  {
    std::string body = R"({"resourceType":"Patient","id":")" + pid +
                       R"(","name":[{"family":"Delay","given":["Bench"]}],"gender":"other"})";
    Reply r = writer.request("PUT", base + "/fhir/Patient/" + pid, &body,
                             {writer_tokens.header(), "Content-Type: application/fhir+json"});
    if (r.status != 201 && r.status != 200) die("creating the delay patient: HTTP " + std::to_string(r.status) + " " + r.body);
  }

  // Background ingest (optional): synthetic observation bundles until the measurement ends.
  std::atomic<bool> stop{false};
  IngestStats bg;
  std::thread bg_thread;
  if (bg_conns > 0) {
    std::string bprefix = run + "bg";
    const long bg_patients = 200;
    auto s = run_tasks(base, writer_tokens, patient_tasks(bprefix, bg_patients, 200), 1);
    if (s.errors) die("background patients failed");
    bg_thread = std::thread([&, bprefix] {
      // Up to 200 patients x 5000 observations; stops long before that.
      auto tasks = observation_tasks(bprefix, bg_patients, 5000, 250);
      bg = run_tasks(base, writer_tokens, tasks, bg_conns, &stop);
    });
    std::this_thread::sleep_for(std::chrono::seconds(2));  // let it reach a steady state
  }

  std::mutex mu;
  std::condition_variable cv;
  std::string target;   // id the reader should poll for; empty when idle
  Clock::time_point sent;
  bool seen = false;
  double seen_ms = 0;
  bool quit = false;
  long polls = 0;
  std::thread reader([&] {
    Conn conn;
    for (;;) {
      std::string id;
      Clock::time_point start;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return quit || (!target.empty() && !seen); });
        if (quit) return;
        id = target;
        start = sent;
      }
      std::string url = base + "/fhir/Observation/" + id;
      std::string auth = reader_tokens.header();
      for (;;) {
        Reply r = conn.request("GET", url, nullptr, {auth, "Accept: application/fhir+json"});
        ++polls;
        if (r.status == 200) {
          double ms = seconds_since(start) * 1e3;
          std::lock_guard<std::mutex> lock(mu);
          seen = true;
          seen_ms = ms;
          cv.notify_all();
          break;
        }
        if (r.status != 404 && r.status != 410) die("poll: HTTP " + std::to_string(r.status) + " " + r.body);
        if (seconds_since(start) > 30) die("resource not readable after 30 s");
        std::this_thread::sleep_for(std::chrono::microseconds(poll_us));
      }
    }
  });

  std::vector<double> ack, visible;
  long before_ack = 0;
  double cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  for (long i = 0; i < n; ++i) {
    std::string id = bench_id(run + "dl", 1, i);
    std::string body = observation_json(id, pid, i);
    std::string auth = writer_tokens.header();
    {
      std::lock_guard<std::mutex> lock(mu);
      target = id;
      seen = false;
      sent = Clock::now();
      cv.notify_all();
    }
    Reply r = writer.request("PUT", base + "/fhir/Observation/" + id, &body,
                             {auth, "Content-Type: application/fhir+json", "Prefer: return=minimal"});
    double ack_ms = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      ack_ms = seconds_since(sent) * 1e3;
      if (seen) ++before_ack;
    }
    if (r.status != 201 && r.status != 200) die("PUT Observation: HTTP " + std::to_string(r.status) + " " + r.body);
    ack.push_back(ack_ms);
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return seen; });
    visible.push_back(seen_ms);
    target.clear();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    quit = true;
    cv.notify_all();
  }
  reader.join();
  double wall = seconds_since(t0);
  stop = true;
  if (bg_thread.joinable()) bg_thread.join();
  double cpu = cpu_seconds() - cpu0;
  std::printf("ingest-to-readable over %ld writes%s: write acknowledged p50 %.2f ms p99 %.2f ms; readable by the "
              "other client p50 %.2f ms p99 %.2f ms max %.2f ms (polling every %ld us, %.1f polls per write, %ld "
              "read before the ack)\n",
              n, bg_conns ? " under background ingest" : "", pct(ack, 0.5), pct(ack, 0.99), pct(visible, 0.5),
              pct(visible, 0.99), pct(visible, 1.0), poll_us, static_cast<double>(polls) / n, before_ack);
  if (bg_conns) {
    std::printf("  background ingest meanwhile: %zu resources in %.1f s = %.0f resources/s (%d connections)\n",
                bg.resources, bg.seconds, bg.resources / std::max(bg.seconds, 1e-9), bg_conns);
  }
  std::printf("  client CPU %.1f s over %.1f s\n", cpu, wall);
  std::printf("RESULT ack_p50_ms=%.2f ack_p99_ms=%.2f visible_p50_ms=%.2f visible_p99_ms=%.2f visible_max_ms=%.2f "
              "bg_rps=%.0f\n",
              pct(ack, 0.5), pct(ack, 0.99), pct(visible, 0.5), pct(visible, 0.99), pct(visible, 1.0),
              bg_conns ? bg.resources / std::max(bg.seconds, 1e-9) : 0.0);
  return 0;
}

// ---- keys and tokens --------------------------------------------------------------------------

int cmd_keygen(const Args& a) {
  std::string out = a.need("out");
  auto key = hb::crypto::PrivateKey::generate(hb::crypto::KeyType::kEcP256);
  if (!key) die("keygen: " + key.error().to_string());
  Json pub = key->public_key().to_jwk();
  pub["kid"] = key->public_key().thumbprint();
  pub["alg"] = "ES256";
  std::ofstream(out + ".pem") << key->to_pem();
  std::filesystem::permissions(out + ".pem", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(out + ".jwks.json") << Json{{"keys", Json::array({pub})}}.dump() << "\n";
  return 0;
}

int cmd_token(const Args& a) {
  TokenSource tokens(a.need("base"), a.need("client-id"), a.need("key"));
  std::printf("%s\n", tokens.get().c_str());
  return 0;
}

}  // namespace

// ---- document issuance ----------------------------------------------------------------------

// Issues --n medical certificates over --conns connections, each a POST /api/v1/documents that is
// answered only once its card is in the transparency log and its rows are durable. Prints the
// rate and the latency; concurrent requests share log checkpoints and group commits.
// --save-cards FILE writes each card's shc:/ text, one a line; --save-links FILE writes each
// document link's token and the patient's birth date, tab-separated (for the verify and unlock
// benchmarks). The answers are parsed after the clock stops. Each document is for a new patient
// (national id, phone and given name from the document's number, --first onwards), or with
// --patients M > 0 for one of M patients in turn (patient first + i % M: returning patients once
// each has had one document; the birth date follows the patient, so saved links still unlock).
// --batch K > 0 sends K documents a request to POST /api/v1/documents/batch (the latency printed
// is then a batch's).
int cmd_issue(const Args& a) {
  std::string base = a.need("base");
  TokenSource tokens(base, a.need("client-id"), a.need("key"));
  long n = a.num("n", 2000);
  const long first = a.num("first", 0);
  if (first < 0) die("issue: --first must be 0 or more");
  const long patients = a.num("patients", 0);
  if (patients < 0) die("issue: --patients must be 0 or more");
  auto patient_of = [patients](long i) { return patients > 0 ? i % patients : i; };
  int conns = static_cast<int>(a.num("conns", 8));
  const long batch = a.num("batch", 0);
  if (batch < 0 || batch > 1000) die("issue: --batch must be 0 (one document a request) to 1000");
  const std::string cards_file = a.get("save-cards");
  const std::string links_file = a.get("save-links");
  const bool keep = !cards_file.empty() || !links_file.empty();
  std::string run = hb::crypto::random_token(6);
  std::atomic<long> next{0};
  std::mutex mu;
  std::vector<double> lat;
  std::vector<std::string> answers(keep ? static_cast<size_t>(n) : 0);
  std::atomic<long> errors{0};
  auto birth_date = [](long i) {
    char b[16];
    std::snprintf(b, sizeof b, "1980-01-%02ld", 1 + i % 28);
    return std::string(b);
  };
  const std::string auth = tokens.header();  // before the clock starts
  double cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&] {
      Conn conn;
      std::vector<double> mine;
      auto request_of = [&](long i) {
        char body[768];
        std::snprintf(body, sizeof body,
                      R"({"documentId":"B-%s-%ld","kind":"mc-outpatient","patient":{"nationalId":"9%s%07ld",)"
                      R"("family":"Bench","given":"Person %ld","birthDate":"%s","phone":"+8490%07ld"},)"
                      R"("doctor":{"name":"Dr. Bench"},"leave":{"from":"2026-11-20","to":"2026-11-22"}})",
                      run.c_str(), i, "00", first + patient_of(i), first + patient_of(i),
                      birth_date(patient_of(i)).c_str(), first + patient_of(i));
        return std::string(body);
      };
      const long step = batch > 0 ? batch : 1;
      for (long i = next.fetch_add(step); i < n; i = next.fetch_add(step)) {
        const long end = std::min(n, i + step);
        std::string b;
        if (batch == 0) {
          b = request_of(i);
        } else {
          b = R"({"documents":[)";
          for (long k = i; k < end; ++k) b += (k > i ? "," : "") + request_of(k);
          b += "]}";
        }
        auto s = Clock::now();
        Reply r = conn.request(
            "POST", base + (batch == 0 ? "/api/v1/documents" : "/api/v1/documents/batch"), &b,
            {"Authorization: Bearer " + tokens.get(), "Content-Type: application/json"});
        mine.push_back(seconds_since(s) * 1e3);
        if (batch == 0) {
          if (r.status != 201) {
            if (errors++ < 3)
              std::fprintf(stderr, "issue: HTTP %ld %s\n", r.status, r.body.substr(0, 300).c_str());
          } else if (keep) {
            answers[static_cast<size_t>(i)] = std::move(r.body);
          }
          continue;
        }
        // One result a document, read before the next request as a batch client would.
        auto j =
            r.status == 200 ? hb::parse_json(r.body) : hb::Result<Json>(hb::invalid("HTTP status"));
        const Json* results =
            j && j->is_object() && j->contains("documents") ? &(*j)["documents"] : nullptr;
        if (!results || !results->is_array() || results->size() != static_cast<size_t>(end - i)) {
          errors += end - i;
          std::fprintf(stderr, "issue: batch HTTP %ld %s\n", r.status,
                       r.body.substr(0, 300).c_str());
          continue;
        }
        for (long k = i; k < end; ++k) {
          const Json& one = (*results)[static_cast<size_t>(k - i)];
          if (one.value("status", 0) != 201) {
            if (errors++ < 3)
              std::fprintf(stderr, "issue: batch item %s\n", one.dump().substr(0, 300).c_str());
          } else if (keep) {
            answers[static_cast<size_t>(k)] = one["document"].dump();
          }
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  double secs = seconds_since(t0);
  double cpu = cpu_seconds() - cpu0;
  std::printf(
      "issued %ld documents over %d connections%s in %.2f s = %.0f documents/s; p50 %.1f ms, p99 "
      "%.1f ms; "
      "errors %ld; client CPU %.0f%% of one core\n",
      n, conns, batch > 0 ? (", " + std::to_string(batch) + " a request").c_str() : "", secs,
      n / secs, pct(lat, 0.5), pct(lat, 0.99), errors.load(), 100 * cpu / secs);
  if (keep) {
    std::ofstream cards, links;
    if (!cards_file.empty()) cards.open(cards_file);
    if (!links_file.empty()) links.open(links_file);
    long saved = 0;
    for (size_t i = 0; i < answers.size(); ++i) {
      if (answers[i].empty()) continue;
      auto j = hb::parse_json(answers[i]);
      if (!j || !j->is_object()) die("issue: an answer is not JSON");
      if (cards && (*j)["card"].is_object()) cards << (*j)["card"].value("qr", "") << "\n";
      const std::string link = j->value("link", "");
      const size_t at = link.rfind("/c/");
      if (links && at != std::string::npos) links << link.substr(at + 3) << "\t" << birth_date(patient_of(static_cast<long>(i))) << "\n";
      ++saved;
    }
    if ((!cards_file.empty() && !cards) || (!links_file.empty() && !links)) die("issue: cannot write the saved cards or links");
    std::printf("saved %ld issued documents'%s%s\n", saved, cards_file.empty() ? "" : (" cards to " + cards_file).c_str(),
                links_file.empty() ? "" : (" links to " + links_file).c_str());
  }
  std::printf("RESULT issue_n=%ld issue_rps=%.0f issue_p50_ms=%.1f issue_p99_ms=%.1f errors=%ld client_cpu_pct=%.0f\n", n,
              n / secs, pct(lat, 0.5), pct(lat, 0.99), errors.load(), 100 * cpu / secs);
  return errors ? 1 : 0;
}

// ---- fixed arrival rate (open loop) ---------------------------------------------------------------

// Requests at --rate per second for --seconds over --conns connections, whatever the answers'
// pace: connection c sends requests c, c + conns, c + 2*conns, ... each at its intended time
// t0 + k / rate, or at once when the connection is still busy with an earlier one. Latency counts
// from the intended time, so a slow answer also counts against the requests queued behind it (no
// coordinated omission; the model of wrk2). Enough connections keep that queueing rare.
// A server that falls behind would stretch the run without end: requests not sent --grace seconds
// (2) after the last intended time are not sent, and count with their wait until then (a lower
// bound of their latency) and as "unsent".
//
// --links FILE: lines "token<TAB>birthDate[<TAB>device]", used round-robin.
//   --mode unlock: POST /api/v1/links/<token>/unlock {"birthDate"} (the right one); 200 expected.
//                  --save-devices FILE writes "token<TAB>birthDate<TAB>device" with the device
//                  cookie (hb_link) of the last unlock of each link.
//   --mode link:   GET /api/v1/links/<token> with Cookie: hb_link=<device>; 200 expected.
//   --mode page:   GET /c/<token> (the web app's page); 200 expected.
int cmd_rate(const Args& a) {
  std::string base = a.need("base");
  std::string mode = a.get("mode", "unlock");
  if (mode != "unlock" && mode != "link" && mode != "page") die("--mode must be unlock, link or page");
  const double rate = std::stod(a.get("rate", "2000"));
  const double seconds = std::stod(a.get("seconds", "10"));
  const int conns = static_cast<int>(a.num("conns", 32));
  const double grace = std::stod(a.get("grace", "2"));
  const std::string save = a.get("save-devices");
  struct Link {
    std::string token, birth, device;
  };
  std::vector<Link> links;
  {
    std::istringstream in(read_file(a.need("links")));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      Link l;
      std::istringstream f(line);
      std::getline(f, l.token, '\t');
      std::getline(f, l.birth, '\t');
      std::getline(f, l.device, '\t');
      if (mode == "link" && l.device.empty()) die("--mode link needs links with device cookies (--save-devices of --mode unlock)");
      links.push_back(std::move(l));
    }
  }
  if (links.empty()) die("no links in " + a.need("links"));
  const long total = static_cast<long>(rate * seconds);
  std::vector<std::string> devices(mode == "unlock" ? links.size() : 0);
  std::mutex mu;
  std::vector<double> lat;
  std::atomic<long> errors{0}, refused{0}, late{0}, unsent{0};
  std::map<long, long> statuses;
  double cpu0 = cpu_seconds();
  const auto t0 = Clock::now() + std::chrono::milliseconds(100);  // every thread ready by then
  const auto deadline = t0 + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * (seconds + grace)));
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      Conn conn;
      std::vector<double> mine;
      mine.reserve(static_cast<size_t>(total / conns + 1));
      std::map<long, long> my_statuses;
      std::string body;
      for (long k = c; k < total; k += conns) {
        const Link& l = links[static_cast<size_t>(k) % links.size()];
        const auto intended = t0 + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(k) / rate));
        if (Clock::now() < intended) {
          std::this_thread::sleep_until(intended);
        } else if (Clock::now() > deadline) {
          mine.push_back(std::chrono::duration<double>(deadline - intended).count() * 1e3);
          ++unsent;
          continue;
        } else if (Clock::now() - intended > std::chrono::milliseconds(1)) {
          ++late;  // sent more than 1 ms after its time: the connection was still busy
        }
        Reply r;
        if (mode == "unlock") {
          body = R"({"birthDate":")" + l.birth + R"("})";
          r = conn.request("POST", base + "/api/v1/links/" + l.token + "/unlock", &body,
                           {"Content-Type: application/json"});
        } else if (mode == "link") {
          r = conn.request("GET", base + "/api/v1/links/" + l.token, nullptr, {"Cookie: hb_link=" + l.device});
        } else {
          r = conn.request("GET", base + "/c/" + l.token, nullptr, {"Accept: text/html"});
        }
        mine.push_back(std::chrono::duration<double>(Clock::now() - intended).count() * 1e3);
        ++my_statuses[r.status];
        if (r.status != 200) {
          if (r.status == 429 || r.status == 401 || r.status == 410) ++refused;
          if (errors++ < 3) std::fprintf(stderr, "%s: HTTP %ld %s\n", mode.c_str(), r.status, r.body.substr(0, 300).c_str());
        } else if (mode == "unlock") {
          if (r.link_cookie.empty() && errors++ < 3) std::fprintf(stderr, "unlock: 200 without a device cookie\n");
          std::lock_guard<std::mutex> lock(mu);
          devices[static_cast<size_t>(k) % links.size()] = r.link_cookie;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      lat.insert(lat.end(), mine.begin(), mine.end());
      for (const auto& [st, count] : my_statuses) statuses[st] += count;
    });
  }
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::string by_status;
  for (const auto& [st, count] : statuses) by_status += " " + std::to_string(st) + ":" + std::to_string(count);
  std::printf("%s at %.0f requests/s (open loop, %d connections, %zu links): %zu requests in %.2f s = %.0f/s; "
              "latency from the intended send time p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; "
              "statuses%s; %ld sent late, %ld not sent; client CPU %.0f%% of one core\n",
              mode.c_str(), rate, conns, links.size(), lat.size() - static_cast<size_t>(unsent.load()), wall,
              static_cast<double>(lat.size() - static_cast<size_t>(unsent.load())) / wall, pct(lat, 0.5),
              pct(lat, 0.9), pct(lat, 0.99), pct(lat, 1.0), by_status.c_str(), late.load(), unsent.load(),
              100 * cpu / wall);
  if (!save.empty()) {
    std::ofstream out(save);
    for (size_t i = 0; i < links.size(); ++i) {
      if (!devices.empty() && !devices[i].empty()) out << links[i].token << "\t" << links[i].birth << "\t" << devices[i] << "\n";
    }
    if (!out) die("cannot write " + save);
  }
  const double sent = static_cast<double>(lat.size() - static_cast<size_t>(unsent.load()));
  std::printf("RESULT rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%ld refused=%ld late=%ld "
              "unsent=%ld client_cpu_pct=%.0f\n",
              sent / wall, pct(lat, 0.5), pct(lat, 0.9), pct(lat, 0.99), pct(lat, 1.0), errors.load(),
              refused.load(), late.load(), unsent.load(), 100 * cpu / wall);
  return errors || unsent ? 1 : 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: hb_load keygen|token|ingest-synthea|load-synthetic|latency|delay|issue|rate --option value ...\n");
    return 2;
  }
  std::string cmd = argv[1];
  Args a;
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) die("bad argument " + k);
    a.kv[k.substr(2)] = argv[++i];
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 2;
  if (cmd == "keygen") rc = cmd_keygen(a);
  else if (cmd == "token") rc = cmd_token(a);
  else if (cmd == "ingest-synthea") rc = cmd_ingest_synthea(a);
  else if (cmd == "load-synthetic") rc = cmd_load_synthetic(a);
  else if (cmd == "latency") rc = cmd_latency(a);
  else if (cmd == "delay") rc = cmd_delay(a);
  else if (cmd == "issue") rc = cmd_issue(a);
  else if (cmd == "rate") rc = cmd_rate(a);
  else die("unknown command " + cmd);
  curl_global_cleanup();
  return rc;
}
