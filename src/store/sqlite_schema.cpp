#include "store/sqlite_schema.h"

#include <array>
#include <string>

namespace hb::store::sqlite {
namespace {

// Times are unix milliseconds. Every patient-owned row carries patient_id ("" when a resource
// is in no patient compartment). Resources are keyed internally by `rid`, an integer assigned at
// creation and never reused, so the search index rows stay small and the creation order is an
// index scan; (type, id) is the public key and is UNIQUE.
constexpr std::array<const char*, 17> kSteps = {
    // 1: facilities, their API clients, issued tokens and replay protection.
    R"sql(
CREATE TABLE facilities(
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  region TEXT NOT NULL,
  status TEXT NOT NULL,
  created INTEGER NOT NULL);
CREATE TABLE api_clients(
  client_id TEXT PRIMARY KEY,
  facility_id TEXT NOT NULL REFERENCES facilities(id),
  name TEXT NOT NULL,
  jwks TEXT NOT NULL,
  jwks_url TEXT NOT NULL,
  scopes TEXT NOT NULL,
  status TEXT NOT NULL,
  created INTEGER NOT NULL);
CREATE INDEX api_clients_by_facility ON api_clients(facility_id);
CREATE TABLE access_tokens(
  token_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  scopes TEXT NOT NULL,
  expires INTEGER NOT NULL);
CREATE INDEX access_tokens_by_expiry ON access_tokens(expires);
CREATE TABLE jti(
  client_id TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires INTEGER NOT NULL,
  PRIMARY KEY(client_id, jti)) WITHOUT ROWID;
CREATE INDEX jti_by_expiry ON jti(expires);
)sql",

    // 2: resources, their history and the search index.
    // A resource's versions are rows of resource_versions keyed by their global seq, so they are
    // appended in write order; the body is kept only there, and `resources` (one row per
    // resource, the current version's fields without the body) points at the current version by
    // seq. Versions are found by (rid, version), which is append-ordered as well.
    // Index tables are WITHOUT ROWID with the resource first in the key: replacing a resource's
    // rows is a range delete, and "does resource r have param p = v" is one seek. Their second
    // index serves the search that starts from a value (the most selective clause).
    R"sql(
CREATE TABLE resources(
  rid INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  patient_id TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  last_updated INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  seq INTEGER NOT NULL);
CREATE UNIQUE INDEX resources_by_id ON resources(type, id);
CREATE INDEX resources_by_type ON resources(type);
CREATE INDEX resources_by_updated ON resources(type, last_updated, id);
CREATE INDEX resources_by_patient ON resources(patient_id, type);
CREATE TABLE resource_versions(
  seq INTEGER PRIMARY KEY,
  rid INTEGER NOT NULL REFERENCES resources(rid),
  version INTEGER NOT NULL,
  patient_id TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  last_updated INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE UNIQUE INDEX resource_versions_by_rid ON resource_versions(rid, version);
CREATE TABLE idx_token(
  rid INTEGER NOT NULL REFERENCES resources(rid),
  param TEXT NOT NULL,
  system TEXT NOT NULL,
  code TEXT NOT NULL,
  type TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  PRIMARY KEY(rid, param, system, code)) WITHOUT ROWID;
CREATE INDEX idx_token_by_code ON idx_token(type, param, code, patient_id, system);
CREATE TABLE idx_reference(
  rid INTEGER NOT NULL REFERENCES resources(rid),
  param TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id TEXT NOT NULL,
  type TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  PRIMARY KEY(rid, param, target_type, target_id)) WITHOUT ROWID;
CREATE INDEX idx_reference_by_target ON idx_reference(type, param, target_id, target_type, patient_id);
CREATE TABLE idx_date(
  rid INTEGER NOT NULL REFERENCES resources(rid),
  param TEXT NOT NULL,
  lo INTEGER NOT NULL,
  hi INTEGER NOT NULL,
  type TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  PRIMARY KEY(rid, param, lo, hi)) WITHOUT ROWID;
CREATE TABLE idx_string(
  rid INTEGER NOT NULL REFERENCES resources(rid),
  param TEXT NOT NULL,
  value TEXT NOT NULL,
  type TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  PRIMARY KEY(rid, param, value)) WITHOUT ROWID;
CREATE INDEX idx_string_by_value ON idx_string(type, param, value, patient_id);
)sql",

    // 3: patients: wrapped data keys, blind-indexed identifiers, facilities they are linked to.
    R"sql(
CREATE TABLE patient_keys(
  patient_id TEXT PRIMARY KEY,
  wrapped_key BLOB NOT NULL);
CREATE TABLE patient_identifiers(
  blind_index TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX patient_identifiers_by_patient ON patient_identifiers(patient_id);
CREATE TABLE patient_facilities(
  patient_id TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  linked INTEGER NOT NULL,
  PRIMARY KEY(patient_id, facility_id)) WITHOUT ROWID;
CREATE INDEX patient_facilities_by_facility ON patient_facilities(facility_id, patient_id);
)sql",

    // 4: the audit trail. Append-only, enforced by the database itself; AUTOINCREMENT so a seq
    // is never handed out twice.
    R"sql(
CREATE TABLE audit(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  time INTEGER NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  event_type TEXT NOT NULL,
  client_id TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  entities TEXT NOT NULL,
  detail TEXT NOT NULL,
  source_ip TEXT NOT NULL);
CREATE INDEX audit_by_facility ON audit(facility_id, seq);
CREATE INDEX audit_by_patient ON audit(patient_id, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
-- INSERT OR REPLACE deletes the row it collides with without firing DELETE triggers.
CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
WHEN EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)
  OR EXISTS (SELECT 1 FROM audit WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
)sql",

    // 5: verifiable documents: the facilities' card-signing keys and the documents they issued.
    // Bodies are sealed under the patient's data key; the card hash is public (it is in the log).
    R"sql(
CREATE TABLE issuer_keys(
  facility_id TEXT PRIMARY KEY REFERENCES facilities(id),
  kid TEXT NOT NULL,
  sealed_key BLOB NOT NULL,
  created INTEGER NOT NULL);
CREATE TABLE documents(
  id TEXT PRIMARY KEY,
  facility_id TEXT NOT NULL REFERENCES facilities(id),
  facility_ref TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  card_hash TEXT NOT NULL UNIQUE,
  kid TEXT NOT NULL,
  rid TEXT NOT NULL,
  issued INTEGER NOT NULL,
  revoked INTEGER NOT NULL,
  revoke_reason TEXT NOT NULL,
  superseded_by TEXT NOT NULL,
  log_index INTEGER NOT NULL,
  body BLOB NOT NULL,
  UNIQUE(facility_id, facility_ref));
CREATE INDEX documents_by_patient ON documents(patient_id, issued);
CREATE INDEX documents_revoked ON documents(facility_id, kid, revoked) WHERE status != 'active';
)sql",

    // 6: patients' links to their documents (token hashes only) and the browsers that unlocked
    // them.
    R"sql(
CREATE TABLE doc_links(
  token_hash TEXT PRIMARY KEY,
  document_id TEXT NOT NULL REFERENCES documents(id),
  patient_id TEXT NOT NULL,
  created INTEGER NOT NULL,
  failures_total INTEGER NOT NULL,
  failures_window INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  disabled INTEGER NOT NULL,
  show_diagnosis INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX doc_links_by_document ON doc_links(document_id);
CREATE TABLE link_devices(
  device_hash TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL REFERENCES doc_links(token_hash),
  unlocked INTEGER NOT NULL,
  expires INTEGER NOT NULL) WITHOUT ROWID;
)sql",

    // 7: the outbox. Recipients are sealed by notify/ (recipient_index is their keyed
    // hash, for rate limits); dedupe_key is NULL when the message has none, so UNIQUE holds only
    // among real keys. The dispatcher's "what is due" is a partial index over the messages still
    // in play, so sent and dead rows cost it nothing.
    R"sql(
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
  patient_id TEXT NOT NULL,
  recipient_sealed BLOB NOT NULL,
  recipient_index TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'dead')),
  attempts INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created INTEGER NOT NULL,
  sent_at INTEGER,
  dedupe_key TEXT UNIQUE);
CREATE INDEX outbox_due ON outbox(next_attempt, id)
  WHERE status IN ('queued', 'sending', 'failed');
CREATE INDEX outbox_by_status ON outbox(status, id);
CREATE INDEX outbox_by_recipient ON outbox(recipient_index, created);
CREATE INDEX outbox_by_patient ON outbox(patient_id);
)sql",

    // 8: resident accounts, their one-time codes and sessions. Only hashes of what users hold
    // (challenge and session tokens), an HMAC of each code, an Argon2id string of each password
    // and sealed TOTP secrets are stored.
    R"sql(
CREATE TABLE accounts(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  totp_sealed BLOB NOT NULL,
  totp_pending_sealed BLOB NOT NULL,
  totp_last_step INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  failures_window_start INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  created INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE one_time_codes(
  challenge_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('signup', 'login')),
  subject TEXT NOT NULL,
  code_mac TEXT NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  used INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX one_time_codes_by_expiry ON one_time_codes(expires);
CREATE TABLE account_sessions(
  token_hash TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  patient_id TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  second_factor INTEGER NOT NULL,
  failures INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX account_sessions_by_account ON account_sessions(account_id);
)sql",

    // 9: the residents' health book: one sealed summary row per resource in a patient's
    // compartment (newest first by date, keyset pages; kind and facility in the index, so filters
    // read only the rows they keep), and each resident's consent decisions
    // (which facilities may see the records other facilities hold).
    R"sql(
CREATE TABLE timeline(
  patient_id TEXT NOT NULL,
  ref TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  date INTEGER NOT NULL,
  sealed BLOB NOT NULL,
  PRIMARY KEY(patient_id, ref)) WITHOUT ROWID;
CREATE INDEX timeline_by_date ON timeline(patient_id, date, ref, kind, facility_id);
CREATE INDEX timeline_by_facility ON timeline(patient_id, facility_id);
CREATE TABLE consent_grants(
  patient_id TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  shared INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY(patient_id, facility_id)) WITHOUT ROWID;
CREATE INDEX consent_grants_by_facility ON consent_grants(facility_id, patient_id) WHERE shared = 1;
)sql",

    // 10: residents' shares (SMART Health Links) and their accesses, and the access alerts they
    // opted into.
    // A share keeps the hash of its manifest token and its files encrypted under a key it does
    // not keep; everything it says (label, records, recipients) is sealed under the patient's key.
    // access_alerts_cursor starts at the end of the audit log: alerts are for accesses from now on.
    R"sql(
CREATE TABLE shares(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  single_use INTEGER NOT NULL,
  passcode_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'used', 'disabled')),
  ended INTEGER NOT NULL,
  failures_total INTEGER NOT NULL,
  failures_window INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  body BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX shares_by_patient ON shares(patient_id, created);
CREATE TABLE share_accesses(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  share_id TEXT NOT NULL REFERENCES shares(id),
  patient_id TEXT NOT NULL,
  time INTEGER NOT NULL,
  recipient_sealed BLOB NOT NULL);
CREATE INDEX share_accesses_by_share ON share_accesses(share_id, seq);
CREATE INDEX share_accesses_by_patient ON share_accesses(patient_id);
CREATE TABLE access_alerts(
  patient_id TEXT PRIMARY KEY,
  sms INTEGER NOT NULL,
  email INTEGER NOT NULL,
  email_sealed BLOB NOT NULL,
  updated INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE access_alerts_sent(
  patient_id TEXT NOT NULL,
  accessor TEXT NOT NULL,
  last_sent INTEGER NOT NULL,
  PRIMARY KEY(patient_id, accessor)) WITHOUT ROWID;
CREATE TABLE access_alerts_cursor(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  after_seq INTEGER NOT NULL);
INSERT INTO access_alerts_cursor(id, after_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM audit;
)sql",

    // 11: proxies: rights one person gave another account to act for them (a carer), with an end
    // date and a revocation. Guardians of children are not stored here: they follow from the
    // child's Patient record on every request (services/proxies.h), so a record corrected by a
    // facility takes effect at once.
    R"sql(
CREATE TABLE proxy_grants(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  proxy_account_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('guardian', 'carer')),
  scopes TEXT NOT NULL,
  created INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL,
  granted_by TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX proxy_grants_by_patient ON proxy_grants(patient_id, created);
CREATE INDEX proxy_grants_by_proxy ON proxy_grants(proxy_account_id, patient_id);
)sql",

    // 12: the national eID login keeps its states (their SHA-256, for 10 minutes and one use) as
    // one-time codes of purpose 'oidc'. SQLite cannot change a CHECK in place: the table is copied.
    R"sql(
CREATE TABLE one_time_codes_new(
  challenge_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('signup', 'login', 'oidc')),
  subject TEXT NOT NULL,
  code_mac TEXT NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  used INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO one_time_codes_new(challenge_hash, purpose, subject, code_mac, created, expires, attempts, used)
  SELECT challenge_hash, purpose, subject, code_mac, created, expires, attempts, used FROM one_time_codes;
DROP TABLE one_time_codes;
ALTER TABLE one_time_codes_new RENAME TO one_time_codes;
CREATE INDEX one_time_codes_by_expiry ON one_time_codes(expires);
)sql",

    // 13: password reset codes (purpose 'reset'), copied the same way.
    R"sql(
CREATE TABLE one_time_codes_new(
  challenge_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('signup', 'login', 'oidc', 'reset')),
  subject TEXT NOT NULL,
  code_mac TEXT NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  used INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO one_time_codes_new(challenge_hash, purpose, subject, code_mac, created, expires, attempts, used)
  SELECT challenge_hash, purpose, subject, code_mac, created, expires, attempts, used FROM one_time_codes;
DROP TABLE one_time_codes;
ALTER TABLE one_time_codes_new RENAME TO one_time_codes;
CREATE INDEX one_time_codes_by_expiry ON one_time_codes(expires);
)sql",

    // 14: the outbox without IN lists of three or more values in its CHECK and its partial index.
    // SQLite evaluates such a list by building a temporary B-tree of its values, on every row
    // written: for each queued SMS, one for the CHECK and one for the partial index (~4 us of the
    // store's writer a message, measured). Comparisons joined by OR, and the two statuses the
    // dispatcher is done with, say the same with no temporary tree. The table is rebuilt (SQLite
    // cannot alter a CHECK); ids and the AUTOINCREMENT counter carry over.
    R"sql(
CREATE TABLE outbox_new(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL CHECK (channel = 'sms' OR channel = 'email'),
  patient_id TEXT NOT NULL,
  recipient_sealed BLOB NOT NULL,
  recipient_index TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status = 'queued' OR status = 'sending' OR status = 'sent' OR
                              status = 'failed' OR status = 'dead'),
  attempts INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created INTEGER NOT NULL,
  sent_at INTEGER,
  dedupe_key TEXT UNIQUE);
INSERT INTO outbox_new(id, channel, patient_id, recipient_sealed, recipient_index, subject, body, status,
                       attempts, next_attempt, last_error, created, sent_at, dedupe_key)
  SELECT id, channel, patient_id, recipient_sealed, recipient_index, subject, body, status,
         attempts, next_attempt, last_error, created, sent_at, dedupe_key FROM outbox;
INSERT INTO sqlite_sequence(name, seq)
  SELECT 'outbox_new', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox_new');
UPDATE sqlite_sequence
  SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0))
  WHERE name = 'outbox_new';
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(next_attempt, id) WHERE status <> 'sent' AND status <> 'dead';
CREATE INDEX outbox_by_status ON outbox(status, id);
CREATE INDEX outbox_by_recipient ON outbox(recipient_index, created);
CREATE INDEX outbox_by_patient ON outbox(patient_id);
)sql",
    // 15: an account's locks in a row: each lasts longer than the one before, until a whole
    // sign-in, so that someone who has the password cannot keep guessing second factors at the
    // pace of one lock window after another.
    R"sql(
ALTER TABLE accounts ADD COLUMN locks INTEGER NOT NULL DEFAULT 0;
)sql",
    // 16: no rows for a reference parameter that R4 defines as another restricted to one target
    // type (Observation `patient` is `subject.where(resolve() is Patient)`): it is searched
    // through the other's rows, which hold the same references (fhir/search_params.cpp,
    // "reference"). Here are the twelve such parameters of that table on 2026-12-07, whose rows
    // were each a copy of another row: about a quarter of idx_reference for Synthea's records.
    // It runs once, at the first start of this version, in one transaction: seconds for a store
    // with millions of rows. The file keeps its size; the freed pages are reused.
    R"sql(
DELETE FROM idx_reference WHERE type = 'Encounter' AND param IN ('patient', 'practitioner');
DELETE FROM idx_reference WHERE param = 'patient' AND type IN ('Condition', 'Observation',
  'DiagnosticReport', 'MedicationRequest', 'Procedure', 'DocumentReference', 'ServiceRequest');
DELETE FROM idx_reference WHERE type = 'Appointment' AND param IN ('patient', 'practitioner', 'location');
)sql",
    // 17: the outbox's text sealed at rest. An SMS holds a certificate link (/c/<token>, a bearer
    // secret of which only hashes are stored elsewhere) or a sign-in code, and its body was kept in
    // clear for ever. From here notify/ seals the text into body_sealed (body stays '' in new
    // rows), and a final mark blanks the text and the sealed recipient (store.h). Rows queued
    // before this step keep their body in clear until they are final: the dispatcher reads either
    // form. Those already final are blanked here; secure_delete zeroes the old text in the pages
    // rather than leaving it in their free space (it stays on for the writer's connection, as
    // Debian builds SQLite with it on by default).
    R"sql(
ALTER TABLE outbox ADD COLUMN body_sealed BLOB NOT NULL DEFAULT x'';
PRAGMA secure_delete = ON;
UPDATE outbox SET body = '', recipient_sealed = x'' WHERE status = 'sent' OR status = 'dead';
)sql",
};

Result<int64_t> read_version(Conn& conn) {
  auto st = conn.prepare("SELECT version FROM schema_version WHERE id = 1");
  if (!st.is_ok()) return st.error();
  int rc = st->step();
  if (rc == SQLITE_ROW) return st->int64(0);
  if (rc == SQLITE_DONE) return int64_t{0};
  return db_error(conn.db(), rc, "read schema_version");
}

}  // namespace

size_t schema_version_known() { return kSteps.size(); }

Result<int64_t> schema_version(Conn& conn) { return read_version(conn); }

Status migrate(Conn& conn, size_t target) {
  const auto known = static_cast<int64_t>(kSteps.size());
  if (target > kSteps.size()) return internal("migration target past the known schema");
  // One step per transaction, re-reading the version inside it, so two processes opening the
  // same new file cannot both apply a step.
  for (;;) {
    HB_RETURN_IF_ERROR(conn.exec("BEGIN IMMEDIATE"));
    auto step = [&]() -> Result<bool> {  // true when done
      HB_RETURN_IF_ERROR(conn.exec(
          "CREATE TABLE IF NOT EXISTS schema_version("
          "id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)"));
      HB_ASSIGN_OR_RETURN(int64_t v, read_version(conn));
      if (v > known) {
        return conflict("the database schema (version " + std::to_string(v) +
                        ") is newer than this program knows (" + std::to_string(known) + ")");
      }
      if (v >= static_cast<int64_t>(target)) return true;
      Status s = conn.exec(kSteps[static_cast<size_t>(v)]);
      if (!s.is_ok()) {
        return internal("migration " + std::to_string(v + 1) + " failed: " + s.message());
      }
      auto up = conn.prepare(
          "INSERT INTO schema_version(id, version) VALUES(1, ?) "
          "ON CONFLICT(id) DO UPDATE SET version = excluded.version");
      if (!up.is_ok()) return up.error();
      up->bind(1, v + 1);
      HB_RETURN_IF_ERROR(conn.run(*up, "write schema_version"));
      return false;
    };
    Result<bool> done = step();
    if (!done.is_ok()) {
      (void)conn.exec("ROLLBACK");
      Status e = done.error();
      if (e.code() == Code::kConflict) return e;
      return internal(e.message());
    }
    HB_RETURN_IF_ERROR(conn.exec("COMMIT"));
    if (*done) return Status::ok();
  }
}

}  // namespace hb::store::sqlite
