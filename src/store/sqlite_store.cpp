// The SQLite engine of the store: a pool of read connections and one writer thread that commits
// queued closures in groups (one fsync per group). See store.h for the contract.
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>

#include "store/sqlite_schema.h"
#include "store/sqlite_search.h"
#include "store/sqlite_util.h"
#include "store/sqlite_walbuf.h"
#include "store/store.h"

namespace hb::store {
namespace {

using sqlite::Conn;
using sqlite::db_error;
using sqlite::Stmt;

// A version's columns, read from `resources r` (the resource's identity) joined with
// `resource_versions v` (the version itself, body included).
constexpr const char* kResourceColumns =
    "r.type, r.id, v.version, v.patient_id, v.facility_id, v.last_updated, v.deleted, v.seq, "
    "v.body";
constexpr const char* kAuditColumns =
    "seq, id, time, action, outcome, event_type, client_id, facility_id, patient_id, entities, "
    "detail, source_ip";

ResourceRow resource_from(const Stmt& st) {
  ResourceRow r;
  r.type = st.text(0);
  r.id = st.text(1);
  r.version = st.int64(2);
  r.patient_id = st.text(3);
  r.facility_id = st.text(4);
  r.last_updated = from_unix_millis(st.int64(5));
  r.deleted = st.int64(6) != 0;
  r.seq = st.int64(7);
  r.body = st.blob(8);
  return r;
}

Facility facility_from(const Stmt& st) {
  Facility f;
  f.id = st.text(0);
  f.code = st.text(1);
  f.name = st.text(2);
  f.kind = st.text(3);
  f.region = st.text(4);
  f.status = st.text(5);
  f.created = from_unix_millis(st.int64(6));
  return f;
}

ApiClient client_from(const Stmt& st) {
  ApiClient c;
  c.client_id = st.text(0);
  c.facility_id = st.text(1);
  c.name = st.text(2);
  c.jwks = st.text(3);
  c.jwks_url = st.text(4);
  c.scopes = st.text(5);
  c.status = st.text(6);
  c.created = from_unix_millis(st.int64(7));
  return c;
}

AuditRecord audit_from(const Stmt& st) {
  AuditRecord a;
  a.seq = st.int64(0);
  a.id = st.text(1);
  a.time = from_unix_millis(st.int64(2));
  a.action = st.text(3);
  a.outcome = st.text(4);
  a.event_type = st.text(5);
  a.client_id = st.text(6);
  a.facility_id = st.text(7);
  a.patient_id = st.text(8);
  a.entities = st.text(9);
  a.detail = st.text(10);
  a.source_ip = st.text(11);
  return a;
}

constexpr const char* kDocumentColumns =
    "id, facility_id, facility_ref, patient_id, kind, status, card_hash, kid, rid, issued, revoked, "
    "revoke_reason, superseded_by, log_index, body";

Document document_from(const Stmt& st) {
  Document d;
  d.id = st.text(0);
  d.facility_id = st.text(1);
  d.facility_ref = st.text(2);
  d.patient_id = st.text(3);
  d.kind = st.text(4);
  d.status = st.text(5);
  d.card_hash = st.text(6);
  d.kid = st.text(7);
  d.rid = st.text(8);
  d.issued = from_unix_millis(st.int64(9));
  d.revoked = from_unix_millis(st.int64(10));
  d.revoke_reason = st.text(11);
  d.superseded_by = st.text(12);
  d.log_index = st.int64(13);
  d.body = st.blob(14);
  return d;
}

// ---- notify: the outbox ----
constexpr const char* kOutboxColumns =
    "id, channel, patient_id, recipient_sealed, recipient_index, subject, body, status, attempts, "
    "next_attempt, last_error, created, sent_at, dedupe_key, body_sealed";
// The messages still in play (queued, sending or failed): the WHERE of the partial index
// outbox_due, which a query must repeat term for term for SQLite to use that index.
constexpr const char* kOutboxInPlay = "status <> 'sent' AND status <> 'dead'";

OutboxMessage outbox_from(const Stmt& st) {
  OutboxMessage m;
  m.id = st.int64(0);
  m.channel = st.text(1);
  m.patient_id = st.text(2);
  m.recipient_sealed = st.blob(3);
  m.recipient_index = st.text(4);
  m.subject = st.text(5);
  m.body = st.text(6);
  m.status = st.text(7);
  m.attempts = static_cast<int>(st.int64(8));
  m.next_attempt = from_unix_millis(st.int64(9));
  m.last_error = st.text(10);
  m.created = from_unix_millis(st.int64(11));
  if (!st.is_null(12)) m.sent_at = from_unix_millis(st.int64(12));
  m.dedupe_key = st.text(13);
  m.body_sealed = st.blob(14);
  return m;
}

bool outbox_status_known(const std::string& s) {
  return s == "queued" || s == "sending" || s == "sent" || s == "failed" || s == "dead";
}
// ---- end notify ----

// Steps a statement expected to return at most one row.
template <typename T, typename F>
Result<std::optional<T>> one(Conn& c, Stmt& st, F&& from, const char* what) {
  int rc = st.step();
  if (rc == SQLITE_ROW) return std::optional<T>(from(st));
  if (rc == SQLITE_DONE) return std::optional<T>();
  return db_error(c.db(), rc, what);
}

template <typename T, typename F>
Result<std::vector<T>> all(Conn& c, Stmt& st, F&& from, const char* what) {
  std::vector<T> out;
  for (;;) {
    int rc = st.step();
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) return db_error(c.db(), rc, what);
    out.push_back(from(st));
  }
}

// Reads and (on the writer connection) writes through one connection. Valid only inside the
// closure it is passed to; the writer's Session also sees its own uncommitted work.
class Session final : public Writer {
 public:
  // `next_seq` is the writer's sequence counter; null for read sessions.
  Session(Conn& c, int64_t* next_seq) : c_(c), next_seq_(next_seq) {}

  Result<std::optional<Facility>> facility_by_id(const std::string& id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT id, code, name, kind, region, status, created "
                                            "FROM facilities WHERE id = ?"));
    st.bind(1, id);
    return one<Facility>(c_, st, facility_from, "facility_by_id");
  }

  Result<std::optional<Facility>> facility_by_code(const std::string& code) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT id, code, name, kind, region, status, created "
                                            "FROM facilities WHERE code = ?"));
    st.bind(1, code);
    return one<Facility>(c_, st, facility_from, "facility_by_code");
  }

  Result<std::vector<Facility>> list_facilities() override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT id, code, name, kind, region, status, created "
                                            "FROM facilities ORDER BY code"));
    return all<Facility>(c_, st, facility_from, "list_facilities");
  }

  Result<std::optional<ApiClient>> client(const std::string& client_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT client_id, facility_id, name, jwks, jwks_url, "
                                            "scopes, status, created FROM api_clients "
                                            "WHERE client_id = ?"));
    st.bind(1, client_id);
    return one<ApiClient>(c_, st, client_from, "client");
  }

  Result<std::vector<ApiClient>> clients_of(const std::string& facility_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT client_id, facility_id, name, jwks, jwks_url, "
                                            "scopes, status, created FROM api_clients "
                                            "WHERE facility_id = ? ORDER BY client_id"));
    st.bind(1, facility_id);
    return all<ApiClient>(c_, st, client_from, "clients_of");
  }

  Result<std::optional<AccessToken>> access_token(const std::string& token_hash) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT token_hash, client_id, facility_id, scopes, "
                                            "expires FROM access_tokens WHERE token_hash = ?"));
    st.bind(1, token_hash);
    return one<AccessToken>(
        c_, st,
        [](const Stmt& s) {
          AccessToken t;
          t.token_hash = s.text(0);
          t.client_id = s.text(1);
          t.facility_id = s.text(2);
          t.scopes = s.text(3);
          t.expires = from_unix_millis(s.int64(4));
          return t;
        },
        "access_token");
  }

  Result<std::optional<ResourceRow>> current(const std::string& type,
                                             const std::string& id) override {
    static const std::string sql =
        std::string("SELECT ") + kResourceColumns +
        " FROM resources r CROSS JOIN resource_versions v ON v.seq = r.seq "
        "WHERE r.type = ? AND r.id = ?";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    st.bind(1, type);
    st.bind(2, id);
    return one<ResourceRow>(c_, st, resource_from, "current");
  }

  Result<std::optional<ResourceRow>> version(const std::string& type, const std::string& id,
                                             int64_t version) override {
    static const std::string sql = std::string("SELECT ") + kResourceColumns +
                                   " FROM resources r CROSS JOIN resource_versions v "
                                   "ON v.rid = r.rid WHERE r.type = ? AND r.id = ? AND "
                                   "v.version = ?";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    st.bind(1, type);
    st.bind(2, id);
    st.bind(3, version);
    return one<ResourceRow>(c_, st, resource_from, "version");
  }

  Result<std::vector<ResourceRow>> history(const std::string& type, const std::string& id,
                                           int64_t before_version, int limit) override {
    if (limit <= 0) return std::vector<ResourceRow>();
    static const std::string sql = std::string("SELECT ") + kResourceColumns +
                                   " FROM resources r CROSS JOIN resource_versions v "
                                   "ON v.rid = r.rid WHERE r.type = ? AND r.id = ? AND "
                                   "v.version < ? ORDER BY v.version DESC LIMIT ?";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    st.bind(1, type);
    st.bind(2, id);
    st.bind(3, before_version > 0 ? before_version : INT64_MAX);
    st.bind(4, static_cast<int64_t>(limit));
    return all<ResourceRow>(c_, st, resource_from, "history");
  }

  Result<SearchPage> search(const SearchQuery& q) override {
    HB_ASSIGN_OR_RETURN(sqlite::SearchSql sql, sqlite::build_search_sql(q));
    SearchPage page;
    {
      HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql.page.sql));
      bind_all(st, sql.page.args);
      int64_t last_rid = 0;
      std::optional<int64_t> last_key;
      for (;;) {
        int rc = st.step();
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) return db_error(c_.db(), rc, "search");
        if (static_cast<int>(page.rows.size()) == q.count) {
          // The extra row only says that there is a next page.
          const ResourceRow& last = page.rows.back();
          page.next = sqlite::encode_cursor(q, last_rid, last.id, unix_millis(last.last_updated),
                                            last_key);
          break;
        }
        page.rows.push_back(resource_from(st));
        last_rid = st.int64(9);
        last_key = st.is_null(10) ? std::nullopt : std::optional<int64_t>(st.int64(10));
      }
    }
    if (q.want_total) {
      HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql.count.sql));
      bind_all(st, sql.count.args);
      int rc = st.step();
      if (rc != SQLITE_ROW) return db_error(c_.db(), rc, "search count");
      page.total = st.int64(0);
    }
    return page;
  }

  Result<std::optional<std::string>> patient_key(const std::string& patient_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st,
                        c_.prepare("SELECT wrapped_key FROM patient_keys WHERE patient_id = ?"));
    st.bind(1, patient_id);
    return one<std::string>(c_, st, [](const Stmt& s) { return s.blob(0); }, "patient_key");
  }

  Result<std::optional<std::string>> patient_by_identifier(
      const std::string& blind_index) override {
    HB_ASSIGN_OR_RETURN(
        Stmt st, c_.prepare("SELECT patient_id FROM patient_identifiers WHERE blind_index = ?"));
    st.bind(1, blind_index);
    return one<std::string>(c_, st, [](const Stmt& s) { return s.text(0); },
                            "patient_by_identifier");
  }

  Result<bool> facility_linked(const std::string& patient_id,
                               const std::string& facility_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT 1 FROM patient_facilities "
                                            "WHERE patient_id = ? AND facility_id = ?"));
    st.bind(1, patient_id);
    st.bind(2, facility_id);
    HB_ASSIGN_OR_RETURN(auto row, one<int64_t>(c_, st, [](const Stmt& s) { return s.int64(0); },
                                               "facility_linked"));
    return row.has_value();
  }

  Result<std::vector<AuditRecord>> audit(const std::string& facility_id,
                                         const std::string& patient_id, int64_t after_seq,
                                         int limit) override {
    if (limit <= 0) return std::vector<AuditRecord>();
    // One statement per filter combination, so each can use its index.
    std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit WHERE seq > ?";
    if (!facility_id.empty()) sql += " AND facility_id = ?";
    if (!patient_id.empty()) sql += " AND patient_id = ?";
    sql += " ORDER BY seq LIMIT ?";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    int i = 1;
    st.bind(i++, after_seq);
    if (!facility_id.empty()) st.bind(i++, facility_id);
    if (!patient_id.empty()) st.bind(i++, patient_id);
    st.bind(i, static_cast<int64_t>(limit));
    return all<AuditRecord>(c_, st, audit_from, "audit");
  }

  Result<std::optional<AuditRecord>> audit_by_id(const std::string& id) override {
    static const std::string sql =
        std::string("SELECT ") + kAuditColumns + " FROM audit WHERE id = ?";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    st.bind(1, id);
    return one<AuditRecord>(c_, st, audit_from, "audit_by_id");
  }

  // ---- notify: the outbox ----

  Result<std::vector<OutboxMessage>> outbox_due(Time now, const std::string& channel,
                                                int limit) override {
    if (limit <= 0) return std::vector<OutboxMessage>();
    // The status terms repeat the partial index's WHERE, so SQLite uses that index; the channel is
    // a filter on its rows, which are few (only those in play and due).
    static const std::string sql =
        std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE " + kOutboxInPlay +
        " AND next_attempt <= ?1 AND (?2 = '' OR channel = ?2) ORDER BY next_attempt, id "
        "LIMIT ?3";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    st.bind(1, unix_millis(now));
    st.bind(2, channel);
    st.bind(3, static_cast<int64_t>(limit));
    return all<OutboxMessage>(c_, st, outbox_from, "outbox_due");
  }

  Result<std::optional<Time>> outbox_next_due(const std::string& channel) override {
    static const std::string sql = std::string("SELECT MIN(next_attempt) FROM outbox WHERE ") +
                                   kOutboxInPlay + " AND (?1 = '' OR channel = ?1)";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    st.bind(1, channel);
    int rc = st.step();
    if (rc != SQLITE_ROW) return db_error(c_.db(), rc, "outbox_next_due");
    if (st.is_null(0)) return std::optional<Time>();
    return std::optional<Time>(from_unix_millis(st.int64(0)));
  }

  Result<std::optional<OutboxMessage>> outbox_message(int64_t id) override {
    static const std::string sql =
        std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE id = ?";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    st.bind(1, id);
    return one<OutboxMessage>(c_, st, outbox_from, "outbox_message");
  }

  Result<std::optional<OutboxMessage>> outbox_by_dedupe(const std::string& dedupe_key) override {
    if (dedupe_key.empty()) return std::optional<OutboxMessage>();
    static const std::string sql =
        std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE dedupe_key = ?";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    st.bind(1, dedupe_key);
    return one<OutboxMessage>(c_, st, outbox_from, "outbox_by_dedupe");
  }

  Result<std::vector<OutboxMessage>> outbox_list(const std::string& status, int64_t before_id,
                                                 int limit) override {
    if (limit <= 0) return std::vector<OutboxMessage>();
    std::string sql = std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE id < ?";
    if (!status.empty()) sql += " AND status = ?";
    sql += " ORDER BY id DESC LIMIT ?";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    int i = 1;
    st.bind(i++, before_id > 0 ? before_id : INT64_MAX);
    if (!status.empty()) st.bind(i++, status);
    st.bind(i, static_cast<int64_t>(limit));
    return all<OutboxMessage>(c_, st, outbox_from, "outbox_list");
  }

  Result<int64_t> outbox_count_to(const std::string& recipient_index, Time since) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT COUNT(*) FROM outbox WHERE "
                                            "recipient_index = ? AND created >= ?"));
    st.bind(1, recipient_index);
    st.bind(2, unix_millis(since));
    int rc = st.step();
    if (rc != SQLITE_ROW) return db_error(c_.db(), rc, "outbox_count_to");
    return st.int64(0);
  }

  // ---- end notify ----

  // --- Writer ---

  Status put_facility(const Facility& f) override {
    HB_RETURN_IF_ERROR(writable());
    if (f.id.empty() || f.code.empty()) return invalid("a facility needs an id and a code");
    HB_ASSIGN_OR_RETURN(
        Stmt st, c_.prepare("INSERT INTO facilities(id, code, name, kind, region, status, created) "
                            "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                            "code = excluded.code, name = excluded.name, kind = excluded.kind, "
                            "region = excluded.region, status = excluded.status, "
                            "created = excluded.created"));
    st.bind(1, f.id);
    st.bind(2, f.code);
    st.bind(3, f.name);
    st.bind(4, f.kind);
    st.bind(5, f.region);
    st.bind(6, f.status);
    st.bind(7, unix_millis(f.created));
    return c_.run(st, "put_facility");
  }

  Status put_client(const ApiClient& cl) override {
    HB_RETURN_IF_ERROR(writable());
    if (cl.client_id.empty()) return invalid("a client needs an id");
    HB_ASSIGN_OR_RETURN(
        Stmt st,
        c_.prepare("INSERT INTO api_clients(client_id, facility_id, name, jwks, jwks_url, scopes, "
                   "status, created) VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(client_id) DO "
                   "UPDATE SET facility_id = excluded.facility_id, name = excluded.name, "
                   "jwks = excluded.jwks, jwks_url = excluded.jwks_url, scopes = excluded.scopes, "
                   "status = excluded.status, created = excluded.created"));
    st.bind(1, cl.client_id);
    st.bind(2, cl.facility_id);
    st.bind(3, cl.name);
    st.bind(4, cl.jwks);
    st.bind(5, cl.jwks_url);
    st.bind(6, cl.scopes);
    st.bind(7, cl.status);
    st.bind(8, unix_millis(cl.created));
    return c_.run(st, "put_client");
  }

  Status put_access_token(const AccessToken& t) override {
    HB_RETURN_IF_ERROR(writable());
    if (t.token_hash.empty()) return invalid("an access token needs its hash");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("INSERT OR REPLACE INTO access_tokens(token_hash, "
                                            "client_id, facility_id, scopes, expires) "
                                            "VALUES(?, ?, ?, ?, ?)"));
    st.bind(1, t.token_hash);
    st.bind(2, t.client_id);
    st.bind(3, t.facility_id);
    st.bind(4, t.scopes);
    st.bind(5, unix_millis(t.expires));
    return c_.run(st, "put_access_token");
  }

  Status remember_jti(const std::string& client_id, const std::string& jti,
                      Time expires) override {
    HB_RETURN_IF_ERROR(writable());
    HB_ASSIGN_OR_RETURN(Stmt st,
                        c_.prepare("INSERT INTO jti(client_id, jti, expires) VALUES(?, ?, ?)"));
    st.bind(1, client_id);
    st.bind(2, jti);
    st.bind(3, unix_millis(expires));
    Status s = c_.run(st, "remember_jti");
    if (s.code() == Code::kConflict) return conflict("client assertion jti was already used");
    return s;
  }

  Result<PurgeCounts> purge_expired(const PurgeCutoffs& c) override {
    HB_RETURN_IF_ERROR(writable());
    PurgeCounts n;
    auto run = [&](const char* sql, std::initializer_list<Time> cutoffs, int64_t& count) -> Status {
      HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
      int i = 1;
      for (Time t : cutoffs) st.bind(i++, unix_millis(t));
      HB_RETURN_IF_ERROR(c_.run(st, "purge_expired"));
      count += sqlite3_changes(c_.db());
      return Status::ok();
    };
    HB_RETURN_IF_ERROR(run("DELETE FROM jti WHERE expires < ?", {c.now}, n.tokens));
    HB_RETURN_IF_ERROR(run("DELETE FROM access_tokens WHERE expires < ?", {c.now}, n.tokens));
    HB_RETURN_IF_ERROR(run("DELETE FROM one_time_codes WHERE expires < ?", {c.codes_expired_before}, n.codes));
    HB_RETURN_IF_ERROR(run("DELETE FROM account_sessions WHERE last_seen < ? OR created < ?",
                           {c.sessions_seen_before, c.sessions_created_before}, n.sessions));
    HB_RETURN_IF_ERROR(run("DELETE FROM link_devices WHERE expires < ?", {c.now}, n.device_unlocks));
    HB_RETURN_IF_ERROR(
        run("DELETE FROM access_alerts_sent WHERE last_sent < ?", {c.alerts_sent_before}, n.alert_marks));
    return n;
  }

  Status put_resource(const ResourceRow& row, const std::vector<IndexRow>& index) override {
    HB_RETURN_IF_ERROR(writable());
    if (row.type.empty() || row.id.empty()) return invalid("a resource needs a type and an id");
    if (row.deleted && !row.body.empty()) return invalid("a deleted version has no body");
    if (row.deleted && !index.empty()) return invalid("a deleted version has no index rows");
    for (const IndexRow& ix : index) {
      if (ix.param.empty()) return invalid("an index row needs a parameter name");
      if (ix.kind == IndexKind::kDate && ix.lo > ix.hi) {
        return invalid("date index row for " + ix.param + " ends before it starts");
      }
    }
    // Several statements, not wrapped in a savepoint of their own: a nested savepoint per resource
    // made SQLite copy every page it touched into the statement journal again (a large share of
    // ingest time). A failure here fails the closure, whose own savepoint undoes all of it.
    return put_resource_steps(row, index);
  }

  Status put_patient_key(const std::string& patient_id, const std::string& wrapped_key) override {
    HB_RETURN_IF_ERROR(writable());
    if (patient_id.empty()) return invalid("a patient key needs the patient id");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("INSERT INTO patient_keys(patient_id, wrapped_key) "
                                            "VALUES(?, ?) ON CONFLICT(patient_id) DO UPDATE SET "
                                            "wrapped_key = excluded.wrapped_key"));
    st.bind(1, patient_id);
    st.bind_blob(2, wrapped_key);
    return c_.run(st, "put_patient_key");
  }

  Status bind_identifier(const std::string& blind_index, const std::string& patient_id) override {
    HB_RETURN_IF_ERROR(writable());
    if (blind_index.empty() || patient_id.empty()) {
      return invalid("an identifier binding needs the blind index and the patient id");
    }
    HB_ASSIGN_OR_RETURN(auto bound, patient_by_identifier(blind_index));
    if (bound) {
      if (*bound == patient_id) return Status::ok();
      return conflict("the identifier belongs to another patient");
    }
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("INSERT INTO patient_identifiers(blind_index, "
                                            "patient_id) VALUES(?, ?)"));
    st.bind(1, blind_index);
    st.bind(2, patient_id);
    return c_.run(st, "bind_identifier");
  }

  Status link_facility(const std::string& patient_id, const std::string& facility_id,
                       Time when) override {
    HB_RETURN_IF_ERROR(writable());
    if (patient_id.empty() || facility_id.empty()) {
      return invalid("a facility link needs the patient and the facility");
    }
    // The first link's time is kept: it says since when the facility has known the patient.
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("INSERT INTO patient_facilities(patient_id, "
                                            "facility_id, linked) VALUES(?, ?, ?) "
                                            "ON CONFLICT DO NOTHING"));
    st.bind(1, patient_id);
    st.bind(2, facility_id);
    st.bind(3, unix_millis(when));
    return c_.run(st, "link_facility");
  }

  Status append_audit(const AuditRecord& a) override {
    HB_RETURN_IF_ERROR(writable());
    if (a.id.empty()) return invalid("an audit record needs an id");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
                                     "INSERT INTO audit(id, time, action, outcome, event_type, "
                                     "client_id, facility_id, patient_id, entities, detail, "
                                     "source_ip) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st.bind(1, a.id);
    st.bind(2, unix_millis(a.time));
    st.bind(3, a.action);
    st.bind(4, a.outcome);
    st.bind(5, a.event_type);
    st.bind(6, a.client_id);
    st.bind(7, a.facility_id);
    st.bind(8, a.patient_id);
    st.bind(9, a.entities);
    st.bind(10, a.detail);
    st.bind(11, a.source_ip);
    return c_.run(st, "append_audit");
  }

  // ---- verifiable documents ----

  Result<std::optional<IssuerKey>> issuer_key(const std::string& facility_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT facility_id, kid, sealed_key, created FROM "
                                            "issuer_keys WHERE facility_id = ?"));
    st.bind(1, facility_id);
    return one<IssuerKey>(
        c_, st,
        [](const Stmt& s) {
          IssuerKey k;
          k.facility_id = s.text(0);
          k.kid = s.text(1);
          k.sealed_key = s.blob(2);
          k.created = from_unix_millis(s.int64(3));
          return k;
        },
        "issuer_key");
  }

  Result<std::optional<Document>> document(const std::string& id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string("SELECT ") + kDocumentColumns +
                                            " FROM documents WHERE id = ?"));
    st.bind(1, id);
    return one<Document>(c_, st, document_from, "document");
  }

  Result<std::optional<Document>> document_by_ref(const std::string& facility_id,
                                                  const std::string& facility_ref) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string("SELECT ") + kDocumentColumns +
                                            " FROM documents WHERE facility_id = ? AND facility_ref = ?"));
    st.bind(1, facility_id);
    st.bind(2, facility_ref);
    return one<Document>(c_, st, document_from, "document_by_ref");
  }

  Result<std::optional<Document>> document_by_card(const std::string& card_hash) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string("SELECT ") + kDocumentColumns +
                                            " FROM documents WHERE card_hash = ?"));
    st.bind(1, card_hash);
    return one<Document>(c_, st, document_from, "document_by_card");
  }

  Result<std::vector<Document>> documents_of_patient(const std::string& patient_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string("SELECT ") + kDocumentColumns +
                                            " FROM documents WHERE patient_id = ? ORDER BY issued DESC, id"));
    st.bind(1, patient_id);
    return all<Document>(c_, st, document_from, "documents_of_patient");
  }

  Result<std::vector<Document>> revoked_documents(const std::string& facility_id,
                                                  const std::string& kid) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string("SELECT ") + kDocumentColumns +
                                            " FROM documents WHERE facility_id = ? AND kid = ? AND "
                                            "status != 'active' ORDER BY revoked, id"));
    st.bind(1, facility_id);
    st.bind(2, kid);
    return all<Document>(c_, st, document_from, "revoked_documents");
  }

  static DocLink doc_link_from(const Stmt& s) {
    DocLink l;
    l.token_hash = s.text(0);
    l.document_id = s.text(1);
    l.patient_id = s.text(2);
    l.created = from_unix_millis(s.int64(3));
    l.failures_total = static_cast<int>(s.int64(4));
    l.failures_window = static_cast<int>(s.int64(5));
    l.window_start = from_unix_millis(s.int64(6));
    l.locked_until = from_unix_millis(s.int64(7));
    l.disabled = s.int64(8) != 0;
    l.show_diagnosis = s.int64(9) != 0;
    return l;
  }
  static constexpr const char* kDocLinkColumns =
      "SELECT token_hash, document_id, patient_id, created, failures_total, failures_window, "
      "window_start, locked_until, disabled, show_diagnosis FROM doc_links ";

  Result<std::optional<DocLink>> doc_link(const std::string& token_hash) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string(kDocLinkColumns) + "WHERE token_hash = ?"));
    st.bind(1, token_hash);
    return one<DocLink>(c_, st, doc_link_from, "doc_link");
  }

  Result<std::vector<DocLink>> doc_links_of(const std::string& document_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string(kDocLinkColumns) + "WHERE document_id = ?"));
    st.bind(1, document_id);
    return all<DocLink>(c_, st, doc_link_from, "doc_links_of");
  }

  Result<std::optional<LinkDevice>> link_device(const std::string& device_hash) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT device_hash, token_hash, unlocked, expires FROM "
                                            "link_devices WHERE device_hash = ?"));
    st.bind(1, device_hash);
    return one<LinkDevice>(
        c_, st,
        [](const Stmt& s) {
          return LinkDevice{s.text(0), s.text(1), from_unix_millis(s.int64(2)), from_unix_millis(s.int64(3))};
        },
        "link_device");
  }

  Status put_doc_link(const DocLink& l) override {
    HB_RETURN_IF_ERROR(writable());
    if (l.token_hash.empty() || l.document_id.empty()) return invalid("a link needs a token hash and a document");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
        "INSERT INTO doc_links(token_hash, document_id, patient_id, created, failures_total, "
        "failures_window, window_start, locked_until, disabled, show_diagnosis) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(token_hash) DO UPDATE SET "
        "failures_total = excluded.failures_total, failures_window = excluded.failures_window, "
        "window_start = excluded.window_start, locked_until = excluded.locked_until, "
        "disabled = excluded.disabled, show_diagnosis = excluded.show_diagnosis"));
    st.bind(1, l.token_hash);
    st.bind(2, l.document_id);
    st.bind(3, l.patient_id);
    st.bind(4, unix_millis(l.created));
    st.bind(5, static_cast<int64_t>(l.failures_total));
    st.bind(6, static_cast<int64_t>(l.failures_window));
    st.bind(7, unix_millis(l.window_start));
    st.bind(8, unix_millis(l.locked_until));
    st.bind(9, static_cast<int64_t>(l.disabled ? 1 : 0));
    st.bind(10, static_cast<int64_t>(l.show_diagnosis ? 1 : 0));
    return c_.run(st, "put_doc_link");
  }

  Status put_link_device(const LinkDevice& d) override {
    HB_RETURN_IF_ERROR(writable());
    if (d.device_hash.empty() || d.token_hash.empty()) return invalid("a device needs its hash and its link");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("INSERT INTO link_devices(device_hash, token_hash, unlocked, "
                                            "expires) VALUES(?, ?, ?, ?) ON CONFLICT(device_hash) DO "
                                            "UPDATE SET unlocked = excluded.unlocked, expires = excluded.expires"));
    st.bind(1, d.device_hash);
    st.bind(2, d.token_hash);
    st.bind(3, unix_millis(d.unlocked));
    st.bind(4, unix_millis(d.expires));
    return c_.run(st, "put_link_device");
  }

  // ---- resident accounts ----

  static constexpr const char* kAccountColumns =
      "SELECT id, patient_id, password_hash, totp_sealed, totp_pending_sealed, totp_last_step, "
      "failures, failures_window_start, locked_until, created, locks FROM accounts ";
  static Account account_from(const Stmt& s) {
    Account a;
    a.id = s.text(0);
    a.patient_id = s.text(1);
    a.password_hash = s.text(2);
    a.totp_sealed = s.blob(3);
    a.totp_pending_sealed = s.blob(4);
    a.totp_last_step = s.int64(5);
    a.failures = static_cast<int>(s.int64(6));
    a.failures_window_start = from_unix_millis(s.int64(7));
    a.locked_until = from_unix_millis(s.int64(8));
    a.created = from_unix_millis(s.int64(9));
    a.locks = static_cast<int>(s.int64(10));
    return a;
  }

  Result<std::optional<Account>> account(const std::string& id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string(kAccountColumns) + "WHERE id = ?"));
    st.bind(1, id);
    return one<Account>(c_, st, account_from, "account");
  }

  Result<std::optional<Account>> account_by_patient(const std::string& patient_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string(kAccountColumns) + "WHERE patient_id = ?"));
    st.bind(1, patient_id);
    return one<Account>(c_, st, account_from, "account_by_patient");
  }

  Result<std::optional<OneTimeCode>> one_time_code(const std::string& challenge_hash) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT challenge_hash, purpose, subject, code_mac, created, "
                                            "expires, attempts, used FROM one_time_codes WHERE challenge_hash = ?"));
    st.bind(1, challenge_hash);
    return one<OneTimeCode>(
        c_, st,
        [](const Stmt& s) {
          OneTimeCode c;
          c.challenge_hash = s.text(0);
          c.purpose = s.text(1);
          c.subject = s.text(2);
          c.code_mac = s.text(3);
          c.created = from_unix_millis(s.int64(4));
          c.expires = from_unix_millis(s.int64(5));
          c.attempts = static_cast<int>(s.int64(6));
          c.used = s.int64(7) != 0;
          return c;
        },
        "one_time_code");
  }

  Result<std::optional<AccountSession>> account_session(const std::string& token_hash) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT token_hash, account_id, patient_id, created, last_seen, "
                                            "second_factor, failures FROM account_sessions WHERE token_hash = ?"));
    st.bind(1, token_hash);
    return one<AccountSession>(
        c_, st,
        [](const Stmt& s) {
          AccountSession x;
          x.token_hash = s.text(0);
          x.account_id = s.text(1);
          x.patient_id = s.text(2);
          x.created = from_unix_millis(s.int64(3));
          x.last_seen = from_unix_millis(s.int64(4));
          x.second_factor = s.int64(5) != 0;
          x.failures = static_cast<int>(s.int64(6));
          return x;
        },
        "account_session");
  }

  Status put_account(const Account& a) override {
    HB_RETURN_IF_ERROR(writable());
    // An empty password hash is an account without a password (made by the eID login).
    if (a.id.empty() || a.patient_id.empty()) {
      return invalid("an account needs an id and a patient");
    }
    HB_ASSIGN_OR_RETURN(
        Stmt st,
        c_.prepare(
            "INSERT INTO accounts(id, patient_id, password_hash, totp_sealed, totp_pending_sealed, "
            "totp_last_step, failures, failures_window_start, locked_until, created, locks) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "password_hash = excluded.password_hash, totp_sealed = excluded.totp_sealed, "
            "totp_pending_sealed = excluded.totp_pending_sealed, totp_last_step = "
            "excluded.totp_last_step, "
            "failures = excluded.failures, failures_window_start = excluded.failures_window_start, "
            "locked_until = excluded.locked_until, locks = excluded.locks"));
    st.bind(1, a.id);
    st.bind(2, a.patient_id);
    st.bind(3, a.password_hash);
    st.bind_blob(4, a.totp_sealed);
    st.bind_blob(5, a.totp_pending_sealed);
    st.bind(6, a.totp_last_step);
    st.bind(7, static_cast<int64_t>(a.failures));
    st.bind(8, unix_millis(a.failures_window_start));
    st.bind(9, unix_millis(a.locked_until));
    st.bind(10, unix_millis(a.created));
    st.bind(11, static_cast<int64_t>(a.locks));
    return c_.run(st, "put_account");
  }

  Status put_one_time_code(const OneTimeCode& c) override {
    HB_RETURN_IF_ERROR(writable());
    if (c.challenge_hash.empty() || c.code_mac.empty()) return invalid("a code needs its challenge and its MAC");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
        "INSERT INTO one_time_codes(challenge_hash, purpose, subject, code_mac, created, expires, "
        "attempts, used) VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(challenge_hash) DO UPDATE SET "
        "purpose = excluded.purpose, subject = excluded.subject, code_mac = excluded.code_mac, "
        "created = excluded.created, expires = excluded.expires, attempts = excluded.attempts, "
        "used = excluded.used"));
    st.bind(1, c.challenge_hash);
    st.bind(2, c.purpose);
    st.bind(3, c.subject);
    st.bind(4, c.code_mac);
    st.bind(5, unix_millis(c.created));
    st.bind(6, unix_millis(c.expires));
    st.bind(7, static_cast<int64_t>(c.attempts));
    st.bind(8, static_cast<int64_t>(c.used ? 1 : 0));
    return c_.run(st, "put_one_time_code");
  }

  Status put_account_session(const AccountSession& x) override {
    HB_RETURN_IF_ERROR(writable());
    if (x.token_hash.empty() || x.account_id.empty()) return invalid("a session needs its hash and its account");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
        "INSERT INTO account_sessions(token_hash, account_id, patient_id, created, last_seen, "
        "second_factor, failures) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(token_hash) DO UPDATE SET "
        "last_seen = excluded.last_seen, second_factor = excluded.second_factor, failures = excluded.failures"));
    st.bind(1, x.token_hash);
    st.bind(2, x.account_id);
    st.bind(3, x.patient_id);
    st.bind(4, unix_millis(x.created));
    st.bind(5, unix_millis(x.last_seen));
    st.bind(6, static_cast<int64_t>(x.second_factor ? 1 : 0));
    st.bind(7, static_cast<int64_t>(x.failures));
    return c_.run(st, "put_account_session");
  }

  Status delete_account_session(const std::string& token_hash) override {
    HB_RETURN_IF_ERROR(writable());
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("DELETE FROM account_sessions WHERE token_hash = ?"));
    st.bind(1, token_hash);
    return c_.run(st, "delete_account_session");
  }

  Status delete_account_sessions(const std::string& account_id) override {
    HB_RETURN_IF_ERROR(writable());
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("DELETE FROM account_sessions WHERE account_id = ?"));
    st.bind(1, account_id);
    return c_.run(st, "delete_account_sessions");
  }

  // ---- end resident accounts ----

  // ---- resident shares and access alerts ----

  Result<std::vector<AuditRecord>> audit_newest(const std::string& patient_id, int64_t before_seq,
                                                int limit) override {
    if (limit <= 0 || patient_id.empty()) return std::vector<AuditRecord>();
    // Walks audit_by_patient(patient_id, seq) backwards.
    static const std::string sql = std::string("SELECT ") + kAuditColumns +
                                   " FROM audit WHERE patient_id = ? AND seq < ? "
                                   "ORDER BY seq DESC LIMIT ?";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    st.bind(1, patient_id);
    st.bind(2, before_seq > 0 ? before_seq : std::numeric_limits<int64_t>::max());
    st.bind(3, static_cast<int64_t>(limit));
    return all<AuditRecord>(c_, st, audit_from, "audit_newest");
  }

  static constexpr const char* kShareColumns =
      "SELECT id, patient_id, account_id, token_hash, created, expires, single_use, passcode_hash, "
      "status, ended, failures_total, failures_window, window_start, locked_until, body FROM shares ";
  static Share share_from(const Stmt& s) {
    Share x;
    x.id = s.text(0);
    x.patient_id = s.text(1);
    x.account_id = s.text(2);
    x.token_hash = s.text(3);
    x.created = from_unix_millis(s.int64(4));
    x.expires = from_unix_millis(s.int64(5));
    x.single_use = s.int64(6) != 0;
    x.passcode_hash = s.text(7);
    x.status = s.text(8);
    x.ended = from_unix_millis(s.int64(9));
    x.failures_total = static_cast<int>(s.int64(10));
    x.failures_window = static_cast<int>(s.int64(11));
    x.window_start = from_unix_millis(s.int64(12));
    x.locked_until = from_unix_millis(s.int64(13));
    x.body = s.blob(14);
    return x;
  }

  Result<std::optional<Share>> share(const std::string& id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string(kShareColumns) + "WHERE id = ?"));
    st.bind(1, id);
    return one<Share>(c_, st, share_from, "share");
  }

  Result<std::optional<Share>> share_by_token(const std::string& token_hash) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string(kShareColumns) + "WHERE token_hash = ?"));
    st.bind(1, token_hash);
    return one<Share>(c_, st, share_from, "share_by_token");
  }

  Result<std::vector<Share>> shares_of(const std::string& patient_id, int limit) override {
    if (limit <= 0) return std::vector<Share>();
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string(kShareColumns) +
                                            "WHERE patient_id = ? ORDER BY created DESC, id LIMIT ?"));
    st.bind(1, patient_id);
    st.bind(2, static_cast<int64_t>(limit));
    return all<Share>(c_, st, share_from, "shares_of");
  }

  Result<std::vector<ShareAccess>> share_accesses(const std::string& share_id, int limit) override {
    if (limit <= 0) return std::vector<ShareAccess>();
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT seq, share_id, patient_id, time, recipient_sealed "
                                            "FROM share_accesses WHERE share_id = ? "
                                            "ORDER BY seq DESC LIMIT ?"));
    st.bind(1, share_id);
    st.bind(2, static_cast<int64_t>(limit));
    return all<ShareAccess>(
        c_, st,
        [](const Stmt& s) {
          return ShareAccess{s.int64(0), s.text(1), s.text(2), from_unix_millis(s.int64(3)), s.blob(4)};
        },
        "share_accesses");
  }

  Result<std::optional<AccessAlerts>> access_alerts(const std::string& patient_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT patient_id, sms, email, email_sealed, updated "
                                            "FROM access_alerts WHERE patient_id = ?"));
    st.bind(1, patient_id);
    return one<AccessAlerts>(
        c_, st,
        [](const Stmt& s) {
          return AccessAlerts{s.text(0), s.int64(1) != 0, s.int64(2) != 0, s.blob(3),
                              from_unix_millis(s.int64(4))};
        },
        "access_alerts");
  }

  Result<std::optional<Time>> access_alert_sent(const std::string& patient_id,
                                                const std::string& accessor) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT last_sent FROM access_alerts_sent "
                                            "WHERE patient_id = ? AND accessor = ?"));
    st.bind(1, patient_id);
    st.bind(2, accessor);
    return one<Time>(c_, st, [](const Stmt& s) { return from_unix_millis(s.int64(0)); },
                     "access_alert_sent");
  }

  Result<int64_t> access_alert_cursor() override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT after_seq FROM access_alerts_cursor WHERE id = 1"));
    HB_ASSIGN_OR_RETURN(auto v, one<int64_t>(c_, st, [](const Stmt& s) { return s.int64(0); },
                                             "access_alert_cursor"));
    return v.value_or(0);
  }

  Status put_share(const Share& x) override {
    HB_RETURN_IF_ERROR(writable());
    if (x.id.empty() || x.patient_id.empty() || x.token_hash.empty()) {
      return invalid("a share needs an id, a patient and a token hash");
    }
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
        "INSERT INTO shares(id, patient_id, account_id, token_hash, created, expires, single_use, "
        "passcode_hash, status, ended, failures_total, failures_window, window_start, locked_until, "
        "body) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
        "status = excluded.status, ended = excluded.ended, "
        "failures_total = excluded.failures_total, failures_window = excluded.failures_window, "
        "window_start = excluded.window_start, locked_until = excluded.locked_until"));
    st.bind(1, x.id);
    st.bind(2, x.patient_id);
    st.bind(3, x.account_id);
    st.bind(4, x.token_hash);
    st.bind(5, unix_millis(x.created));
    st.bind(6, unix_millis(x.expires));
    st.bind(7, static_cast<int64_t>(x.single_use ? 1 : 0));
    st.bind(8, x.passcode_hash);
    st.bind(9, x.status);
    st.bind(10, unix_millis(x.ended));
    st.bind(11, static_cast<int64_t>(x.failures_total));
    st.bind(12, static_cast<int64_t>(x.failures_window));
    st.bind(13, unix_millis(x.window_start));
    st.bind(14, unix_millis(x.locked_until));
    st.bind_blob(15, x.body);
    return c_.run(st, "put_share");
  }

  Status add_share_access(const ShareAccess& a) override {
    HB_RETURN_IF_ERROR(writable());
    if (a.share_id.empty() || a.patient_id.empty()) return invalid("an access needs its share and patient");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("INSERT INTO share_accesses(share_id, patient_id, time, "
                                            "recipient_sealed) VALUES(?, ?, ?, ?)"));
    st.bind(1, a.share_id);
    st.bind(2, a.patient_id);
    st.bind(3, unix_millis(a.time));
    st.bind_blob(4, a.recipient_sealed);
    return c_.run(st, "add_share_access");
  }

  Status put_access_alerts(const AccessAlerts& a) override {
    HB_RETURN_IF_ERROR(writable());
    if (a.patient_id.empty()) return invalid("access alerts need a patient");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
        "INSERT INTO access_alerts(patient_id, sms, email, email_sealed, updated) VALUES(?, ?, ?, ?, ?) "
        "ON CONFLICT(patient_id) DO UPDATE SET sms = excluded.sms, email = excluded.email, "
        "email_sealed = excluded.email_sealed, updated = excluded.updated"));
    st.bind(1, a.patient_id);
    st.bind(2, static_cast<int64_t>(a.sms ? 1 : 0));
    st.bind(3, static_cast<int64_t>(a.email ? 1 : 0));
    st.bind_blob(4, a.email_sealed);
    st.bind(5, unix_millis(a.updated));
    return c_.run(st, "put_access_alerts");
  }

  Status put_access_alert_sent(const std::string& patient_id, const std::string& accessor,
                               Time when) override {
    HB_RETURN_IF_ERROR(writable());
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
        "INSERT INTO access_alerts_sent(patient_id, accessor, last_sent) VALUES(?, ?, ?) "
        "ON CONFLICT(patient_id, accessor) DO UPDATE SET last_sent = excluded.last_sent"));
    st.bind(1, patient_id);
    st.bind(2, accessor);
    st.bind(3, unix_millis(when));
    return c_.run(st, "put_access_alert_sent");
  }

  Status set_access_alert_cursor(int64_t after_seq) override {
    HB_RETURN_IF_ERROR(writable());
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
        "INSERT INTO access_alerts_cursor(id, after_seq) VALUES(1, ?) "
        "ON CONFLICT(id) DO UPDATE SET after_seq = excluded.after_seq"));
    st.bind(1, after_seq);
    return c_.run(st, "set_access_alert_cursor");
  }

  // ---- end resident shares ----

  // ---- proxies ----

  static constexpr const char* kProxyColumns =
      "SELECT id, patient_id, proxy_account_id, kind, scopes, created, ends_at, revoked_at, "
      "granted_by FROM proxy_grants ";

  static ProxyGrant proxy_from(const Stmt& s) {
    ProxyGrant g;
    g.id = s.text(0);
    g.patient_id = s.text(1);
    g.proxy_account_id = s.text(2);
    g.kind = s.text(3);
    g.scopes = s.text(4);
    g.created = from_unix_millis(s.int64(5));
    g.ends_at = from_unix_millis(s.int64(6));
    g.revoked_at = from_unix_millis(s.int64(7));
    g.granted_by = s.text(8);
    return g;
  }

  Result<std::optional<ProxyGrant>> proxy_grant(const std::string& id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string(kProxyColumns) + "WHERE id = ?"));
    st.bind(1, id);
    return one<ProxyGrant>(c_, st, proxy_from, "proxy_grant");
  }

  Result<std::vector<ProxyGrant>> proxy_grants_of(const std::string& patient_id,
                                                  int limit) override {
    if (limit <= 0) return std::vector<ProxyGrant>();
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string(kProxyColumns) +
                                            "WHERE patient_id = ? ORDER BY created DESC, id LIMIT ?"));
    st.bind(1, patient_id);
    st.bind(2, static_cast<int64_t>(limit));
    return all<ProxyGrant>(c_, st, proxy_from, "proxy_grants_of");
  }

  Result<std::vector<ProxyGrant>> proxy_grants_held(const std::string& account_id,
                                                    int limit) override {
    if (limit <= 0) return std::vector<ProxyGrant>();
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(std::string(kProxyColumns) +
                                            "WHERE proxy_account_id = ? ORDER BY patient_id, id "
                                            "LIMIT ?"));
    st.bind(1, account_id);
    st.bind(2, static_cast<int64_t>(limit));
    return all<ProxyGrant>(c_, st, proxy_from, "proxy_grants_held");
  }

  Status put_proxy_grant(const ProxyGrant& g) override {
    HB_RETURN_IF_ERROR(writable());
    if (g.id.empty() || g.patient_id.empty() || g.proxy_account_id.empty()) {
      return invalid("a proxy grant needs an id, a patient and a proxy account");
    }
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
        "INSERT INTO proxy_grants(id, patient_id, proxy_account_id, kind, scopes, created, ends_at, "
        "revoked_at, granted_by) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
        "scopes = excluded.scopes, ends_at = excluded.ends_at, revoked_at = excluded.revoked_at"));
    st.bind(1, g.id);
    st.bind(2, g.patient_id);
    st.bind(3, g.proxy_account_id);
    st.bind(4, g.kind);
    st.bind(5, g.scopes);
    st.bind(6, unix_millis(g.created));
    st.bind(7, unix_millis(g.ends_at));
    st.bind(8, unix_millis(g.revoked_at));
    st.bind(9, g.granted_by);
    return c_.run(st, "put_proxy_grant");
  }

  // ---- end proxies ----

  // ---- the health book ----

  Result<std::vector<TimelineRow>> timeline(const TimelineQuery& q) override {
    if (q.limit <= 0) return std::vector<TimelineRow>();
    std::string sql =
        "SELECT patient_id, ref, facility_id, kind, date, sealed FROM timeline "
        "INDEXED BY timeline_by_date WHERE patient_id = ?";
    auto in_list = [&](size_t n) {
      sql += " IN (";
      for (size_t i = 0; i < n; ++i) sql += i ? ", ?" : "?";
      sql += ")";
    };
    if (!q.facility_ids.empty()) {
      sql += " AND facility_id";
      in_list(q.facility_ids.size());
    }
    if (!q.kinds.empty()) {
      sql += " AND kind";
      in_list(q.kinds.size());
    }
    if (q.from) sql += " AND date >= ?";
    if (q.to) sql += " AND date <= ?";
    // "date <= ?" bounds the index range, so a later page starts at its cursor instead of
    // walking past every newer row.
    if (q.after) sql += " AND date <= ? AND (date < ? OR ref < ?)";
    sql += " ORDER BY date DESC, ref DESC LIMIT ?";
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    int n = 1;
    st.bind(n++, q.patient_id);
    for (const auto& f : q.facility_ids) st.bind(n++, f);
    for (const auto& k : q.kinds) st.bind(n++, k);
    if (q.from) st.bind(n++, *q.from);
    if (q.to) st.bind(n++, *q.to);
    if (q.after) {
      st.bind(n++, q.after->first);
      st.bind(n++, q.after->first);
      st.bind(n++, q.after->second);
    }
    st.bind(n++, static_cast<int64_t>(q.limit));
    return all<TimelineRow>(
        c_, st,
        [](const Stmt& s) {
          TimelineRow t;
          t.patient_id = s.text(0);
          t.ref = s.text(1);
          t.facility_id = s.text(2);
          t.kind = s.text(3);
          t.date = s.int64(4);
          t.sealed = s.blob(5);
          return t;
        },
        "timeline");
  }

  Result<std::vector<std::string>> timeline_facilities(const std::string& patient_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT DISTINCT facility_id FROM timeline "
                                            "WHERE patient_id = ? ORDER BY facility_id"));
    st.bind(1, patient_id);
    return all<std::string>(c_, st, [](const Stmt& s) { return s.text(0); },
                            "timeline_facilities");
  }

  Result<std::vector<std::string>> patient_facilities(const std::string& patient_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT facility_id FROM patient_facilities "
                                            "WHERE patient_id = ? ORDER BY linked, facility_id"));
    st.bind(1, patient_id);
    return all<std::string>(c_, st, [](const Stmt& s) { return s.text(0); },
                            "patient_facilities");
  }

  Result<std::vector<ConsentGrant>> consent_grants(const std::string& patient_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT patient_id, facility_id, shared, updated "
                                            "FROM consent_grants WHERE patient_id = ? "
                                            "ORDER BY facility_id"));
    st.bind(1, patient_id);
    return all<ConsentGrant>(
        c_, st,
        [](const Stmt& s) {
          ConsentGrant g;
          g.patient_id = s.text(0);
          g.facility_id = s.text(1);
          g.shared = s.int64(2) != 0;
          g.updated = from_unix_millis(s.int64(3));
          return g;
        },
        "consent_grants");
  }

  Result<bool> consent_shared(const std::string& patient_id,
                              const std::string& facility_id) override {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("SELECT shared FROM consent_grants "
                                            "WHERE patient_id = ? AND facility_id = ?"));
    st.bind(1, patient_id);
    st.bind(2, facility_id);
    HB_ASSIGN_OR_RETURN(auto row, one<int64_t>(c_, st, [](const Stmt& s) { return s.int64(0); },
                                               "consent_shared"));
    return row.has_value() && *row != 0;
  }

  Status put_timeline(const TimelineRow& t) override {
    HB_RETURN_IF_ERROR(writable());
    if (t.patient_id.empty() || t.ref.empty()) return invalid("a timeline row needs a patient and a resource");
    if (t.sealed.empty()) {
      HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("DELETE FROM timeline WHERE patient_id = ? AND ref = ?"));
      st.bind(1, t.patient_id);
      st.bind(2, t.ref);
      return c_.run(st, "put_timeline");
    }
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
        "INSERT INTO timeline(patient_id, ref, facility_id, kind, date, sealed) "
        "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(patient_id, ref) DO UPDATE SET "
        "facility_id = excluded.facility_id, kind = excluded.kind, date = excluded.date, "
        "sealed = excluded.sealed"));
    st.bind(1, t.patient_id);
    st.bind(2, t.ref);
    st.bind(3, t.facility_id);
    st.bind(4, t.kind);
    st.bind(5, t.date);
    st.bind_blob(6, t.sealed);
    return c_.run(st, "put_timeline");
  }

  Status put_consent_grant(const ConsentGrant& g) override {
    HB_RETURN_IF_ERROR(writable());
    if (g.patient_id.empty() || g.facility_id.empty()) return invalid("a consent needs a patient and a facility");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(
        "INSERT INTO consent_grants(patient_id, facility_id, shared, updated) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(patient_id, facility_id) DO UPDATE SET shared = excluded.shared, "
        "updated = excluded.updated"));
    st.bind(1, g.patient_id);
    st.bind(2, g.facility_id);
    st.bind(3, static_cast<int64_t>(g.shared ? 1 : 0));
    st.bind(4, unix_millis(g.updated));
    return c_.run(st, "put_consent_grant");
  }
  // ---- end health book ----

  Status put_issuer_key(const IssuerKey& k) override {
    HB_RETURN_IF_ERROR(writable());
    if (k.facility_id.empty() || k.kid.empty()) return invalid("an issuer key needs a facility and a kid");
    HB_ASSIGN_OR_RETURN(auto existing, issuer_key(k.facility_id));
    if (existing) return conflict("the facility already has an issuer key");
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("INSERT INTO issuer_keys(facility_id, kid, sealed_key, "
                                            "created) VALUES(?, ?, ?, ?)"));
    st.bind(1, k.facility_id);
    st.bind(2, k.kid);
    st.bind_blob(3, k.sealed_key);
    st.bind(4, unix_millis(k.created));
    return c_.run(st, "put_issuer_key");
  }

  Status put_document(const Document& d) override {
    HB_RETURN_IF_ERROR(writable());
    if (d.id.empty() || d.facility_id.empty() || d.facility_ref.empty() || d.card_hash.empty()) {
      return invalid("a document needs an id, its facility, the facility's reference and a card");
    }
    HB_ASSIGN_OR_RETURN(
        Stmt st,
        c_.prepare(std::string("INSERT INTO documents(") + kDocumentColumns +
                   ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
                   "SET status = excluded.status, revoked = excluded.revoked, revoke_reason = "
                   "excluded.revoke_reason, superseded_by = excluded.superseded_by, log_index = "
                   "excluded.log_index, body = excluded.body"));
    st.bind(1, d.id);
    st.bind(2, d.facility_id);
    st.bind(3, d.facility_ref);
    st.bind(4, d.patient_id);
    st.bind(5, d.kind);
    st.bind(6, d.status);
    st.bind(7, d.card_hash);
    st.bind(8, d.kid);
    st.bind(9, d.rid);
    st.bind(10, unix_millis(d.issued));
    st.bind(11, unix_millis(d.revoked));
    st.bind(12, d.revoke_reason);
    st.bind(13, d.superseded_by);
    st.bind(14, d.log_index);
    st.bind_blob(15, d.body);
    Status s = c_.run(st, "put_document");
    if (!s && s.message().find("UNIQUE") != std::string::npos) {
      return conflict("a document with this reference or card already exists");
    }
    return s;
  }

  // ---- notify: the outbox ----

  Result<int64_t> outbox_enqueue(const OutboxMessage& m) override {
    HB_RETURN_IF_ERROR(writable());
    if (m.channel != "sms" && m.channel != "email") return invalid("unknown outbox channel");
    if (m.recipient_sealed.empty() || m.recipient_index.empty()) {
      return invalid("an outbox message needs its sealed recipient and its index");
    }
    if (m.body_sealed.empty() && m.body.empty()) return invalid("an outbox message needs a body");
    // ON CONFLICT DO NOTHING: a duplicate is an answer, not an error that aborts the statement.
    HB_ASSIGN_OR_RETURN(
        Stmt st, c_.prepare("INSERT INTO outbox(channel, patient_id, recipient_sealed, "
                            "recipient_index, subject, body, status, attempts, next_attempt, "
                            "last_error, created, sent_at, dedupe_key, body_sealed) "
                            "VALUES(?, ?, ?, ?, ?, ?, 'queued', 0, ?, '', ?, NULL, ?, ?) "
                            "ON CONFLICT(dedupe_key) DO NOTHING"));
    st.bind(1, m.channel);
    st.bind(2, m.patient_id);
    st.bind_blob(3, m.recipient_sealed);
    st.bind(4, m.recipient_index);
    st.bind(5, m.subject);
    st.bind(6, m.body);
    st.bind(7, unix_millis(m.next_attempt));
    st.bind(8, unix_millis(m.created));
    if (!m.dedupe_key.empty()) st.bind(9, m.dedupe_key);  // else NULL: no key
    st.bind_blob(10, m.body_sealed);
    HB_RETURN_IF_ERROR(c_.run(st, "outbox_enqueue"));
    if (sqlite3_changes(c_.db()) == 0) {
      return conflict("a notification with this dedupe key is already queued");
    }
    return static_cast<int64_t>(sqlite3_last_insert_rowid(c_.db()));
  }

  Status outbox_mark(int64_t id, int from_attempts, const OutboxMark& mark) override {
    HB_RETURN_IF_ERROR(writable());
    if (!outbox_status_known(mark.status)) {
      return invalid("an outbox message cannot move to status \"" + mark.status + "\"");
    }
    // A message done with keeps no link and no recipient (store.h): they are blanked in the
    // statement that makes it final, so there is no moment at which a final row still holds them.
    static const std::string sql =
        std::string(
            "UPDATE outbox SET status = ?1, attempts = ?2, next_attempt = ?3, last_error = ?4, "
            "sent_at = ?5, "
            "body = CASE WHEN ?1 = 'sent' OR ?1 = 'dead' THEN '' ELSE body END, "
            "body_sealed = CASE WHEN ?1 = 'sent' OR ?1 = 'dead' THEN x'' ELSE body_sealed END, "
            "recipient_sealed = CASE WHEN ?1 = 'sent' OR ?1 = 'dead' THEN x'' ELSE "
            "recipient_sealed END "
            "WHERE id = ?6 AND attempts = ?7 AND ") +
        kOutboxInPlay;
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    st.bind(1, mark.status);
    st.bind(2, static_cast<int64_t>(mark.attempts));
    st.bind(3, unix_millis(mark.next_attempt));
    st.bind(4, mark.last_error);
    if (mark.sent_at) st.bind(5, unix_millis(*mark.sent_at));
    st.bind(6, id);
    st.bind(7, static_cast<int64_t>(from_attempts));
    HB_RETURN_IF_ERROR(c_.run(st, "outbox_mark"));
    if (sqlite3_changes(c_.db()) == 1) return Status::ok();
    HB_ASSIGN_OR_RETURN(auto now, outbox_message(id));
    if (!now) return not_found("no outbox message " + std::to_string(id));
    return conflict("outbox message " + std::to_string(id) + " moved on (" + now->status + ", " +
                    std::to_string(now->attempts) + " attempts)");
  }

  // ---- end notify ----

  // Runs a statement without parameters or results (transaction control), cached.
  Status step_sql(const char* sql) {
    HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
    return c_.run(st, sql);
  }

 private:
  Status writable() const {
    if (next_seq_ == nullptr) return internal("write on a read connection");
    return Status::ok();
  }

  static void bind_all(Stmt& st, const std::vector<sqlite::SqlArg>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
      const int n = static_cast<int>(i) + 1;
      if (const auto* v = std::get_if<int64_t>(&args[i])) {
        st.bind(n, *v);
      } else {
        st.bind(n, std::get<std::string>(args[i]));
      }
    }
  }

  Status put_resource_steps(const ResourceRow& row, const std::vector<IndexRow>& index) {
    int64_t rid = 0;
    int64_t current_version = 0;
    {
      HB_ASSIGN_OR_RETURN(Stmt st,
                          c_.prepare("SELECT rid, version FROM resources WHERE type = ? AND id = ?"));
      st.bind(1, row.type);
      st.bind(2, row.id);
      int rc = st.step();
      if (rc == SQLITE_ROW) {
        rid = st.int64(0);
        current_version = st.int64(1);
      } else if (rc != SQLITE_DONE) {
        return db_error(c_.db(), rc, "put_resource");
      }
    }
    if (row.version != current_version + 1) {
      return conflict("version conflict on " + row.type + "/" + row.id + ": expected version " +
                      std::to_string(current_version + 1) + ", got " +
                      std::to_string(row.version));
    }
    const int64_t seq = ++*next_seq_;
    const int64_t last_updated = unix_millis(row.last_updated);
    const int64_t deleted = row.deleted ? 1 : 0;
    if (rid == 0) {
      HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("INSERT INTO resources(type, id, version, "
                                              "patient_id, facility_id, last_updated, deleted, "
                                              "seq) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
      st.bind(1, row.type);
      st.bind(2, row.id);
      st.bind(3, row.version);
      st.bind(4, row.patient_id);
      st.bind(5, row.facility_id);
      st.bind(6, last_updated);
      st.bind(7, deleted);
      st.bind(8, seq);
      HB_RETURN_IF_ERROR(c_.run(st, "put_resource"));
      rid = sqlite3_last_insert_rowid(c_.db());
    } else {
      HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("UPDATE resources SET version = ?, patient_id = ?, "
                                              "facility_id = ?, last_updated = ?, deleted = ?, "
                                              "seq = ? WHERE rid = ?"));
      st.bind(1, row.version);
      st.bind(2, row.patient_id);
      st.bind(3, row.facility_id);
      st.bind(4, last_updated);
      st.bind(5, deleted);
      st.bind(6, seq);
      st.bind(7, rid);
      HB_RETURN_IF_ERROR(c_.run(st, "put_resource"));
      for (const char* sql :
           {"DELETE FROM idx_token WHERE rid = ?", "DELETE FROM idx_reference WHERE rid = ?",
            "DELETE FROM idx_date WHERE rid = ?", "DELETE FROM idx_string WHERE rid = ?"}) {
        HB_ASSIGN_OR_RETURN(Stmt del, c_.prepare(sql));
        del.bind(1, rid);
        HB_RETURN_IF_ERROR(c_.run(del, "put_resource index"));
      }
    }
    {
      HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare("INSERT INTO resource_versions(seq, rid, version, "
                                              "patient_id, facility_id, last_updated, deleted, "
                                              "body) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
      st.bind(1, seq);
      st.bind(2, rid);
      st.bind(3, row.version);
      st.bind(4, row.patient_id);
      st.bind(5, row.facility_id);
      st.bind(6, last_updated);
      st.bind(7, deleted);
      st.bind_blob(8, row.body);
      HB_RETURN_IF_ERROR(c_.run(st, "put_resource version"));
    }
    for (const IndexRow& ix : index) {
      // OR IGNORE: a resource may yield the same entry twice (e.g. two identical codings).
      const char* sql = nullptr;
      switch (ix.kind) {
        case IndexKind::kToken:
          sql = "INSERT OR IGNORE INTO idx_token(rid, param, system, code, type, patient_id) "
                "VALUES(?, ?, ?, ?, ?, ?)";
          break;
        case IndexKind::kReference:
          sql = "INSERT OR IGNORE INTO idx_reference(rid, param, target_type, target_id, type, "
                "patient_id) VALUES(?, ?, ?, ?, ?, ?)";
          break;
        case IndexKind::kString:
          sql = "INSERT OR IGNORE INTO idx_string(rid, param, value, type, patient_id) "
                "VALUES(?, ?, ?, ?, ?)";
          break;
        case IndexKind::kDate:
          sql = "INSERT OR IGNORE INTO idx_date(rid, param, lo, hi, type, patient_id) "
                "VALUES(?, ?, ?, ?, ?, ?)";
          break;
      }
      if (sql == nullptr) return invalid("unknown index kind");
      HB_ASSIGN_OR_RETURN(Stmt st, c_.prepare(sql));
      int i = 1;
      st.bind(i++, rid);
      st.bind(i++, ix.param);
      if (ix.kind == IndexKind::kDate) {
        st.bind(i++, ix.lo);
        st.bind(i++, ix.hi);
      } else if (ix.kind == IndexKind::kString) {
        st.bind(i++, ix.a);
      } else {
        st.bind(i++, ix.a);
        st.bind(i++, ix.b);
      }
      st.bind(i++, row.type);
      st.bind(i, row.patient_id);
      HB_RETURN_IF_ERROR(c_.run(st, "put_resource index"));
    }
    return Status::ok();
  }

  Conn& c_;
  int64_t* next_seq_;
};

std::future<Status> ready(Status s) {
  std::promise<Status> p;
  p.set_value(std::move(s));
  return p.get_future();
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const SqliteOptions& options, std::unique_ptr<Conn> writer,
              std::unique_ptr<Conn> checkpointer, std::vector<std::unique_ptr<Conn>> readers,
              int64_t last_seq)
      : max_group_(static_cast<size_t>(options.max_group)),
        checkpoint_frames_(options.checkpoint_frames),
        durable_(options.synchronous_full),
        wal_path_(options.path + "-wal"),
        ckpt_conn_(std::move(checkpointer)),
        writer_(std::move(writer)),
        next_seq_(last_seq),
        idle_readers_(std::move(readers)) {
    ckpt_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "hb-store-ckpt");
      checkpoint_loop();
    });
    if (durable_) {
      // Commits write the WAL without waiting for the disk (the writer thread defers their WAL
      // syncs, sqlite_walbuf.h); the syncer thread makes them durable (one fdatasync for every
      // group that committed meanwhile) and only then completes their futures, while the writer
      // already runs the next group. Checkpoints sync as SQLite's FULL mode does
      // (checkpoint_here).
      sync_thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "hb-store-sync");
        sync_loop();
      });
    }
    // Checkpoints are the writer thread's, between groups (see maybe_checkpoint), not SQLite's
    // automatic ones inside COMMIT: this hook replaces those and only notes the WAL's length.
    sqlite3_wal_hook(writer_->db(), &SqliteStore::on_wal_commit, this);
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "hb-store-writer");  // for profilers and top -H
      writer_loop();
    });
  }

  ~SqliteStore() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    {
      std::lock_guard<std::mutex> l(ckpt_mu_);
      ckpt_stop_ = true;
    }
    ckpt_cv_.notify_all();
    if (ckpt_thread_.joinable()) ckpt_thread_.join();
    {
      std::lock_guard<std::mutex> l(sync_mu_);
      sync_stop_ = true;
    }
    sync_cv_.notify_all();
    if (sync_thread_.joinable()) sync_thread_.join();
    if (wal_fd_ >= 0) ::close(wal_fd_);
    // The last connection to close copies the WAL into the database and deletes it, syncing
    // both: this thread does not defer WAL syncs as the writer thread did.
  }

  Status read(const std::function<Status(Reader&)>& fn) override {
    try {
      Lease lease(*this);
      return read_on(*lease.conn, fn);
    } catch (const std::exception& e) {
      return internal(std::string("read failed: ") + e.what());
    } catch (...) {
      return internal("read failed");
    }
  }

  std::future<Status> write(std::function<Status(Writer&)> fn) override {
    if (!fn) return ready(invalid("write needs a closure"));
    return enqueue(std::move(fn), false);
  }

  std::future<Status> write_rerunnable(std::function<Status(Writer&)> fn) override {
    if (!fn) return ready(invalid("write needs a closure"));
    return enqueue(std::move(fn), true);
  }

  void append_audit_async(AuditRecord a) override {
    try {
      bool queued = false;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (!stopping_) {
          audits_.push_back(a);
          queued = true;
        }
      }
      if (queued) {
        queue_cv_.notify_one();
      } else {
        std::fprintf(stderr, "store: audit record %s dropped: the store is closing\n",
                     a.id.c_str());
      }
    } catch (...) {
      std::fprintf(stderr, "store: audit record dropped: out of memory\n");
    }
  }

  Status flush() override {
    // An empty operation: its future completes with the group that carries everything queued
    // before it, including async audit records.
    return enqueue(nullptr, false).get();
  }

  StoreStats stats() const override {
    StoreStats s;
    s.commits = commits_.load();
    s.writes = writes_.load();
    s.failed_writes = failed_.load();
    s.background_checkpoints = background_checkpoints_.load();
    s.writer_checkpoints = writer_checkpoints_.load();
    s.rebuilt_groups = rebuilt_.load();
    return s;
  }

 private:
  struct Op {
    std::function<Status(Writer&)> fn;  // empty for a flush marker
    std::promise<Status> done;
    bool rerunnable = false;  // queued by write_rerunnable
  };

  std::future<Status> enqueue(std::function<Status(Writer&)> fn, bool rerunnable) {
    try {
      Op op{std::move(fn), {}, rerunnable};
      std::future<Status> f = op.done.get_future();
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stopping_) return ready(Status(Code::kUnavailable, "the store is closing"));
        queue_.push_back(std::move(op));
      }
      queue_cv_.notify_one();
      return f;
    } catch (const std::exception& e) {
      return ready(internal(std::string("cannot queue the write: ") + e.what()));
    }
  }

  // A read connection borrowed from the pool for one read(); waits while all are in use.
  struct Lease {
    explicit Lease(SqliteStore& s) : store(s) {
      std::unique_lock<std::mutex> l(store.pool_mu_);
      store.pool_cv_.wait(l, [&] { return !store.idle_readers_.empty(); });
      conn = std::move(store.idle_readers_.back());
      store.idle_readers_.pop_back();
    }
    ~Lease() {
      {
        std::lock_guard<std::mutex> l(store.pool_mu_);
        store.idle_readers_.push_back(std::move(conn));
      }
      store.pool_cv_.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SqliteStore& store;
    std::unique_ptr<Conn> conn;
  };

  // One read transaction, so every statement in fn sees the same snapshot.
  static Status read_on(Conn& c, const std::function<Status(Reader&)>& fn) {
    Session s(c, nullptr);
    HB_RETURN_IF_ERROR(s.step_sql("BEGIN"));
    Status result;
    try {
      result = fn(s);
    } catch (const std::exception& e) {
      result = internal(std::string("read closure threw: ") + e.what());
    } catch (...) {
      result = internal("read closure threw");
    }
    Status end = s.step_sql("COMMIT");
    if (!end.is_ok()) {
      (void)s.step_sql("ROLLBACK");
      if (result.is_ok()) result = end;
    }
    return result;
  }

  void writer_loop() {
    // A commit's WAL sync only writes its frames out (one call, sqlite_walbuf.h): the syncer makes
    // commits durable, or nothing does (synchronous_full off, SQLite's NORMAL).
    sqlite::DeferredWalSync deferred(true);
    for (;;) {
      std::vector<Op> ops;
      std::vector<AuditRecord> audits;
      try {
        std::unique_lock<std::mutex> l(mu_);
        queue_cv_.wait(l, [&] { return stopping_ || !queue_.empty() || !audits_.empty(); });
        if (queue_.empty() && audits_.empty()) return;  // closing, and drained
        const size_t n = std::min(queue_.size(), max_group_);
        ops.reserve(n);
        for (size_t i = 0; i < n; ++i) {
          ops.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        audits.swap(audits_);
      } catch (...) {
        // Out of memory while taking the batch: fail what was taken rather than lose it.
        for (auto& op : ops) op.done.set_value(internal("out of memory in the writer"));
        continue;
      }
      run_group(ops, audits);
    }
  }

  // Runs fn, an exception becoming its status.
  static Status call(Session& w, const std::function<Status(Writer&)>& fn) {
    try {
      return fn(w);
    } catch (const std::exception& e) {
      return internal(std::string("write closure threw: ") + e.what());
    } catch (...) {
      return internal("write closure threw");
    }
  }

  // Rows written by the writer connection so far (SQLite counts every row a statement inserts,
  // updates or deletes): unchanged across a closure means it left the database as it was.
  int64_t changes() const { return sqlite3_total_changes64(writer_->db()); }

  // Runs one closure in its own savepoint. Returns the closure's status; sets `broken` when the
  // transaction itself can no longer be trusted.
  Status run_in_savepoint(Session& w, const std::function<Status(Writer&)>& fn, Status& broken) {
    Status s = w.step_sql("SAVEPOINT write");
    if (!s.is_ok()) {
      broken = s;
      return s;
    }
    s = call(w, fn);
    if (sqlite3_get_autocommit(writer_->db()) != 0) {
      // SQLite rolled the whole transaction back (I/O error, disk full): the group is lost.
      broken = internal("the transaction was aborted: " + s.message());
      return broken;
    }
    if (s.is_ok()) {
      Status r = w.step_sql("RELEASE write");
      if (!r.is_ok()) broken = r;
      return r;
    }
    Status r = w.step_sql("ROLLBACK TO write");
    if (r.is_ok()) r = w.step_sql("RELEASE write");
    if (!r.is_ok()) broken = r;
    return s;
  }

  // Runs the group's closures in its open transaction, each one's writes kept only if it
  // succeeds; sets `group` when the transaction can no longer be trusted.
  //
  // A savepoint isolates a closure, but makes SQLite copy every page the closure changes that
  // the group had already changed: with many closures to a group, a fifth of the writer's time.
  // So a closure that may run again (Store::write_rerunnable) runs without one. When such a
  // closure fails after writing, the transaction goes back to its base, and the closures since
  // the base that wrote run again, each in a savepoint now. The base is the transaction's start,
  // or the savepoint "base", set before a closure that may run again when writes that must not be
  // undone came since the last base: those of a closure that may not run again (which has its own
  // savepoint, unless nothing comes before it) and those of closures already run twice. The failed
  // closure keeps its status (from the same state it would fail the same way) and is not run
  // again; one that fails before writing anything needs no undoing. So no closure runs more than
  // twice, and a group of closures that may not run again costs what it did before.
  void run_closures(Session& w, std::vector<Op>& ops, std::vector<Status>& results, Status& group) {
    bool base = false;          // the savepoint "base" is open
    bool fixed = false;         // writes that must not be undone came since the base (or start)
    std::vector<size_t> since;  // closures since the base that succeeded and wrote, in order
    // Whether the transaction holds writes: a base is only set after some.
    auto held = [&] { return base || fixed || !since.empty(); };
    for (size_t i = 0; i < ops.size() && group.is_ok(); ++i) {
      if (!ops[i].fn) continue;
      int64_t before = changes();
      if (!ops[i].rerunnable && held()) {
        results[i] = run_in_savepoint(w, ops[i].fn, group);
        if (group.is_ok() && results[i].is_ok() && changes() != before) fixed = true;
        continue;
      }
      if (ops[i].rerunnable && fixed) {
        if (base) group = w.step_sql("RELEASE base");
        if (group.is_ok()) group = w.step_sql("SAVEPOINT base");
        if (!group.is_ok()) return;
        base = true;
        fixed = false;
        since.clear();
      }
      results[i] = call(w, ops[i].fn);
      if (sqlite3_get_autocommit(writer_->db()) != 0) {
        // SQLite rolled the whole transaction back (I/O error, disk full): the group is lost.
        group = internal("the transaction was aborted: " + results[i].message());
        results[i] = group;
        return;
      }
      const bool wrote = changes() != before;
      if (results[i].is_ok()) {
        if (!wrote) continue;
        if (ops[i].rerunnable) {
          since.push_back(i);
        } else {
          fixed = true;
        }
        continue;
      }
      if (!wrote) continue;
      // Only what came since the base is undone: the closures in `since`, and this one.
      rebuilt_.fetch_add(1);
      if (base) {
        group = w.step_sql("ROLLBACK TO base");
      } else {
        group = w.step_sql("ROLLBACK");
        if (group.is_ok()) group = w.step_sql("BEGIN IMMEDIATE");
      }
      for (size_t j : since) {
        if (!group.is_ok()) return;
        before = changes();
        results[j] = run_in_savepoint(w, ops[j].fn, group);
        if (results[j].is_ok() && changes() != before) fixed = true;
      }
      since.clear();
    }
  }

  void run_group(std::vector<Op>& ops, std::vector<AuditRecord>& audits) {
    std::vector<Status> results(ops.size());
    Status group;
    try {
      Session w(*writer_, &next_seq_);
      group = w.step_sql("BEGIN IMMEDIATE");
      if (group.is_ok()) run_closures(w, ops, results, group);
      for (size_t i = 0; i < audits.size() && group.is_ok(); ++i) {
        Status s = w.append_audit(audits[i]);
        if (sqlite3_get_autocommit(writer_->db()) != 0) {
          group = internal("the transaction was aborted writing audit records");
        } else if (!s.is_ok()) {
          std::fprintf(stderr, "store: audit record %s dropped: %s\n", audits[i].id.c_str(),
                       s.to_string().c_str());
        }
      }
      if (group.is_ok()) group = w.step_sql("COMMIT");
      if (!group.is_ok() && sqlite3_get_autocommit(writer_->db()) == 0) {
        (void)w.step_sql("ROLLBACK");
      }
    } catch (const std::exception& e) {
      group = internal(std::string("group commit failed: ") + e.what());
      if (sqlite3_get_autocommit(writer_->db()) == 0) (void)writer_->exec("ROLLBACK");
    } catch (...) {
      group = internal("group commit failed");
      if (sqlite3_get_autocommit(writer_->db()) == 0) (void)writer_->exec("ROLLBACK");
    }

    int64_t ok = 0;
    int64_t failed = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!group.is_ok()) {
        results[i] = Status(Code::kInternal, "commit failed: " + group.message());
      }
      if (ops[i].fn) (results[i].is_ok() ? ok : failed) += 1;
    }
    if (!group.is_ok() && !audits.empty()) {
      std::fprintf(stderr, "store: %zu audit records lost: %s\n", audits.size(),
                   group.to_string().c_str());
    }
    if (group.is_ok()) commits_.fetch_add(1);
    writes_.fetch_add(ok);
    failed_.fetch_add(failed);
    if (durable_) {
      // Acknowledged by the syncer once the WAL is on disk (in commit order).
      std::lock_guard<std::mutex> l(sync_mu_);
      synced_.push_back(Committed{std::move(ops), std::move(results)});
      sync_cv_.notify_one();
    } else {
      for (size_t i = 0; i < ops.size(); ++i) ops[i].done.set_value(std::move(results[i]));
    }
    maybe_checkpoint();
  }

  // The syncer: fdatasync of the WAL for every group committed since the last one, then their
  // futures. A failed fsync fails those writes: their data may or may not be on disk.
  void sync_loop() {
    for (;;) {
      std::deque<Committed> batch;
      {
        std::unique_lock<std::mutex> l(sync_mu_);
        sync_cv_.wait(l, [&] { return sync_stop_ || !synced_.empty(); });
        if (synced_.empty()) return;  // stopping, and drained
        batch.swap(synced_);
      }
      Status synced = Status::ok();
      if (wal_fd_ < 0) wal_fd_ = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (wal_fd_ < 0 || ::fdatasync(wal_fd_) != 0) {
        synced = internal(std::string("cannot make the write durable (fdatasync of the WAL): ") +
                          std::strerror(errno));
        std::fprintf(stderr, "store: %s\n", synced.message().c_str());
      }
      for (auto& c : batch) {
        for (size_t i = 0; i < c.ops.size(); ++i) {
          c.ops[i].done.set_value(synced.is_ok() ? std::move(c.results[i]) : synced);
        }
      }
    }
  }

  // Frames in the WAL after the writer's last commit. Runs on the writer thread, inside COMMIT.
  // Fewer frames than after the last commit: the WAL started over.
  static int on_wal_commit(void* self, sqlite3*, const char*, int frames) {
    auto* store = static_cast<SqliteStore*>(self);
    if (frames < store->wal_frames_) ++store->wal_generation_;
    store->wal_frames_ = frames;
    return SQLITE_OK;
  }

  // Copies the WAL back into the database once it has grown past checkpoint_frames_. Checkpointing
  // seldom copies a page that many commits dirtied (random index inserts touch the same pages
  // again and again) once, not once per commit; the next transaction then starts the WAL over.
  //
  // A checkpoint of the default 16,000 frames (64 MiB) takes 10-40 ms of I/O here. Run between
  // groups it stalled every write queued meanwhile (the unlock benchmark's p99), so the
  // checkpointer thread copies the bulk on its own connection while the writer goes on (SQLite
  // lets a checkpoint run beside a writer). The WAL can only start over once all of it is copied,
  // which a checkpoint beside a busy writer never achieves, so the writer then copies the few
  // frames committed meanwhile itself, between groups, where no commit can slip in. When the WAL
  // has grown far past the mark (the checkpointer cannot keep up, or a long read holds it back),
  // the writer waits for a running pass to end and checkpoints itself, as it did before.
  void maybe_checkpoint() {
    if (wal_frames_ < checkpoint_frames_) return;
    CheckpointPass last;
    bool busy = false;
    {
      std::lock_guard<std::mutex> l(ckpt_mu_);
      last = ckpt_last_;
      busy = ckpt_requested_ || ckpt_running_;
    }
    // The last background pass is about this WAL (not one before it started over).
    const bool current = last.generation == wal_generation_ && last.log > 0 && last.log <= wal_frames_;
    const bool nearly_done =
        current && wal_frames_ - last.done <= std::max(kFinishMin, checkpoint_frames_ / kFinishShare);
    if (wal_frames_ >= checkpoint_frames_ * 4) {
      // Far past the mark: the checkpointer is not keeping up (its thread waiting for a core or
      // its fsync on a busy disk). While its pass runs, SQLite refuses the writer's checkpoint as
      // busy, group after group, and the WAL grows for as long as the pass lasts; so the writer
      // waits for that pass to end (one not yet started is called off) and copies the rest itself.
      std::unique_lock<std::mutex> l(ckpt_mu_);
      ckpt_requested_ = false;
      ckpt_idle_cv_.wait(l, [&] { return !ckpt_running_; });
      l.unlock();
      checkpoint_here();
      return;
    }
    if (!busy && nearly_done) {
      checkpoint_here();
      return;
    }
    if (busy) return;
    {
      std::lock_guard<std::mutex> l(ckpt_mu_);
      ckpt_requested_ = true;
      ckpt_request_generation_ = wal_generation_;
    }
    ckpt_cv_.notify_one();
  }

  // A checkpoint on the writer's connection, between groups. PASSIVE: it never waits for readers;
  // one that holds an old snapshot only leaves the rest for a later try.
  void checkpoint_here() {
    int log = 0;
    int done = 0;
    // A checkpoint syncs the WAL before copying it and the database file after, so the WAL is
    // never started over while the database lacks what it held (commits themselves defer their
    // syncs: the syncer makes them durable).
    int rc = 0;
    {
      sqlite::DeferredWalSync real_syncs(false);
      rc = sqlite3_wal_checkpoint_v2(writer_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    }
    if (rc == SQLITE_OK) writer_checkpoints_.fetch_add(1);
    if (rc == SQLITE_OK && done >= log) {
      // All copied: the next transaction starts the WAL over, so no earlier pass is about it.
      wal_frames_ = 0;
      ++wal_generation_;
    } else if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      // Not fatal: the WAL keeps the data; the next group tries again.
      std::fprintf(stderr, "store: checkpoint failed: %s\n", sqlite3_errstr(rc));
    }
  }

  // The checkpointer thread: one PASSIVE checkpoint on its own connection (synchronous FULL) each
  // time the writer asks, its result noted for the writer.
  void checkpoint_loop() {
    for (;;) {
      int64_t generation = 0;
      {
        std::unique_lock<std::mutex> l(ckpt_mu_);
        ckpt_cv_.wait(l, [&] { return ckpt_stop_ || ckpt_requested_; });
        if (ckpt_stop_) return;
        ckpt_requested_ = false;
        ckpt_running_ = true;
        generation = ckpt_request_generation_;
      }
      int log = 0;
      int done = 0;
      int rc = sqlite3_wal_checkpoint_v2(ckpt_conn_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                         &log, &done);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        std::fprintf(stderr, "store: background checkpoint failed: %s\n", sqlite3_errstr(rc));
      }
      if (rc == SQLITE_OK) background_checkpoints_.fetch_add(1);
      {
        std::lock_guard<std::mutex> l(ckpt_mu_);
        ckpt_running_ = false;
        ckpt_last_ = rc == SQLITE_OK ? CheckpointPass{generation, log, done} : CheckpointPass{};
      }
      ckpt_idle_cv_.notify_all();
    }
  }

  // What the writer copies itself to finish a background pass: at most this share of
  // checkpoint_frames_ (1,000 frames, ~4 MiB, a few milliseconds, by default), or kFinishMin.
  static constexpr int kFinishShare = 16;
  static constexpr int kFinishMin = 64;

  const size_t max_group_;
  const int checkpoint_frames_;  // WAL frames (SqliteOptions::checkpoint_frames)
  const bool durable_;          // acknowledge writes only once fdatasync'ed (the syncer)
  const std::string wal_path_;

  // Committed groups waiting for their fsync; the syncer's. Guards synced_, sync_stop_.
  struct Committed {
    std::vector<Op> ops;
    std::vector<Status> results;
  };
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<Committed> synced_;
  bool sync_stop_ = false;
  int wal_fd_ = -1;  // syncer thread only
  std::thread sync_thread_;

  // The checkpointer's (maybe_checkpoint). Guards ckpt_requested_ ... ckpt_stop_.
  struct CheckpointPass {
    int64_t generation = -1;  // the writer's wal_generation_ when it asked
    int log = 0;               // frames in the WAL when the pass began
    int done = 0;              // frames copied back by its end
  };
  std::unique_ptr<Conn> ckpt_conn_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;       // a pass is asked for, or the thread is to stop
  std::condition_variable ckpt_idle_cv_;  // a pass has ended
  bool ckpt_requested_ = false;
  bool ckpt_running_ = false;
  int64_t ckpt_request_generation_ = 0;
  CheckpointPass ckpt_last_;
  bool ckpt_stop_ = false;
  std::thread ckpt_thread_;

  // Writer thread only.
  std::unique_ptr<Conn> writer_;
  int64_t next_seq_;  // the last resource sequence number handed out
  int wal_frames_ = 0;  // WAL length after the last commit, in frames
  int64_t wal_generation_ = 0;  // times the WAL started over

  // Guards queue_, audits_, stopping_.
  std::mutex mu_;
  std::condition_variable queue_cv_;
  std::deque<Op> queue_;
  std::vector<AuditRecord> audits_;
  bool stopping_ = false;

  // Guards idle_readers_.
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Conn>> idle_readers_;

  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> background_checkpoints_{0};
  std::atomic<int64_t> writer_checkpoints_{0};
  std::atomic<int64_t> rebuilt_{0};

  std::thread thread_;  // last: starts after everything it uses exists
};

Result<int64_t> last_seq(Conn& c) {
  HB_ASSIGN_OR_RETURN(Stmt st, c.prepare("SELECT COALESCE(MAX(seq), 0) FROM resource_versions"));
  int rc = st.step();
  if (rc != SQLITE_ROW) return db_error(c.db(), rc, "read the last sequence number");
  return st.int64(0);
}

Result<std::unique_ptr<Store>> open_impl(const SqliteOptions& o) {
  if (o.path.empty() || o.path == ":memory:" || o.path.rfind("file:", 0) == 0) {
    return invalid("the SQLite store needs a database file path");
  }
  if (o.read_connections < 1 || o.max_group < 1 || o.checkpoint_frames < 1) {
    return invalid("read_connections, max_group and checkpoint_frames must be at least 1");
  }
  if (o.checkpoint_frames > (1 << 24)) {  // 64 GiB of WAL; maybe_checkpoint multiplies it by 4
    return invalid("checkpoint_frames is at most 16777216");
  }
  if (sqlite3_threadsafe() == 0) return internal("SQLite was built without thread support");

  HB_ASSIGN_OR_RETURN(auto writer, Conn::open(o.path, Conn::Role::kWriter));
  {
    // Without synchronous_full, commits are not synced (SQLite's NORMAL), migrations' neither.
    sqlite::DeferredWalSync deferred(!o.synchronous_full);
    HB_RETURN_IF_ERROR(sqlite::migrate(*writer));
  }
  HB_ASSIGN_OR_RETURN(int64_t seq, last_seq(*writer));
  HB_ASSIGN_OR_RETURN(auto checkpointer,
                      Conn::open(o.path, Conn::Role::kCheckpointer));
  std::vector<std::unique_ptr<Conn>> readers;
  for (int i = 0; i < o.read_connections; ++i) {
    HB_ASSIGN_OR_RETURN(auto r, Conn::open(o.path, Conn::Role::kReader));
    readers.push_back(std::move(r));
  }
  return std::unique_ptr<Store>(
      std::make_unique<SqliteStore>(o, std::move(writer), std::move(checkpointer),
                                    std::move(readers), seq));
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite(const SqliteOptions& options) {
  try {
    auto r = open_impl(options);
    if (r.is_ok()) return r;
    Status e = r.error();
    if (e.code() == Code::kConflict || e.code() == Code::kInvalid) return e;
    return internal("cannot open the SQLite store at " + options.path + ": " + e.message());
  } catch (const std::exception& e) {
    return internal(std::string("cannot open the SQLite store: ") + e.what());
  }
}

}  // namespace hb::store
