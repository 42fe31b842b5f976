// The services against a real SQLite store in a temporary folder, with a test clock.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/random.h"
#include "services/auth.h"
#include "services/facilities.h"
#include "services/principal.h"
#include "services/rate_limit.h"
#include "services/records.h"

namespace hb::services {
namespace {

namespace fs = std::filesystem;

class Services : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hb-svc-" + new_uuid());
    fs::create_directories(dir_);
    store::SqliteOptions o;
    o.path = (dir_ / "hb.db").string();
    o.synchronous_full = false;
    store_ = std::move(store::open_sqlite(o).value());
    master_ = std::make_unique<crypto::MasterKey>(*crypto::MasterKey::create(std::string(32, 'm')));
    vault_ = std::make_unique<Vault>(*master_);
    RecordsOptions ro{"http://hb.test", {"urn:nid"}, {"urn:ins"}, {}};
    records_ = std::make_unique<RecordService>(*store_, *vault_, clock_, ro);
    facilities_ = std::make_unique<FacilityService>(*store_, clock_, "^[0-9]{5}$");
    auth_ = std::make_unique<AuthService>(*store_, clock_,
                                          AuthOptions{"http://hb.test/auth/token", "http://hb.test", 300, 300, 1000});
    a_ = facility("01001");
    b_ = facility("79002");
  }
  void TearDown() override {
    records_.reset();
    auth_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  Principal facility(const std::string& code) {
    auto f = facilities_->add({code, "Facility " + code, "clinic", ""});
    EXPECT_TRUE(f.is_ok()) << f.status().to_string();
    Principal p;
    p.client_id = "client-" + code;
    p.facility_id = f->id;
    p.facility_code = code;
    p.scopes = *Scopes::parse("system/*.cruds");
    return p;
  }

  static std::string patient(const std::string& nid, const std::string& birth, const std::string& family = "Nguyen") {
    return dump_json(Json{{"resourceType", "Patient"},
                          {"identifier", Json::array({{{"system", "urn:nid"}, {"value", nid}}})},
                          {"name", Json::array({{{"family", family}, {"given", Json::array({"An"})}}})},
                          {"birthDate", birth}});
  }
  static std::string observation(const std::string& pid) {
    return dump_json(Json{{"resourceType", "Observation"},
                          {"status", "final"},
                          {"code", {{"coding", Json::array({{{"system", "http://loinc.org"}, {"code", "8480-6"}}})}}},
                          {"subject", {{"reference", "Patient/" + pid}}}});
  }
  // The facility's audit events with outcome 4 (refused), once queued audits are stored.
  int refusals_audited(const Principal& who) {
    EXPECT_TRUE(store_->flush().is_ok());
    std::vector<store::AuditRecord> recs;
    EXPECT_TRUE(store_
                    ->read([&](store::Reader& r) -> Status {
                      HB_ASSIGN_OR_RETURN(recs, r.audit(who.facility_id, "", 0, 1000));
                      return Status::ok();
                    })
                    .is_ok());
    int refused = 0;
    for (const auto& a : recs) refused += a.outcome == "4";
    return refused;
  }
  // PUT Patient/<a new id>: update as create.
  Result<FhirResult> put_new_patient(const Principal& who, const std::string& nid,
                                     const std::string& birth) {
    const std::string id = new_uuid();
    Json p = *parse_json(patient(nid, birth));
    p["id"] = id;
    return records_->update(who, "Patient", id, dump_json(p), std::nullopt);
  }
  std::string id_of(const Result<FhirResult>& r) {
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r ? (*parse_json(r->body))["id"].get<std::string>() : "";
  }

  fs::path dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<crypto::MasterKey> master_;
  std::unique_ptr<Vault> vault_;
  std::unique_ptr<RecordService> records_;
  std::unique_ptr<FacilityService> facilities_;
  std::unique_ptr<AuthService> auth_;
  Principal a_, b_;
};

TEST(ScopesTest, ParsesV2AndV1AndIntersects) {
  auto s = Scopes::parse("system/Observation.rs system/Patient.read system/Encounter.write openid");
  ASSERT_TRUE(s.is_ok());
  EXPECT_TRUE(s->allows("Observation", 'r'));
  EXPECT_TRUE(s->allows("Observation", 's'));
  EXPECT_FALSE(s->allows("Observation", 'c'));
  EXPECT_TRUE(s->allows("Patient", 's'));
  EXPECT_TRUE(s->allows("Encounter", 'd'));
  EXPECT_FALSE(s->allows("Encounter", 'r'));
  EXPECT_FALSE(Scopes::parse("system/Observation.sr").is_ok());  // v2 order is c r u d s
  EXPECT_FALSE(Scopes::parse("system/Observation.x").is_ok());
  auto all = Scopes::parse("system/*.cruds");
  EXPECT_EQ(s->intersect(*all).to_string(), s->to_string());
  auto narrow = Scopes::parse("system/*.rs")->intersect(*Scopes::parse("system/Patient.cruds"));
  EXPECT_EQ(narrow.to_string(), "system/Patient.rs");
}

TEST(RateLimiterTest, AnIpv6ClientIsLimitedByItsSlash64) {
  // Every address of one /64 is one key: a host given a /64 cannot spread its guesses over it.
  EXPECT_EQ(address_key("2001:db8:1:2::1"), "addr:2001:db8:1:2::/64");
  EXPECT_EQ(address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "addr:2001:db8:1:2::/64");
  EXPECT_EQ(address_key("2001:0db8:0001:0002:0:0:0:9"), "addr:2001:db8:1:2::/64");
  EXPECT_NE(address_key("2001:db8:1:3::1"), address_key("2001:db8:1:2::1"));
  EXPECT_EQ(address_key("::1"), "addr:::/64");
  // An IPv4 client reached over IPv6 is the same client as over IPv4.
  EXPECT_EQ(address_key("::ffff:192.0.2.7"), "addr:192.0.2.7");
  EXPECT_EQ(address_key("192.0.2.7"), "addr:192.0.2.7");
  EXPECT_NE(address_key("192.0.2.8"), address_key("192.0.2.7"));
  // Not an address: as it is.
  EXPECT_EQ(address_key("demo"), "addr:demo");
  EXPECT_EQ(address_key(""), "addr:");

  ManualClock clock;
  RateLimiter limiter(clock, 1, 2);
  EXPECT_TRUE(limiter.allow(address_key("2001:db8:1:2::10")));
  EXPECT_TRUE(limiter.allow(address_key("2001:db8:1:2::11")));
  EXPECT_FALSE(limiter.allow(address_key("2001:db8:1:2::12"))) << "the /64 has spent its burst";
  EXPECT_TRUE(limiter.allow(address_key("2001:db8:1:3::12")));
}

TEST(RateLimiterTest, RefillsWithTheClock) {
  ManualClock clock;
  RateLimiter limiter(clock, 60, 5);  // one a second, bursts of five
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow("k"));
  EXPECT_FALSE(limiter.allow("k"));
  EXPECT_TRUE(limiter.allow("other"));
  clock.advance(std::chrono::seconds(2));
  EXPECT_TRUE(limiter.allow("k"));
  EXPECT_TRUE(limiter.allow("k"));
  EXPECT_FALSE(limiter.allow("k"));
}

TEST(RateLimiterTest, ARefundGivesBackOneTokenAndNeverMoreThanTheBurst) {
  ManualClock clock;
  RateLimiter limiter(clock, 60, 2);
  EXPECT_TRUE(limiter.allow("k"));
  EXPECT_TRUE(limiter.allow("k"));
  EXPECT_TRUE(limiter.exhausted("k"));
  limiter.refund("k");
  EXPECT_FALSE(limiter.exhausted("k"));
  EXPECT_TRUE(limiter.allow("k"));
  EXPECT_FALSE(limiter.allow("k"));
  // Refunds past a full bucket are lost: two refunds on a full bucket still leave two tokens.
  clock.advance(std::chrono::seconds(10));
  limiter.refund("k");
  limiter.refund("k");
  EXPECT_TRUE(limiter.allow("k"));
  EXPECT_TRUE(limiter.allow("k"));
  EXPECT_FALSE(limiter.allow("k"));
  limiter.refund("never-seen");  // nothing to give back
  EXPECT_FALSE(limiter.exhausted("never-seen"));
}

TEST(RateLimiterTest, AChargeIsGivenBackUnlessKept) {
  ManualClock clock;
  RateLimiter limiter(clock, 60, 2);
  {
    Charge c(limiter, "k");
    EXPECT_TRUE(c.charged());
  }
  {
    Charge kept(limiter, "k");
    kept.keep();
  }
  {
    Charge last(limiter, "k");
    EXPECT_TRUE(last.charged());
    Charge none(limiter, "k");
    EXPECT_FALSE(none.charged()) << "one was kept, one is held";
  }
  EXPECT_FALSE(limiter.exhausted("k"));
}

TEST(InFlightTest, OneClaimAKeyAtATime) {
  InFlight checks;
  {
    const InFlight::Claim first = checks.claim("link-a");
    EXPECT_TRUE(first.held());
    EXPECT_FALSE(checks.claim("link-a").held());
    EXPECT_TRUE(checks.claim("link-b").held()) << "other keys are free";
  }
  EXPECT_TRUE(checks.claim("link-a").held()) << "released with its claim";
}

TEST_F(Services, FacilityRegistryRejectsMalformedAndDuplicateCodes) {
  EXPECT_EQ(facilities_->add({"1234", "X", "clinic", ""}).error().code(), Code::kInvalid);
  EXPECT_EQ(facilities_->add({"12345", "X", "spaceport", ""}).error().code(), Code::kInvalid);
  EXPECT_EQ(facilities_->add({"01001", "Again", "clinic", ""}).error().code(), Code::kConflict);
  auto list = facilities_->list();
  ASSERT_TRUE(list.is_ok());
  EXPECT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].region, "01");
}

TEST_F(Services, OneFacilityNeverReachesAnothersRecords) {
  std::string pid = id_of(records_->create(a_, "Patient", patient("N1", "1980-01-01"), std::nullopt));
  std::string oid = id_of(records_->create(a_, "Observation", observation(pid), std::nullopt));
  EXPECT_EQ(records_->read(b_, "Patient", pid).error().code(), Code::kNotFound);
  EXPECT_EQ(records_->read(b_, "Observation", oid).error().code(), Code::kNotFound);
  EXPECT_EQ(records_->vread(b_, "Observation", oid, "1").error().code(), Code::kNotFound);
  EXPECT_EQ(records_->history(b_, "Observation", oid, {}).error().code(), Code::kNotFound);
  EXPECT_EQ(records_->remove(b_, "Observation", oid).error().code(), Code::kNotFound);
  Json changed = *parse_json(observation(pid));
  changed["id"] = oid;
  auto upd = records_->update(b_, "Observation", oid, dump_json(changed), std::nullopt);
  EXPECT_FALSE(upd.is_ok());
  auto search = records_->search(b_, "Observation", {{"patient", pid}});
  ASSERT_TRUE(search.is_ok());
  EXPECT_FALSE(parse_json(search->body)->contains("entry"));
  // Writing about a patient B has not registered is refused.
  EXPECT_EQ(records_->create(b_, "Observation", observation(pid), std::nullopt).error().code(), Code::kUnprocessable);
  // Once B registers the same person, B sees the Patient, but still not A's observation.
  auto linked = records_->create(b_, "Patient", patient("N1", "1980-01-01"), std::nullopt);
  ASSERT_TRUE(linked.is_ok());
  EXPECT_EQ(linked->status, 200);
  EXPECT_EQ(id_of(linked), pid);
  EXPECT_TRUE(records_->read(b_, "Patient", pid).is_ok());
  EXPECT_EQ(records_->read(b_, "Observation", oid).error().code(), Code::kNotFound);
}

TEST_F(Services, SamePersonWithOtherDetailsIsRefusedNotMerged) {
  std::string pid = id_of(records_->create(a_, "Patient", patient("N2", "1980-01-01"), std::nullopt));
  auto birth = records_->create(b_, "Patient", patient("N2", "1980-01-02"), std::nullopt);
  ASSERT_FALSE(birth.is_ok());
  EXPECT_EQ(birth.error().code(), Code::kConflict);
  auto name = records_->create(b_, "Patient", patient("N2", "1980-01-01", "Tran"), std::nullopt);
  EXPECT_EQ(name.error().code(), Code::kConflict);
  // B was not linked by the refused attempts.
  EXPECT_EQ(records_->read(b_, "Patient", pid).error().code(), Code::kNotFound);
  // Two identifiers of two different people in one resource are refused too.
  id_of(records_->create(a_, "Patient", patient("N3", "1990-01-01"), std::nullopt));
  Json both = *parse_json(patient("N2", "1980-01-01"));
  both["identifier"].push_back({{"system", "urn:nid"}, {"value", "N3"}});
  EXPECT_EQ(records_->create(b_, "Patient", dump_json(both), std::nullopt).error().code(), Code::kConflict);
}

TEST_F(Services, GuessingAPersonsDetailsIsRateLimitedAndAudited) {
  std::string pid = id_of(records_->create(a_, "Patient", patient("N9", "1980-01-01"), std::nullopt));
  int refused = 0;
  for (int day = 2; day <= 28; ++day) {
    std::string guess = "1980-01-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
    auto r = records_->create(b_, "Patient", patient("N9", guess), std::nullopt);
    ASSERT_FALSE(r.is_ok());
    if (r.error().code() == Code::kTooManyRequests) break;
    EXPECT_EQ(r.error().code(), Code::kConflict);
    ++refused;
  }
  EXPECT_EQ(refused, 20);
  // Even the right answer is refused until the allowance refills.
  EXPECT_EQ(records_->create(b_, "Patient", patient("N9", "1980-01-01"), std::nullopt).error().code(),
            Code::kTooManyRequests);
  clock_.advance(std::chrono::minutes(2));
  auto linked = records_->create(b_, "Patient", patient("N9", "1980-01-01"), std::nullopt);
  ASSERT_TRUE(linked.is_ok()) << linked.status().to_string();
  EXPECT_EQ(id_of(linked), pid);
  EXPECT_EQ(refusals_audited(b_), 20);
}

// A PUT of a Patient under a new id links like a POST: the same refusal, charged to the same
// allowance (it was neither checked nor charged, so it guessed without end).
TEST_F(Services, GuessingThroughPutIsLimitedToo) {
  std::string pid =
      id_of(records_->create(a_, "Patient", patient("N10", "1980-01-01"), std::nullopt));
  int refused = 0;
  std::string wrong_answer;
  for (int day = 2; day <= 28; ++day) {
    std::string guess = "1980-01-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
    auto r = put_new_patient(b_, "N10", guess);
    ASSERT_FALSE(r.is_ok());
    if (r.error().code() == Code::kTooManyRequests) break;
    EXPECT_EQ(r.error().code(), Code::kConflict) << r.error().to_string();
    wrong_answer = r.error().to_string();
    ++refused;
  }
  EXPECT_EQ(refused, 20);
  // The right answer, by PUT or by POST, is refused alike until the allowance refills.
  EXPECT_EQ(put_new_patient(b_, "N10", "1980-01-01").error().code(), Code::kTooManyRequests);
  EXPECT_EQ(
      records_->create(b_, "Patient", patient("N10", "1980-01-01"), std::nullopt).error().code(),
      Code::kTooManyRequests);
  clock_.advance(std::chrono::minutes(2));
  // A PUT with the right details gets the very answer a wrong guess got (it would otherwise
  // confirm the birth date without linking); a POST links.
  auto again = put_new_patient(b_, "N10", "1980-01-01");
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.error().to_string(), wrong_answer);
  EXPECT_EQ(id_of(records_->create(b_, "Patient", patient("N10", "1980-01-01"), std::nullopt)),
            pid);
  EXPECT_EQ(refusals_audited(b_), 21);
}

// Guesses sent at once, by every path, get no more tries than guesses sent one by one: the
// allowance is checked and charged inside the write, which runs one at a time. (Checked before
// the write and charged after it, 40 POSTs at once were all checked against the same full
// allowance; and a transaction's speculation, made on the handler thread, linked on the right
// guess with no check at all.)
TEST_F(Services, LinkGuessesSentAtOnceGetNoMoreTries) {
  std::string pid =
      id_of(records_->create(a_, "Patient", patient("N11", "1980-01-01"), std::nullopt));
  auto guess = [](int day) {
    return "1981-02-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
  };
  std::atomic<int> conflicts{0}, limited{0}, other{0};
  auto count = [&](const Result<FhirResult>& r) {
    if (r.is_ok()) {
      ++other;
    } else if (r.error().code() == Code::kConflict) {
      ++conflicts;
    } else if (r.error().code() == Code::kTooManyRequests) {
      ++limited;
    } else {
      ++other;
    }
  };
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < 40; ++i) {
      threads.emplace_back([&, i] {
        count(i % 2 == 0
                  ? records_->create(b_, "Patient", patient("N11", guess(i % 28 + 1)), std::nullopt)
                  : put_new_patient(b_, "N11", guess(i % 28 + 1)));
      });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(conflicts.load(), 20);
  EXPECT_EQ(limited.load(), 20);
  EXPECT_EQ(other.load(), 0);

  // One try left, then 16 transactions at once, the right answer among them: at most one wrong
  // guess is answered, and the right one links only if it came while the try was left.
  clock_.advance(std::chrono::seconds(4));  // 20 a minute: one token back (and a third)
  conflicts = 0;
  limited = 0;
  std::atomic<int> linked{0};
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i) {
      threads.emplace_back([&, i] {
        Json p = *parse_json(patient("N11", i == 7 ? "1980-01-01" : guess(i + 1)));
        Json bundle{
            {"resourceType", "Bundle"},
            {"type", "transaction"},
            {"entry", Json::array({{{"resource", p},
                                    {"request", {{"method", "POST"}, {"url", "Patient"}}}}})}};
        auto r = records_->bundle(b_, dump_json(bundle));
        if (r.is_ok()) {
          ++linked;
        } else {
          count(r);
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_LE(conflicts.load(), 1);
  EXPECT_LE(linked.load(), 1);
  EXPECT_GE(conflicts.load() + linked.load(), 1);
  EXPECT_EQ(conflicts.load() + linked.load() + limited.load(), 16);
  EXPECT_EQ(other.load(), 0);
  if (linked.load() == 1) {
    EXPECT_TRUE(records_->read(b_, "Patient", pid).is_ok());
  }
}

// A refusal inside a transaction (a document's issuance comes that way too) is audited like a
// POST's. (The audit once looked for the refusal's path, which a transaction rewrites to its
// entry.)
TEST_F(Services, ARefusedLinkInATransactionIsAudited) {
  id_of(records_->create(a_, "Patient", patient("N12", "1980-01-01"), std::nullopt));
  Json bundle{{"resourceType", "Bundle"},
              {"type", "transaction"},
              {"entry", Json::array({{{"resource", *parse_json(patient("N12", "1980-01-02"))},
                                      {"request", {{"method", "POST"}, {"url", "Patient"}}}}})}};
  auto r = records_->bundle(b_, dump_json(bundle));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().code(), Code::kConflict);
  EXPECT_EQ(refusals_audited(b_), 1);
}

TEST_F(Services, BodiesAreEncryptedAtRest) {
  std::string pid = id_of(records_->create(a_, "Patient", patient("SECRET-ID-77", "1980-01-01", "Uniquefamilyname"), std::nullopt));
  ASSERT_TRUE(store_->flush().is_ok());
  std::string raw;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    std::ifstream in(entry.path(), std::ios::binary);
    raw += std::string(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_FALSE(raw.empty());
  EXPECT_EQ(raw.find("Uniquefamilyname"), std::string::npos);
  EXPECT_EQ(raw.find("SECRET-ID-77"), std::string::npos);
  EXPECT_NE(raw.find(pid), std::string::npos);  // ids are not secret
}

TEST_F(Services, EveryReadAndWriteIsAudited) {
  std::string pid = id_of(records_->create(a_, "Patient", patient("N4", "1980-01-01"), std::nullopt));
  ASSERT_TRUE(records_->read(a_, "Patient", pid).is_ok());
  ASSERT_TRUE(records_->search(a_, "Patient", {{"_id", pid}}).is_ok());
  ASSERT_TRUE(store_->flush().is_ok());
  std::vector<store::AuditRecord> recs;
  ASSERT_TRUE(store_->read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(recs, r.audit("", pid, 0, 100));
    return Status::ok();
  }).is_ok());
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].action, "C");
  EXPECT_EQ(recs[1].action, "R");
  EXPECT_EQ(recs[2].event_type, "search-type");
  EXPECT_EQ(recs[1].client_id, a_.client_id);
  EXPECT_EQ(recs[1].facility_id, a_.facility_id);
  // Audit rows name parameters, never their values.
  EXPECT_EQ(recs[2].detail.find(pid), std::string::npos);
}

TEST_F(Services, TransactionFailureLeavesNothing) {
  Json bundle = {{"resourceType", "Bundle"},
                 {"type", "transaction"},
                 {"entry", Json::array({
                     {{"fullUrl", "urn:uuid:11111111-1111-4111-8111-111111111111"},
                      {"resource", *parse_json(patient("TX", "1970-01-01"))},
                      {"request", {{"method", "POST"}, {"url", "Patient"}}}},
                     {{"resource", {{"resourceType", "Observation"}, {"id", "5e11e1e5-0000-4000-8000-000000000001"}, {"status", "final"},
                                    {"code", {{"text", "x"}}},
                                    {"subject", {{"reference", "urn:uuid:11111111-1111-4111-8111-111111111111"}}}}},
                      {"request", {{"method", "PUT"}, {"url", "Observation/5e11e1e5-0000-4000-8000-000000000001"}}}},
                 })}};
  // Make the PUT collide with B's resource: the whole transaction must roll back.
  std::string bp = id_of(records_->create(b_, "Patient", patient("B1", "1990-01-01"), std::nullopt));
  Json bobs = *parse_json(observation(bp));
  bobs["id"] = "5e11e1e5-0000-4000-8000-000000000001";
  ASSERT_TRUE(records_->update(b_, "Observation", "5e11e1e5-0000-4000-8000-000000000001", dump_json(bobs), std::nullopt).is_ok());
  auto r = records_->bundle(a_, dump_json(bundle));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().code(), Code::kForbidden);
  auto search = records_->search(a_, "Patient", {{"identifier", "urn:nid|TX"}});
  ASSERT_TRUE(search.is_ok());
  EXPECT_FALSE(parse_json(search->body)->contains("entry"));
}

TEST_F(Services, ClientChosenIdsMustBeUuidsSoIdsCannotBeProbed) {
  Json obs = *parse_json(observation(id_of(records_->create(a_, "Patient", patient("U1", "1970-01-01"), std::nullopt))));
  obs["id"] = "patient-199001011234";
  auto guessable = records_->update(a_, "Observation", "patient-199001011234", dump_json(obs), std::nullopt);
  ASSERT_FALSE(guessable.is_ok());
  EXPECT_EQ(guessable.error().code(), Code::kNotFound);
  EXPECT_NE(guessable.error().message().find("UUID"), std::string::npos);
  obs["id"] = "0b7c1d2e-3f40-4152-8637-48596a7b8c9d";
  auto chosen = records_->update(a_, "Observation", "0b7c1d2e-3f40-4152-8637-48596a7b8c9d", dump_json(obs), std::nullopt);
  ASSERT_TRUE(chosen.is_ok()) << chosen.status().to_string();
  EXPECT_EQ(chosen->status, 201);
}

class AuthTest : public Services {
 protected:
  void SetUp() override {
    Services::SetUp();
    key_ = std::make_unique<crypto::PrivateKey>(*crypto::PrivateKey::generate(crypto::KeyType::kEcP384));
    Json pub = key_->public_key().to_jwk();
    pub["kid"] = "k1";
    auto c = facilities_->add_client({"01001", "his", dump_json(Json{{"keys", Json::array({pub})}}), "", "system/*.cruds"});
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    client_id_ = c->client_id;
  }
  QueryParams form(const Json& overrides = Json::object()) {
    int64_t now = unix_seconds(clock_.now());
    Json claims = {{"iss", client_id_}, {"sub", client_id_}, {"aud", "http://hb.test/auth/token"},
                   {"exp", now + 120}, {"jti", crypto::random_token(16)}};
    claims.merge_patch(overrides);
    auto jws = crypto::sign_compact_jws(*key_, {{"alg", "ES384"}, {"kid", "k1"}}, dump_json(claims));
    return {{"grant_type", "client_credentials"},
            {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
            {"client_assertion", *jws},
            {"scope", "system/Patient.rs"}};
  }
  std::unique_ptr<crypto::PrivateKey> key_;
  std::string client_id_;
};

TEST_F(AuthTest, TokensExpireOnTheClock) {
  auto grant = auth_->token(form(), "127.0.0.1");
  ASSERT_TRUE(grant.is_ok()) << grant.status().to_string();
  EXPECT_EQ(grant->scope, "system/Patient.rs");
  auto p = auth_->authenticate("Bearer " + grant->access_token, "127.0.0.1");
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_TRUE(p->allows("Patient", 'r'));
  EXPECT_FALSE(p->allows("Patient", 'c'));
  clock_.advance(std::chrono::seconds(299));
  EXPECT_TRUE(auth_->authenticate("Bearer " + grant->access_token, "127.0.0.1").is_ok());
  clock_.advance(std::chrono::seconds(2));
  EXPECT_EQ(auth_->authenticate("Bearer " + grant->access_token, "127.0.0.1").error().code(), Code::kUnauthorized);
}

TEST_F(AuthTest, OnlyTheHashOfATokenIsStored) {
  auto grant = auth_->token(form(), "127.0.0.1");
  ASSERT_TRUE(grant.is_ok());
  ASSERT_TRUE(store_->flush().is_ok());
  std::string raw;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    std::ifstream in(entry.path(), std::ios::binary);
    raw += std::string(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_EQ(raw.find(grant->access_token), std::string::npos);
  EXPECT_NE(raw.find(crypto::sha256_hex(grant->access_token)), std::string::npos);
}

TEST_F(AuthTest, AssertionTimingAndReplay) {
  auto f = form();
  EXPECT_TRUE(auth_->token(f, "127.0.0.1").is_ok());
  EXPECT_EQ(auth_->token(f, "127.0.0.1").error().code(), Code::kUnauthorized);  // replayed jti
  int64_t now = unix_seconds(clock_.now());
  EXPECT_EQ(auth_->token(form({{"exp", now + 301}}), "127.0.0.1").error().code(), Code::kUnauthorized);
  EXPECT_TRUE(auth_->token(form({{"exp", now + 300}}), "127.0.0.1").is_ok());
  auto later = form({{"exp", now + 60}});
  clock_.advance(std::chrono::seconds(61));
  EXPECT_EQ(auth_->token(later, "127.0.0.1").error().code(), Code::kUnauthorized);  // expired
}

}  // namespace
}  // namespace hb::services
