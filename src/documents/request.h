// The JSON request a facility's system sends to issue a document (docs/documents.md), checked:
// every problem is reported with its JSON path, and the kind's content comes out as FHIR resources
// ready for the patient's record and the card.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"

namespace hb::documents {

inline constexpr const char* kKindSystem = "urn:healthbook:document-kind";

enum class Family { kLeave, kDischarge, kLab, kVaccination, kReferral };

struct Kind {
  const char* code;
  const char* label;
  Family family;
  bool leave;      // has a leave period (from/to)
  bool datetimes;  // the period is in date-times (time chit), else dates
};

// nullptr for a kind this server does not issue.
const Kind* find_kind(std::string_view code);

// The request, checked: every problem is collected with its JSON path.
struct Request {
  std::string ref, kind_code;
  const Kind* kind = nullptr;
  std::string national_id, insurance, family, given, birth_date, phone;
  std::string doctor, doctor_registration;
  std::string from, to;
  Json diagnosis;        // {text, code?, system?} or null
  std::string replaces;  // the facility's id of the document this one replaces, or ""
  // The kind's own content: FHIR resources about the patient (subject/patient set to the patient
  // reference of the bundle they go into), for the record and the card alike.
  std::vector<Json> clinical;
  Json details;          // the same, for the patient's page
  std::string summary;   // discharge summary text
};

// Parses and checks a request (already parsed as FHIR JSON, so decimals keep their text).
// kInvalid/kUnprocessable with every problem and its path.
Result<Request> parse_document_request(const Json& j, Time now);

// A batch of requests (POST /api/v1/documents/batch): {"documents": [request, ...]} with 1 to
// kMaxBatch requests and no other member. Moves the requests out of `batch`, unchecked (each is
// then a request of its own). kInvalid for any other shape, kTooLarge above kMaxBatch.
inline constexpr std::size_t kMaxBatch = 1000;
Result<std::vector<Json>> take_batch_requests(Json& batch);

// A revocation's request, {"reason": "..."}: the reason, 1 to 200 characters under the same text
// rules as a document's (no control, text-direction or invisible characters: the patient reads
// it), and no other member. kUnprocessable with the problems otherwise.
Result<std::string> parse_revocation(const Json& j);

// YYYY-MM-DD that is a real calendar date; its days since 1970-01-01 in *days.
bool valid_date(std::string_view s, int64_t* days = nullptr);
// YYYY-MM-DDThh:mm[:ss](Z|+hh:mm|-hh:mm).
bool valid_datetime(std::string_view s);
// "+" then 8 to 15 digits, the first not 0.
bool valid_e164(std::string_view s);
// A birth date as people type it, as YYYY-MM-DD; "" when it is none of these. The year first
// (1990-04-12, 1990/4/12, 1990.04.12), or last with the day first, as in Vietnam, Singapore and
// Sweden's neighbours (12/04/1990, 12-4-1990, 12.04.1990, 8/8/1988), or 12041990; a day or month
// may have one digit where a separator follows.
std::string normalise_birth_date(std::string_view in);

}  // namespace hb::documents
