// Transaction and batch Bundles.
//
// A transaction runs in one store write (all or nothing): deletes, then creates, then updates,
// then reads, as FHIR orders them. Placeholder ids (fullUrl "urn:uuid:...") are given their final
// ids before anything is written, so entries may reference each other in any order; conditional
// references ("Patient?identifier=...") are resolved inside the same transaction.
// A batch runs each entry as its own write; the writes still share group commits.
#include <future>
#include <map>

#include "core/ids.h"
#include "core/url.h"
#include "fhir/outcome.h"
#include "fhir/search_params.h"
#include "services/records.h"
#include "services/records_internal.h"
#include "services/speculation.h"

namespace hb::services {

using detail::CreateTarget;
using detail::Engine;
using detail::EntryResult;


namespace {

struct Entry {
  size_t index = 0;
  std::string method;
  std::string type;
  std::string id;                       // for Type/id urls
  std::optional<QueryParams> query;     // for Type?query urls
  std::string raw_url;
  std::string full_url;
  Json resource;
  std::optional<QueryParams> if_none_exist;
  std::optional<std::string> if_match;
  CreateTarget target;
  EntryResult result;
  Status status;
  std::optional<FhirResult> read_result;  // GET entries
};

std::string entry_path(size_t i) { return "Bundle.entry[" + std::to_string(i) + "]"; }

// Re-roots the problems of an entry's status under Bundle.entry[i].
Status at_entry(const Status& s, size_t i, const std::string& type) {
  std::vector<Problem> problems;
  std::string root = entry_path(i);
  for (auto p : s.problems()) {
    if (!type.empty() && p.path.rfind(type, 0) == 0) {
      p.path = root + ".resource" + p.path.substr(type.size());
    } else if (p.path.empty()) {
      p.path = root;
    } else if (p.path.rfind("Bundle.", 0) != 0) {
      p.path = root + ".resource." + p.path;
    }
    problems.push_back(std::move(p));
  }
  if (problems.empty()) problems.push_back({root, s.message(), ""});
  return Status(s.code(), root + ": " + s.message(), std::move(problems));
}

// A string member, "" when absent; kInvalid naming the element when present but not a string.
Result<std::string> string_member(const Json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) return std::string();
  if (!it->is_string()) {
    return Status(Code::kInvalid, path + "." + key + " must be a string", {{path + "." + key, "must be a string", "structure"}});
  }
  return it->get<std::string>();
}

// Moves the entry's resource into `out` (the Bundle is the caller's, dropped after parsing).
Status parse_entry(const Engine& e, const Principal& who, Json& j, Entry& out) {
  const std::string root = entry_path(out.index);
  if (!j.is_object()) return Status(Code::kInvalid, "entry must be an object", {{root, "must be an object", "structure"}});
  HB_ASSIGN_OR_RETURN(out.full_url, string_member(j, "fullUrl", root));
  auto req = j.find("request");
  if (req == j.end() || !req->is_object()) {
    return Status(Code::kInvalid, "entry without request", {{root + ".request", "required in a transaction or batch", "required"}});
  }
  HB_ASSIGN_OR_RETURN(out.method, string_member(*req, "method", root + ".request"));
  HB_ASSIGN_OR_RETURN(std::string url, string_member(*req, "url", root + ".request"));
  if (url.rfind(e.fhir_base() + "/", 0) == 0) url = url.substr(e.fhir_base().size() + 1);
  out.raw_url = url;
  if (url.empty()) return Status(Code::kInvalid, "entry without url", {{root + ".request.url", "required", "required"}});
  auto q = url.find('?');
  std::string path = url.substr(0, q);
  if (q != std::string::npos) {
    HB_ASSIGN_OR_RETURN(auto params, split_query(std::string_view(url).substr(q + 1)));
    out.query = std::move(params);
  }
  auto slash = path.find('/');
  out.type = path.substr(0, slash);
  if (slash != std::string::npos) out.id = path.substr(slash + 1);
  if (!fhir::is_stored_type(out.type)) {
    return Status(Code::kNotFound, "unsupported resource type " + out.type,
                  {{root + ".request.url", "\"" + out.type + "\" is not a supported resource type", "not-supported"}});
  }
  if (auto it = req->find("ifNoneExist"); it != req->end() && it->is_string()) {
    std::string c = it->get<std::string>();
    if (auto p = c.find('?'); p != std::string::npos) c = c.substr(p + 1);
    HB_ASSIGN_OR_RETURN(auto params, split_query(c));
    out.if_none_exist = std::move(params);
  }
  if (auto it = req->find("ifMatch"); it != req->end() && it->is_string()) out.if_match = it->get<std::string>();

  char perm = 0;
  if (out.method == "POST") {
    perm = 'c';
    if (!out.id.empty() || out.query) {
      return Status(Code::kInvalid, "POST url must be a resource type", {{root + ".request.url", "must be a resource type", "invalid"}});
    }
  } else if (out.method == "PUT") {
    perm = 'u';
    if (out.id.empty() && !out.query) {
      return Status(Code::kInvalid, "PUT needs Type/id or Type?query", {{root + ".request.url", "must be Type/id or Type?search", "invalid"}});
    }
  } else if (out.method == "DELETE") {
    perm = 'd';
    if (out.id.empty()) {
      return Status(Code::kInvalid, "DELETE needs Type/id", {{root + ".request.url", "must be Type/id", "invalid"}});
    }
  } else if (out.method == "GET" || out.method == "HEAD") {
    perm = out.id.empty() ? 's' : 'r';
  } else {
    return Status(Code::kNotImplemented, "method " + out.method + " is not supported in bundles",
                  {{root + ".request.method", "supported: GET, POST, PUT, DELETE", "not-supported"}});
  }
  if (!who.allows(out.type, perm)) {
    return Status(Code::kForbidden, "the access token's scopes do not allow this entry",
                  {{root + ".request", "scope does not allow " + out.method + " on " + out.type, "forbidden"}});
  }
  if (out.method == "POST" || out.method == "PUT") {
    auto res = j.find("resource");
    if (res == j.end()) {
      return Status(Code::kInvalid, "entry needs a resource", {{root + ".resource", "required for " + out.method, "required"}});
    }
    Status s = e.check_resource(*res, out.type);
    if (!s) return at_entry(s, out.index, out.type);
    out.resource = std::move(*res);
  }
  return Status::ok();
}

const char* status_line(int status) {
  switch (status) {
    case 200: return "200 OK";
    case 201: return "201 Created";
    case 204: return "204 No Content";
    default: return "200 OK";
  }
}

Json response_entry(const Entry& en) {
  Json resp;
  if (!en.status) {
    resp["status"] = std::to_string(http_status_of(en.status.code()));
    resp["outcome"] = fhir::operation_outcome(en.status);
    return {{"response", resp}};
  }
  if (en.read_result) {
    resp["status"] = "200 OK";
    if (!en.read_result->etag.empty()) resp["etag"] = en.read_result->etag;
    Json out = {{"response", resp}};
    auto parsed = parse_fhir_json(en.read_result->body);
    if (parsed) out["resource"] = std::move(*parsed);
    return out;
  }
  resp["status"] = status_line(en.result.status);
  if (en.result.status != 204) {
    resp["location"] = en.result.type + "/" + en.result.id + "/_history/" + std::to_string(en.result.version);
    resp["etag"] = detail::etag_of(en.result.version);
    resp["lastModified"] = format_instant(en.result.last_updated);
  }
  Json out = {{"response", resp}};
  if (!en.full_url.empty()) out["fullUrl"] = en.full_url;
  return out;
}

// Runs a transaction's entries against `w`: ids decided first, then deletes, creates and updates
// (Patients first). Entries keep their requests unchanged, so a run can be repeated.
Status run_transaction(const Engine& e, store::Writer& w, const Principal& who,
                       std::vector<Entry>& entries, const RecordService::AlsoWrite& also) {
  detail::TxCache tx;
  std::map<std::string, std::string> mapping;
  // 1. Decide the final id of every created or updated resource.
  for (auto& en : entries) {
    if (en.method == "POST") {
      auto t = e.create_target(w, who, en.type, en.resource, en.if_none_exist, tx);
      if (!t) return at_entry(t.error(), en.index, en.type);
      en.target = *t;
      if (!en.full_url.empty()) mapping[en.full_url] = en.type + "/" + en.target.id;
    } else if (en.method == "PUT") {
      if (en.query) {
        auto ids = e.find(w, who, en.type, *en.query);
        if (!ids) return at_entry(ids.error(), en.index, en.type);
        if (ids->size() > 1) {
          return at_entry(Status(Code::kPreconditionFailed, "conditional update matches more than one resource"), en.index, en.type);
        }
        bool has_id = en.resource.contains("id") && en.resource["id"].is_string();
        if (!ids->empty() && has_id && en.resource["id"] != (*ids)[0]) {
          return at_entry(Status(Code::kInvalid, "the resource id does not match the resource the search found",
                                 {{en.type + ".id", "must be the matched resource's id or absent", "invalid"}}),
                          en.index, en.type);
        }
        en.id = ids->empty() ? (has_id ? en.resource["id"].get<std::string>() : new_uuid()) : (*ids)[0];
      }
      if (!en.full_url.empty()) mapping[en.full_url] = en.type + "/" + en.id;
    }
  }
  // 2. Deletes, 3. creates, 4. updates.
  for (auto& en : entries) {
    if (en.method != "DELETE") continue;
    auto r = e.apply_delete(w, who, en.type, en.id, tx);
    if (!r) return at_entry(r.error(), en.index, en.type);
    en.result = *r;
  }
  // Patients first: other entries are checked against the patient they are about.
  for (const auto& [method, patients] : {std::pair{"POST", true}, std::pair{"PUT", true},
                                         std::pair{"POST", false}, std::pair{"PUT", false}}) {
    for (auto& en : entries) {
      if (en.method != method || (en.type == "Patient") != patients) continue;
      Json resource = en.resource;
      if (en.query) resource["id"] = en.id;
      Status rs = e.resolve_references(w, who, resource, mapping, en.type, tx);
      if (!rs) return at_entry(rs, en.index, en.type);
      auto r = en.method == "POST"
                   ? e.apply_create(w, who, en.type, std::move(resource), en.target, tx)
                   : e.apply_update(w, who, en.type, en.id, std::move(resource), en.if_match, tx);
      if (!r) return at_entry(r.error(), en.index, en.type);
      en.result = *r;
    }
  }
  HB_RETURN_IF_ERROR(e.flush_audits(w, who, tx));
  if (!also) return Status::ok();
  std::vector<std::string> written;
  written.reserve(entries.size());
  for (const auto& en : entries) {
    written.push_back(en.result.id.empty() ? std::string() : en.result.type + "/" + en.result.id);
  }
  return also(w, written);
}

// Checks a transaction or batch Bundle and parses its entries. A transaction with an invalid entry
// is refused whole; a batch's invalid entries get their error in `entries`.
Status parse_bundle(Engine& e, const Principal& who, Json& b, const RecordService::AlsoWrite& also,
                    std::vector<Entry>& entries, bool& transaction) {
  if (!b.is_object() || !b.contains("resourceType") || b["resourceType"] != "Bundle") {
    return Status(Code::kInvalid, "POST to the base must be a Bundle", {{"resourceType", "must be Bundle", "invalid"}});
  }
  HB_ASSIGN_OR_RETURN(std::string kind, string_member(b, "type", "Bundle"));
  if (kind != "transaction" && kind != "batch") {
    return Status(Code::kInvalid, "Bundle.type must be transaction or batch",
                  {{"Bundle.type", "must be transaction or batch, not \"" + kind + "\"", "value"}});
  }
  transaction = kind == "transaction";
  if (also && !transaction) return internal("writes beside a Bundle need a transaction");
  HB_RETURN_IF_ERROR(e.check_link_allowance(who));
  if (auto it = b.find("entry"); it != b.end()) {
    if (!it->is_array()) return Status(Code::kInvalid, "Bundle.entry must be an array", {{"Bundle.entry", "must be an array", "structure"}});
    entries.resize(it->size());
    std::vector<Problem> problems;
    Code first_code = Code::kOk;
    for (size_t i = 0; i < it->size(); ++i) {
      entries[i].index = i;
      Status s = parse_entry(e, who, (*it)[i], entries[i]);
      if (!s) {
        if (transaction) {
          if (first_code == Code::kOk) first_code = s.code();
          for (const auto& p : s.problems()) problems.push_back(p);
          if (problems.empty()) problems.push_back({entry_path(i), s.message(), ""});
        }
        entries[i].status = s;
      }
    }
    if (transaction && !problems.empty()) {
      return Status(first_code, "the transaction has invalid entries; nothing was written", std::move(problems));
    }
    b.erase("entry");
  }
  return Status::ok();
}

// Parses and runs a transaction or batch Bundle; `entries` gets each entry with its result or
// error. A transaction's error is returned (nothing was written); a batch's are in the entries.
Status run_bundle(Engine& e, const Principal& who, Json b, const RecordService::AlsoWrite& also,
                  std::vector<Entry>& entries, bool& transaction) {
  HB_RETURN_IF_ERROR(parse_bundle(e, who, b, also, entries, transaction));
  if (transaction) {
    auto run = [&](store::Writer& w) { return run_transaction(e, w, who, entries, also); };
    // First on this thread against a snapshot, so that the writer thread only checks and stores
    // the prepared rows (see speculation.h); the ordinary way if that cannot be done or is stale.
    std::optional<detail::Speculation> spec;
    Status s = e.store.read([&](store::Reader& r) {
      spec.emplace(r);
      return run(*spec);
    });
    if (s) s = e.store.write_rerunnable_sync([&](store::Writer& w) { return spec->replay(w); });
    if (!s) s = e.store.write_sync(run);
    HB_RETURN_IF_ERROR(s);
  } else {
    std::vector<std::pair<Entry*, std::future<Status>>> pending;
    for (auto& en : entries) {
      if (!en.status || en.method == "GET" || en.method == "HEAD") continue;
      Entry* p = &en;
      pending.emplace_back(p, e.store.write([&e, &who, p](store::Writer& w) -> Status {
        Entry& en = *p;
        detail::TxCache tx;
        HB_RETURN_IF_ERROR(e.resolve_references(w, who, en.resource, {}, en.type, tx));
        Result<EntryResult> r = Status(Code::kInternal, "unreachable");
        if (en.method == "POST") {
          HB_ASSIGN_OR_RETURN(auto t, e.create_target(w, who, en.type, en.resource, en.if_none_exist, tx));
          r = e.apply_create(w, who, en.type, en.resource, t, tx);
        } else if (en.method == "PUT") {
          if (en.query) {
            HB_ASSIGN_OR_RETURN(auto ids, e.find(w, who, en.type, *en.query));
            if (ids.size() > 1) return Status(Code::kPreconditionFailed, "conditional update matches more than one resource");
            if (ids.empty()) {
              HB_ASSIGN_OR_RETURN(auto t, e.create_target(w, who, en.type, en.resource, std::nullopt, tx));
              r = e.apply_create(w, who, en.type, en.resource, t, tx);
            } else {
              if (en.resource.contains("id") && en.resource["id"] != ids[0]) {
                return Status(Code::kInvalid, "the resource id does not match the resource the search found");
              }
              en.resource["id"] = ids[0];
              r = e.apply_update(w, who, en.type, ids[0], en.resource, en.if_match, tx);
            }
          } else {
            r = e.apply_update(w, who, en.type, en.id, en.resource, en.if_match, tx);
          }
        } else {
          r = e.apply_delete(w, who, en.type, en.id, tx);
        }
        if (!r) return r.error();
        en.result = *r;
        return e.flush_audits(w, who, tx);
      }));
    }
    for (auto& [p, f] : pending) {
      Status s = f.get();
      if (!s) p->status = at_entry(s, p->index, p->type);
    }
  }

  return Status::ok();
}

}  // namespace

Status RecordService::transaction_json_with(const Principal& who, Json b, AlsoWrite also) {
  std::vector<Entry> entries;
  bool transaction = false;
  return run_bundle(*impl_, who, std::move(b), also, entries, transaction);
}

// What the writer needs when it comes to a queued transaction, and the caller may be gone by then.
struct RecordService::Pending::State {
  detail::Engine* engine = nullptr;
  Principal who;
  AlsoWrite also;
  std::vector<Entry> entries;
  std::optional<detail::Speculation> spec;
  bool replay_failed = false;  // set by the writer before the future is ready
};

RecordService::Pending RecordService::transaction_json_async(const Principal& who, Json b,
                                                             AlsoWrite also) {
  Engine& e = *impl_;
  Pending out;
  auto st = std::make_shared<Pending::State>();
  st->engine = &e;
  st->who = who;
  st->also = std::move(also);
  bool transaction = false;
  Status parsed = parse_bundle(e, st->who, b, st->also, st->entries, transaction);
  if (parsed && !transaction)
    parsed = internal("transaction_json_async needs a transaction Bundle");
  if (!parsed) {
    std::promise<Status> failed;
    failed.set_value(std::move(parsed));
    out.written_ = failed.get_future();
    return out;
  }
  // Prepared here as transaction_json_with does (see speculation.h).
  Status prepared = e.store.read([&](store::Reader& r) {
    st->spec.emplace(r);
    return run_transaction(e, *st->spec, st->who, st->entries, st->also);
  });
  if (prepared) {
    // The replay only stores prepared rows, so the store may run it again (write_rerunnable).
    out.written_ = e.store.write_rerunnable([st](store::Writer& w) -> Status {
      Status s = st->spec->replay(w);
      st->replay_failed = !s;
      return s;
    });
  } else {
    st->spec.reset();
    out.written_ = e.store.write([st](store::Writer& w) -> Status {
      return run_transaction(*st->engine, w, st->who, st->entries, st->also);
    });
  }
  out.state_ = std::move(st);
  return out;
}

Status RecordService::Pending::get() {
  Status s = written_.get();
  if (s || !state_ || !state_->replay_failed) return s;
  // The prepared write was stale or failed part way (the store undid it): the ordinary way, as
  // transaction_json_with does after a failed replay.
  std::shared_ptr<State> st = state_;
  return st->engine->store.write_sync([st](store::Writer& w) {
    return run_transaction(*st->engine, w, st->who, st->entries, st->also);
  });
}

void RecordService::Pending::wait() const {
  if (written_.valid()) written_.wait();
}

Result<FhirResult> RecordService::bundle(const Principal& who, std::string_view body) {
  Engine& e = *impl_;
  HB_ASSIGN_OR_RETURN(Json b, parse_fhir_json(body, e.options.json_limits));
  std::vector<Entry> entries;
  bool transaction = false;
  HB_RETURN_IF_ERROR(run_bundle(e, who, std::move(b), nullptr, entries, transaction));

  // Reads run after the writes, and see them.
  for (auto& en : entries) {
    if (!en.status || (en.method != "GET" && en.method != "HEAD")) continue;
    Result<FhirResult> r = en.id.empty() ? search(who, en.type, en.query.value_or(QueryParams{}))
                                         : read(who, en.type, en.id);
    if (r) en.read_result = *r;
    else en.status = at_entry(r.error(), en.index, en.type);
  }

  Json out = {{"resourceType", "Bundle"},
              {"id", new_uuid()},
              {"meta", {{"lastUpdated", format_instant(e.clock.now())}}},
              {"type", transaction ? "transaction-response" : "batch-response"}};
  if (!entries.empty()) {
    Json list = Json::array();
    for (const auto& en : entries) list.push_back(response_entry(en));
    out["entry"] = std::move(list);
  }
  FhirResult result;
  result.body = dump_json(out);
  return result;
}

}  // namespace hb::services
