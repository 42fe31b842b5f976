// Who is calling: an authenticated principal and the SMART scopes it holds.
//
// Every service call takes a Principal and enforces access itself; handlers only authenticate.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hb::services {

// SMART v2 scopes for system clients: "system/Observation.cruds", "system/*.rs"; SMART v1
// "system/Patient.read" (= rs), ".write" (= cud), ".*" (= cruds) are accepted and normalised.
class Scopes {
 public:
  struct Grant {
    std::string type;         // resource type or "*"
    std::string permissions;  // subset of "cruds", in that order
  };

  // Parses a space-separated scope string. Scopes that are not system resource scopes are kept in
  // `others()` (e.g. "openid") and grant nothing here. kInvalid on a malformed system scope.
  static Result<Scopes> parse(std::string_view text);

  // c = create, r = read (read, vread, history), u = update, d = delete, s = search.
  bool allows(std::string_view type, char permission) const;
  // The scopes in both this and `other`, per type and permission (used to grant at most what a
  // client is registered for).
  Scopes intersect(const Scopes& other) const;
  bool empty() const { return grants_.empty(); }
  // Normalised v2 text, e.g. "system/Observation.rs system/Patient.cruds".
  std::string to_string() const;
  const std::vector<Grant>& grants() const { return grants_; }

 private:
  std::vector<Grant> grants_;
};

struct Principal {
  enum class Kind { kOperator, kFacilityClient };
  Kind kind = Kind::kFacilityClient;
  std::string client_id;
  std::string facility_id;
  std::string facility_code;
  Scopes scopes;
  std::string remote_address;
  // Break the glass: the reason a clinician gave for reading another facility's records of a
  // patient without the patient's consent (the X-Healthbook-Break-Glass header on /fhir reads and
  // searches). Set for one request only; the records service decides what it permits.
  std::optional<std::string> emergency_reason;
  // Set only by DocumentService, on its own copy of the issuing facility's principal: it may write
  // the DocumentReference of a verifiable document (identifier system urn:healthbook:document),
  // which the FHIR API refuses to everyone else (its changes must reach the transparency log).
  bool issues_documents = false;

  // The operator (the `healthbook` command on the machine): may do anything, audited as such.
  static Principal operator_principal();
  bool is_operator() const { return kind == Kind::kOperator; }
  bool allows(std::string_view type, char permission) const {
    return is_operator() || scopes.allows(type, permission);
  }
};

// What a resident may do for the person they reach (services/proxies.h): the person themself and
// their guardian may do everything; a carer only what the person granted.
enum class ResidentRight {
  kViewRecords,   // the book, records, documents, connections, the access log
  kManageShares,  // shares and document links
  kPersonal,      // consent (connections), notification settings: the person or a guardian
};

// A resident signed in with a full session (both factors; AccountService::resident). Services that
// serve residents take this, never a raw cookie; `patient_id` is the only person it may reach.
// When the signed-in person acts for someone else (ProxyService::act_for checked a live relation),
// `patient_id` is that person's and `proxy` says who acts, as what, with which rights.
struct Resident {
  std::string account_id;  // the signed-in account: who acts
  std::string patient_id;  // whose data

  struct Proxy {
    std::string kind;  // guardian | carer
    std::string name;  // the acting person's name, for the subject's access log
    bool view_records = false;
    bool manage_shares = false;
  };
  std::optional<Proxy> proxy;  // empty: the person acts for themself

  bool acting_for_other() const { return proxy.has_value(); }
  bool may(ResidentRight right) const;
};

// kForbidden unless `who` may do `right` for the person they reach. Every resident service calls
// this itself: a handler never decides.
Status require_right(const Resident& who, ResidentRight right);

}  // namespace hb::services
