// The store: one interface, two engines (SQLite embedded, PostgreSQL for many app servers).
//
// Reads run on the calling thread with a connection from a pool and see committed data.
// Writes are closures run on the store's writer thread, inside one database transaction shared
// with other concurrent writes (group commit): each closure runs in its own savepoint, so one that
// fails leaves nothing behind and does not disturb the others, and every future completes only
// after the whole group is durable (fsync'ed). A closure must be quick and must not block on
// anything but the Writer it is given. The SQLite engine syncs on a thread of its own while the
// writer runs the next group, so a group's data can be visible to readers a moment (one fsync)
// before its writers are told it is durable; a crash in that moment loses only writes that were
// never acknowledged.
//
// Every patient-owned row carries the patient's id: it is the access boundary and the
// distribution key for a sharded PostgreSQL.
//
// Thread-safety: Store is safe to use from any number of threads. Reader and Writer objects are
// valid only inside the closure they are passed to.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/search.h"
#include "store/types.h"

namespace hb::store {

class Reader {
 public:
  virtual ~Reader() = default;

  // Facilities and their API clients.
  virtual Result<std::optional<Facility>> facility_by_id(const std::string& id) = 0;
  virtual Result<std::optional<Facility>> facility_by_code(const std::string& code) = 0;
  virtual Result<std::vector<Facility>> list_facilities() = 0;
  virtual Result<std::optional<ApiClient>> client(const std::string& client_id) = 0;
  virtual Result<std::vector<ApiClient>> clients_of(const std::string& facility_id) = 0;
  virtual Result<std::optional<AccessToken>> access_token(const std::string& token_hash) = 0;

  // Resources. `current` returns the latest version, including a deleted marker.
  virtual Result<std::optional<ResourceRow>> current(const std::string& type,
                                                     const std::string& id) = 0;
  virtual Result<std::optional<ResourceRow>> version(const std::string& type, const std::string& id,
                                                     int64_t version) = 0;
  // Versions newest first, at most `limit`, starting below `before_version` (0 = from the newest).
  virtual Result<std::vector<ResourceRow>> history(const std::string& type, const std::string& id,
                                                   int64_t before_version, int limit) = 0;
  virtual Result<SearchPage> search(const SearchQuery& q) = 0;

  // Patients: data keys and the blind-indexed identifiers that find one person across facilities.
  virtual Result<std::optional<std::string>> patient_key(const std::string& patient_id) = 0;
  virtual Result<std::optional<std::string>> patient_by_identifier(const std::string& blind_index) = 0;
  virtual Result<bool> facility_linked(const std::string& patient_id,
                                       const std::string& facility_id) = 0;

  // Audit events, oldest first, with seq > after_seq; filtered by facility and/or patient when set.
  virtual Result<std::vector<AuditRecord>> audit(const std::string& facility_id,
                                                 const std::string& patient_id, int64_t after_seq,
                                                 int limit) = 0;
  virtual Result<std::optional<AuditRecord>> audit_by_id(const std::string& id) = 0;

  // Verifiable documents and the facilities' issuer keys.
  virtual Result<std::optional<IssuerKey>> issuer_key(const std::string& facility_id) = 0;
  virtual Result<std::optional<Document>> document(const std::string& id) = 0;
  virtual Result<std::optional<Document>> document_by_ref(const std::string& facility_id,
                                                          const std::string& facility_ref) = 0;
  virtual Result<std::optional<Document>> document_by_card(const std::string& card_hash) = 0;
  // A patient's documents, newest first.
  virtual Result<std::vector<Document>> documents_of_patient(const std::string& patient_id) = 0;
  // Revoked or superseded documents of a facility signed with `kid`, oldest first (for its CRL).
  virtual Result<std::vector<Document>> revoked_documents(const std::string& facility_id,
                                                          const std::string& kid) = 0;
  virtual Result<std::optional<DocLink>> doc_link(const std::string& token_hash) = 0;
  virtual Result<std::vector<DocLink>> doc_links_of(const std::string& document_id) = 0;
  virtual Result<std::optional<LinkDevice>> link_device(const std::string& device_hash) = 0;

  // ---- resident accounts ----
  virtual Result<std::optional<Account>> account(const std::string& id) = 0;
  virtual Result<std::optional<Account>> account_by_patient(const std::string& patient_id) = 0;
  virtual Result<std::optional<OneTimeCode>> one_time_code(const std::string& challenge_hash) = 0;
  virtual Result<std::optional<AccountSession>> account_session(const std::string& token_hash) = 0;
  // ---- end resident accounts ----

  // ---- the health book (types.h, TimelineRow, ConsentGrant) ----
  virtual Result<std::vector<TimelineRow>> timeline(const TimelineQuery& q) = 0;
  // The facilities holding at least one timeline row of the patient.
  virtual Result<std::vector<std::string>> timeline_facilities(const std::string& patient_id) = 0;
  // The facilities linked to the patient (they registered the person), oldest link first.
  virtual Result<std::vector<std::string>> patient_facilities(const std::string& patient_id) = 0;
  virtual Result<std::vector<ConsentGrant>> consent_grants(const std::string& patient_id) = 0;
  // Whether the patient shared their records with the facility.
  virtual Result<bool> consent_shared(const std::string& patient_id,
                                      const std::string& facility_id) = 0;
  // ---- end health book ----

  // ---- notify: the outbox (types.h, OutboxMessage) ----
  // Messages of `channel` ("" = any) due at `now` (queued, failed, or sending with a lapsed
  // claim), earliest first. By channel, so that a slow channel's backlog does not stand before
  // another's messages.
  virtual Result<std::vector<OutboxMessage>> outbox_due(Time now, const std::string& channel,
                                                        int limit) = 0;
  // The earliest next_attempt of any message of `channel` ("" = any) not yet sent or dead; nullopt
  // when there is none.
  virtual Result<std::optional<Time>> outbox_next_due(const std::string& channel) = 0;
  virtual Result<std::optional<OutboxMessage>> outbox_message(int64_t id) = 0;
  virtual Result<std::optional<OutboxMessage>> outbox_by_dedupe(const std::string& dedupe_key) = 0;
  // For operators: newest first, ids below `before_id` (0 = from the newest), of one status
  // ("" = any).
  virtual Result<std::vector<OutboxMessage>> outbox_list(const std::string& status,
                                                         int64_t before_id, int limit) = 0;
  // How many messages to this recipient (by its keyed hash) were created at or after `since`.
  virtual Result<int64_t> outbox_count_to(const std::string& recipient_index, Time since) = 0;
  // ---- end notify ----

  // ---- resident shares and the access log (services/shares.h, services/access_log.h) ----
  // Not pure: an engine or Writer that does not keep these rows (a speculation) refuses with
  // kUnavailable, and its caller takes the ordinary path. The SQLite engine implements them all.
  // A patient's audit events newest first, seq below `before_seq` (0 = from the newest).
  virtual Result<std::vector<AuditRecord>> audit_newest(const std::string& patient_id,
                                                        int64_t before_seq, int limit);
  virtual Result<std::optional<Share>> share(const std::string& id);
  virtual Result<std::optional<Share>> share_by_token(const std::string& token_hash);
  // A patient's shares, newest first, at most `limit`.
  virtual Result<std::vector<Share>> shares_of(const std::string& patient_id, int limit);
  // A share's accesses, newest first, at most `limit`.
  virtual Result<std::vector<ShareAccess>> share_accesses(const std::string& share_id, int limit);
  virtual Result<std::optional<AccessAlerts>> access_alerts(const std::string& patient_id);
  // When the patient was last told that `accessor` opened their records (nullopt: never).
  virtual Result<std::optional<Time>> access_alert_sent(const std::string& patient_id,
                                                        const std::string& accessor);
  // The audit seq up to which access alerts were considered.
  virtual Result<int64_t> access_alert_cursor();
  // ---- end resident shares ----

  // ---- proxies (types.h, ProxyGrant; defaults refuse with kUnavailable, as above) ----
  virtual Result<std::optional<ProxyGrant>> proxy_grant(const std::string& id);
  // The grants a person made (every state), newest first, at most `limit`.
  virtual Result<std::vector<ProxyGrant>> proxy_grants_of(const std::string& patient_id, int limit);
  // The grants held by an account (every state), at most `limit`.
  virtual Result<std::vector<ProxyGrant>> proxy_grants_held(const std::string& account_id,
                                                            int limit);
  // ---- end proxies ----
};

class Writer : public Reader {
 public:
  virtual Status put_facility(const Facility& f) = 0;      // insert or replace by id; code unique
  virtual Status put_client(const ApiClient& c) = 0;       // insert or replace by client_id
  virtual Status put_access_token(const AccessToken& t) = 0;
  // Remembers a client assertion's jti until `expires`; kConflict if it was seen before.
  virtual Status remember_jti(const std::string& client_id, const std::string& jti, Time expires) = 0;
  // Drops what expired by `cutoffs` (see PurgeCutoffs). Nothing else reads these rows once they
  // are past their cutoff, so a sweep changes no answer.
  virtual Result<PurgeCounts> purge_expired(const PurgeCutoffs& cutoffs) = 0;

  // Appends a version: row.version must be current version + 1 (or 1 for a new resource), else
  // kConflict. Replaces the resource's index rows with `index` (none for a delete).
  virtual Status put_resource(const ResourceRow& row, const std::vector<IndexRow>& index) = 0;

  virtual Status put_patient_key(const std::string& patient_id, const std::string& wrapped_key) = 0;
  // Binds a blind-indexed identifier to a patient; kConflict if bound to another patient.
  virtual Status bind_identifier(const std::string& blind_index, const std::string& patient_id) = 0;
  virtual Status link_facility(const std::string& patient_id, const std::string& facility_id,
                               Time when) = 0;

  virtual Status append_audit(const AuditRecord& a) = 0;

  // kConflict if the facility already has a key (keys are made once; rotation is a later step).
  virtual Status put_issuer_key(const IssuerKey& k) = 0;
  // Insert or replace by id; (facility_id, facility_ref) and card_hash are unique.
  virtual Status put_document(const Document& d) = 0;
  virtual Status put_doc_link(const DocLink& l) = 0;      // insert or replace by token_hash
  virtual Status put_link_device(const LinkDevice& d) = 0;  // insert or replace by device_hash

  // ---- resident accounts ----
  // Insert or replace by id; kConflict when another account is linked to the same patient.
  virtual Status put_account(const Account& a) = 0;
  virtual Status put_one_time_code(const OneTimeCode& c) = 0;          // insert or replace
  virtual Status put_account_session(const AccountSession& s) = 0;     // insert or replace
  virtual Status delete_account_session(const std::string& token_hash) = 0;
  virtual Status delete_account_sessions(const std::string& account_id) = 0;  // every one of them
  // ---- end resident accounts ----

  // ---- the health book ----
  // Inserts or replaces the row of (patient_id, ref); an empty `sealed` removes it.
  virtual Status put_timeline(const TimelineRow& t) = 0;
  virtual Status put_consent_grant(const ConsentGrant& g) = 0;  // insert or replace
  // ---- end health book ----

  // ---- notify: the outbox ----
  // Queues m (id, status, attempts and sent_at are the store's: queued, 0, none) and returns its
  // id. kConflict, writing nothing, when another message has the same non-empty dedupe key.
  virtual Result<int64_t> outbox_enqueue(const OutboxMessage& m) = 0;
  // Moves message `id` to `mark`, only if it still has `from_attempts` attempts: a claim or result
  // that lost a race with another dispatcher is kConflict and changes nothing; kNotFound if absent.
  // A final mark (sent, dead) also blanks the sealed recipient and the body, so that a copy of the
  // database holds no live link: only the recipient's keyed hash, the status, attempts, times and
  // error stay.
  virtual Status outbox_mark(int64_t id, int from_attempts, const OutboxMark& mark) = 0;
  // ---- end notify ----

  // ---- resident shares and access alerts (defaults refuse with kUnavailable, as above) ----
  virtual Status put_share(const Share& s);  // insert or replace by id; token_hash unique
  virtual Status add_share_access(const ShareAccess& a);
  virtual Status put_access_alerts(const AccessAlerts& a);  // insert or replace by patient
  virtual Status put_access_alert_sent(const std::string& patient_id, const std::string& accessor,
                                       Time when);
  virtual Status set_access_alert_cursor(int64_t after_seq);
  // ---- end resident shares ----

  // ---- proxies ----
  virtual Status put_proxy_grant(const ProxyGrant& g);  // insert or replace by id
  // ---- end proxies ----
};

struct StoreStats {
  int64_t commits = 0;          // durable group commits
  int64_t writes = 0;           // closures committed
  int64_t failed_writes = 0;    // closures rolled back
  int64_t background_checkpoints = 0;  // WAL checkpoint passes run beside the writer
  int64_t writer_checkpoints = 0;      // checkpoints the writer ran between groups
  int64_t rebuilt_groups = 0;  // times a group went back after a closure failed having written
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` with a read snapshot on the calling thread.
  virtual Status read(const std::function<Status(Reader&)>& fn) = 0;

  // Queues `fn` for the writer thread; the future completes once the group it ran in is durable,
  // with fn's status (or the commit's error). fn's non-ok status rolls back only fn's work.
  virtual std::future<Status> write(std::function<Status(Writer&)> fn) = 0;
  Status write_sync(std::function<Status(Writer&)> fn) { return write(std::move(fn)).get(); }

  // As write, for a closure the store may run more than once. A closure that succeeded may be
  // run again, from the state it first ran in, should a later closure of its group fail after
  // writing; a failed one is never run again. So on success it must do the same writes each
  // time and leave nothing outside the Writer that a second run would repeat or contradict
  // (values it sets anew each run are fine). A prepared transaction's replay is such a closure
  // (services/speculation.h). The store then needs no savepoint around it: a savepoint makes
  // SQLite copy each page the closure changes that the group had already changed.
  virtual std::future<Status> write_rerunnable(std::function<Status(Writer&)> fn) = 0;
  Status write_rerunnable_sync(std::function<Status(Writer&)> fn) {
    return write_rerunnable(std::move(fn)).get();
  }

  // Queues an audit record to be written with the next group; does not wait for durability.
  // Used on read paths, where waiting for an fsync per read would cost more than it protects.
  virtual void append_audit_async(AuditRecord a) = 0;

  // Waits until everything queued so far is durable.
  virtual Status flush() = 0;
  virtual StoreStats stats() const = 0;
};

struct SqliteOptions {
  std::string path;            // database file; ":memory:" is not supported (WAL needs a file)
  int read_connections = 4;    // pool size for readers
  int max_group = 512;         // most closures in one transaction
  bool synchronous_full = true;  // fsync every commit (durable); false only for throwaway tests
  int checkpoint_frames = 16000;  // WAL length (4 KiB frames) that starts a checkpoint
};

// Opens (creating if needed) and migrates an SQLite store. kInternal if the file cannot be opened
// or a migration fails; kConflict if the file was written by a newer schema than this binary knows.
Result<std::unique_ptr<Store>> open_sqlite(const SqliteOptions& options);

}  // namespace hb::store
