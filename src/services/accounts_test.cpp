// Resident accounts against a real SQLite store, a real outbox (with a recording SMS transport)
// and a test clock: sign-up that proves the person, login with a second factor, the limits on
// every guessable step, session expiry and logout.
#include "services/accounts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <regex>
#include <set>
#include <thread>

#include "core/ids.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "crypto/otp.h"
#include "services/facilities.h"
#include "services/housekeeping.h"
#include "services/records.h"

namespace hb::services {
namespace {

namespace fs = std::filesystem;
using std::chrono::minutes;
using std::chrono::seconds;

class RecordingSms final : public notify::Transport {
 public:
  Status send(const notify::Outgoing& m) override {
    sent.push_back(m);
    return Status::ok();
  }
  std::vector<notify::Outgoing> sent;
};

class NoEmail final : public notify::Transport {
 public:
  Status send(const notify::Outgoing&) override { return invalid("no e-mail in these tests"); }
};

struct Applicant {
  std::string national_id;
  std::string birth_date;
  std::string phone;
  std::string family;
  std::string given;
};

const Applicant kMai{"079201001234", "1990-04-12", "+84901234567", "Nguyen", "Thi Mai"};
const Applicant kBinh{"079201005678", "1985-01-30", "+84907654321", "Tran", "Van Binh"};
const std::string kPassword = "correct horse 42";

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hb-acct-" + new_uuid());
    fs::create_directories(dir_);
    store::SqliteOptions o;
    o.path = (dir_ / "hb.db").string();
    o.synchronous_full = false;
    store_ = std::move(store::open_sqlite(o).value());
    master_ = std::make_unique<crypto::MasterKey>(*crypto::MasterKey::create(std::string(32, 'm')));
    vault_ = std::make_unique<Vault>(*master_);
    records_ = std::make_unique<RecordService>(
        *store_, *vault_, clock_,
        RecordsOptions{"http://localhost:8080", {"urn:nid"}, {"urn:ins"}, {}});
    outbox_ =
        std::move(notify::Outbox::create(*store_, sms_, email_,
                                         *notify::OutboxKeys::derive(std::string(32, 'k')), clock_)
                      .value());
    AccountOptions ao;
    ao.codes_secret = std::string(32, 'c');
    ao.national_id_systems = {"urn:nid"};
    ao.password_cost = {1, 8 * 1024};  // libsodium's minimum: fast tests
    accounts_ = std::make_unique<AccountService>(*store_, *vault_, clock_, ao, outbox_.get());
    FacilityService facilities(*store_, clock_, "^[0-9]{5}$");
    auto f = facilities.add({"01001", "Bach Mai Hospital", "public-hospital", ""});
    ASSERT_TRUE(f.is_ok());
    clinic_.client_id = "c1";
    clinic_.facility_id = f->id;
    clinic_.facility_code = "01001";
    clinic_.scopes = *Scopes::parse("system/*.cruds");
  }
  void TearDown() override {
    accounts_.reset();
    outbox_.reset();
    records_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // A facility registers the person, with the phone they gave at the counter.
  std::string register_patient(const Applicant& p) {
    Json patient = {
        {"resourceType", "Patient"},
        {"identifier", Json::array({{{"system", "urn:nid"}, {"value", p.national_id}}})},
        {"name", Json::array({{{"family", p.family}, {"given", Json::array({p.given})}}})},
        {"birthDate", p.birth_date},
        {"telecom", Json::array({{{"system", "phone"}, {"value", p.phone}, {"use", "mobile"}}})}};
    auto r = records_->create(clinic_, "Patient", dump_json(patient), std::nullopt);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (!r) return "";
    const auto at = r->location.find("/Patient/") + 9;
    return r->location.substr(at, r->location.find("/_history") - at);
  }

  // The SMS codes sent since the last call: (phone, code).
  std::vector<std::pair<std::string, std::string>> texts() {
    EXPECT_TRUE(outbox_->dispatch_due().is_ok());
    std::vector<std::pair<std::string, std::string>> out;
    static const std::regex code(R"(code: ([0-9]{6})\.)");
    for (const auto& m : sms_.sent) {
      std::smatch match;
      EXPECT_TRUE(std::regex_search(m.text, match, code)) << m.text;
      out.emplace_back(m.to, match[1]);
    }
    sms_.sent.clear();
    return out;
  }
  std::string last_code(const std::string& phone) {
    auto t = texts();
    EXPECT_EQ(t.size(), 1u);
    if (t.empty()) return "";
    EXPECT_EQ(t.back().first, phone);
    return t.back().second;
  }

  AccountResult ok(Result<AccountResult> r) {
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r ? *r : AccountResult{};
  }
  // `attempt(i)` for i in [0, n), all at once: every thread waits for the others to be ready.
  // An error reads as status 0.
  static std::vector<AccountResult> at_once(
      int n, const std::function<Result<AccountResult>(int)>& attempt) {
    std::vector<AccountResult> results(static_cast<std::size_t>(n));
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < n) std::this_thread::yield();
        auto r = attempt(i);
        if (r) results[static_cast<std::size_t>(i)] = std::move(*r);
      });
    }
    for (auto& t : threads) t.join();
    return results;
  }

  // Signs the resident up; returns the full session's token.
  std::string sign_up(const Applicant& p, const std::string& address = "10.0.0.1") {
    AccountResult start = ok(accounts_->start_signup(p.national_id, p.birth_date, address));
    EXPECT_EQ(start.status, 202);
    AccountResult done = ok(
        accounts_->finish_signup(start.body["challenge"], last_code(p.phone), kPassword, address));
    EXPECT_EQ(done.status, 201) << dump_json(done.body);
    EXPECT_FALSE(done.session_token.empty());
    return done.session_token;
  }

  // Logs in with the password and the SMS code; returns the full session's token.
  std::string log_in(const Applicant& p, const std::string& address = "10.0.0.1") {
    AccountResult half = ok(accounts_->login(p.national_id, kPassword, address));
    EXPECT_EQ(half.status, 200) << dump_json(half.body);
    AccountResult full =
        ok(accounts_->second_factor(half.session_token, last_code(p.phone), address));
    EXPECT_EQ(full.status, 200) << dump_json(full.body);
    return full.session_token;
  }

  int me_status(const std::string& token) { return ok(accounts_->me(token, "10.0.0.1")).status; }

  std::vector<store::AuditRecord> audit_of(const std::string& patient_id) {
    EXPECT_TRUE(store_->flush().is_ok());
    std::vector<store::AuditRecord> out;
    EXPECT_TRUE(store_
                    ->read([&](store::Reader& r) -> Status {
                      HB_ASSIGN_OR_RETURN(out, r.audit("", patient_id, 0, 1000));
                      return Status::ok();
                    })
                    .is_ok());
    return out;
  }

  fs::path dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<crypto::MasterKey> master_;
  std::unique_ptr<Vault> vault_;
  std::unique_ptr<RecordService> records_;
  RecordingSms sms_;
  NoEmail email_;
  std::unique_ptr<notify::Outbox> outbox_;
  std::unique_ptr<AccountService> accounts_;
  Principal clinic_;
};

TEST_F(AccountsTest, SignUpProvesThePersonAndLinksTheAccount) {
  const std::string pid = register_patient(kMai);
  AccountResult start = ok(accounts_->start_signup(" 079201001234 ", "12/04/1990", "10.0.0.1"));
  ASSERT_EQ(start.status, 202);
  EXPECT_GE(start.body["challenge"].get<std::string>().size(), 43u) << "256 bits";
  const std::string code = last_code(kMai.phone);
  AccountResult done =
      ok(accounts_->finish_signup(start.body["challenge"], code, kPassword, "10.0.0.1"));
  ASSERT_EQ(done.status, 201) << dump_json(done.body);
  AccountResult me = ok(accounts_->me(done.session_token, "10.0.0.1"));
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.body["patient"]["reference"], "Patient/" + pid);
  EXPECT_EQ(me.body["patient"]["name"], "Nguyen Thi Mai");

  // What is stored: an Argon2id string, a hash of the session token, an HMAC of the code.
  ASSERT_TRUE(store_
                  ->read([&](store::Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(auto a, r.account_by_patient(pid));
                    EXPECT_TRUE(a.has_value());
                    if (!a) return Status::ok();
                    EXPECT_EQ(a->password_hash.rfind("$argon2id$", 0), 0u);
                    EXPECT_EQ(a->password_hash.find(kPassword), std::string::npos);
                    EXPECT_TRUE(crypto::verify_password(kPassword, a->password_hash));
                    HB_ASSIGN_OR_RETURN(auto s, r.account_session(done.session_token));
                    EXPECT_FALSE(s.has_value()) << "the token itself is never a key";
                    HB_ASSIGN_OR_RETURN(s,
                                        r.account_session(crypto::sha256_hex(done.session_token)));
                    EXPECT_TRUE(s && s->second_factor && s->account_id == a->id);
                    HB_ASSIGN_OR_RETURN(auto c, r.one_time_code(crypto::sha256_hex(
                                                    start.body["challenge"].get<std::string>())));
                    EXPECT_TRUE(c && c->used);
                    EXPECT_EQ(c->code_mac.find(code), std::string::npos);
                    return Status::ok();
                  })
                  .is_ok());

  // Audited: the start, the sign-up and the read; nothing secret in them.
  std::set<std::string> events;
  for (const auto& a : audit_of(pid)) {
    events.insert(a.event_type);
    EXPECT_EQ(a.detail.find(code), std::string::npos);
    EXPECT_EQ(a.detail.find(kPassword), std::string::npos);
    EXPECT_EQ(a.detail.find(kMai.national_id), std::string::npos);
  }
  EXPECT_TRUE(events.count("account-signup-start") && events.count("account-signup") &&
              events.count("account-me"));

  // A second account for the same person is refused (after proving the phone again).
  AccountResult again = ok(accounts_->start_signup(kMai.national_id, kMai.birth_date, "10.0.0.1"));
  EXPECT_EQ(ok(accounts_->finish_signup(again.body["challenge"], last_code(kMai.phone), kPassword,
                                        "10.0.0.1"))
                .status,
            409);
}

TEST_F(AccountsTest, AWrongBirthDateAndAnUnknownIdAnswerAlikeAndSendNothing) {
  register_patient(kMai);
  auto shape = [](AccountResult r) {
    EXPECT_FALSE(r.body["challenge"].get<std::string>().empty());
    r.body.erase("challenge");
    return std::to_string(r.status) + dump_json(r.body);
  };
  const AccountResult wrong_birth =
      ok(accounts_->start_signup(kMai.national_id, "1990-04-13", "10.0.0.1"));
  const AccountResult unknown =
      ok(accounts_->start_signup("079299999999", kMai.birth_date, "10.0.0.2"));
  const AccountResult right =
      ok(accounts_->start_signup(kMai.national_id, kMai.birth_date, "10.0.0.3"));
  EXPECT_EQ(shape(wrong_birth), shape(right));
  EXPECT_EQ(shape(unknown), shape(right));
  auto sent = texts();
  ASSERT_EQ(sent.size(), 1u) << "only the match gets a code";
  EXPECT_EQ(sent[0].first, kMai.phone);
  // Their challenges take codes like a real one and never work, not even with the real code.
  const std::string wrong = sent[0].second == "000000" ? "000001" : "000000";
  AccountResult real_wrong =
      ok(accounts_->finish_signup(right.body["challenge"], wrong, kPassword, "10.0.0.9"));
  for (const AccountResult* r : {&wrong_birth, &unknown}) {
    AccountResult a =
        ok(accounts_->finish_signup(r->body["challenge"], sent[0].second, kPassword, "10.0.0.9"));
    EXPECT_EQ(a.status, 401);
    EXPECT_EQ(dump_json(a.body), dump_json(real_wrong.body))
        << "a decoy and a real challenge answer alike";
  }
}

TEST_F(AccountsTest, CodesExpireDieAfterFiveWrongTriesAndWorkOnce) {
  register_patient(kMai);
  // Expiry.
  AccountResult s1 = ok(accounts_->start_signup(kMai.national_id, kMai.birth_date, "10.0.0.1"));
  const std::string c1 = last_code(kMai.phone);
  clock_.advance(AccountService::kCodeLifetime + seconds(1));
  EXPECT_EQ(ok(accounts_->finish_signup(s1.body["challenge"], c1, kPassword, "10.0.0.1")).status,
            410);

  // Five wrong tries kill the code, even for the right one after.
  AccountResult s2 = ok(accounts_->start_signup(kMai.national_id, kMai.birth_date, "10.0.0.1"));
  const std::string c2 = last_code(kMai.phone);
  const std::string wrong = c2 == "123456" ? "654321" : "123456";
  for (int i = 1; i < AccountService::kCodeTries; ++i) {
    AccountResult r =
        ok(accounts_->finish_signup(s2.body["challenge"], wrong, kPassword, "10.0.0.1"));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body["remainingAttempts"], AccountService::kCodeTries - i);
  }
  EXPECT_EQ(ok(accounts_->finish_signup(s2.body["challenge"], wrong, kPassword, "10.0.0.1")).status,
            410);
  EXPECT_EQ(ok(accounts_->finish_signup(s2.body["challenge"], c2, kPassword, "10.0.0.1")).status,
            410);

  // A weak password is refused before the code is looked at: no try is used.
  AccountResult s3 = ok(accounts_->start_signup(kMai.national_id, kMai.birth_date, "10.0.0.1"));
  const std::string c3 = last_code(kMai.phone);
  EXPECT_EQ(
      accounts_->finish_signup(s3.body["challenge"], c3, "short1", "10.0.0.1").status().code(),
      Code::kUnprocessable);
  EXPECT_EQ(
      accounts_->finish_signup(s3.body["challenge"], c3, "my id " + kMai.national_id, "10.0.0.1")
          .status()
          .code(),
      Code::kUnprocessable)
      << "not the person's own national id";
  AccountResult made =
      ok(accounts_->finish_signup(s3.body["challenge"], c3, kPassword, "10.0.0.1"));
  EXPECT_EQ(made.status, 201);
  // Replayed: the same code again is refused.
  EXPECT_EQ(ok(accounts_->finish_signup(s3.body["challenge"], c3, kPassword, "10.0.0.1")).status,
            410);
  EXPECT_EQ(ok(accounts_->finish_signup("not-a-challenge", c3, kPassword, "10.0.0.1")).status, 410);
}

TEST_F(AccountsTest, SignUpIsRateLimitedPerNationalIdAndPerAddress) {
  register_patient(kMai);
  for (int i = 0; i < AccountService::kSignupsPerId; ++i) {
    EXPECT_EQ(ok(accounts_->start_signup(kMai.national_id, kMai.birth_date,
                                         "10.0.1." + std::to_string(i)))
                  .status,
              202);
  }
  AccountResult limited =
      ok(accounts_->start_signup(kMai.national_id, kMai.birth_date, "10.0.2.1"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_GT(limited.retry_after, 0);
  EXPECT_EQ(texts().size(), static_cast<size_t>(AccountService::kSignupsPerId));
  for (int i = 0; i < AccountService::kSignupsPerAddress; ++i) {
    EXPECT_EQ(
        ok(accounts_->start_signup("07920000" + std::to_string(1000 + i), "2000-01-01", "10.0.3.1"))
            .status,
        202);
  }
  EXPECT_EQ(ok(accounts_->start_signup("079200009999", "2000-01-01", "10.0.3.1")).status, 429);
  clock_.advance(std::chrono::hours(1));
  EXPECT_EQ(ok(accounts_->start_signup(kMai.national_id, kMai.birth_date, "10.0.3.1")).status, 202);
}

// Sign-up codes sent at once from one address: the address pays for each before it is checked,
// so no more than kWrongPerAddress of them are checked and counted against their challenges.
TEST_F(AccountsTest, CodesSentAtOnceFromOneAddressGetNoMoreTries) {
  constexpr int kPeople = 7;  // kPeople * kCodeTries > kWrongPerAddress
  static_assert(kPeople * AccountService::kCodeTries > AccountService::kWrongPerAddress);
  std::vector<std::string> challenges;
  std::set<std::string> codes;
  for (int i = 0; i < kPeople; ++i) {
    const std::string n = std::to_string(i);
    Applicant r{"07920100100" + n, "1990-04-12", "+8490123450" + n, "Nguyen", "Person " + n};
    register_patient(r);
    AccountResult start = ok(accounts_->start_signup(r.national_id, r.birth_date, "10.1.0." + n));
    ASSERT_EQ(start.status, 202);
    challenges.push_back(start.body["challenge"]);
    codes.insert(last_code(r.phone));
  }
  std::string wrong = "100000";
  while (codes.count(wrong)) wrong = std::to_string(std::stoi(wrong) + 1);
  const std::vector<AccountResult> results =
      at_once(kPeople * AccountService::kCodeTries, [&](int i) {
        return accounts_->finish_signup(challenges[static_cast<std::size_t>(i % kPeople)], wrong,
                                        kPassword, "10.9.9.9");
      });
  int checked = 0, limited = 0;
  for (const AccountResult& r : results) {
    if (r.status == 429) {
      ++limited;
    } else {
      ++checked;
      EXPECT_TRUE(r.status == 401 || r.status == 410) << r.status << " " << dump_json(r.body);
    }
  }
  EXPECT_EQ(checked, AccountService::kWrongPerAddress);
  EXPECT_EQ(limited, kPeople * AccountService::kCodeTries - AccountService::kWrongPerAddress);
}

TEST_F(AccountsTest, PasswordPolicy) {
  EXPECT_TRUE(AccountService::check_password("correct horse 42", "079201001234").is_ok());
  EXPECT_TRUE(AccountService::check_password("Đường-phố-cũ", "").is_ok())
      << "non-ASCII counts as another class";
  EXPECT_FALSE(AccountService::check_password("Short1!", "").is_ok());
  EXPECT_FALSE(AccountService::check_password("alllowercaseletters", "").is_ok());
  EXPECT_FALSE(AccountService::check_password("12345678901234", "").is_ok());
  EXPECT_FALSE(AccountService::check_password("id079201001234", "079201001234").is_ok());
  EXPECT_FALSE(AccountService::check_password(std::string(300, 'a') + "1", "").is_ok());
  EXPECT_EQ(AccountService::check_password("aaaaaaaaaa", "").code(), Code::kUnprocessable);
}

TEST_F(AccountsTest, FiveWrongPasswordsLockTheAccountAndAnUnknownIdLooksTheSame) {
  register_patient(kMai);
  sign_up(kMai);
  for (int i = 1; i < AccountService::kWrongPerAccount; ++i) {
    AccountResult real =
        ok(accounts_->login(kMai.national_id, "wrong password 1", "10.0.0." + std::to_string(i)));
    AccountResult fake =
        ok(accounts_->login("079299999999", "wrong password 1", "10.0.1." + std::to_string(i)));
    EXPECT_EQ(real.status, 401);
    EXPECT_EQ(dump_json(real.body), dump_json(fake.body));
    EXPECT_TRUE(real.session_token.empty());
  }
  AccountResult locked = ok(accounts_->login(kMai.national_id, "wrong password 1", "10.0.0.9"));
  AccountResult fake = ok(accounts_->login("079299999999", "wrong password 1", "10.0.1.9"));
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(dump_json(locked.body), dump_json(fake.body));
  EXPECT_EQ(ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.10")).status, 429)
      << "even the right one";
  clock_.advance(AccountService::kLockFor + seconds(1));
  AccountResult half = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.10"));
  EXPECT_EQ(half.status, 200);
  EXPECT_EQ(half.body["secondFactor"]["smsSent"], true);
}

// Each lock in a row lasts twice as long as the one before, up to a day, until a whole sign-in (or
// a day after the last lock ended): with
// the password alone, five guesses at the second factor a quarter of an hour for ever would
// come to tens of thousands a year. An unknown id locks the same way, so the lock says nothing.
TEST_F(AccountsTest, LocksInARowGetLongerUntilAWholeSignIn) {
  EXPECT_EQ(AccountService::lock_length(0), AccountService::kLockFor);
  EXPECT_EQ(AccountService::lock_length(1), 2 * AccountService::kLockFor);
  EXPECT_EQ(AccountService::lock_length(6), 64 * AccountService::kLockFor);
  EXPECT_EQ(AccountService::lock_length(7), AccountService::kLockForMost);
  EXPECT_EQ(AccountService::lock_length(1000), AccountService::kLockForMost);

  register_patient(kMai);
  sign_up(kMai);
  int address = 0;
  auto lock = [&](const std::string& national_id) {
    AccountResult r;
    for (int i = 0; i < AccountService::kWrongPerAccount; ++i) {
      r = ok(accounts_->login(national_id, "wrong password 1",
                              "10.3.0." + std::to_string(++address % 250)));
    }
    EXPECT_EQ(r.status, 429) << dump_json(r.body);
    return r;
  };
  for (int k = 0; k < 3; ++k) {
    const AccountResult real = lock(kMai.national_id);
    const AccountResult fake = lock("079299999999");
    const int minutes = 15 << k;
    EXPECT_NEAR(real.retry_after, minutes * 60, 1) << "lock " << k;
    EXPECT_EQ(dump_json(real.body), dump_json(fake.body)) << "lock " << k;
    clock_.advance(std::chrono::minutes(minutes) - seconds(1));
    EXPECT_EQ(ok(accounts_->login(kMai.national_id, kPassword, "10.3.1.1")).status, 429);
    clock_.advance(seconds(2));
  }
  log_in(kMai);  // a whole sign-in: the next lock is the first again
  EXPECT_NEAR(lock(kMai.national_id).retry_after, 15 * 60, 1);
  // So is one a day or more after the last lock ended.
  clock_.advance(AccountService::kLockFor + AccountService::kLockForMost - seconds(1));
  EXPECT_NEAR(lock(kMai.national_id).retry_after, 30 * 60, 1) << "a day after, less a second";
  clock_.advance(2 * AccountService::kLockFor + AccountService::kLockForMost);
  EXPECT_NEAR(lock(kMai.national_id).retry_after, 15 * 60, 1);
}

// Passwords sent at once are checked one after another against the account's strikes: a script
// cannot get more than kWrongPerAccount tries by sending them together, nor the right password
// past the lock that the ones beside it set. Each from its own address, so that only the
// account's own limit is at work.
TEST_F(AccountsTest, PasswordsSentAtOnceAreCheckedOneAfterAnother) {
  register_patient(kMai);
  sign_up(kMai);
  int wrong = 0;
  int round = 0;
  bool locked = false;
  for (; round < 50 && !locked; ++round) {
    const std::vector<AccountResult> results = at_once(6, [&](int i) {
      return accounts_->login(kMai.national_id, "wrong password " + std::to_string(i),
                              "10.7." + std::to_string(round) + "." + std::to_string(i));
    });
    for (const AccountResult& r : results) {
      ASSERT_TRUE(r.status == 401 || r.status == 429) << r.status << " " << dump_json(r.body);
      if (r.status == 401) ++wrong;
      if (r.status == 429 && r.body.value("title", "") == "locked") locked = true;
    }
  }
  ASSERT_TRUE(locked) << "in " << round << " rounds";
  // The fifth wrong password locks the account and says so (429), like every attempt after it.
  EXPECT_EQ(wrong, AccountService::kWrongPerAccount - 1) << "in " << round << " rounds";
  EXPECT_EQ(ok(accounts_->login(kMai.national_id, kPassword, "10.7.99.1")).status, 429);
}

// The right password sent at once with the wrong ones that lock the account: they are checked one
// after another, as if they had come one by one. A right password does not clear the strikes, so
// with four of them any wrong password checked locks, and no right one is let in after that.
TEST_F(AccountsTest, TheRightPasswordSentWithTheOnesThatLockTheAccountIsCheckedInTurn) {
  const std::string pid = register_patient(kMai);
  sign_up(kMai);
  for (int n = 0; n < 3; ++n) {
    int64_t last_seq = 0;
    for (const auto& a : audit_of(pid)) last_seq = std::max(last_seq, a.seq);
    // A fresh start each time: past any lock, and a day after it (locks in a row get longer).
    clock_.advance(2 * AccountService::kLockForMost);
    for (int i = 1; i < AccountService::kWrongPerAccount; ++i) {
      ASSERT_EQ(ok(accounts_->login(kMai.national_id, "wrong password 1",
                                    "10.6." + std::to_string(n) + "." + std::to_string(i)))
                    .status,
                401);
    }
    const std::vector<AccountResult> results = at_once(6, [&](int i) {
      return accounts_->login(kMai.national_id, i % 2 ? kPassword : "wrong password 2",
                              "10.7." + std::to_string(n) + "." + std::to_string(i));
    });
    int opened = 0, wrong = 0, locked = 0;
    for (const AccountResult& r : results) {
      ASSERT_TRUE(r.status == 200 || r.status == 401 || r.status == 429) << r.status;
      opened += r.status == 200;
      wrong += r.status == 401;
      locked += r.status == 429 && r.body.value("title", "") == "locked";
    }
    EXPECT_EQ(wrong, 0) << "round " << n;
    // Each check writes its audit event while it holds the account, so their order is the order
    // of the checks: no right password after the first lock.
    std::vector<store::AuditRecord> events;
    for (const auto& a : audit_of(pid)) {
      if (a.seq > last_seq) events.push_back(a);
    }
    std::sort(events.begin(), events.end(),
              [](const auto& a, const auto& b) { return a.seq < b.seq; });
    bool locked_before = false;
    int let_in = 0;
    for (const auto& a : events) {
      if (a.event_type == "account-login-password") {
        ++let_in;
        EXPECT_FALSE(locked_before) << "round " << n << ": a right password let in after the lock";
      }
      if (a.event_type == "account-login" && a.detail.find("locked") != std::string::npos) {
        locked_before = true;
      }
    }
    EXPECT_EQ(let_in, opened) << "round " << n;
    EXPECT_EQ(locked_before, locked > 0) << "round " << n;
  }
}

TEST_F(AccountsTest, OneAddressCannotGuessManyAccounts) {
  for (int i = 0; i < AccountService::kWrongPerAddress; ++i) {
    EXPECT_EQ(
        ok(accounts_->login("0792000" + std::to_string(10000 + i), "wrong password 1", "10.9.9.9"))
            .status,
        401);
  }
  EXPECT_EQ(ok(accounts_->login("079200099999", "wrong password 1", "10.9.9.9")).status, 429);
  EXPECT_EQ(ok(accounts_->login("079200099999", "wrong password 1", "10.9.9.8")).status, 401);
}

TEST_F(AccountsTest, TheSessionIsFullOnlyAfterTheSecondFactor) {
  register_patient(kMai);
  sign_up(kMai);
  AccountResult half = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1"));
  ASSERT_EQ(half.status, 200);
  EXPECT_EQ(half.body["secondFactor"]["methods"], Json::array({"sms"}));
  const std::string code = last_code(kMai.phone);
  AccountResult me = ok(accounts_->me(half.session_token, "10.0.0.1"));
  EXPECT_EQ(me.status, 401);
  EXPECT_EQ(me.body["title"], "second-factor-required");
  EXPECT_EQ(ok(accounts_->totp_setup(half.session_token, "10.0.0.1")).status, 401);
  AccountResult wrong = ok(accounts_->second_factor(
      half.session_token, code == "111111" ? "222222" : "111111", "10.0.0.1"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body["remainingAttempts"], AccountService::kCodeTries - 1);
  AccountResult full = ok(accounts_->second_factor(half.session_token, code, "10.0.0.1"));
  ASSERT_EQ(full.status, 200);
  ASSERT_FALSE(full.session_token.empty());
  EXPECT_NE(full.session_token, half.session_token) << "a new token once signed in";
  EXPECT_EQ(me_status(full.session_token), 200);
  EXPECT_EQ(me_status(half.session_token), 401) << "the half session's token is gone";
  // The SMS code is spent: a new login cannot use it.
  AccountResult half2 = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1"));
  texts();
  EXPECT_EQ(ok(accounts_->second_factor(half2.session_token, code, "10.0.0.1")).status, 401);
}

TEST_F(AccountsTest, WrongSecondFactorsEndTheLoginAndLockTheAccount) {
  register_patient(kMai);
  sign_up(kMai);
  AccountResult half = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1"));
  const std::string code = last_code(kMai.phone);
  const std::string wrong = code == "111111" ? "222222" : "111111";
  AccountResult r;
  for (int i = 0; i < AccountService::kCodeTries; ++i)
    r = ok(accounts_->second_factor(half.session_token, wrong, "10.0.0.1"));
  EXPECT_EQ(r.status, 429) << "five wrong second factors also lock the account";
  EXPECT_TRUE(r.clear_session);
  ASSERT_TRUE(outbox_->dispatch_due().is_ok());
  ASSERT_EQ(sms_.sent.size(), 1u) << "the owner is told of the lock";
  EXPECT_NE(sms_.sent[0].text.find("reset your password"), std::string::npos);
  EXPECT_EQ(ok(accounts_->second_factor(half.session_token, code, "10.0.0.1")).status, 401)
      << "the login ended";
  EXPECT_EQ(ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1")).status, 429);
}

// A right password opens only a half session: the account's strikes stay until the second factor
// is right too. Were a right password to clear them, someone who has the password could guess
// codes for ever, logging in again after every kWrongPerAccount - 1 of them.
TEST_F(AccountsTest, ARightPasswordDoesNotClearTheSecondFactorsStrikes) {
  register_patient(kMai);
  sign_up(kMai);
  auto wrong_codes = [&](int n) {
    AccountResult half = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1"));
    EXPECT_EQ(half.status, 200) << dump_json(half.body);
    const std::string code = last_code(kMai.phone);
    const std::string wrong = code == "111111" ? "222222" : "111111";
    AccountResult r;
    for (int i = 0; i < n; ++i)
      r = ok(accounts_->second_factor(half.session_token, wrong, "10.0.0.1"));
    return std::make_pair(half.session_token, r);
  };
  AccountResult r = wrong_codes(AccountService::kWrongPerAccount - 1).second;
  EXPECT_EQ(r.status, 401) << dump_json(r.body);
  r = wrong_codes(1).second;
  EXPECT_EQ(r.status, 429) << "the fifth wrong code, after a second right password, locks";
  // The owner is told by SMS (nothing about their health): whoever sent the codes had the password.
  ASSERT_TRUE(outbox_->dispatch_due().is_ok());
  ASSERT_EQ(sms_.sent.size(), 1u);
  EXPECT_EQ(sms_.sent[0].to, kMai.phone);
  EXPECT_EQ(
      sms_.sent[0].text.rfind("Healthbook: your account was locked after wrong sign-in codes", 0),
      0u)
      << sms_.sent[0].text;
  sms_.sent.clear();
  EXPECT_EQ(ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1")).status, 429);

  // A whole sign-in clears them.
  clock_.advance(AccountService::kLockFor + seconds(1));
  wrong_codes(AccountService::kWrongPerAccount - 1);
  log_in(kMai);
  r = wrong_codes(AccountService::kWrongPerAccount - 1).second;
  EXPECT_EQ(r.status, 401) << dump_json(r.body);

  // The tries a wrong code says are left are the account's when it has fewer than the login.
  clock_.advance(AccountService::kLockWindow + seconds(1));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ok(accounts_->login(kMai.national_id, "wrong password 1", "10.0.0.1")).status, 401);
  }
  r = wrong_codes(1).second;
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["remainingAttempts"], 1) << "3 wrong passwords and 1 wrong code of 5";
}

// Every login with the right password asks for an SMS code under a new half session; the phone
// gets at most kLoginCodesPerAccount of them an hour, however many logins there are.
TEST_F(AccountsTest, LoginCodesToOnePhoneAreLimitedAcrossLogins) {
  register_patient(kMai);
  sign_up(kMai);
  std::string last_half;
  for (int i = 0; i < AccountService::kLoginCodesPerAccount; ++i) {
    AccountResult half = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1"));
    ASSERT_EQ(half.status, 200);
    EXPECT_EQ(half.body["secondFactor"]["smsSent"], true) << i;
    EXPECT_EQ(half.body["secondFactor"]["smsLimited"], false) << i;
    last_half = half.session_token;
  }
  EXPECT_EQ(texts().size(), static_cast<std::size_t>(AccountService::kLoginCodesPerAccount));
  AccountResult half = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1"));
  ASSERT_EQ(half.status, 200);
  EXPECT_EQ(half.body["secondFactor"]["smsSent"], false);
  EXPECT_EQ(half.body["secondFactor"]["smsLimited"], true);
  EXPECT_EQ(ok(accounts_->send_login_code(half.session_token, "10.0.0.1")).status, 429);
  EXPECT_EQ(ok(accounts_->send_login_code(last_half, "10.0.0.1")).status, 429);
  EXPECT_TRUE(texts().empty());
  clock_.advance(std::chrono::hours(1));
  AccountResult later = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1"));
  EXPECT_EQ(later.body["secondFactor"]["smsSent"], true);
  EXPECT_EQ(texts().size(), 1u);
}

TEST_F(AccountsTest, TotpEnrolmentAndLoginRefuseAReplayedCode) {
  register_patient(kMai);
  const std::string token = sign_up(kMai);
  AccountResult setup = ok(accounts_->totp_setup(token, "10.0.0.1"));
  ASSERT_EQ(setup.status, 200);
  const std::string secret = crypto::base32_decode(setup.body["secret"].get<std::string>()).value();
  EXPECT_EQ(secret.size(), 20u) << "160 bits";
  EXPECT_EQ(setup.body["uri"].get<std::string>().rfind("otpauth://totp/Healthbook:", 0), 0u);
  EXPECT_EQ(ok(accounts_->totp_confirm(
                   token, "000000" == crypto::totp(secret, clock_.now()) ? "000001" : "000000",
                   "10.0.0.1"))
                .status,
            401);
  const std::string enrolled_with = crypto::totp(secret, clock_.now());
  ASSERT_EQ(ok(accounts_->totp_confirm(token, enrolled_with, "10.0.0.1")).status, 200);

  // Login: TOTP is offered first and no SMS is sent unless asked for.
  AccountResult half = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1"));
  EXPECT_EQ(half.body["secondFactor"]["methods"], Json::array({"totp", "sms"}));
  EXPECT_EQ(half.body["secondFactor"]["smsSent"], false);
  EXPECT_TRUE(texts().empty());
  AccountResult replay =
      ok(accounts_->second_factor(half.session_token, enrolled_with, "10.0.0.1"));
  EXPECT_EQ(replay.status, 401) << "the code used to enrol is spent";
  clock_.advance(seconds(30));
  const std::string next = crypto::totp(secret, clock_.now());
  AccountResult full = ok(accounts_->second_factor(half.session_token, next, "10.0.0.1"));
  ASSERT_EQ(full.status, 200);
  // Another login in the same 30 s cannot reuse that code.
  AccountResult half2 = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.2"));
  EXPECT_EQ(ok(accounts_->second_factor(half2.session_token, next, "10.0.0.2")).status, 401);
  // The SMS stays a way in.
  EXPECT_EQ(ok(accounts_->send_login_code(half2.session_token, "10.0.0.2")).status, 200);
  EXPECT_EQ(
      ok(accounts_->second_factor(half2.session_token, last_code(kMai.phone), "10.0.0.2")).status,
      200);
  // The stored secret is sealed: the raw bytes are not in the row.
  ASSERT_TRUE(store_
                  ->read([&](store::Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(auto s,
                                        r.account_session(crypto::sha256_hex(full.session_token)));
                    HB_ASSIGN_OR_RETURN(auto a, r.account(s->account_id));
                    EXPECT_FALSE(a->totp_sealed.empty());
                    EXPECT_EQ(a->totp_sealed.find(secret), std::string::npos);
                    EXPECT_TRUE(a->totp_pending_sealed.empty());
                    return Status::ok();
                  })
                  .is_ok());
}

TEST_F(AccountsTest, SessionsEndWhenIdleAndAtTheirAbsoluteLifetime) {
  register_patient(kMai);
  const std::string token = sign_up(kMai);
  clock_.advance(minutes(29));
  EXPECT_EQ(me_status(token), 200);
  clock_.advance(minutes(29));
  EXPECT_EQ(me_status(token), 200) << "use keeps it alive";
  clock_.advance(minutes(31));
  AccountResult expired = ok(accounts_->me(token, "10.0.0.1"));
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.body["title"], "session-expired");
  EXPECT_TRUE(expired.clear_session);
  EXPECT_EQ(me_status(token), 401) << "and stays ended";

  const std::string again = log_in(kMai);
  for (int i = 0; i < 12 * 3 - 1; ++i) {
    clock_.advance(minutes(20));
    ASSERT_EQ(me_status(again), 200) << i;
  }
  clock_.advance(minutes(20));  // 12 h after login, however busy
  EXPECT_EQ(me_status(again), 401);
}

TEST_F(AccountsTest, HousekeepingForgetsEndedSessionsAndUsedCodesADayLater) {
  register_patient(kMai);
  const std::string ended = sign_up(kMai);  // one sign-up code
  Housekeeping housekeeping(*store_, clock_, {minutes(30), std::chrono::hours(12), minutes(10)});
  auto session_row = [&](const std::string& token) {
    std::optional<store::AccountSession> s;
    EXPECT_TRUE(store_->read([&](store::Reader& r) -> Status {
      HB_ASSIGN_OR_RETURN(s, r.account_session(crypto::sha256_hex(token)));
      return Status::ok();
    }).is_ok());
    return s.has_value();
  };
  clock_.advance(minutes(31));  // idle: refused, but still says why
  auto nothing = housekeeping.sweep();
  ASSERT_TRUE(nothing.is_ok()) << nothing.error().to_string();
  EXPECT_EQ(nothing->sessions, 0);
  EXPECT_EQ(nothing->codes, 0);
  EXPECT_TRUE(session_row(ended)) << "kept, so that it can still say it expired";

  clock_.advance(std::chrono::hours(24));
  const std::string live = log_in(kMai);  // a login code, and a session in use
  auto swept = housekeeping.sweep();
  ASSERT_TRUE(swept.is_ok()) << swept.error().to_string();
  EXPECT_EQ(swept->sessions, 1);
  EXPECT_EQ(swept->codes, 1);  // the sign-up code; the login code is still young
  EXPECT_FALSE(session_row(ended));
  AccountResult gone = ok(accounts_->me(ended, "10.0.0.1"));
  EXPECT_EQ(gone.status, 401);
  EXPECT_EQ(gone.body["title"], "not-signed-in");
  EXPECT_TRUE(session_row(live));
  EXPECT_EQ(me_status(live), 200) << "a session in use is never swept";

  // Past its lifetime plus the grace day, even the session that was in use goes.
  clock_.advance(std::chrono::hours(12 + 24) + minutes(1));
  auto late = housekeeping.sweep();
  ASSERT_TRUE(late.is_ok());
  EXPECT_EQ(late->sessions, 1);
  EXPECT_EQ(late->codes, 1);
  EXPECT_FALSE(session_row(live));
}

TEST_F(AccountsTest, ChangingThePasswordNeedsTheCurrentOneAndEndsOtherSessions) {
  const std::string pid = register_patient(kMai);
  const std::string here = sign_up(kMai);
  const std::string elsewhere = log_in(kMai, "10.0.0.2");
  const std::string next = "Another good one 7";
  // Not signed in: refused before anything is checked.
  EXPECT_EQ(ok(accounts_->change_password("", kPassword, next, "10.0.0.1")).status, 401);
  // A new password that fails the policy costs no strike.
  auto weak = accounts_->change_password(here, kPassword, "short", "10.0.0.1");
  ASSERT_FALSE(weak.is_ok());
  EXPECT_EQ(weak.error().code(), Code::kUnprocessable);
  auto with_id = accounts_->change_password(here, kPassword, "x" + kMai.national_id + "Zz", "10.0.0.1");
  ASSERT_FALSE(with_id.is_ok());
  // A wrong current password is a strike; the fifth locks the account.
  for (int i = 1; i < AccountService::kWrongPerAccount; ++i) {
    AccountResult wrong = ok(accounts_->change_password(here, "not my password", next, "10.0.0.1"));
    ASSERT_EQ(wrong.status, 401) << i;
    EXPECT_EQ(wrong.body["title"], "wrong-credentials");
  }
  AccountResult changed = ok(accounts_->change_password(here, kPassword, next, "10.0.0.1"));
  ASSERT_EQ(changed.status, 200) << dump_json(changed.body);
  EXPECT_EQ(me_status(here), 200) << "this session stays";
  EXPECT_EQ(me_status(elsewhere), 401) << "the other device is signed out";
  // The resident is told by SMS, with nothing about their health.
  ASSERT_TRUE(outbox_->dispatch_due().is_ok());
  ASSERT_EQ(sms_.sent.size(), 1u);
  EXPECT_EQ(sms_.sent[0].to, kMai.phone);
  EXPECT_EQ(sms_.sent[0].text,
            "Healthbook: your password was changed. If this was not you, contact your clinic at "
            "once.");
  sms_.sent.clear();
  // The old password no longer logs in; the new one does (and the strikes were reset).
  EXPECT_EQ(ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.3")).status, 401);
  EXPECT_EQ(ok(accounts_->login(kMai.national_id, next, "10.0.0.3")).status, 200);
  // Every outcome is audited, never with a password.
  bool audited = false;
  for (const auto& a : audit_of(pid)) {
    if (a.event_type != "account-password") continue;
    EXPECT_EQ(a.detail.find(kPassword), std::string::npos);
    EXPECT_EQ(a.detail.find(next), std::string::npos);
    audited |= a.outcome == "0";
  }
  EXPECT_TRUE(audited);
}

TEST_F(AccountsTest, ChangingThePasswordLocksAfterTooManyWrongTries) {
  register_patient(kMai);
  const std::string here = sign_up(kMai);
  for (int i = 1; i < AccountService::kWrongPerAccount; ++i) {
    ASSERT_EQ(ok(accounts_->change_password(here, "not my password", "Another good one 7", "10.0.0.1")).status, 401);
  }
  AccountResult locked = ok(accounts_->change_password(here, "not my password", "Another good one 7", "10.0.0.1"));
  EXPECT_EQ(locked.status, 429);
  // Locked: even the right password is refused until the lock ends.
  EXPECT_EQ(ok(accounts_->change_password(here, kPassword, "Another good one 7", "10.0.0.1")).status, 429);
  clock_.advance(AccountService::kLockFor + seconds(1));
  EXPECT_EQ(ok(accounts_->change_password(here, kPassword, "Another good one 7", "10.0.0.1")).status, 200);
}

// The same with current passwords sent at once by whoever holds a session: four are answered
// wrong, the fifth locks the account, and the right one sent with them does not change it.
TEST_F(AccountsTest, CurrentPasswordsSentAtOnceAreCheckedOneAfterAnother) {
  register_patient(kMai);
  const std::string here = sign_up(kMai);
  int wrong = 0;
  int round = 0;
  bool locked = false;
  for (; round < 50 && !locked; ++round) {
    const std::vector<AccountResult> results = at_once(6, [&](int i) {
      return accounts_->change_password(here, "not my password " + std::to_string(i),
                                        "Another good one 7",
                                        "10.8." + std::to_string(round) + "." + std::to_string(i));
    });
    for (const AccountResult& r : results) {
      ASSERT_TRUE(r.status == 401 || r.status == 429) << r.status << " " << dump_json(r.body);
      if (r.status == 401) ++wrong;
      if (r.status == 429 && r.body.value("title", "") == "locked") locked = true;
    }
  }
  ASSERT_TRUE(locked) << "in " << round << " rounds";
  EXPECT_EQ(wrong, AccountService::kWrongPerAccount - 1) << "in " << round << " rounds";
  EXPECT_EQ(ok(accounts_->change_password(here, kPassword, "Another good one 7", "10.8.99.1")).status, 429);
}

// Forgotten password: the same proof as sign-up (national id + birth date + the SMS code), then a
// new password; every session ends and a new one opens.
TEST_F(AccountsTest, AForgottenPasswordIsResetWithTheSmsCodeAndEveryOtherSessionEnds) {
  const std::string pid = register_patient(kMai);
  register_patient(kBinh);  // registered, but no account
  const std::string here = sign_up(kMai);
  const std::string elsewhere = log_in(kMai, "10.0.0.2");
  const std::string next = "Another good one 7";

  // A wrong birth date, and a person with no account: the same answer, and no SMS.
  AccountResult wrong_birth = ok(accounts_->start_reset(kMai.national_id, "1990-04-13", "10.0.0.1"));
  AccountResult no_account = ok(accounts_->start_reset(kBinh.national_id, kBinh.birth_date, "10.0.0.1"));
  for (const AccountResult* r : {&wrong_birth, &no_account}) {
    EXPECT_EQ(r->status, 202);
    EXPECT_EQ(r->body["detail"],
              "If the details match a record, a code was sent to the phone the clinic registered.");
  }
  EXPECT_TRUE(texts().empty());

  AccountResult start = ok(accounts_->start_reset(kMai.national_id, kMai.birth_date, "10.0.0.1"));
  ASSERT_EQ(start.status, 202);
  ASSERT_TRUE(outbox_->dispatch_due().is_ok());
  ASSERT_EQ(sms_.sent.size(), 1u);
  EXPECT_EQ(sms_.sent[0].text.rfind("Healthbook password reset code: ", 0), 0u) << sms_.sent[0].text;
  const std::string code = last_code(kMai.phone);
  const std::string challenge = start.body["challenge"];

  // A weak password costs no try; a wrong code does.
  auto weak = accounts_->finish_reset(challenge, code, "short", "", "10.0.0.1");
  ASSERT_FALSE(weak.is_ok());
  EXPECT_EQ(weak.error().code(), Code::kUnprocessable);
  AccountResult wrong = ok(accounts_->finish_reset(challenge, code == "000000" ? "000001" : "000000",
                                                   next, "", "10.0.0.1"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body["title"], "wrong-code");
  EXPECT_EQ(wrong.body["remainingAttempts"], AccountService::kCodeTries - 1);

  AccountResult done = ok(accounts_->finish_reset(challenge, code, next, "", "10.0.0.1"));
  ASSERT_EQ(done.status, 200) << dump_json(done.body);
  EXPECT_EQ(done.body["signedIn"], true);
  EXPECT_EQ(me_status(done.session_token), 200);
  EXPECT_EQ(me_status(here), 401) << "every earlier session ends";
  EXPECT_EQ(me_status(elsewhere), 401);
  ASSERT_TRUE(outbox_->dispatch_due().is_ok());
  ASSERT_EQ(sms_.sent.size(), 1u);
  EXPECT_EQ(sms_.sent[0].text,
            "Healthbook: your password was changed. If this was not you, contact your clinic at "
            "once.");
  sms_.sent.clear();
  // The code works once.
  EXPECT_EQ(ok(accounts_->finish_reset(challenge, code, next, "", "10.0.0.1")).status, 410);
  EXPECT_EQ(ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.3")).status, 401);
  EXPECT_EQ(ok(accounts_->login(kMai.national_id, next, "10.0.0.3")).status, 200);
  EXPECT_EQ(texts().size(), 1u) << "the login's SMS code";

  // A sign-up code cannot reset a password.
  AccountResult signup = ok(accounts_->start_signup(kMai.national_id, kMai.birth_date, "10.0.0.1"));
  EXPECT_EQ(ok(accounts_->finish_reset(signup.body["challenge"], last_code(kMai.phone),
                                       "Yet another one 8", "", "10.0.0.1"))
                .status,
            410);

  bool audited = false;
  for (const auto& a : audit_of(pid)) {
    if (a.event_type.rfind("account-reset", 0) != 0) continue;
    EXPECT_EQ(a.detail.find(next), std::string::npos);
    EXPECT_EQ(a.detail.find(code), std::string::npos);
    audited |= a.event_type == "account-reset" && a.outcome == "0";
  }
  EXPECT_TRUE(audited);
}

TEST_F(AccountsTest, ResettingWithAnAuthenticatorAppNeedsItsCodeToo) {
  register_patient(kMai);
  const std::string token = sign_up(kMai);
  AccountResult setup = ok(accounts_->totp_setup(token, "10.0.0.1"));
  const std::string secret = crypto::base32_decode(setup.body["secret"].get<std::string>()).value();
  ASSERT_EQ(ok(accounts_->totp_confirm(token, crypto::totp(secret, clock_.now()), "10.0.0.1")).status,
            200);
  clock_.advance(seconds(30));

  AccountResult start = ok(accounts_->start_reset(kMai.national_id, kMai.birth_date, "10.0.0.1"));
  const std::string challenge = start.body["challenge"];
  const std::string code = last_code(kMai.phone);
  // The SMS code alone: asked for the app's code, without a try used.
  AccountResult ask = ok(accounts_->finish_reset(challenge, code, "Another good one 7", "", "10.0.0.1"));
  EXPECT_EQ(ask.status, 401);
  EXPECT_EQ(ask.body["title"], "authenticator-code-required");
  const std::string app = crypto::totp(secret, clock_.now());
  AccountResult wrong = ok(accounts_->finish_reset(challenge, code, "Another good one 7",
                                                   app == "000000" ? "000001" : "000000", "10.0.0.1"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body["title"], "wrong-authenticator-code");
  EXPECT_EQ(wrong.body["remainingAttempts"], AccountService::kCodeTries - 1);
  AccountResult done = ok(accounts_->finish_reset(challenge, code, "Another good one 7", app, "10.0.0.1"));
  ASSERT_EQ(done.status, 200) << dump_json(done.body);
  // That app code is spent: it cannot also finish a login.
  AccountResult half = ok(accounts_->login(kMai.national_id, "Another good one 7", "10.0.0.1"));
  EXPECT_EQ(ok(accounts_->second_factor(half.session_token, app, "10.0.0.1")).status, 401);
}

TEST_F(AccountsTest, AResetEndsALockAndGivesAnEidAccountItsFirstPassword) {
  register_patient(kMai);
  AccountResult eid = ok(accounts_->eid_sign_in(kMai.national_id, "10.0.0.1"));
  ASSERT_EQ(eid.status, 200);
  // Guessing locks the account (there is no password yet, so every guess is wrong).
  for (int i = 0; i < AccountService::kWrongPerAccount; ++i) {
    (void)accounts_->login(kMai.national_id, "a guess " + std::to_string(i), "10.0.4." + std::to_string(i));
  }
  EXPECT_EQ(ok(accounts_->login(kMai.national_id, kPassword, "10.0.5.1")).status, 429);
  AccountResult start = ok(accounts_->start_reset(kMai.national_id, kMai.birth_date, "10.0.0.1"));
  AccountResult done = ok(
      accounts_->finish_reset(start.body["challenge"], last_code(kMai.phone), kPassword, "", "10.0.0.1"));
  ASSERT_EQ(done.status, 200) << dump_json(done.body);
  AccountResult half = ok(accounts_->login(kMai.national_id, kPassword, "10.0.5.2"));
  EXPECT_EQ(half.status, 200) << "the lock ended and the password works";
  EXPECT_EQ(ok(accounts_->me(done.session_token, "10.0.0.1")).body["account"]["hasPassword"], true);
}

TEST_F(AccountsTest, PasswordResetsHaveTheirOwnRateLimit) {
  register_patient(kMai);
  sign_up(kMai);
  for (int i = 0; i < AccountService::kSignupsPerId; ++i) {
    EXPECT_EQ(ok(accounts_->start_reset(kMai.national_id, kMai.birth_date, "10.0.1." + std::to_string(i)))
                  .status,
              202);
  }
  AccountResult limited = ok(accounts_->start_reset(kMai.national_id, kMai.birth_date, "10.0.2.1"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_GT(limited.retry_after, 0);
  EXPECT_EQ(texts().size(), static_cast<size_t>(AccountService::kSignupsPerId));
}

TEST_F(AccountsTest, LogoutAndLogoutEverywhere) {
  register_patient(kMai);
  register_patient(kBinh);
  const std::string first = sign_up(kMai);
  const std::string second = log_in(kMai, "10.0.0.2");
  const std::string third = log_in(kMai, "10.0.0.3");
  const std::string binh = sign_up(kBinh);
  AccountResult out = ok(accounts_->logout(third, "10.0.0.3"));
  EXPECT_TRUE(out.clear_session);
  EXPECT_EQ(me_status(third), 401);
  EXPECT_EQ(me_status(first), 200);
  EXPECT_EQ(ok(accounts_->logout_everywhere(second, "10.0.0.2")).status, 200);
  EXPECT_EQ(me_status(first), 401);
  EXPECT_EQ(me_status(second), 401);
  EXPECT_EQ(me_status(binh), 200) << "another resident's sessions are theirs";
}

TEST_F(AccountsTest, OneAccountNeverReachesAnothersData) {
  const std::string mai_id = register_patient(kMai);
  const std::string binh_id = register_patient(kBinh);
  const std::string mai = sign_up(kMai);
  const std::string binh = sign_up(kBinh);
  EXPECT_EQ(ok(accounts_->me(mai, "10.0.0.1")).body["patient"]["reference"], "Patient/" + mai_id);
  EXPECT_EQ(ok(accounts_->me(binh, "10.0.0.1")).body["patient"]["reference"], "Patient/" + binh_id);
  // Binh's SMS code does not complete Mai's login, nor the other way round.
  AccountResult mai_half = ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1"));
  const std::string mai_code = last_code(kMai.phone);
  AccountResult binh_half = ok(accounts_->login(kBinh.national_id, kPassword, "10.0.0.1"));
  const std::string binh_code = last_code(kBinh.phone);
  if (mai_code != binh_code) {
    EXPECT_EQ(ok(accounts_->second_factor(mai_half.session_token, binh_code, "10.0.0.1")).status,
              401);
    EXPECT_EQ(ok(accounts_->second_factor(binh_half.session_token, mai_code, "10.0.0.1")).status,
              401);
  }
  // Binh's TOTP enrolment is Binh's: Mai's session sees no change, and Mai's own one is separate.
  AccountResult setup = ok(accounts_->totp_setup(binh, "10.0.0.1"));
  const std::string binh_secret =
      crypto::base32_decode(setup.body["secret"].get<std::string>()).value();
  EXPECT_EQ(accounts_->totp_confirm(mai, crypto::totp(binh_secret, clock_.now()), "10.0.0.1")
                .status()
                .code(),
            Code::kUnprocessable)
      << "Mai has no enrolment in progress";
  EXPECT_EQ(ok(accounts_->me(mai, "10.0.0.1")).body["account"]["secondFactors"],
            Json::array({"sms"}));
  // Logging out everywhere is per account.
  ok(accounts_->logout_everywhere(binh, "10.0.0.1"));
  EXPECT_EQ(me_status(mai), 200);
  // Audit rows land in each person's own trail.
  for (const auto& a : audit_of(mai_id)) EXPECT_EQ(a.patient_id, mai_id);
  bool binh_logout = false;
  for (const auto& a : audit_of(binh_id)) binh_logout |= a.event_type == "account-logout";
  EXPECT_TRUE(binh_logout);
}

// The national eID vouched for the person: a full session at once; a first login makes the account
// (without a password, so password login stays refused), a later one reuses it; an id that no
// record carries gets no session.
TEST_F(AccountsTest, EidSignInOpensAFullSessionAndMakesAPasswordlessAccount) {
  const std::string pid = register_patient(kMai);
  AccountResult first = ok(accounts_->eid_sign_in(kMai.national_id, "10.0.0.1"));
  ASSERT_EQ(first.status, 200) << dump_json(first.body);
  EXPECT_EQ(first.body["accountCreated"], true);
  ASSERT_GE(first.session_token.size(), 43u);
  AccountResult me = ok(accounts_->me(first.session_token, "10.0.0.1"));
  ASSERT_EQ(me.status, 200) << "a full session: no second factor asked";
  EXPECT_EQ(me.body["patient"]["reference"], "Patient/" + pid);
  EXPECT_TRUE(texts().empty()) << "no SMS code for an eID login";

  // No password exists, so none is right (and the answer is the usual one).
  EXPECT_EQ(ok(accounts_->login(kMai.national_id, kPassword, "10.0.0.1")).status, 401);
  // Nor can it be "changed": there is no current one to prove, and no strike is counted for it.
  EXPECT_EQ(
      ok(accounts_->change_password(first.session_token, kPassword, "new horse 43!", "10.0.0.1"))
          .status,
      409);
  // Sign-up is refused: the person has an account now.
  AccountResult start = ok(accounts_->start_signup(kMai.national_id, kMai.birth_date, "10.0.0.1"));
  AccountResult again = ok(
      accounts_->finish_signup(start.body["challenge"], last_code(kMai.phone), kPassword, "10.0.0.1"));
  EXPECT_EQ(again.status, 409);

  AccountResult second = ok(accounts_->eid_sign_in(kMai.national_id, "10.0.0.1"));
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.body["accountCreated"], false);
  EXPECT_EQ(ok(accounts_->me(second.session_token, "10.0.0.1")).body["account"]["id"],
            me.body["account"]["id"]);
  EXPECT_EQ(me_status(first.session_token), 200) << "each login is its own session";

  AccountResult nobody = ok(accounts_->eid_sign_in("079201009999", "10.0.0.1"));
  EXPECT_EQ(nobody.status, 404);
  EXPECT_TRUE(nobody.session_token.empty());

  int eid_events = 0;
  for (const auto& a : audit_of(pid)) {
    if (a.event_type == "account-login-eid") {
      ++eid_events;
      EXPECT_EQ(a.detail.find(kMai.national_id), std::string::npos);
    }
  }
  EXPECT_EQ(eid_events, 2);
}

// A resident who signed up with a password can also use the eID; the account is the same.
TEST_F(AccountsTest, EidSignInUsesTheExistingAccount) {
  register_patient(kBinh);
  const std::string token = sign_up(kBinh);
  const std::string id = ok(accounts_->me(token, "10.0.0.1")).body["account"]["id"];
  AccountResult eid = ok(accounts_->eid_sign_in(kBinh.national_id, "10.0.0.1"));
  ASSERT_EQ(eid.status, 200);
  EXPECT_EQ(eid.body["accountCreated"], false);
  EXPECT_EQ(ok(accounts_->me(eid.session_token, "10.0.0.1")).body["account"]["id"], id);
  log_in(kBinh);  // the password still works
}

}  // namespace
}  // namespace hb::services
