// Documents and their links against a real SQLite store and a test clock: the birth-date unlock,
// its limits, the 7-day relock, the patient's choice to show the diagnosis, and the audit trail.
#include "services/documents.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "core/config.h"
#include "core/ids.h"
#include "core/url.h"
#include "core/utf8.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "documents/shlink.h"
#include "services/facilities.h"
#include "services/shares.h"

namespace hb::services {
namespace {

namespace fs = std::filesystem;

class DocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hb-doc-" + new_uuid());
    fs::create_directories(dir_);
    store::SqliteOptions o;
    o.path = (dir_ / "hb.db").string();
    o.synchronous_full = false;
    store_ = std::move(store::open_sqlite(o).value());
    master_ = std::make_unique<crypto::MasterKey>(*crypto::MasterKey::create(std::string(32, 'm')));
    vault_ = std::make_unique<Vault>(*master_);
    records_ = std::make_unique<RecordService>(*store_, *vault_, clock_,
                                               RecordsOptions{"http://localhost:8080", {"urn:nid"}, {"urn:ins"}, {}});
    log_ = std::move(ledger::Log::open(tiles_, *ledger::NoteSigner::generate("localhost/log")).value());
    docs_ = std::make_unique<DocumentService>(*store_, *vault_, *records_, *log_, clock_,
                                              DocumentOptions{"http://localhost:8080", "rid-secret"});
    FacilityService facilities(*store_, clock_, "^[0-9]{5}$");
    auto f = facilities.add({"01001", "Bach Mai Hospital", "public-hospital", ""});
    ASSERT_TRUE(f.is_ok());
    who_.client_id = "c1";
    who_.facility_id = f->id;
    who_.facility_code = "01001";
    who_.scopes = *Scopes::parse("system/*.cruds");
  }
  void TearDown() override {
    docs_.reset();
    records_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // The issuance request of an outpatient certificate.
  static std::string certificate_request(const std::string& ref) {
    Json req = {{"documentId", ref},
                {"kind", "mc-outpatient"},
                {"patient", {{"nationalId", "079201001234"}, {"family", "Nguyen"}, {"given", "Mai"},
                             {"birthDate", "1990-04-12"}, {"phone", "+84901234567"}}},
                {"doctor", {{"name", "Dr. Binh"}}},
                {"leave", {{"from", "2026-11-20"}, {"to", "2026-11-22"}}},
                {"diagnosis", {{"text", "Influenza"}}}};
    return dump_json(req);
  }

  // Issues a certificate and returns its link token.
  std::string issue(const std::string& ref) {
    auto r = docs_->issue(who_, certificate_request(ref));
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (!r) return "";
    std::string link = r->body["link"];
    return link.substr(link.rfind('/') + 1);
  }
  LinkResult unlock(const std::string& token, const std::string& birth, const std::string& addr = "10.0.0.1") {
    auto r = docs_->unlock_link(token, birth, addr);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r ? *r : LinkResult{};
  }

  struct Try {
    std::string token;
    std::string birth_date;
    std::string address;
  };
  // The answers sent at once, as a script would: every thread waits for all the others to be
  // ready, then answers. An error reads as status 0.
  std::vector<LinkResult> answer_at_once(const std::vector<Try>& tries) {
    std::vector<LinkResult> results(tries.size());
    std::atomic<std::size_t> ready{0};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < tries.size(); ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < tries.size()) std::this_thread::yield();
        auto r = docs_->unlock_link(tries[i].token, tries[i].birth_date, tries[i].address);
        if (r) results[i] = std::move(*r);
      });
    }
    for (auto& t : threads) t.join();
    return results;
  }
  store::DocLink link_state(const std::string& token) {
    store::DocLink out;
    EXPECT_TRUE(store_
                    ->read([&](store::Reader& r) -> Status {
                      HB_ASSIGN_OR_RETURN(auto l, r.doc_link(crypto::sha256_hex(token)));
                      if (l) out = *l;
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
  ledger::MemoryTileStore tiles_;
  std::unique_ptr<ledger::Log> log_;
  std::unique_ptr<DocumentService> docs_;
  Principal who_;
};

TEST_F(DocumentsTest, WrongBirthDatesLockTheLinkAndAnUnknownLinkLooksTheSame) {
  const std::string token = issue("MC-1");
  const std::string unknown = "AAAAAAAAAAAAAAAAAAAAAAAA";
  for (int i = 1; i < DocumentService::kWrongPerHour; ++i) {
    LinkResult real = unlock(token, "1990-04-13");
    LinkResult fake = unlock(unknown, "1990-04-13");
    EXPECT_EQ(real.status, 401);
    EXPECT_EQ(real.body["title"], "birth-date-required");
    EXPECT_EQ(real.body["remainingAttempts"], DocumentService::kWrongPerHour - i);
    EXPECT_EQ(dump_json(real.body), dump_json(fake.body)) << "unknown and wrong must look the same";
  }
  // Each wrong answer is written down before it is answered, for the unknown link too (an audit
  // event by address, no patient): the two take the same path through the store.
  ASSERT_TRUE(store_->flush().is_ok());
  std::map<std::string, int> wrong_answers;
  ASSERT_TRUE(store_
                  ->read([&](store::Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(auto rows, r.audit("", "", 0, 1000));
                    for (const auto& a : rows) {
                      if (a.event_type != "link-wrong-answer") continue;
                      ++wrong_answers[a.detail];
                      EXPECT_EQ(a.source_ip, "10.0.0.1");
                      EXPECT_TRUE(a.patient_id.empty());
                    }
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_EQ(wrong_answers,
            (std::map<std::string, int>{{"unknown link", DocumentService::kWrongPerHour - 1},
                                        {"wrong birth date", DocumentService::kWrongPerHour - 1}}));
  LinkResult locked = unlock(token, "1990-04-13");
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(locked.body["title"], "locked");
  EXPECT_EQ(locked.body["limit"], "link");
  EXPECT_EQ(dump_json(locked.body), dump_json(unlock(unknown, "1990-04-13").body));
  // Locked: even the right date is refused for the hour.
  EXPECT_EQ(unlock(token, "1990-04-12").status, 429);
  clock_.advance(std::chrono::minutes(61));
  LinkResult open = unlock(token, "12/04/1990");  // day-first, as people type it
  ASSERT_EQ(open.status, 200) << dump_json(open.body);
  EXPECT_FALSE(open.device_token.empty());
  EXPECT_EQ(open.body["patient"]["name"], "Nguyen Mai");
  EXPECT_EQ(open.body["patient"]["maskedId"], "0*******1234");
  EXPECT_EQ(open.body["leave"]["to"], "2026-11-22");
  EXPECT_EQ(open.body["qr"].get<std::string>().rfind("shc:/", 0), 0u);
  EXPECT_FALSE(open.body.contains("qrSvg")) << "the page draws the QR code from \"qr\"";
}

TEST_F(DocumentsTest, ADeviceKeepsAccessForSevenDaysThenTheLinkAsksAgain) {
  const std::string token = issue("MC-2");
  LinkResult open = unlock(token, "1990-04-12");
  ASSERT_EQ(open.status, 200);
  auto again = docs_->open_link(token, open.device_token, "10.0.0.9");
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->status, 200);
  // The unlock shows what it read for the birth-date check; a later visit reads it all again.
  EXPECT_FALSE(open.body["facility"]["name"].get<std::string>().empty());
  EXPECT_EQ(dump_json(again->body), dump_json(open.body))
      << "the two ways to the page show the same";
  EXPECT_EQ(docs_->open_link(token, "", "10.0.0.9")->status, 401) << "another browser must ask";
  EXPECT_EQ(docs_->open_link(issue("MC-3"), open.device_token, "10.0.0.9")->status, 401)
      << "a device unlocks only the link it answered for";
  clock_.advance(DocumentService::kDeviceLifetime - std::chrono::minutes(1));
  EXPECT_EQ(docs_->open_link(token, open.device_token, "10.0.0.9")->status, 200);
  clock_.advance(std::chrono::minutes(2));
  EXPECT_EQ(docs_->open_link(token, open.device_token, "10.0.0.9")->status, 401) << "relocked after 7 days";
}

TEST_F(DocumentsTest, TwentyWrongDisableTheLink) {
  const std::string token = issue("MC-4");
  LinkResult last;
  for (int i = 0; i < DocumentService::kWrongInTotal; ++i) {
    if (i > 0 && i % DocumentService::kWrongPerHour == 0) clock_.advance(std::chrono::minutes(61));
    last = unlock(token, "2000-01-01", "10.0.0." + std::to_string(i));  // from many addresses
  }
  EXPECT_EQ(last.status, 410);
  clock_.advance(std::chrono::hours(24));
  EXPECT_EQ(unlock(token, "1990-04-12", "10.0.1.1").status, 410) << "stays disabled until reopened";
  // Only the issuing facility reopens it.
  Principal other = who_;
  other.facility_id = "another-facility";
  EXPECT_EQ(docs_->reopen_link(other, "MC-4").status().code(), Code::kNotFound);
  auto reopened = docs_->reopen_link(who_, "MC-4");
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
  EXPECT_EQ((*reopened)["linksReopened"], 1);
  EXPECT_EQ(unlock(token, "1990-04-12", "10.0.1.1").status, 200);
}

TEST_F(DocumentsTest, TheTwentyAreCountedOverTheLinksLifeNotClearedByARightAnswer) {
  const std::string token = issue("MC-4b");
  int wrong = 0;
  auto wrong_hour = [&] {  // four wrong answers, one short of the hour's lock, then an hour passes
    for (int i = 0; i < DocumentService::kWrongPerHour - 1; ++i, ++wrong) {
      EXPECT_EQ(unlock(token, "2000-01-01", "10.0.2." + std::to_string(wrong)).status, 401);
    }
    clock_.advance(std::chrono::minutes(61));
  };
  for (int h = 0; h < 4; ++h) {
    wrong_hour();
    EXPECT_EQ(unlock(token, "1990-04-12", "10.0.3.1").status, 200) << "the patient opens it in between";
  }
  ASSERT_EQ(wrong, 16);
  for (; wrong < DocumentService::kWrongInTotal - 1; ++wrong) unlock(token, "2000-01-01", "10.0.4.1");
  LinkResult last = unlock(token, "2000-01-01", "10.0.4.2");
  EXPECT_EQ(last.status, 410) << "the twentieth wrong answer disables it";
  EXPECT_EQ(unlock(token, "1990-04-12", "10.0.3.1").status, 410);
}

// SMART Health Links: a viewer's remainingAttempts are the wrong passcodes left before the link
// is disabled, and every wrong passcode is 401 with them: also the fifth of an hour, which locks
// the link (the requests after it get 429 with retryAfter: our rate limit), and the twentieth,
// which disables it (0 left; then 404). An unknown link answers the same; the page keeps counting
// the tries before the hour's lock. (Before: min(5 - this hour's, 20 - all), and 429 and 404 for
// the fifth and the twentieth.)
TEST_F(DocumentsTest, AViewerIsToldThePasscodesLeftBeforeTheLinkIsDisabled) {
  const std::string token = issue("MC-4e");
  const std::string unknown(43, 'C');
  int request = 0;  // each from its own address: only the link's limits are at work
  auto shl = [&](const std::string& t, const std::string& passcode) {
    auto r =
        docs_->shl_manifest(t, dump_json(Json{{"recipient", "Dr. Other"}, {"passcode", passcode}}),
                            "10.0.7." + std::to_string(++request));
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r ? *r : LinkResult{};
  };
  for (int wrong = 1; wrong <= DocumentService::kWrongInTotal; ++wrong) {
    LinkResult real = shl(token, "2000-01-01");
    LinkResult fake = shl(unknown, "2000-01-01");
    EXPECT_EQ(real.status, 401) << "wrong passcode " << wrong << ": " << dump_json(real.body);
    EXPECT_EQ(real.body["remainingAttempts"], DocumentService::kWrongInTotal - wrong)
        << "wrong passcode " << wrong;
    EXPECT_EQ(dump_json(real.body), dump_json(fake.body)) << "unknown and wrong must look the same";
    if (wrong == 2) {
      auto page = docs_->open_link(token, "", "10.0.8.1");
      ASSERT_TRUE(page.is_ok());
      EXPECT_EQ(page->status, 401);
      EXPECT_EQ(page->body["remainingAttempts"], DocumentService::kWrongPerHour - 2)
          << "the page shows the tries before the hour's lock";
    }
    if (wrong % DocumentService::kWrongPerHour == 0 && wrong < DocumentService::kWrongInTotal) {
      // That one locked the link for the hour: the next request waits, the right passcode too.
      EXPECT_GT(link_state(token).locked_until, clock_.now());
      LinkResult locked = shl(token, "1990-04-12");
      EXPECT_EQ(locked.status, 429) << dump_json(locked.body);
      EXPECT_EQ(locked.body["retryAfter"], 3601);
      EXPECT_FALSE(locked.body.contains("remainingAttempts"));
      EXPECT_EQ(dump_json(locked.body), dump_json(shl(unknown, "1990-04-12").body));
      clock_.advance(std::chrono::minutes(61));
    }
  }
  const store::DocLink state = link_state(token);
  EXPECT_TRUE(state.disabled);
  EXPECT_EQ(state.failures_total, DocumentService::kWrongInTotal);
  LinkResult ended = shl(token, "1990-04-12");
  EXPECT_EQ(ended.status, 404) << dump_json(ended.body);
  EXPECT_EQ(dump_json(ended.body), dump_json(shl(unknown, "1990-04-12").body));
  EXPECT_EQ(unlock(token, "1990-04-12", "10.0.8.2").status, 410) << "the page says it is disabled";
  EXPECT_EQ(link_state(token).failures_total, DocumentService::kWrongInTotal)
      << "refusals after the end count nothing";
}

TEST_F(DocumentsTest, AnAnswerThatIsNoDateCostsNoAttempt) {
  const std::string token = issue("MC-4c");
  for (int i = 0; i < 3 * DocumentService::kWrongPerHour; ++i) {
    LinkResult r = unlock(token, "12 April", "10.0.5.1");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, unlock("no-such-link-token-0123456789abcdef", "12 April", "10.0.5.2").body)
        << "the same answer for an unknown link";
  }
  LinkResult wrong = unlock(token, "2000-01-01", "10.0.5.1");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body["remainingAttempts"], DocumentService::kWrongPerHour - 1);
  EXPECT_EQ(unlock(token, "12/04/1990", "10.0.5.1").status, 200) << "day first is a date";
}

TEST_F(DocumentsTest, OneAddressCannotTryManyLinks) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) tokens.push_back(issue("MC-A" + std::to_string(i)));
  int refused = 0;
  for (int i = 0; i < DocumentService::kWrongPerAddressHour + 5; ++i) {
    LinkResult r = unlock(tokens[i % tokens.size()], "2001-01-01", "192.0.2.7");
    if (r.status == 429 && r.body["limit"] == "address") ++refused;
  }
  EXPECT_GE(refused, 5);
  EXPECT_EQ(unlock(issue("MC-B"), "1990-04-12", "192.0.2.8").status, 200) << "other addresses are not affected";
}

// Wrong answers sent at once are checked one after another, each against the counts the ones
// before it left: a script cannot get more than kWrongPerHour tries by sending them together, nor
// a right answer past a lock that the answers beside it set. (Each from its own address, so that
// only the link's own limit is at work.)
TEST_F(DocumentsTest, AnswersSentAtOnceAreCheckedOneAfterAnother) {
  const std::string token = issue("MC-R1");
  int wrong = 0;
  int rounds = 0;
  for (; rounds < 50 && link_state(token).locked_until <= clock_.now(); ++rounds) {
    std::vector<Try> tries;
    for (int i = 0; i < 8; ++i) {
      tries.push_back({token, "2001-01-0" + std::to_string(1 + i),
                       "198.51.100." + std::to_string(rounds * 8 + i)});
    }
    for (const LinkResult& r : answer_at_once(tries)) {
      ASSERT_TRUE(r.status == 401 || r.status == 429) << r.status << " " << dump_json(r.body);
      if (r.status == 401) ++wrong;
    }
  }
  // The fifth wrong answer locks the link and says so (429), like every answer after it.
  EXPECT_EQ(wrong, DocumentService::kWrongPerHour - 1) << "in " << rounds << " rounds";
  const store::DocLink state = link_state(token);
  EXPECT_EQ(state.failures_total, DocumentService::kWrongPerHour)
      << "no count lost to another's write";
  EXPECT_GT(state.locked_until, clock_.now());
  // The right answer, sent at once with wrong ones on the locked link, is refused like them.
  std::vector<Try> tries = {{token, "1990-04-12", "198.51.100.250"}};
  for (int i = 0; i < 7; ++i)
    tries.push_back(
        {token, "2001-02-0" + std::to_string(1 + i), "198.51.100.25" + std::to_string(i)});
  for (const LinkResult& r : answer_at_once(tries)) EXPECT_EQ(r.status, 429);
  EXPECT_EQ(link_state(token).failures_total, DocumentService::kWrongPerHour);
}

// The same for one address trying many links at once: it is charged for an answer before the
// answer is checked, so no more than kWrongPerAddressHour are checked.
TEST_F(DocumentsTest, AnAddressTryingManyLinksAtOnceGetsNoMoreTries) {
  std::vector<Try> tries;
  for (int i = 0; i < DocumentService::kWrongPerAddressHour + 10; ++i) {
    tries.push_back({issue("MC-R2-" + std::to_string(i)), "2001-01-01", "203.0.113.9"});
  }
  int wrong = 0;
  for (const LinkResult& r : answer_at_once(tries)) {
    ASSERT_TRUE(r.status == 401 || r.status == 429) << r.status;
    if (r.status == 401) ++wrong;
  }
  EXPECT_EQ(wrong, DocumentService::kWrongPerAddressHour);
  // Right answers cost the address nothing: a person behind it who knows the date gets in.
  EXPECT_EQ(unlock(issue("MC-R2-x"), "1990-04-12", "203.0.113.10").status, 200);
}

// A right answer is given back the address's charge; a wrong one keeps it.
TEST_F(DocumentsTest, RightAnswersDoNotUseAnAddressesTries) {
  const std::string token = issue("MC-R3");
  const std::string unknown = "BBBBBBBBBBBBBBBBBBBBBBBB";
  for (int i = 0; i < DocumentService::kWrongPerAddressHour - 1; ++i) {
    ASSERT_EQ(unlock(unknown + std::to_string(i), "2001-01-01", "203.0.113.20").status, 401);
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(unlock(token, "1990-04-12", "203.0.113.20").status, 200);
  EXPECT_EQ(unlock(unknown + "x", "2001-01-01", "203.0.113.20").status, 401) << "the last try";
  EXPECT_EQ(unlock(unknown + "y", "2001-01-01", "203.0.113.20").status, 429);
  EXPECT_EQ(unlock(token, "1990-04-12", "203.0.113.20").status, 429) << "the address is stopped";
}

// The same for a resident's share with a passcode: a right passcode sent at once with the wrong
// ones that lock the share is refused like them.
TEST_F(DocumentsTest, SharePasscodesSentAtOnceAreCheckedOneAfterAnother) {
  auto issued = docs_->issue(who_, certificate_request("MC-S1"));
  ASSERT_TRUE(issued.is_ok()) << issued.status().to_string();
  const std::string patient = issued->body["patient"].get<std::string>().substr(8);
  ShareService shares(*store_, *vault_, *docs_, clock_,
                      ShareOptions{"http://localhost:8080", crypto::PasswordCost{1, 8 * 1024}});
  const Json request = {{"records", Json::array({issued->body["documentReference"]})},
                        {"label", "For my employer"},
                        {"expiresIn", 3600},
                        {"passcode", "lotus-2718"}};
  auto made =
      shares.create(Resident{"account-1", patient, std::nullopt}, dump_json(request), "10.0.0.1");
  ASSERT_TRUE(made.is_ok()) << made.status().to_string();
  const std::string url = (*made)["viewerUrl"];
  const Json payload =
      parse_json(*crypto::base64url_decode(url.substr(url.find("#shlink:/") + 9))).value();
  const std::string link = payload["url"];
  const std::string token = link.substr(link.rfind('/') + 1);
  auto ask = [&](const std::string& passcode, const std::string& address) {
    auto r = shares.manifest(
        token, dump_json(Json{{"recipient", "an employer"}, {"passcode", passcode}}), address);
    return r ? *r : ShareAnswer{0, {}};
  };
  // Four wrong, one by one; then the fifth wrong and the right one, many times over, at once.
  for (int i = 0; i < ShareService::kWrongPerHour - 1; ++i) {
    ASSERT_EQ(ask("lotus-000" + std::to_string(i), "10.1.0." + std::to_string(i)).status, 401);
  }
  std::vector<ShareAnswer> answers(8);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < 8) std::this_thread::yield();
      answers[i] = ask(i % 2 ? "lotus-2718" : "lotus-1111", "10.2.0." + std::to_string(i));
    });
  }
  for (auto& t : threads) t.join();
  int opened = 0, wrong = 0, locked = 0;
  for (const ShareAnswer& a : answers) {
    ASSERT_TRUE(a.status == 200 || a.status == 401 || a.status == 429) << a.status;
    opened += a.status == 200;
    wrong += a.status == 401;
    locked += a.status == 429 && a.body.value("title", "") == "locked";
  }
  // Checked one at a time, the first answer checked decides. A wrong one is the fifth: it is
  // told so (401, with the passcodes left before the share is disabled), locks the share, and
  // nothing after it opens. A right one clears the count, and the four wrong ones of the burst
  // cannot lock it again.
  EXPECT_FALSE(opened > 0 && locked > 0) << opened << " opened, " << locked << " locked";
  if (opened == 0) {
    EXPECT_EQ(wrong, 1);
    EXPECT_EQ(ask("lotus-2718", "10.3.0.1").status, 429) << "locked, even for the right passcode";
  }
}

// A right birth date sent at once with the wrong ones that lock the link: the first answer
// checked decides, as if they had come one by one (five links, for more chances of a race).
TEST_F(DocumentsTest, ARightAnswerSentWithTheOnesThatLockTheLinkIsCheckedInTurn) {
  for (int n = 0; n < 5; ++n) {
    const std::string token = issue("MC-R4-" + std::to_string(n));
    for (int i = 0; i < DocumentService::kWrongPerHour - 1; ++i) {
      ASSERT_EQ(unlock(token, "2001-01-0" + std::to_string(1 + i),
                       "10.4." + std::to_string(n) + "." + std::to_string(i))
                    .status,
                401);
    }
    std::vector<Try> tries;
    for (int i = 0; i < 8; ++i) {
      tries.push_back({token, i % 2 ? "1990-04-12" : "2001-02-0" + std::to_string(1 + i),
                       "10.5." + std::to_string(n) + "." + std::to_string(i)});
    }
    int opened = 0, wrong = 0, locked = 0;
    for (const LinkResult& r : answer_at_once(tries)) {
      ASSERT_TRUE(r.status == 200 || r.status == 401 || r.status == 429) << r.status;
      opened += r.status == 200;
      wrong += r.status == 401;
      locked += r.status == 429 && r.body.value("title", "") == "locked";
    }
    EXPECT_FALSE(opened > 0 && locked > 0)
        << "link " << n << ": " << opened << " opened, " << locked << " locked";
    if (opened == 0) {
      EXPECT_EQ(wrong, 0) << "link " << n;
      EXPECT_EQ(unlock(token, "1990-04-12", "10.6.0." + std::to_string(n)).status, 429)
          << "link " << n;
    }
  }
}

TEST_F(DocumentsTest, TheDiagnosisShowsOnlyWhenThePatientChooses) {
  const std::string token = issue("MC-5");
  LinkResult open = unlock(token, "1990-04-12");
  ASSERT_EQ(open.status, 200);
  EXPECT_FALSE(open.body.contains("diagnosis"));
  // Whoever holds the link and the birth date (the employer it was forwarded to) cannot show it.
  EXPECT_EQ(docs_->link_preferences_refusal().code(), Code::kForbidden);
  auto again = docs_->open_link(token, open.device_token, "10.0.0.1");
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->status, 200);
  EXPECT_FALSE(again->body.contains("diagnosis"));
  // Every view through the link is in the patient's access log.
  ASSERT_TRUE(store_->flush().is_ok());
  int views = 0;
  ASSERT_TRUE(store_->read([&](store::Reader& r) -> Status {
                HB_ASSIGN_OR_RETURN(auto rows, r.audit("", "", 0, 1000));
                for (const auto& a : rows) views += a.event_type == "link-view";
                return Status::ok();
              }).is_ok());
  EXPECT_EQ(views, 2);
}

// The patient chose to show the diagnosis of the first certificate to whoever holds its link. A
// replacement carries a diagnosis of its own, which the patient has not chosen to show: the old
// link's holder (the employer it was forwarded to) does not see it through "?latest".
TEST_F(DocumentsTest, AReplacementReachedThroughTheOldLinkFollowsItsOwnDiagnosisChoice) {
  auto first = docs_->issue(who_, certificate_request("MC-7"));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  const std::string link = first->body["link"];
  const std::string token = link.substr(link.rfind('/') + 1);
  Resident patient;
  patient.account_id = "account-1";
  std::string first_id;
  ASSERT_TRUE(store_
                  ->read([&](store::Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(auto l, r.doc_link(crypto::sha256_hex(token)));
                    if (!l) return internal("no link");
                    patient.patient_id = l->patient_id;
                    first_id = l->document_id;
                    return Status::ok();
                  })
                  .is_ok());
  ASSERT_TRUE(docs_->resident_set_preferences(patient, first_id, true, "10.0.0.9").is_ok());

  Json replacement = Json::parse(certificate_request("MC-8"));
  replacement["replaces"] = "MC-7";
  replacement["diagnosis"] = {{"text", "A diagnosis the patient has not chosen to show"}};
  ASSERT_TRUE(docs_->issue(who_, dump_json(replacement)).is_ok());

  LinkResult open = unlock(token, "1990-04-12");
  ASSERT_EQ(open.status, 200);
  EXPECT_EQ(open.body["status"], "superseded");
  EXPECT_EQ(open.body["diagnosis"]["text"], "Influenza")
      << "the old document shows as the patient chose";
  auto latest = docs_->open_link(token, open.device_token, "10.0.0.1", /*latest=*/true);
  ASSERT_TRUE(latest.is_ok()) << latest.status().to_string();
  ASSERT_EQ(latest->status, 200);
  EXPECT_EQ(latest->body["status"], "active");
  EXPECT_FALSE(latest->body.contains("diagnosis")) << latest->body.dump();
  EXPECT_EQ(latest->body["showDiagnosis"], false);
}

// The public log is told of a replacement or revocation before the store is. It must never record
// one that the store then refuses: a second replacement of one document in a batch, a replacement
// naming another person, two revocations at once.
TEST_F(DocumentsTest, TheLogRecordsOnlyReplacementsAndRevocationsThatHappen) {
  auto request_for = [](const std::string& ref, const std::string& national_id,
                        const std::string& replaces) {
    Json req = Json::parse(certificate_request(ref));
    req["patient"]["nationalId"] = national_id;
    if (!replaces.empty()) req["replaces"] = replaces;
    return req;
  };
  ASSERT_TRUE(docs_->issue(who_, dump_json(request_for("MC-20", "079201001234", ""))).is_ok());
  ASSERT_TRUE(docs_->issue(who_, dump_json(request_for("MC-30", "079201005678", ""))).is_ok());
  EXPECT_EQ(log_->size(), 2u);

  Json batch = {{"documents", Json::array({request_for("MC-21", "079201001234", "MC-20"),
                                           request_for("MC-22", "079201001234", "MC-20")})}};
  auto answers = docs_->issue_batch(who_, dump_json(batch));
  ASSERT_TRUE(answers.is_ok()) << answers.status().to_string();
  ASSERT_EQ(answers->size(), 2u);
  EXPECT_TRUE((*answers)[0].is_ok());
  ASSERT_FALSE((*answers)[1].is_ok());
  EXPECT_EQ((*answers)[1].error().code(), Code::kUnprocessable);
  EXPECT_EQ((*answers)[1].error().problems()[0].path, "replaces");
  EXPECT_EQ(log_->size(), 4u) << "MC-21's issue and MC-20's supersede, nothing of MC-22";

  // MC-30's person (registered) and somebody not registered yet: neither replaces MC-21.
  for (const char* other : {"079201005678", "079201009999"}) {
    auto r =
        docs_->issue(who_, dump_json(request_for(std::string("MC-X") + other, other, "MC-21")));
    ASSERT_FALSE(r.is_ok()) << other;
    EXPECT_EQ(r.error().code(), Code::kUnprocessable) << r.error().to_string();
    EXPECT_EQ(log_->size(), 4u) << other;
  }

  // Revocations sent at once: one is logged; the others find it revoked, or are told to try again.
  const std::string reason = R"({"reason":"issued in error"})";
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  std::atomic<int> wrong{0};
  std::atomic<std::size_t> ready{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      ready.fetch_add(1);
      while (ready.load() < 8) std::this_thread::yield();
      auto r = docs_->revoke(who_, "MC-21", reason);
      if (r.is_ok() && (*r)["status"] == "revoked") return;
      if (!r.is_ok() && r.error().code() == Code::kConflict) {
        refused.fetch_add(1);
      } else {
        wrong.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LT(refused.load(), 8);
  EXPECT_EQ(log_->size(), 5u) << "one revocation";
}

// A facility's reads of its documents need the read scope and are in the patient's audit trail;
// replacing one needs the update scope, as revoking does.
TEST_F(DocumentsTest, AFacilitysReadsAndChangesOfItsDocumentsNeedTheirScopesAndAreAudited) {
  ASSERT_TRUE(docs_->issue(who_, certificate_request("MC-60")).is_ok());
  Principal issuing_only = who_;
  issuing_only.scopes = *Scopes::parse("system/DocumentReference.c system/Patient.crus");
  auto status = docs_->status(issuing_only, "MC-60");
  ASSERT_FALSE(status.is_ok());
  EXPECT_EQ(status.error().code(), Code::kForbidden);
  auto png = docs_->card_png(issuing_only, "MC-60");
  ASSERT_FALSE(png.is_ok());
  EXPECT_EQ(png.error().code(), Code::kForbidden);
  Json replacement = Json::parse(certificate_request("MC-61"));
  replacement["replaces"] = "MC-60";
  const uint64_t logged = log_->size();
  auto replaced = docs_->issue(issuing_only, dump_json(replacement));
  ASSERT_FALSE(replaced.is_ok());
  EXPECT_EQ(replaced.error().code(), Code::kForbidden);
  EXPECT_EQ(log_->size(), logged);

  ASSERT_TRUE(docs_->status(who_, "MC-60").is_ok());
  ASSERT_TRUE(docs_->card_png(who_, "MC-60").is_ok());
  ASSERT_TRUE(docs_->reopen_link(who_, "MC-60").is_ok());
  ASSERT_TRUE(store_->flush().is_ok());
  std::multiset<std::string> events;
  ASSERT_TRUE(store_
                  ->read([&](store::Reader& r) -> Status {
                    HB_ASSIGN_OR_RETURN(auto rows, r.audit("", "", 0, 1000));
                    for (const auto& a : rows) {
                      if (a.event_type.rfind("document-", 0) != 0) continue;
                      events.insert(a.event_type + " " + a.action);
                      EXPECT_FALSE(a.patient_id.empty());
                      EXPECT_EQ(a.facility_id, who_.facility_id);
                    }
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_EQ(events, (std::multiset<std::string>{"document-card R", "document-link-reopen U",
                                                "document-status R"}));
}

TEST_F(DocumentsTest, TheLinkTokenIsStoredOnlyAsAHash) {
  const std::string token = issue("MC-6");
  ASSERT_TRUE(store_->flush().is_ok());
  std::ifstream in(dir_ / "hb.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ifstream wal(dir_ / "hb.db-wal", std::ios::binary);
  bytes.append((std::istreambuf_iterator<char>(wal)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(token), std::string::npos);
  EXPECT_EQ(bytes.find("079201001234"), std::string::npos) << "nor the national id";
}

// Bodies stored before 2026-12 keep the card's QR text and link file; the first ones (before
// links were SMART Health Links) have neither a link file nor its key. Their links still open,
// and a manifest is given where there is a file. New bodies derive both from the card.
TEST_F(DocumentsTest, LinksOfBodiesStoredEarlierStillOpen) {
  const std::string token = issue("MC-7");
  std::string id;
  ASSERT_TRUE(store_->read([&](store::Reader& r) -> Status {
                HB_ASSIGN_OR_RETURN(auto d, r.document_by_ref(who_.facility_id, "MC-7"));
                id = d->id;
                return Status::ok();
              }).is_ok());
  // Opens the stored body, lets `change` edit it (unless null), and returns it as it is then.
  auto body_of = [&](const std::function<void(Json&)>& change) {
    Json body;
    EXPECT_TRUE(store_->write_sync([&](store::Writer& w) -> Status {
                        HB_ASSIGN_OR_RETURN(auto d, w.document(id));
                        HB_ASSIGN_OR_RETURN(auto key, vault_->key_for_write(w, d->patient_id));
                        HB_ASSIGN_OR_RETURN(std::string plain, key.open(d->body, "document/" + id));
                        body = Json::parse(plain);
                        if (!change) return Status::ok();
                        change(body);
                        d->body = key.seal(dump_json(body), "document/" + id);
                        return w.put_document(*d);
                      }).is_ok());
    return body;
  };
  auto manifest = [&]() {
    auto m = docs_->shl_manifest(token, R"({"recipient":"Dr. Other","passcode":"1990-04-12"})", "10.0.0.2");
    return m ? *m : LinkResult{500, {}, {}};
  };
  // Stored today: no QR text, no file; both derived, and the file opens with the link's key.
  Json now = body_of(nullptr);
  EXPECT_FALSE(now.contains("qr"));
  EXPECT_FALSE(now.contains("shlFile"));
  LinkResult open = unlock(token, "1990-04-12");
  ASSERT_EQ(open.status, 200);
  EXPECT_EQ(open.body["qr"].get<std::string>().rfind("shc:/", 0), 0u);
  LinkResult m = manifest();
  ASSERT_EQ(m.status, 200) << m.body.dump();
  auto file = documents::decrypt_shl_file(now["shlKey"].get<std::string>(),
                                          m.body["files"][0]["embedded"].get<std::string>());
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  EXPECT_NE(file->plaintext.find(now["card"].get<std::string>()), std::string::npos);
  // As stored in 2026-11: the QR text and the file are used as they are.
  const std::string qr = open.body["qr"];
  body_of([&](Json& b) {
    b["qr"] = qr;
    b["shlFile"] = "stored-file";
  });
  EXPECT_EQ(unlock(token, "1990-04-12").body["qr"], qr);
  m = manifest();
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.body["files"][0]["embedded"], "stored-file");
  // The first bodies: no key and no file. The page opens; the manifest has nothing to give.
  body_of([&](Json& b) {
    b.erase("shlFile");
    b.erase("shlKey");
  });
  EXPECT_EQ(unlock(token, "1990-04-12").status, 200);
  EXPECT_FALSE(docs_->shl_manifest(token, R"({"recipient":"x","passcode":"1990-04-12"})", "10.0.0.2").is_ok());
}

TEST_F(DocumentsTest, ARevokedDocumentIsNoLongerASmartHealthLink) {
  const std::string token = issue("MC-7");
  const char* ask = R"({"recipient":"Dr. Other","passcode":"1990-04-12"})";
  ASSERT_EQ(docs_->shl_manifest(token, ask, "10.0.0.2")->status, 200);
  EXPECT_TRUE(unlock(token, "1990-04-12").body.contains("shlink"));
  ASSERT_TRUE(docs_->revoke(who_, "MC-7", R"({"reason":"issued in error"})").is_ok());
  auto m = docs_->shl_manifest(token, ask, "10.0.0.2");
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m->status, 404) << "no longer active";
  EXPECT_FALSE(m->body.contains("files"));
  LinkResult page = unlock(token, "1990-04-12");
  EXPECT_EQ(page.status, 200) << "the page still says what happened";
  EXPECT_EQ(page.body["status"], "revoked");
  EXPECT_FALSE(page.body.contains("shlink"));
  EXPECT_EQ(dump_json(page.body).find("issued in error"), std::string::npos)
      << "the facility's reason is for the patient, signed in, not for whoever holds the link";
  // Before the passcode, a revoked link answers like any other.
  auto wrong = docs_->shl_manifest(token, R"({"recipient":"x","passcode":"2000-01-01"})", "10.0.0.3");
  EXPECT_EQ(wrong->status, 401);
}

// The link's label is "Document from <facility>", cut to the 80 characters a SMART Health Link
// allows, between characters: cut at 60 bytes, a Vietnamese name lost half of "ơ" (U+FFFD).
TEST_F(DocumentsTest, TheLinksLabelIsCutBetweenCharacters) {
  FacilityService facilities(*store_, clock_, "^[0-9]{5}$");
  const std::string name = "AABệnh viện Đa khoa Trung ương Thành phố Cần Thơ Bệnh viện";
  // The label of a document of a facility of this name, as a SMART Health Link viewer reads it.
  auto label_for = [&](const std::string& code, const std::string& facility_name) -> std::string {
    auto f = facilities.add({code, facility_name, "public-hospital", ""});
    EXPECT_TRUE(f.is_ok()) << f.status().to_string();
    if (!f) return "";
    Principal issuer = who_;
    issuer.facility_id = f->id;
    issuer.facility_code = code;
    auto r = docs_->issue(issuer, certificate_request("MC-L" + code));
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (!r) return "";
    const std::string link = r->body["link"];
    LinkResult open = unlock(link.substr(link.rfind('/') + 1), "1990-04-12");
    EXPECT_TRUE(open.body.contains("shlink")) << dump_json(open.body);
    auto payload = documents::decode_shlink(open.body.value("shlink", ""));
    EXPECT_TRUE(payload.is_ok()) << payload.status().to_string();
    return payload ? payload->label : "";
  };
  const std::string whole = label_for("92001", name);
  EXPECT_EQ(whole, "Document from " + name) << "72 characters: the whole name";
  EXPECT_EQ(whole.find("\xEF\xBF\xBD"), std::string::npos) << "no U+FFFD";

  const std::string longer = name + " " + name;  // 117 characters, 151 bytes
  const std::string cut = label_for("92002", longer);
  EXPECT_EQ(utf8_length(cut), documents::kMaxShlLabelChars);
  EXPECT_TRUE(valid_utf8(cut));
  EXPECT_EQ(cut.find("\xEF\xBF\xBD"), std::string::npos) << "no U+FFFD";
  EXPECT_EQ(("Document from " + longer).rfind(cut, 0), 0u) << cut;
}

// A public URL of the longest length the configuration takes still makes SMART Health Links:
// the manifest URLs of a document's link and of a share stay within the spec's 128 characters.
TEST_F(DocumentsTest, TheLongestPublicUrlStillMakesSmartHealthLinks) {
  std::string base = "http://localhost:8080/healthbook-";
  base += std::string(Config::kMaxPublicUrl - base.size(), 'p');
  ASSERT_EQ(base.size(), Config::kMaxPublicUrl);
  DocumentService docs(*store_, *vault_, *records_, *log_, clock_,
                       DocumentOptions{base, "rid-secret"});
  auto issued = docs.issue(who_, certificate_request("MC-U1"));
  ASSERT_TRUE(issued.is_ok()) << issued.status().to_string();
  const std::string link = issued->body["link"];
  auto open = docs.unlock_link(link.substr(link.rfind('/') + 1), "1990-04-12", "10.0.0.1");
  ASSERT_TRUE(open.is_ok()) << open.status().to_string();
  ASSERT_EQ(open->status, 200);
  ASSERT_TRUE(open->body.contains("shlink")) << "no SMART Health Link for a long public URL";
  auto payload = documents::decode_shlink(open->body["shlink"].get<std::string>());
  ASSERT_TRUE(payload.is_ok()) << payload.status().to_string();
  EXPECT_LE(payload->url.size(), 128u);

  ShareService shares(*store_, *vault_, docs, clock_,
                      ShareOptions{base, crypto::PasswordCost{1, 8 * 1024}});
  const std::string patient = issued->body["patient"].get<std::string>().substr(8);
  const Json request = {{"records", Json::array({issued->body["documentReference"]})},
                        {"label", "For my employer"},
                        {"expiresIn", 3600}};
  auto made =
      shares.create(Resident{"account-1", patient, std::nullopt}, dump_json(request), "10.0.0.1");
  ASSERT_TRUE(made.is_ok()) << made.status().to_string();
  auto shared = documents::decode_shlink((*made)["shlink"].get<std::string>());
  ASSERT_TRUE(shared.is_ok()) << shared.status().to_string();
  EXPECT_EQ(shared->url.size(), 128u) << "a share's manifest URL is the longest: exactly 128";
}

// The device cookie is the server's own word, under a MAC: no other link, no later expiry, no
// made-up cookie opens anything, and an unlock stores nothing. A random cookie from before signed
// ones, whose hash is in link_devices, still opens its link until it expires.
TEST_F(DocumentsTest, ADeviceCookieOpensOnlyItsOwnLinkAndCannotBeMadeUp) {
  const std::string token = issue("MC-D1");
  const std::string other = issue("MC-D2");
  const int64_t writes = store_->stats().writes;
  LinkResult open = unlock(token, "1990-04-12");
  ASSERT_EQ(open.status, 200);
  ASSERT_TRUE(store_->flush().is_ok());
  EXPECT_EQ(store_->stats().writes, writes)
      << "a first right answer writes nothing (its audit record aside)";
  const std::string cookie = open.device_token;
  ASSERT_NE(cookie.find('.'), std::string::npos) << cookie;
  auto status = [&](const std::string& t, const std::string& c) {
    return docs_->open_link(t, c, "10.0.0.9")->status;
  };
  EXPECT_EQ(status(token, cookie), 200);
  EXPECT_EQ(status(other, cookie), 401) << "another link";
  const std::string at = cookie.substr(0, cookie.find('.'));
  const std::string mac = cookie.substr(cookie.find('.') + 1);
  // Expiries that only the MAC can refuse (within the 7 days a cookie may name).
  EXPECT_EQ(status(token, std::to_string(std::stoll(at) - 3600) + "." + mac), 401)
      << "an earlier expiry";
  EXPECT_EQ(status(token, "0" + at + "." + mac), 401) << "the same expiry, written otherwise";
  std::string flipped = mac;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(status(token, at + "." + flipped), 401) << "a changed MAC";
  for (const std::string& junk : {std::string("."), "." + mac, at + ".", "x" + at + "." + mac,
                                  at + "." + mac + "=", std::string(40, '9') + "." + mac}) {
    EXPECT_EQ(status(token, junk), 401) << junk;
  }
  DocumentService elsewhere(*store_, *vault_, *records_, *log_, clock_,
                            DocumentOptions{"http://localhost:8080", "other"});
  EXPECT_EQ(elsewhere.open_link(token, cookie, "10.0.0.9")->status, 401) << "another server secret";

  // A cookie from before: a random token whose hash the store holds, until it expires.
  const std::string legacy = "legacy-device-token-0123456789";
  ASSERT_TRUE(store_
                  ->write_sync([&](store::Writer& w) {
                    return w.put_link_device({crypto::sha256_hex(legacy), crypto::sha256_hex(token),
                                              clock_.now(), clock_.now() + std::chrono::hours(1)});
                  })
                  .is_ok());
  EXPECT_EQ(status(token, legacy), 200);
  EXPECT_EQ(status(other, legacy), 401);
  clock_.advance(std::chrono::hours(2));
  EXPECT_EQ(status(token, legacy), 401) << "expired";
  EXPECT_EQ(status(token, cookie), 200) << "the signed cookie lasts its 7 days";
  EXPECT_EQ(status(token, std::to_string(std::stoll(at) + 3600) + "." + mac), 401)
      << "a later expiry";
}

// A card verified again skips the inclusion proof that already held, never the document's status:
// a revocation by another process (the command line), which this service's issuer directory has
// not caught up with, still shows at once.
TEST_F(DocumentsTest, AVerifiedCardIsReadForItsStatusEveryTime) {
  const DocumentOptions https{"https://hb.example", "rid-secret"};
  DocumentService here(*store_, *vault_, *records_, *log_, clock_, https);
  DocumentService elsewhere(*store_, *vault_, *records_, *log_, clock_, https);
  auto issued = here.issue(who_, certificate_request("MC-V1"));
  ASSERT_TRUE(issued.is_ok()) << issued.status().to_string();
  const std::string qr = issued->body["card"]["qr"];
  for (int i = 0; i < 2; ++i) {
    auto v = here.verify(qr);
    ASSERT_TRUE(v.is_ok()) << v.status().to_string();
    EXPECT_EQ((*v)["outcome"], "valid") << dump_json(*v);
    EXPECT_EQ((*v)["document"]["status"], "active");
  }
  ASSERT_TRUE(elsewhere.revoke(who_, "MC-V1", R"({"reason":"issued in error"})").is_ok());
  auto v = here.verify(qr);
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  EXPECT_EQ((*v)["outcome"], "revoked") << dump_json(*v);
  EXPECT_EQ((*v)["document"]["status"], "revoked");
}

TEST_F(DocumentsTest, AFileLongerThanTheViewerTakesIsGivenByASingleUseLocation) {
  const std::string token = issue("MC-8");
  auto embedded = docs_->shl_manifest(token, R"({"recipient":"x","passcode":"1990-04-12"})", "10.0.0.2");
  ASSERT_TRUE(embedded.is_ok());
  const std::string jwe = embedded->body["files"][0]["embedded"];
  auto small = docs_->shl_manifest(
      token, R"({"recipient":"x","passcode":"1990-04-12","embeddedLengthMax":100})", "10.0.0.2");
  ASSERT_TRUE(small.is_ok());
  ASSERT_EQ(small->status, 200);
  const Json& file = small->body["files"][0];
  EXPECT_FALSE(file.contains("embedded"));
  const std::string location = file["location"];
  const std::string prefix = "http://localhost:8080/shl/file/";
  ASSERT_EQ(location.rfind(prefix, 0), 0u) << location;
  const std::string loc_token = location.substr(prefix.size());
  EXPECT_GE(loc_token.size(), 43u) << "256 random bits";
  auto got = docs_->shl_location_file(loc_token);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->size(), jwe.size()) << "the same file, encrypted afresh or not";
  EXPECT_FALSE(docs_->shl_location_file(loc_token).has_value()) << "single use";
  // A location not fetched in time is gone.
  auto again = docs_->shl_manifest(
      token, R"({"recipient":"x","passcode":"1990-04-12","embeddedLengthMax":100})", "10.0.0.2");
  const std::string late = again->body["files"][0]["location"].get<std::string>().substr(prefix.size());
  clock_.advance(DocumentService::kLocationLifetime + std::chrono::seconds(1));
  EXPECT_FALSE(docs_->shl_location_file(late).has_value());
  EXPECT_FALSE(docs_->shl_location_file("unknown").has_value());
  // Large enough: embedded as before.
  auto big = docs_->shl_manifest(
      token, R"({"recipient":"x","passcode":"1990-04-12","embeddedLengthMax":100000})", "10.0.0.2");
  EXPECT_TRUE(big->body["files"][0].contains("embedded"));
}

TEST_F(DocumentsTest, AReplacementIsOfTheSameKind) {
  auto request = [](const std::string& ref, const std::string& kind, const std::string& replaces) {
    Json req = {{"documentId", ref},
                {"kind", kind},
                {"patient",
                 {{"nationalId", "079201001234"},
                  {"family", "Nguyen"},
                  {"given", "Mai"},
                  {"birthDate", "1990-04-12"},
                  {"phone", "+84901234567"}}},
                {"doctor", {{"name", "Dr. Binh"}}}};
    if (kind == "referral") {
      req["referral"] = {{"to", "Cardiology"}, {"reason", "murmur"}};
    } else {
      req["leave"] = {{"from", "2026-11-20"}, {"to", "2027-02-20"}};
    }
    if (!replaces.empty()) req["replaces"] = replaces;
    return dump_json(req);
  };
  ASSERT_TRUE(docs_->issue(who_, request("MAT-1", "mc-maternity", "")).is_ok());
  for (const char* other : {"referral", "mc-outpatient"}) {
    auto r = docs_->issue(who_, request(std::string("R-") + other, other, "MAT-1"));
    ASSERT_FALSE(r.is_ok()) << other;
    EXPECT_EQ(r.error().code(), Code::kUnprocessable);
    ASSERT_EQ(r.error().problems().size(), 1u);
    EXPECT_EQ(r.error().problems()[0].path, "replaces");
    EXPECT_NE(r.error().problems()[0].message.find("mc-maternity"), std::string::npos)
        << r.error().problems()[0].message;
  }
  // Nothing was superseded by the refusals; the same kind replaces it.
  auto same = docs_->issue(who_, request("MAT-2", "mc-maternity", "MAT-1"));
  ASSERT_TRUE(same.is_ok()) << same.status().to_string();
  EXPECT_EQ(same->status, 201);
}

// A DocumentReference that the facility wrote through /fhir is not a document's record, even with
// the identifier the documents service gives its own: issuing that documentId makes a new one.
TEST_F(DocumentsTest, TheDocumentsRecordIsItsOwnNotAFacilitysLookalike) {
  Json patient = {{"resourceType", "Patient"},
                  {"identifier", Json::array({{{"system", "urn:nid"}, {"value", "079201001234"}}})},
                  {"name", Json::array({{{"family", "Nguyen"}, {"given", Json::array({"Mai"})}}})},
                  {"birthDate", "1990-04-12"}};
  auto p = records_->create(who_, "Patient", dump_json(patient), std::nullopt);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  const std::string patient_id = parse_json(p->body)->at("id");
  Json lookalike = {
      {"resourceType", "DocumentReference"},
      {"status", "current"},
      {"identifier",
       Json::array({{{"system", "urn:healthbook:document:01001"}, {"value", "MC-9"}}})},
      {"subject", {{"reference", "Patient/" + patient_id}}},
      {"description", "written by the facility"},
      {"content",
       Json::array({{{"attachment", {{"contentType", "text/plain"}, {"title", "note"}}}}})}};
  auto l = records_->create(who_, "DocumentReference", dump_json(lookalike), std::nullopt);
  ASSERT_TRUE(l.is_ok()) << l.status().to_string();
  const std::string lookalike_ref =
      "DocumentReference/" + parse_json(l->body)->at("id").get<std::string>();

  // Issued, then the same request again: the replay answers with the record the issuance made.
  ASSERT_FALSE(issue("MC-9").empty());
  auto again = docs_->issue(who_, certificate_request("MC-9"));
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(again->status, 200);
  const std::string record = again->body["documentReference"];
  ASSERT_EQ(record.rfind("DocumentReference/", 0), 0u) << record;
  EXPECT_NE(record, lookalike_ref);
  EXPECT_EQ(again->body["patient"], "Patient/" + patient_id);
  auto read = records_->read(who_, "DocumentReference", record.substr(18));
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(parse_json(read->body)->at("type")["coding"][0]["code"], "mc-outpatient");
  auto mine = records_->read(who_, "DocumentReference", lookalike_ref.substr(18));
  ASSERT_TRUE(mine.is_ok()) << mine.status().to_string();
  EXPECT_EQ(parse_json(mine->body)->at("description"), "written by the facility");
}

}  // namespace
}  // namespace hb::services
