// libFuzzer target for SMART Health Card verification: shc:/ numeric QR text, chunk sets, compact
// JWS, raw DEFLATE (inflated under a cap, so zip bombs stop at kMaxInflatedBytes), payload claims
// and the FHIR bundle rules, verified against a fixed issuer directory (the SHC example issuer).
//
// Invariants checked beyond "no crash, no leak":
//   - every verdict is complete: invalid/revoked verdicts have a reason and a message, valid ones
//     have none and no error findings;
//   - to_shc_numeric(parse_shc_text(x).jws) == x for accepted unchunked texts;
//   - raw DEFLATE round-trips what it inflates.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "documents/deflate.h"
#include "documents/numeric.h"
#include "documents/verify.h"

namespace {

using namespace hb::documents;

constexpr std::string_view kDirectory = R"({"issuers":[{
  "iss":"https://spec.smarthealth.cards/examples/issuer","name":"examples",
  "jwks":{"keys":[{"kty":"EC","kid":"3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s","use":"sig",
    "alg":"ES256","crv":"P-256","x":"11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw",
    "y":"eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8","crlVersion":1}]},
  "crls":[{"kid":"3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s","method":"rid","ctr":1,
    "rids":["vwAjHdarZuc.1664492124","MKyCxh7p6uQ"]}]}]})";

const IssuerDirectory& directory() {
  static const IssuerDirectory dir = [] {
    auto d = IssuerDirectory::parse(kDirectory);
    if (!d) std::abort();
    return std::move(d).value();
  }();
  return dir;
}

void check(bool ok) {
  if (!ok) std::abort();
}

void check_verdict(const Verdict& v) {
  if (v.valid()) {
    check(v.reason == Reason::kNone && v.message.empty());
    for (const Finding& f : v.findings) check(f.severity == Severity::kWarning);
  } else {
    check(v.reason != Reason::kNone && !v.message.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  static const hb::ManualClock clock(hb::Time(std::chrono::seconds(1'720'000'000)));

  for (const Verdict& v : verify_health_cards(in, directory(), clock)) check_verdict(v);
  check_verdict(verify_health_card(in, directory(), clock));

  // Lines as the QR codes of one (chunked) card.
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start <= in.size() && lines.size() < 20;) {
    std::size_t nl = in.find('\n', start);
    if (nl == std::string_view::npos) nl = in.size();
    lines.push_back(in.substr(start, nl - start));
    start = nl + 1;
  }
  check_verdict(verify_health_card_qr(lines, directory(), clock));

  if (auto chunk = parse_shc_text(in); chunk && chunk->total == 1) {
    auto again = to_shc_numeric(chunk->jws_part);
    check(again.is_ok() && *again == in);
  }

  if (auto inflated = inflate_raw(in, 64 * 1024)) {
    auto d = deflate_raw(*inflated);
    check(d.is_ok());
    auto back = inflate_raw(*d, 64 * 1024);
    check(back.is_ok() && *back == *inflated);
  }
  check_verdict(check_payload_text(in, clock));
  return 0;
}
