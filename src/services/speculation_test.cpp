// Speculative writes (speculation.h) against a real SQLite store: what is prepared on a snapshot
// is stored only if every read it made still holds; otherwise nothing is written and the records
// service redoes the work on the writer thread.
#include "services/speculation.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "crypto/envelope.h"
#include "services/records.h"
#include "services/records_internal.h"
#include "services/vault.h"

namespace hb::services::detail {
namespace {

namespace fs = std::filesystem;

class SpeculationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hb-spec-" + new_uuid());
    fs::create_directories(dir_);
    store::SqliteOptions o;
    o.path = (dir_ / "hb.db").string();
    o.synchronous_full = false;
    store_ = std::move(store::open_sqlite(o).value());
  }
  void TearDown() override {
    records_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  static store::ResourceRow row(const std::string& type, const std::string& id, int64_t version,
                                const std::string& patient) {
    store::ResourceRow r;
    r.type = type;
    r.id = id;
    r.version = version;
    r.patient_id = patient;
    r.facility_id = "f1";
    r.body = "sealed";
    return r;
  }

  // Runs `prepare` on a snapshot and returns the speculation (or the error prepare returned).
  template <typename F>
  std::optional<Speculation> speculate(F prepare, Status* status = nullptr) {
    std::optional<Speculation> spec;
    Status s = store_->read([&](store::Reader& r) {
      spec.emplace(r);
      return prepare(*spec);
    });
    if (status) *status = s;
    if (!s) return std::nullopt;
    return spec;
  }

  std::optional<int64_t> version_of(const std::string& type, const std::string& id) {
    std::optional<int64_t> v;
    EXPECT_TRUE(store_->read([&](store::Reader& r) -> Status {
                  HB_ASSIGN_OR_RETURN(auto cur, r.current(type, id));
                  if (cur) v = cur->version;
                  return Status::ok();
                }).is_ok());
    return v;
  }

  // A records service over this store, and a facility client allowed everything.
  RecordService& record_service() {
    master_ = std::make_unique<crypto::MasterKey>(*crypto::MasterKey::create(std::string(32, 'm')));
    vault_ = std::make_unique<Vault>(*master_);
    records_ = std::make_unique<RecordService>(*store_, *vault_, clock_,
                                               RecordsOptions{"http://hb.test", {"urn:nid"}, {"urn:ins"}, {}});
    return *records_;
  }
  static Principal facility_principal() {
    Principal who;
    who.client_id = "c1";
    who.facility_id = "f1";
    who.facility_code = "01001";
    who.scopes = *Scopes::parse("system/*.cruds");
    return who;
  }

  // Registers a person (identifier `nid`) through f1's records service, then prepares facility
  // f2's match of the same person twice, as two speculations. f2 goes through an engine of its own
  // (`other_`, its own allowance of link tries) over the same store, so the link is checked at
  // replay against f2's tries left (Engine::link_try_allowed).
  std::pair<std::optional<Speculation>, std::optional<Speculation>> two_matches_by_f2(
      const std::string& nid) {
    const Json person = {
        {"resourceType", "Patient"},
        {"identifier", Json::array({{{"system", "urn:nid"}, {"value", nid}}})},
        {"name", Json::array({{{"family", "Pham"}, {"given", Json::array({"Duc"})}}})},
        {"birthDate", "1970-07-07"}};
    EXPECT_TRUE(record_service()
                    .create(facility_principal(), "Patient", dump_json(person), std::nullopt)
                    .is_ok());
    other_ = std::make_unique<Engine>(
        *store_, *vault_, clock_, RecordsOptions{"http://hb.test", {"urn:nid"}, {"urn:ins"}, {}});
    Principal f2 = facility_principal();
    f2.client_id = "c2";
    f2.facility_id = "f2";
    f2.facility_code = "01002";
    auto prepare = [&](store::Writer& w) -> Status {
      TxCache tx;
      HB_ASSIGN_OR_RETURN(auto target,
                          other_->create_target(w, f2, "Patient", person, std::nullopt, tx));
      EXPECT_EQ(target.kind, CreateTarget::Kind::kSamePerson);
      return Status::ok();
    };
    auto first = speculate(prepare);
    auto second = speculate(prepare);
    return {std::move(first), std::move(second)};
  }
  void use_up_f2s_tries() {
    for (int i = 0; i < 20; ++i) other_->link_refusals.allow("facility:f2");
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_;
  std::unique_ptr<crypto::MasterKey> master_;
  std::unique_ptr<Vault> vault_;
  std::unique_ptr<RecordService> records_;
  std::unique_ptr<Engine> other_;
};

TEST_F(SpeculationTest, ReplayStoresWhatWasPrepared) {
  auto spec = speculate([](store::Writer& w) -> Status {
    HB_RETURN_IF_ERROR(w.put_patient_key("p1", "wrapped"));
    HB_RETURN_IF_ERROR(w.put_resource(row("Patient", "p1", 1, "p1"), {}));
    HB_RETURN_IF_ERROR(w.bind_identifier("bi-1", "p1"));
    HB_RETURN_IF_ERROR(w.link_facility("p1", "f1", Time{}));
    // Reads see the speculation's own writes.
    HB_ASSIGN_OR_RETURN(auto cur, w.current("Patient", "p1"));
    if (!cur || cur->version != 1) return internal("own write not visible");
    HB_ASSIGN_OR_RETURN(auto who, w.patient_by_identifier("bi-1"));
    if (who != "p1") return internal("own binding not visible");
    HB_ASSIGN_OR_RETURN(bool linked, w.facility_linked("p1", "f1"));
    if (!linked) return internal("own link not visible");
    return w.put_resource(row("Observation", "o1", 1, "p1"),
                          {{"code", store::IndexKind::kToken, "http://loinc.org", "8480-6"}});
  });
  ASSERT_TRUE(spec.has_value());
  EXPECT_FALSE(version_of("Patient", "p1").has_value()) << "nothing is written before the replay";
  ASSERT_TRUE(store_->write_sync([&](store::Writer& w) { return spec->replay(w); }).is_ok());
  EXPECT_EQ(version_of("Patient", "p1"), 1);
  EXPECT_EQ(version_of("Observation", "o1"), 1);
  ASSERT_TRUE(store_->read([](store::Reader& r) -> Status {
                HB_ASSIGN_OR_RETURN(auto key, r.patient_key("p1"));
                EXPECT_EQ(key, "wrapped");
                HB_ASSIGN_OR_RETURN(auto who, r.patient_by_identifier("bi-1"));
                EXPECT_EQ(who, "p1");
                HB_ASSIGN_OR_RETURN(bool linked, r.facility_linked("p1", "f1"));
                EXPECT_TRUE(linked);
                return Status::ok();
              }).is_ok());
}

TEST_F(SpeculationTest, AReadThatNoLongerHoldsRefusesTheWholeReplay) {
  // Prepared while the identifier was free...
  auto spec = speculate([](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto who, w.patient_by_identifier("bi-1"));
    if (who) return internal("unexpected binding");
    HB_RETURN_IF_ERROR(w.put_resource(row("Patient", "p2", 1, "p2"), {}));
    return w.bind_identifier("bi-1", "p2");
  });
  ASSERT_TRUE(spec.has_value());
  // ...then someone else registered it.
  ASSERT_TRUE(store_->write_sync([](store::Writer& w) { return w.bind_identifier("bi-1", "p3"); }).is_ok());
  Status s = store_->write_sync([&](store::Writer& w) { return spec->replay(w); });
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.to_string();
  EXPECT_FALSE(version_of("Patient", "p2").has_value()) << "a stale replay writes nothing";
}

TEST_F(SpeculationTest, AChangedResourceVersionIsStale) {
  ASSERT_TRUE(store_->write_sync([](store::Writer& w) {
                return w.put_resource(row("Patient", "p1", 1, "p1"), {});
              }).is_ok());
  auto spec = speculate([](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto p, w.current("Patient", "p1"));  // e.g. checking the subject exists
    if (!p) return internal("missing");
    return w.put_resource(row("Observation", "o1", 1, "p1"), {});
  });
  ASSERT_TRUE(spec.has_value());
  ASSERT_TRUE(store_->write_sync([](store::Writer& w) {
                auto deleted = row("Patient", "p1", 2, "p1");
                deleted.deleted = true;
                deleted.body.clear();
                return w.put_resource(deleted, {});
              }).is_ok());
  EXPECT_EQ(store_->write_sync([&](store::Writer& w) { return spec->replay(w); }).code(),
            Code::kUnavailable);
  EXPECT_FALSE(version_of("Observation", "o1").has_value());
}

TEST_F(SpeculationTest, ConditionalSearchesAreCheckedAgain) {
  store::SearchQuery q;
  q.type = "Practitioner";
  q.count = 2;
  auto spec = speculate([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto page, w.search(q));
    if (!page.rows.empty()) return internal("unexpected match");
    return w.put_resource(row("Encounter", "e1", 1, ""), {});
  });
  ASSERT_TRUE(spec.has_value());
  ASSERT_TRUE(store_->write_sync([](store::Writer& w) {
                return w.put_resource(row("Practitioner", "dr1", 1, ""), {});
              }).is_ok());
  EXPECT_EQ(store_->write_sync([&](store::Writer& w) { return spec->replay(w); }).code(),
            Code::kUnavailable);
  EXPECT_FALSE(version_of("Encounter", "e1").has_value());
}

TEST_F(SpeculationTest, SearchingATypeItWroteIsLeftToTheWriter) {
  Status s;
  auto spec = speculate(
      [](store::Writer& w) -> Status {
        HB_RETURN_IF_ERROR(w.put_resource(row("Patient", "p1", 1, "p1"), {}));
        store::SearchQuery q;
        q.type = "Patient";
        return w.search(q).status();
      },
      &s);
  EXPECT_FALSE(spec.has_value());
  EXPECT_EQ(s.code(), Code::kUnavailable);
}

// Through the records service: a transaction whose Encounter names, by identifier, the Patient the
// same transaction creates cannot be prepared on a snapshot (the search must see the new Patient);
// it still succeeds, done the ordinary way.
TEST_F(SpeculationTest, TransactionThatSearchesItsOwnWritesStillSucceeds) {
  RecordService& records = record_service();
  const Principal who = facility_principal();
  Json bundle = {
      {"resourceType", "Bundle"},
      {"type", "transaction"},
      {"entry", Json::array({
                    {{"fullUrl", "urn:uuid:11111111-1111-4111-8111-111111111111"},
                     {"resource", {{"resourceType", "Patient"},
                                   {"identifier", Json::array({{{"system", "urn:nid"}, {"value", "N1"}}})},
                                   {"name", Json::array({{{"family", "Tran"}, {"given", Json::array({"Binh"})}}})},
                                   {"birthDate", "1980-02-03"}}},
                     {"request", {{"method", "POST"}, {"url", "Patient"}}}},
                    {{"resource", {{"resourceType", "Encounter"},
                                   {"status", "finished"},
                                   {"class", {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "AMB"}}},
                                   {"subject", {{"reference", "Patient?identifier=urn:nid|N1"}}}}},
                     {"request", {{"method", "POST"}, {"url", "Encounter"}}}},
                })}};
  auto r = records.bundle(who, dump_json(bundle));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  Json out = *parse_json(r->body);
  std::string patient = out["entry"][0]["response"]["location"].get<std::string>();
  std::string encounter = out["entry"][1]["response"]["location"].get<std::string>();
  auto enc = records.read(who, "Encounter", encounter.substr(10, encounter.find("/_history") - 10));
  ASSERT_TRUE(enc.is_ok()) << enc.status().to_string();
  EXPECT_EQ((*parse_json(enc->body))["subject"]["reference"],
            patient.substr(0, patient.find("/_history")));
}

// Many transactions at once for the same new person: each lands exactly once, whichever path it
// took, and the person is registered once.
TEST_F(SpeculationTest, ConcurrentTransactionsForOnePersonRegisterThemOnce) {
  RecordService& records = record_service();
  const Principal who = facility_principal();
  auto bundle_for = [](int i) {
    return dump_json(Json{
        {"resourceType", "Bundle"},
        {"type", "transaction"},
        {"entry", Json::array({
                      {{"fullUrl", "urn:uuid:11111111-1111-4111-8111-111111111111"},
                       {"resource", {{"resourceType", "Patient"},
                                     {"identifier", Json::array({{{"system", "urn:nid"}, {"value", "SAME"}}})},
                                     {"name", Json::array({{{"family", "Le"}, {"given", Json::array({"Chi"})}}})},
                                     {"birthDate", "1975-05-06"}}},
                       {"request", {{"method", "POST"}, {"url", "Patient"}}}},
                      {{"resource", {{"resourceType", "Observation"},
                                     {"status", "final"},
                                     {"code", {{"text", "visit " + std::to_string(i)}}},
                                     {"subject", {{"reference", "urn:uuid:11111111-1111-4111-8111-111111111111"}}}}},
                       {"request", {{"method", "POST"}, {"url", "Observation"}}}},
                  })}});
  };
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<Status> results(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i] = records.bundle(who, bundle_for(i)).status(); });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_TRUE(s.is_ok()) << s.to_string();
  auto patients = records.search(who, "Patient", {{"identifier", "urn:nid|SAME"}});
  ASSERT_TRUE(patients.is_ok());
  EXPECT_EQ((*parse_json(patients->body))["entry"].size(), 1u);
  auto obs = records.search(who, "Observation", {{"_summary", "count"}});
  ASSERT_TRUE(obs.is_ok());
  EXPECT_EQ((*parse_json(obs->body))["total"], kThreads);
}

// Transactions given at once without waiting (batch issuance), each prepared on this thread
// while the writer may still be storing the ones before it: a preparation that made the Patient
// anew is stale once another stored it, and runs again on the writer. One Patient, every
// Observation, and each caller's own rows (`also`) see the Patient that was stored.
TEST_F(SpeculationTest, TransactionsQueuedAtOnceForOnePersonRegisterThemOnce) {
  RecordService& records = record_service();
  const Principal who = facility_principal();
  auto bundle_for = [](int i) {
    return Json{
        {"resourceType", "Bundle"},
        {"type", "transaction"},
        {"entry",
         Json::array({
             {{"fullUrl", "urn:uuid:22222222-2222-4222-8222-222222222222"},
              {"resource",
               {{"resourceType", "Patient"},
                {"identifier", Json::array({{{"system", "urn:nid"}, {"value", "QUEUED"}}})},
                {"name", Json::array({{{"family", "Pham"}, {"given", Json::array({"Lan"})}}})},
                {"birthDate", "1982-03-04"}}},
              {"request",
               {{"method", "POST"},
                {"url", "Patient"},
                {"ifNoneExist", "identifier=urn:nid|QUEUED"}}}},
             {{"resource",
               {{"resourceType", "Observation"},
                {"status", "final"},
                {"code", {{"text", "result " + std::to_string(i)}}},
                {"subject", {{"reference", "urn:uuid:22222222-2222-4222-8222-222222222222"}}}}},
              {"request", {{"method", "POST"}, {"url", "Observation"}}}},
         })}};
  };
  constexpr int kQueued = 6;
  std::vector<std::string> patient_of(kQueued);
  std::vector<RecordService::Pending> pending;
  for (int i = 0; i < kQueued; ++i) {
    pending.push_back(records.transaction_json_async(
        who, bundle_for(i),
        [&patient_of, i](store::Writer&, const std::vector<std::string>& written) -> Status {
          patient_of[i] = written.at(0);
          return Status::ok();
        }));
  }
  for (auto& f : pending) {
    Status s = f.get();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
  }
  auto patients = records.search(who, "Patient", {{"identifier", "urn:nid|QUEUED"}});
  ASSERT_TRUE(patients.is_ok());
  const Json found = *parse_json(patients->body);
  ASSERT_EQ(found["entry"].size(), 1u);
  const std::string stored = "Patient/" + found["entry"][0]["resource"]["id"].get<std::string>();
  for (const auto& p : patient_of) EXPECT_EQ(p, stored);
  auto obs = records.search(who, "Observation", {{"_summary", "count"}});
  ASSERT_TRUE(obs.is_ok());
  EXPECT_EQ((*parse_json(obs->body))["total"], kQueued);

  // A bundle that is not a valid transaction is refused before anything is queued.
  Json bad = bundle_for(99);
  bad["type"] = "batch";
  bool called = false;
  auto refused = records.transaction_json_async(
      who, bad, [&](store::Writer&, const std::vector<std::string>&) -> Status {
        called = true;
        return Status::ok();
      });
  EXPECT_FALSE(refused.get().is_ok());
  bad = bundle_for(100);
  bad["entry"][1]["resource"]["valueQuantity"] = "not a quantity";
  auto invalid = records.transaction_json_async(
      who, bad, [&](store::Writer&, const std::vector<std::string>&) -> Status {
        called = true;
        return Status::ok();
      });
  EXPECT_EQ(invalid.get().code(), Code::kUnprocessable);
  EXPECT_FALSE(called);
  EXPECT_EQ(
      (*parse_json(records.search(who, "Observation", {{"_summary", "count"}})->body))["total"],
      kQueued);
}

// Two queued transactions that both update one Patient, both prepared against the same version
// (the writer is held until both are queued): the second one's replay finds the version taken and
// fails, and it is then run the ordinary way, on the version the first one stored.
TEST_F(SpeculationTest, AQueuedTransactionWhoseReplayFailsRunsAgain) {
  RecordService& records = record_service();
  const Principal who = facility_principal();
  auto created = records.create(
      who, "Patient",
      dump_json(Json{{"resourceType", "Patient"},
                     {"identifier", Json::array({{{"system", "urn:nid"}, {"value", "HELD"}}})},
                     {"name", Json::array({{{"family", "Vo"}}})},
                     {"birthDate", "1970-01-02"}}),
      std::nullopt);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  const std::string id = (*parse_json(created->body))["id"];
  auto update = [&](const std::string& given) {
    return Json{
        {"resourceType", "Bundle"},
        {"type", "transaction"},
        {"entry",
         Json::array(
             {{{"resource",
                {{"resourceType", "Patient"},
                 {"id", id},
                 {"identifier", Json::array({{{"system", "urn:nid"}, {"value", "HELD"}}})},
                 {"name", Json::array({{{"family", "Vo"}, {"given", Json::array({given})}}})},
                 {"birthDate", "1970-01-02"}}},
               {"request", {{"method", "PUT"}, {"url", "Patient/" + id}}}}})}};
  };
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto held = store_->write([released](store::Writer&) -> Status {
    released.wait();
    return Status::ok();
  });
  auto none = [](store::Writer&, const std::vector<std::string>&) -> Status {
    return Status::ok();
  };
  auto first = records.transaction_json_async(who, update("An"), none);
  auto second = records.transaction_json_async(who, update("Binh"), none);
  release.set_value();
  ASSERT_TRUE(held.get().is_ok());
  Status s1 = first.get();
  Status s2 = second.get();
  EXPECT_TRUE(s1.is_ok()) << s1.to_string();
  EXPECT_TRUE(s2.is_ok()) << s2.to_string();
  EXPECT_EQ(version_of("Patient", id), 3);
}

// An issued document: its row, its link and its SMS are new rows, prepared on the snapshot and
// stored by the replay; a documentId taken meanwhile fails the replay and stores none of them.
TEST_F(SpeculationTest, DocumentsLinksAndMessagesAreStoredByTheReplay) {
  ASSERT_TRUE(store_->write_sync([](store::Writer& w) {
                return w.put_facility({"f1", "01001", "Clinic", "clinic", "01", "active", Time{}});
              }).is_ok());
  auto document = [](const std::string& id, const std::string& ref) {
    store::Document d;
    d.id = id;
    d.facility_id = "f1";
    d.facility_ref = ref;
    d.patient_id = "p1";
    d.kind = "mc-outpatient";
    d.status = "active";
    d.card_hash = "hash-" + id;
    d.body = "sealed";
    return d;
  };
  auto prepare = [&](const std::string& id, const std::string& ref) {
    return [&, id, ref](store::Writer& w) -> Status {
      HB_RETURN_IF_ERROR(w.put_document(document(id, ref)));
      store::DocLink link;
      link.token_hash = "token-" + id;
      link.document_id = id;
      link.patient_id = "p1";
      HB_RETURN_IF_ERROR(w.put_doc_link(link));
      store::OutboxMessage m;
      m.channel = "sms";
      m.patient_id = "p1";
      m.recipient_sealed = "sealed";
      m.recipient_index = "index";
      m.body = "a link";
      m.dedupe_key = "document:" + id;
      HB_ASSIGN_OR_RETURN(int64_t queued, w.outbox_enqueue(m));
      if (queued != 0) return internal("a speculation cannot know the outbox id");
      return Status::ok();
    };
  };
  auto stored = [&](const std::string& id) {
    bool doc = false, link = false, message = false;
    EXPECT_TRUE(store_->read([&](store::Reader& r) -> Status {
                  HB_ASSIGN_OR_RETURN(auto d, r.document(id));
                  HB_ASSIGN_OR_RETURN(auto l, r.doc_link("token-" + id));
                  HB_ASSIGN_OR_RETURN(auto m, r.outbox_by_dedupe("document:" + id));
                  doc = d.has_value(), link = l.has_value(), message = m.has_value();
                  return Status::ok();
                }).is_ok());
    return std::vector<bool>{doc, link, message};
  };

  auto first = speculate(prepare("d1", "MC-1"));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(stored("d1"), (std::vector<bool>{false, false, false})) << "nothing before the replay";
  ASSERT_TRUE(store_->write_sync([&](store::Writer& w) { return first->replay(w); }).is_ok());
  EXPECT_EQ(stored("d1"), (std::vector<bool>{true, true, true}));

  // Prepared before another request stored MC-2; replayed after it: the unique documentId fails
  // the replay (the caller then runs the write the ordinary way and answers with the stored one).
  auto late = speculate(prepare("d3", "MC-2"));
  ASSERT_TRUE(late.has_value());
  ASSERT_TRUE(store_->write_sync([&](store::Writer& w) { return w.put_document(document("d2", "MC-2")); }).is_ok());
  Status replayed = store_->write_sync([&](store::Writer& w) { return late->replay(w); });
  EXPECT_EQ(replayed.code(), Code::kConflict);
  EXPECT_EQ(stored("d3"), (std::vector<bool>{false, false, false}));

  // Reading documents is still left to the writer thread (a replacement reads the old document).
  Status refused;
  EXPECT_FALSE(speculate([](store::Writer& w) { return w.document("d1").status(); }, &refused).has_value());
  EXPECT_EQ(refused.code(), Code::kUnavailable);
}

// A transaction's speculation that would link a facility to a registered person compares the
// details on the handler thread and charges nothing; the facility's link tries are checked when
// it is replayed, on the writer thread. Tries used up in between (by wrong guesses answered
// meanwhile) refuse the replay: a right guess sent at once with wrong ones gets no free pass.
TEST_F(SpeculationTest, ALinkIsReplayedOnlyWhileTheFacilityHasTriesLeft) {
  auto [first, second] = two_matches_by_f2("N7");
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(store_->write_sync([&](store::Writer& w) { return first->replay(w); }).is_ok());
  use_up_f2s_tries();
  EXPECT_EQ(store_->write_sync([&](store::Writer& w) { return second->replay(w); }).code(),
            Code::kTooManyRequests);
}

// The store may run a replay twice (write_rerunnable): the second run keeps the first one's answer
// to the writer-side checks, though the allowance was used up in between, as the rows it writes
// again depended on that answer.
TEST_F(SpeculationTest, AReplayRunAgainKeepsItsChecksAnswer) {
  auto [spec, later] = two_matches_by_f2("N8");
  ASSERT_TRUE(spec && later);
  EXPECT_TRUE(store_
                  ->write_sync([&](store::Writer& w) -> Status {
                    HB_RETURN_IF_ERROR(spec->replay(w));
                    use_up_f2s_tries();
                    return spec->replay(w);
                  })
                  .is_ok());
  // A speculation replayed for the first time now finds no tries left.
  EXPECT_EQ(store_->write_sync([&](store::Writer& w) { return later->replay(w); }).code(),
            Code::kTooManyRequests);
}

}  // namespace
}  // namespace hb::services::detail
