// libFuzzer target for the document issuance request (POST /api/v1/documents) and the birth dates
// people type into a document link. Beyond "no crash, no leak, no UB", it aborts when:
//   - a refused request has no problem listed, or a problem without a path or message;
//   - an accepted request lacks what issuing relies on (a kind, a reference, a birth date that is
//     a real date, an E.164 phone), or a lab result without its Observation;
//   - a normalised birth date is not a valid YYYY-MM-DD, or normalising it again changes it;
//   - a device cookie (hb_link) parses into other than 1-12 digits and 43 base64url characters, or
//     one that is not this key's cookie for the link holds;
//   - a batch ({"documents": [...]}, POST /api/v1/documents/batch) is taken apart into other than
//     1 to kMaxBatch requests, or refused with other than kInvalid/kTooLarge. Each request of an
//     accepted batch is then checked as a request of its own.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.h"
#include "documents/device_cookie.h"
#include "documents/request.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_request(const hb::Json& json) {
  auto req =
      hb::documents::parse_document_request(json, hb::Time(std::chrono::seconds(1'800'000'000)));
  if (!req) {
    const hb::Status& s = req.error();
    check(s.code() == hb::Code::kInvalid || s.code() == hb::Code::kUnprocessable);
    if (s.code() == hb::Code::kUnprocessable) {
      check(!s.problems().empty());
      for (const auto& p : s.problems()) check(!p.path.empty() && !p.message.empty());
    }
    return;
  }
  check(req->kind != nullptr);
  check(!req->ref.empty() && req->ref.size() <= 64);
  check(hb::documents::valid_date(req->birth_date));
  check(hb::documents::valid_e164(req->phone));
  if (req->kind->family == hb::documents::Family::kLab) check(!req->clinical.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size <= 32) {
    std::string n = hb::documents::normalise_birth_date(text);
    if (!n.empty()) {
      check(hb::documents::valid_date(n));
      check(hb::documents::normalise_birth_date(n) == n);
    }
  }
  if (size <= 64) {
    if (auto c = hb::documents::parse_device_cookie(text)) {
      check(!c->expires_text.empty() && c->expires_text.size() <= 12 && c->mac.size() == 43);
      check(c->expires_text.size() + 1 + c->mac.size() == text.size());
      static const hb::crypto::HmacSha256 key(std::string(32, 'k'));
      const bool holds = hb::documents::device_cookie_holds(key, "link", text, 0, INT64_MAX);
      check(holds ==
            (text == hb::documents::make_device_cookie(key, "link", c->expires) && c->expires > 0));
    }
  }
  auto json = hb::parse_fhir_json(text, hb::JsonLimits{64 * 1024, 17});
  if (!json) return 0;
  if (json->is_object() && json->contains("documents")) {
    auto requests = hb::documents::take_batch_requests(*json);
    if (!requests) {
      check(requests.error().code() == hb::Code::kInvalid ||
            requests.error().code() == hb::Code::kTooLarge);
      return 0;
    }
    check(!requests->empty() && requests->size() <= hb::documents::kMaxBatch);
    for (const auto& one : *requests) check_request(one);
    return 0;
  }
  check_request(*json);
  return 0;
}
