#include "http/me_documents_api.h"

#include <variant>

#include "core/json.h"
#include "http/account_api.h"

namespace hb::http {

Response me_documents_api(services::AccountService& accounts, services::ProxyService* proxies,
                          services::DocumentService& documents, const Config& config,
                          const Request& req, const std::vector<std::string>& parts) {
  // GET  documents                       the list
  // GET  documents/<id>                  one document
  // POST documents/<id>/reopen-link      open links that wrong birth dates locked
  // POST documents/<id>/links            a new link
  // POST documents/<id>/preferences      {"showDiagnosis": bool} for the document's links
  const std::string& m = req.method;
  const bool get = m == "GET" || m == "HEAD";
  const size_t n = parts.size();
  const bool list = n == 4;
  const bool one = n == 5;
  const bool action = n == 6 && (parts[5] == "reopen-link" || parts[5] == "links" || parts[5] == "preferences");
  if (!list && !one && !action) return account_problem(not_found("no such endpoint"));
  if ((list || one) && !get) return method_not_allowed("GET, HEAD");
  if (action) {
    if (m != "POST") return method_not_allowed("POST");
    if (Status c = check_csrf(req, config); !c) return account_problem(c);
  }
  auto who = me_resident(accounts, proxies, config, req);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const services::Resident& me = std::get<services::Resident>(who);
  const std::string& addr = req.remote_address;
  if (action && parts[5] == "preferences") {
    auto body = parse_json(req.body, JsonLimits{4096, 4});
    if (!body) return account_problem(body.error());
    if (!body->is_object() || !body->contains("showDiagnosis") || !(*body)["showDiagnosis"].is_boolean()) {
      return account_problem(Status(Code::kInvalid, "the body must be {\"showDiagnosis\": true|false}",
                                    {{"showDiagnosis", "required: a boolean", "required"}}));
    }
    auto out = documents.resident_set_preferences(me, parts[4], (*body)["showDiagnosis"].get<bool>(), addr);
    if (!out) return account_problem(out.error());
    return resident_json(200, *out);
  }
  Result<Json> out = list ? documents.resident_documents(me, addr)
                     : one ? documents.resident_document(me, parts[4], addr)
                     : parts[5] == "reopen-link" ? documents.resident_reopen_links(me, parts[4], addr)
                                                 : documents.resident_new_link(me, parts[4], addr);
  if (!out) return account_problem(out.error());
  return resident_json(action && parts[5] == "links" ? 201 : 200, *out);
}

}  // namespace hb::http
