// libFuzzer target for the trusted issuer directory (documents/issuer_directory.h): the JSON file
// `healthbook verify --issuers` reads, made by hand or downloaded from a server's /api/v1/issuers,
// with its issuers' JWK Sets and crlVersions, revocation lists, superseded rids and PEM trust
// anchors; and one revocation list alone, as an issuer publishes it at
// <iss>/.well-known/crl/<kid>.json.
//
// Invariants checked beyond "no crash, no leak":
//   - a malformed directory or list is refused as invalid, with its problems named; never as an
//     internal error (what an exception inside the parser turns into);
//   - a directory that loads finds each of its issuers by iss, and files each CRL under its kid;
//   - a list revokes every rid it lists without a time at any time, and the cards of a timed
//     entry's rid ("rid.T") issued before T;
//   - the SMART Health Cards examples 00 (no rid) and 03 (rid vwAjHdarZuc) verify against any
//     directory that loads into complete verdicts and JSON answers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.h"
#include "documents/issuer_directory.h"
#include "documents/verify.h"

namespace {

using namespace hb::documents;

// The IG's examples 00 and 03 (tests/data/shc/examples/example-0{0,3}-d-jws.txt), signed by the
// example issuer's key 3Kfdg-...
constexpr std::string_view kExample00 =
    "eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiIsImtpZCI6IjNLZmRnLVh3UC03Z1h5eXd0VWZVQUR3QnVtRE9QS01ReC"
    "1pRUxMMTFXOXMifQ.3ZJJjxMxEIX_yqi49j4krfSNBIlNIBAzXFAOjruSNvLS8hIljPq_U3Z6BEIzXAAJ0beyq1699"
    "7nvQDgHHQzej64rSzciL5xi1g_IpB8KzmzvSjwxNUp0JXUHtJCB3u2hq9t6UVdtu7wulm2bwZFDdwf-PCJ0n79r_iz"
    "35FLksYBtBtxij9oLJj-G3RfkPqrsB2E_oXXCaPL3tKiKmtbG03XQvcTYY9GZYDnepI0wX2SzA-BGSlKLChnQAnsmW"
    "6QcpLy1khru57uKGu6LB4TfMy9oPsZmCi8iTAlJevBMU491acdBHFHH6K_NEOt1AduJAu4EAXjOfNSqV4s6r-q8qWC"
    "asgfd1L9280qpoMVXNgdznvngUtz4Rh57OjwyzoXGjemTAje90Idk3J2dRzU_Ob3OINvC2EMZyZZO9CU_nkiAp0loq"
    "ham7ZTBOCNIdvZoUUdvPxKkJsN5sOkqhr0R6iLRpMBVjEWo9sYq-oWiF8a9sVGyF26ULOFcb65eoEbL5NVL40bhmSR"
    "QBFEa_y6oXRyFKn31owSb_5Jgs_rTBNtHCV7_QwQp9-8TbPJqlVeLv_EPbgkiWNHT4ds3581paMdl-EAX3wA.SJfVe"
    "vUy2FtgiFeVLz8A11lNVDe7UhWeMZQrP8zwbVKCzxgm0-w8kyrmp7CJfPWha3D1zsE4jmDxlqW7RkZS8w";
constexpr std::string_view kExample03 =
    "eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiIsImtpZCI6IjNLZmRnLVh3UC03Z1h5eXd0VWZVQUR3QnVtRE9QS01ReC"
    "1pRUxMMTFXOXMifQ.3ZNNb9QwEIb_SjVc871LwubWFonCASEoHKj24LVnNy6OHfkj7FLlvzPOpgJVhRMncrNn5vH7v"
    "o4fQDoHLXTeD67Nczcgz1zPrO-QKd9lnFnhcjyyflDocuoOaCEBvdtDWzbly7JomnqV1c2rBEYO7QP404DQ3v1iPsW"
    "9OC_SuIBtAtyiQO0lU5_C7h65j5R9J-0XtE4aTfrWWZGVdGzcvQpaKIw9Fp0JluPtfCIshWRRANwoRbRISIAOsCeSR"
    "eSg1GerqOFxvi2o4XHxDPgD85Lmo23W4xnCeqmIBx9xNN9QUO0gR9TR-DvTaX2C7UTedpK8v2Y-YspNXaTFOq0qmKb"
    "kWSHl34W87fug5Q-2eHKe-eBmp_F6_CxjZJxLjddGzARuhNSHWbM7OY_9ctt0MZ1qMmMPeQw1d1LkfDwSgM-TUBUNT"
    "NspgWFxP8vZo0Udtf0eHjUZzoOdS9HsrezPiKpMi1VaRFsD2r2xPf09UQvj3tiIFNINisUkL6-uL96gRsvUxY1xg_R"
    "MUVAUojL-feh3cRSK-Vv9McHqv0yw2vzrBDexQCGClYI2x--X9zeC2a-BRzF4HOLzXtf1erU87-kn.0yy0XPIYXk9o"
    "F3RXmtpyq6ZVGPRSQjrIKqP5kUtGrPdyDzOD_oV1eLJQPg3ZOirfxNKWJNlWGE4FNxLZpibsDw";

void check(bool ok) {
  if (!ok) std::abort();
}

void check_verdict(Verdict v) {
  if (v.valid()) {
    check(v.reason == Reason::kNone && v.message.empty());
    for (const Finding& f : v.findings) check(f.severity == Severity::kWarning);
  } else {
    check(v.reason != Reason::kNone && !v.message.empty());
  }
  const hb::Json answer = verdict_json(v);
  check(answer.contains("outcome") && answer.contains("message") != v.valid());
}

void check_crl(const Crl& crl) {
  for (const RevokedRid& r : crl.rids) {
    if (!r.before) {
      check(crl.revokes(r.rid, 0) && crl.revokes(r.rid, 1e10));
    } else {
      check(crl.revokes(r.rid, static_cast<double>(*r.before) - 0.5));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  static const hb::ManualClock clock(hb::Time(std::chrono::seconds(1'720'000'000)));

  auto dir = IssuerDirectory::parse(in);
  if (!dir) {
    check(dir.error().code() == hb::Code::kInvalid && !dir.error().message().empty());
  } else {
    for (const TrustedIssuer& issuer : dir->issuers()) {
      check(dir->find(issuer.iss) == &issuer);
      for (const auto& [kid, crl] : issuer.crls) {
        check(kid == crl.kid);
        check_crl(crl);
      }
    }
    check_verdict(verify_health_card(kExample00, *dir, clock));
    check_verdict(verify_health_card(kExample03, *dir, clock));
  }

  // The input as one revocation list.
  if (auto j = hb::parse_json(in, hb::JsonLimits{1024 * 1024, 16})) {
    auto crl = parse_crl(*j);
    if (!crl) {
      check(crl.error().code() == hb::Code::kInvalid);
    } else {
      check_crl(*crl);
    }
  }
  return 0;
}
