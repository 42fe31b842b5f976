// Optimistic preparation of a write off the store's writer thread.
//
// The store has one writer thread (SQLite allows one writer); everything a write closure does on
// it (reference resolution, JSON serialisation, index extraction, AES-GCM sealing) holds up every
// other write. A Speculation runs the same service logic on a handler thread against a committed
// read snapshot, through a Writer that records what it read and buffers what it would write.
// The writer thread then only checks that what was read still holds (a few point lookups) and
// applies the buffered rows; if anything changed in between, the caller runs the write again the
// ordinary way, in a write of its own.
//
// Reads are answered from the buffered writes first (a bundle sees its own earlier entries), then
// from the snapshot. A search is not answered from the buffer: a speculation that searches a type
// it also writes is refused (kUnavailable), and the caller falls back to the ordinary path.
//
// Thread-safety: a Speculation belongs to one thread at a time; it is built on a handler thread
// and replayed inside one writer closure (which the store may run twice, see replay).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "store/store.h"

namespace hb::services::detail {

class Speculation final : public store::Writer {
 public:
  // `snapshot` must stay valid while the speculation runs (the store.read closure it came from).
  explicit Speculation(store::Reader& snapshot) : r_(snapshot) {}

  // Checks every recorded read against `w` and, if all still hold, applies the buffered writes in
  // order. kUnavailable when a read no longer holds and nothing was written; any other error comes
  // from applying a write (the store undoes the part already applied). Safe to run again from the
  // state it first ran in (store::Store::write_rerunnable): it writes the same rows, and the
  // checks below keep the answer they gave the first time.
  Status replay(store::Writer& w) const;

  // A check that only the writer can make (one that must not race with other writes, like a
  // facility's allowance of link tries: Engine::link_try_allowed). replay runs it before anything
  // else; its error fails the replay, and the caller then runs the write the ordinary way, where
  // the same check runs again. The checks run once: a replay run again by the store reuses their
  // answer, which other threads may have changed since but the rows written then depended on.
  void check_at_replay(std::function<Status()> check) {
    replay_checks_.push_back(std::move(check));
  }

  // Reader
  Result<std::optional<store::Facility>> facility_by_id(const std::string& id) override;
  Result<std::optional<store::Facility>> facility_by_code(const std::string& code) override;
  Result<std::vector<store::Facility>> list_facilities() override;
  Result<std::optional<store::ApiClient>> client(const std::string& client_id) override;
  Result<std::vector<store::ApiClient>> clients_of(const std::string& facility_id) override;
  Result<std::optional<store::AccessToken>> access_token(const std::string& token_hash) override;
  Result<std::optional<store::ResourceRow>> current(const std::string& type,
                                                    const std::string& id) override;
  Result<std::optional<store::ResourceRow>> version(const std::string& type, const std::string& id,
                                                    int64_t version) override;
  Result<std::vector<store::ResourceRow>> history(const std::string& type, const std::string& id,
                                                  int64_t before_version, int limit) override;
  Result<store::SearchPage> search(const store::SearchQuery& q) override;
  Result<std::optional<std::string>> patient_key(const std::string& patient_id) override;
  Result<std::optional<std::string>> patient_by_identifier(const std::string& blind_index) override;
  Result<bool> facility_linked(const std::string& patient_id, const std::string& facility_id) override;
  Result<std::vector<store::AuditRecord>> audit(const std::string& facility_id,
                                                const std::string& patient_id, int64_t after_seq,
                                                int limit) override;
  Result<std::optional<store::AuditRecord>> audit_by_id(const std::string& id) override;
  Result<std::optional<store::IssuerKey>> issuer_key(const std::string& facility_id) override;
  Result<std::optional<store::Document>> document(const std::string& id) override;
  Result<std::optional<store::Document>> document_by_ref(const std::string& facility_id,
                                                         const std::string& facility_ref) override;
  Result<std::optional<store::Document>> document_by_card(const std::string& card_hash) override;
  Result<std::vector<store::Document>> documents_of_patient(const std::string& patient_id) override;
  Result<std::vector<store::Document>> revoked_documents(const std::string& facility_id,
                                                         const std::string& kid) override;
  Result<std::optional<store::DocLink>> doc_link(const std::string& token_hash) override;
  Result<std::vector<store::DocLink>> doc_links_of(const std::string& document_id) override;
  Result<std::optional<store::LinkDevice>> link_device(const std::string& device_hash) override;

  // ---- resident accounts: not speculated (kUnavailable) ----
  Result<std::optional<store::Account>> account(const std::string& id) override;
  Result<std::optional<store::Account>> account_by_patient(const std::string& patient_id) override;
  Result<std::optional<store::OneTimeCode>> one_time_code(const std::string& challenge_hash) override;
  Result<std::optional<store::AccountSession>> account_session(const std::string& token_hash) override;
  // ---- end resident accounts ----

  // ---- the health book: reading it is not speculated (kUnavailable); timeline rows are buffered
  // writes like the resources they summarise ----
  Result<std::vector<store::TimelineRow>> timeline(const store::TimelineQuery& q) override;
  Result<std::vector<std::string>> timeline_facilities(const std::string& patient_id) override;
  Result<std::vector<std::string>> patient_facilities(const std::string& patient_id) override;
  Result<std::vector<store::ConsentGrant>> consent_grants(const std::string& patient_id) override;
  Result<bool> consent_shared(const std::string& patient_id, const std::string& facility_id) override;
  Status put_timeline(const store::TimelineRow& t) override;
  Status put_consent_grant(const store::ConsentGrant& g) override;
  // ---- end health book ----

  // ---- notify: reading the outbox is not speculated (kUnavailable: the caller takes the ordinary
  // path); queueing is, and answers id 0 (the id exists only once the replay stores the row). ----
  Result<std::vector<store::OutboxMessage>> outbox_due(Time now, const std::string& channel,
                                                       int limit) override;
  Result<std::optional<Time>> outbox_next_due(const std::string& channel) override;
  Result<std::optional<store::OutboxMessage>> outbox_message(int64_t id) override;
  Result<std::optional<store::OutboxMessage>> outbox_by_dedupe(const std::string& key) override;
  Result<std::vector<store::OutboxMessage>> outbox_list(const std::string& status,
                                                        int64_t before_id, int limit) override;
  Result<int64_t> outbox_count_to(const std::string& recipient_index, Time since) override;
  // ---- end notify ----

  // Writer
  Status put_facility(const store::Facility& f) override;
  Status put_client(const store::ApiClient& c) override;
  Status put_access_token(const store::AccessToken& t) override;
  Status remember_jti(const std::string& client_id, const std::string& jti, Time expires) override;
  Result<store::PurgeCounts> purge_expired(const store::PurgeCutoffs& cutoffs) override;
  Status put_resource(const store::ResourceRow& row, const std::vector<store::IndexRow>& index) override;
  Status put_patient_key(const std::string& patient_id, const std::string& wrapped_key) override;
  Status bind_identifier(const std::string& blind_index, const std::string& patient_id) override;
  Status link_facility(const std::string& patient_id, const std::string& facility_id, Time when) override;
  Status append_audit(const store::AuditRecord& a) override;
  Status put_issuer_key(const store::IssuerKey& k) override;
  Status put_document(const store::Document& d) override;
  Status put_doc_link(const store::DocLink& l) override;
  Status put_link_device(const store::LinkDevice& d) override;

  // ---- resident accounts ----
  Status put_account(const store::Account& a) override;
  Status put_one_time_code(const store::OneTimeCode& c) override;
  Status put_account_session(const store::AccountSession& s) override;
  Status delete_account_session(const std::string& token_hash) override;
  Status delete_account_sessions(const std::string& account_id) override;
  // ---- end resident accounts ----

  // ---- notify ----
  Result<int64_t> outbox_enqueue(const store::OutboxMessage& m) override;
  Status outbox_mark(int64_t id, int from_attempts, const store::OutboxMark& mark) override;
  // ---- end notify ----

 private:
  using TypeId = std::pair<std::string, std::string>;
  // A buffered write: one of these, only as large as the largest (a document's row).
  struct ResourceWrite {
    store::ResourceRow row;
    std::vector<store::IndexRow> index;
  };
  struct KeyWrite {
    std::string owner, wrapped;
  };
  struct IdentifierWrite {
    std::string blind_index, patient_id;
  };
  struct LinkWrite {
    std::string patient_id, facility_id;
    Time when{};
  };
  // A new document (reading documents is refused, so a speculation never updates one), its link,
  // the audit record, the SMS and the timeline entry are store rows as they are.
  using Write = std::variant<ResourceWrite, KeyWrite, IdentifierWrite, LinkWrite, store::AuditRecord,
                             store::Document, store::DocLink, store::OutboxMessage, store::TimelineRow>;

  store::Reader& r_;
  std::vector<Write> writes_;
  // Buffered state, for reads that follow writes.
  std::map<TypeId, size_t> rows_;                       // -> index into writes_
  std::map<std::string, std::string> keys_;              // owner -> wrapped key
  std::map<std::string, std::string> identifiers_;       // blind index -> patient
  std::set<std::pair<std::string, std::string>> links_;  // (patient, facility)
  std::set<std::string> written_types_;
  // Recorded reads of the snapshot.
  std::map<TypeId, int64_t> versions_read_;              // 0 = absent
  std::map<std::string, std::optional<std::string>> keys_read_;
  std::map<std::string, std::optional<std::string>> identifiers_read_;
  std::map<std::pair<std::string, std::string>, bool> links_read_;
  std::vector<std::pair<store::SearchQuery, std::vector<std::string>>> searches_;
  std::vector<std::function<Status()>> replay_checks_;
  mutable std::optional<Status> checked_;  // the checks' answer at the first replay
};

}  // namespace hb::services::detail
