#include "services/speculation.h"

namespace hb::services::detail {
namespace {

Status not_in_speculation(const char* what) {
  return Status(Code::kUnavailable, std::string("a speculative write does not ") + what);
}

}  // namespace

// ---- reads ---------------------------------------------------------------------------------------

Result<std::optional<store::Facility>> Speculation::facility_by_id(const std::string& id) {
  return r_.facility_by_id(id);
}
Result<std::optional<store::Facility>> Speculation::facility_by_code(const std::string& code) {
  return r_.facility_by_code(code);
}
Result<std::vector<store::Facility>> Speculation::list_facilities() { return r_.list_facilities(); }
Result<std::optional<store::ApiClient>> Speculation::client(const std::string& client_id) {
  return r_.client(client_id);
}
Result<std::vector<store::ApiClient>> Speculation::clients_of(const std::string& facility_id) {
  return r_.clients_of(facility_id);
}
Result<std::optional<store::AccessToken>> Speculation::access_token(const std::string& token_hash) {
  return r_.access_token(token_hash);
}

Result<std::optional<store::ResourceRow>> Speculation::current(const std::string& type,
                                                               const std::string& id) {
  TypeId key{type, id};
  if (auto it = rows_.find(key); it != rows_.end()) {
    return std::optional(std::get<ResourceWrite>(writes_[it->second]).row);
  }
  HB_ASSIGN_OR_RETURN(auto row, r_.current(type, id));
  versions_read_.emplace(std::move(key), row ? row->version : 0);
  return row;
}

Result<std::optional<store::ResourceRow>> Speculation::version(const std::string&, const std::string&,
                                                               int64_t) {
  return not_in_speculation("read old versions");
}

Result<std::vector<store::ResourceRow>> Speculation::history(const std::string&, const std::string&,
                                                             int64_t, int) {
  return not_in_speculation("read history");
}

Result<store::SearchPage> Speculation::search(const store::SearchQuery& q) {
  // The snapshot cannot see this speculation's own writes; a search that might have matched them
  // is left to the ordinary path.
  if (written_types_.count(q.type)) return not_in_speculation("search a type it has written");
  HB_ASSIGN_OR_RETURN(auto page, r_.search(q));
  std::vector<std::string> ids;
  ids.reserve(page.rows.size());
  for (const auto& row : page.rows) ids.push_back(row.id);
  searches_.emplace_back(q, std::move(ids));
  return page;
}

Result<std::optional<std::string>> Speculation::patient_key(const std::string& patient_id) {
  if (auto it = keys_.find(patient_id); it != keys_.end()) return std::optional(it->second);
  HB_ASSIGN_OR_RETURN(auto key, r_.patient_key(patient_id));
  keys_read_.emplace(patient_id, key);
  return key;
}

Result<std::optional<std::string>> Speculation::patient_by_identifier(const std::string& blind_index) {
  if (auto it = identifiers_.find(blind_index); it != identifiers_.end()) {
    return std::optional(it->second);
  }
  HB_ASSIGN_OR_RETURN(auto pid, r_.patient_by_identifier(blind_index));
  identifiers_read_.emplace(blind_index, pid);
  return pid;
}

Result<bool> Speculation::facility_linked(const std::string& patient_id,
                                          const std::string& facility_id) {
  auto key = std::pair(patient_id, facility_id);
  if (links_.count(key)) return true;
  HB_ASSIGN_OR_RETURN(bool linked, r_.facility_linked(patient_id, facility_id));
  links_read_.emplace(std::move(key), linked);
  return linked;
}

Result<std::vector<store::AuditRecord>> Speculation::audit(const std::string&, const std::string&,
                                                           int64_t, int) {
  return not_in_speculation("read the audit trail");
}

Result<std::optional<store::AuditRecord>> Speculation::audit_by_id(const std::string&) {
  return not_in_speculation("read the audit trail");
}

Result<std::optional<store::IssuerKey>> Speculation::issuer_key(const std::string&) {
  return not_in_speculation("read issuer keys");
}
Result<std::optional<store::Document>> Speculation::document(const std::string&) {
  return not_in_speculation("read documents");
}
Result<std::optional<store::Document>> Speculation::document_by_ref(const std::string&, const std::string&) {
  return not_in_speculation("read documents");
}
Result<std::optional<store::Document>> Speculation::document_by_card(const std::string&) {
  return not_in_speculation("read documents");
}
Result<std::vector<store::Document>> Speculation::documents_of_patient(const std::string&) {
  return not_in_speculation("read documents");
}
Result<std::vector<store::Document>> Speculation::revoked_documents(const std::string&, const std::string&) {
  return not_in_speculation("read documents");
}

Result<std::optional<store::DocLink>> Speculation::doc_link(const std::string&) {
  return not_in_speculation("read links");
}
Result<std::vector<store::DocLink>> Speculation::doc_links_of(const std::string&) {
  return not_in_speculation("read links");
}
Result<std::optional<store::LinkDevice>> Speculation::link_device(const std::string&) {
  return not_in_speculation("read links");
}

// Resident accounts are never written by a speculated transaction.
Result<std::optional<store::Account>> Speculation::account(const std::string&) {
  return not_in_speculation("read accounts");
}
Result<std::optional<store::Account>> Speculation::account_by_patient(const std::string&) {
  return not_in_speculation("read accounts");
}
Result<std::optional<store::OneTimeCode>> Speculation::one_time_code(const std::string&) {
  return not_in_speculation("read one-time codes");
}
Result<std::optional<store::AccountSession>> Speculation::account_session(const std::string&) {
  return not_in_speculation("read sessions");
}

// ---- writes --------------------------------------------------------------------------------------

Status Speculation::put_facility(const store::Facility&) { return not_in_speculation("change facilities"); }
Status Speculation::put_client(const store::ApiClient&) { return not_in_speculation("change clients"); }
Status Speculation::put_access_token(const store::AccessToken&) {
  return not_in_speculation("issue tokens");
}
Status Speculation::remember_jti(const std::string&, const std::string&, Time) {
  return not_in_speculation("remember assertions");
}
Result<store::PurgeCounts> Speculation::purge_expired(const store::PurgeCutoffs&) {
  return not_in_speculation("purge");
}
Status Speculation::put_issuer_key(const store::IssuerKey&) { return not_in_speculation("make issuer keys"); }
// Documents, their links and their notifications are new rows with fresh ids: nothing was read
// to write them. A unique key they break (a documentId issued meanwhile, a dedupe key) fails the
// replay, and the caller runs the write again the ordinary way.
Status Speculation::put_document(const store::Document& d) {
  writes_.emplace_back(d);
  return Status::ok();
}
Status Speculation::put_doc_link(const store::DocLink& l) {
  writes_.emplace_back(l);
  return Status::ok();
}
Status Speculation::put_link_device(const store::LinkDevice&) { return not_in_speculation("unlock links"); }

Status Speculation::put_resource(const store::ResourceRow& row,
                                 const std::vector<store::IndexRow>& index) {
  // The version rule is checked here as the store would, so a speculation that breaks it fails
  // the same way; replay checks it again against the writer's state.
  HB_ASSIGN_OR_RETURN(auto prev, current(row.type, row.id));
  const int64_t want = (prev ? prev->version : 0) + 1;
  if (row.version != want) {
    return Status(Code::kConflict, "version conflict on " + row.type + "/" + row.id);
  }
  rows_[TypeId{row.type, row.id}] = writes_.size();
  written_types_.insert(row.type);
  writes_.emplace_back(ResourceWrite{row, index});
  return Status::ok();
}

Status Speculation::put_patient_key(const std::string& patient_id, const std::string& wrapped_key) {
  keys_[patient_id] = wrapped_key;
  writes_.emplace_back(KeyWrite{patient_id, wrapped_key});
  return Status::ok();
}

Status Speculation::bind_identifier(const std::string& blind_index, const std::string& patient_id) {
  HB_ASSIGN_OR_RETURN(auto bound, patient_by_identifier(blind_index));
  if (bound) {
    if (*bound == patient_id) return Status::ok();
    return conflict("the identifier belongs to another patient");
  }
  identifiers_[blind_index] = patient_id;
  writes_.emplace_back(IdentifierWrite{blind_index, patient_id});
  return Status::ok();
}

Status Speculation::link_facility(const std::string& patient_id, const std::string& facility_id,
                                  Time when) {
  links_.emplace(patient_id, facility_id);
  // Links decide which Patients a facility's searches see.
  written_types_.insert("Patient");
  writes_.emplace_back(LinkWrite{patient_id, facility_id, when});
  return Status::ok();
}

Status Speculation::append_audit(const store::AuditRecord& a) {
  writes_.emplace_back(a);
  return Status::ok();
}

Status Speculation::put_account(const store::Account&) { return not_in_speculation("change accounts"); }
Status Speculation::put_one_time_code(const store::OneTimeCode&) {
  return not_in_speculation("change one-time codes");
}
Status Speculation::put_account_session(const store::AccountSession&) {
  return not_in_speculation("change sessions");
}
Status Speculation::delete_account_session(const std::string&) { return not_in_speculation("change sessions"); }
Status Speculation::delete_account_sessions(const std::string&) { return not_in_speculation("change sessions"); }

// ---- the health book ----

Result<std::vector<store::TimelineRow>> Speculation::timeline(const store::TimelineQuery&) {
  return not_in_speculation("read the timeline");
}
Result<std::vector<std::string>> Speculation::timeline_facilities(const std::string&) {
  return not_in_speculation("read the timeline");
}
Result<std::vector<std::string>> Speculation::patient_facilities(const std::string&) {
  return not_in_speculation("read facility links");
}
Result<std::vector<store::ConsentGrant>> Speculation::consent_grants(const std::string&) {
  return not_in_speculation("read consents");
}
Result<bool> Speculation::consent_shared(const std::string&, const std::string&) {
  return not_in_speculation("read consents");
}
Status Speculation::put_timeline(const store::TimelineRow& t) {
  writes_.emplace_back(t);
  return Status::ok();
}
Status Speculation::put_consent_grant(const store::ConsentGrant&) {
  return not_in_speculation("change consents");
}

// ---- end health book ----

// ---- notify: the outbox ----
// A notification is queued in the same closure as what it announces; a speculation leaves that to
// the ordinary path rather than buffer it.

Result<std::vector<store::OutboxMessage>> Speculation::outbox_due(Time, const std::string&, int) {
  return not_in_speculation("read the outbox");
}
Result<std::optional<Time>> Speculation::outbox_next_due(const std::string&) {
  return not_in_speculation("read the outbox");
}
Result<std::optional<store::OutboxMessage>> Speculation::outbox_message(int64_t) {
  return not_in_speculation("read the outbox");
}
Result<std::optional<store::OutboxMessage>> Speculation::outbox_by_dedupe(const std::string&) {
  return not_in_speculation("read the outbox");
}
Result<std::vector<store::OutboxMessage>> Speculation::outbox_list(const std::string&, int64_t,
                                                                   int) {
  return not_in_speculation("read the outbox");
}
Result<int64_t> Speculation::outbox_count_to(const std::string&, Time) {
  return not_in_speculation("read the outbox");
}
Result<int64_t> Speculation::outbox_enqueue(const store::OutboxMessage& m) {
  writes_.emplace_back(m);
  return int64_t{0};
}
Status Speculation::outbox_mark(int64_t, int, const store::OutboxMark&) {
  return not_in_speculation("send notifications");
}

// ---- end notify ----

// ---- replay --------------------------------------------------------------------------------------

Status Speculation::replay(store::Writer& w) const {
  auto stale = [](const std::string& what) {
    return Status(Code::kUnavailable, "the speculative write is stale: " + what + " changed");
  };
  if (!checked_) {
    checked_ = Status::ok();
    for (const auto& check : replay_checks_) {
      Status s = check();
      if (!s) {
        checked_ = std::move(s);
        break;
      }
    }
  }
  HB_RETURN_IF_ERROR(*checked_);
  for (const auto& [key, version] : versions_read_) {
    // Resources this speculation writes are checked by put_resource's own version rule below
    // (kConflict there; the caller treats any failure of a replay as stale).
    if (rows_.count(key)) continue;
    HB_ASSIGN_OR_RETURN(auto row, w.current(key.first, key.second));
    if ((row ? row->version : 0) != version) return stale(key.first + "/" + key.second);
  }
  for (const auto& [owner, wrapped] : keys_read_) {
    HB_ASSIGN_OR_RETURN(auto now, w.patient_key(owner));
    if (now != wrapped) return stale("a data key");
  }
  for (const auto& [index, patient] : identifiers_read_) {
    HB_ASSIGN_OR_RETURN(auto now, w.patient_by_identifier(index));
    if (now != patient) return stale("an identifier binding");
  }
  for (const auto& [key, linked] : links_read_) {
    HB_ASSIGN_OR_RETURN(bool now, w.facility_linked(key.first, key.second));
    if (now != linked) return stale("a facility link");
  }
  for (const auto& [query, ids] : searches_) {
    HB_ASSIGN_OR_RETURN(auto page, w.search(query));
    if (page.rows.size() != ids.size()) return stale("a conditional search");
    for (size_t i = 0; i < ids.size(); ++i) {
      if (page.rows[i].id != ids[i]) return stale("a conditional search");
    }
  }
  for (const Write& x : writes_) {
    if (const auto* r = std::get_if<ResourceWrite>(&x)) {
      HB_RETURN_IF_ERROR(w.put_resource(r->row, r->index));
    } else if (const auto* k = std::get_if<KeyWrite>(&x)) {
      HB_RETURN_IF_ERROR(w.put_patient_key(k->owner, k->wrapped));
    } else if (const auto* i = std::get_if<IdentifierWrite>(&x)) {
      HB_RETURN_IF_ERROR(w.bind_identifier(i->blind_index, i->patient_id));
    } else if (const auto* l = std::get_if<LinkWrite>(&x)) {
      HB_RETURN_IF_ERROR(w.link_facility(l->patient_id, l->facility_id, l->when));
    } else if (const auto* a = std::get_if<store::AuditRecord>(&x)) {
      HB_RETURN_IF_ERROR(w.append_audit(*a));
    } else if (const auto* d = std::get_if<store::Document>(&x)) {
      HB_RETURN_IF_ERROR(w.put_document(*d));
    } else if (const auto* dl = std::get_if<store::DocLink>(&x)) {
      HB_RETURN_IF_ERROR(w.put_doc_link(*dl));
    } else if (const auto* m = std::get_if<store::OutboxMessage>(&x)) {
      HB_RETURN_IF_ERROR(w.outbox_enqueue(*m).status());
    } else if (const auto* t = std::get_if<store::TimelineRow>(&x)) {
      HB_RETURN_IF_ERROR(w.put_timeline(*t));
    }
  }
  return Status::ok();
}

}  // namespace hb::services::detail
