// Verifying SMART Health Cards: from scanned "shc:/" text, a compact JWS or a .smart-health-card
// file to a verdict (valid / invalid / revoked) with machine reason codes, human messages and the
// decoded FHIR bundle for display.
//
// The verifier is offline: issuers, keys and revocation lists come from an IssuerDirectory, time
// from a Clock. It does not stop at the first defect: a verdict lists every finding (errors and
// warnings), and `reason` is the first error. Inputs are hostile bytes: every size is bounded and
// the DEFLATE payload is inflated under a cap (zip bombs are refused with kInflateFailed).
//
// Thread-safety: stateless functions over immutable inputs; safe from any thread as long as the
// transparency hook is.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "documents/deflate.h"
#include "documents/issuer_directory.h"
#include "documents/reason.h"

namespace hb::documents {

enum class Outcome { kValid, kInvalid, kRevoked };
const char* outcome_name(Outcome o);  // "valid", "invalid", "revoked"

struct Verdict {
  Verdict() = default;
  Verdict(const Verdict&) = default;
  Verdict(Verdict&&) noexcept = default;
  Verdict& operator=(const Verdict&) = default;
  Verdict& operator=(Verdict&&) noexcept = default;
  ~Verdict();  // frees the trees with free_json: a batch verifier drops one verdict per card

  Outcome outcome = Outcome::kInvalid;
  Reason reason = Reason::kNone;  // the first error; kNone when valid
  std::string message;            // human-readable text for `reason` ("" when valid)
  std::vector<Finding> findings;  // every error and warning, in the order found

  // What was decoded, as far as decoding got (for display and for the transparency log).
  std::string jws;
  Json header;       // JWS protected header
  Json payload;      // decompressed JWT claims
  Json fhir_bundle;  // payload.vc.credentialSubject.fhirBundle
  std::string iss;
  std::string issuer_name;  // from the directory
  std::string kid;
  std::string rid;
  // Revoked because the issuer replaced the document (the directory's "superseded"), not
  // withdrawn: the outcome is kRevoked either way; a verifier says "superseded".
  bool superseded = false;
  std::optional<double> nbf;  // seconds (may be fractional)
  std::optional<double> exp;

  bool valid() const { return outcome == Outcome::kValid; }
  bool has(Reason r) const;        // any finding, error or warning
  bool has_error(Reason r) const;  // an error finding
  void add(Reason r, Severity s, std::string message);
  // Recomputes outcome, reason and message from the findings: any error other than kRevoked makes
  // the card invalid; otherwise kRevoked makes it revoked; otherwise it is valid.
  void finish();
};

// What a verifier shows of a verdict: outcome_name, except "superseded" for a card revoked because
// its issuer replaced it.
const char* verdict_word(const Verdict& v);

// Marks an intact card revoked, or replaced (`superseded`): for a verifier that knows more than the
// directory's revocation list, like the issuer's server with its own records. The finding and its
// message are those the list would have given. An invalid card stays invalid.
void mark_revoked(Verdict& v, bool superseded);

// The verdict as JSON, one shape for every verifier (POST /api/v1/verify and `healthbook verify
// --json`; docs/health-cards.md, "A verdict as JSON"):
//
//   {"outcome": "valid" | "invalid" | "revoked" | "superseded",
//    "reason": "<first error>", "message": "<its text>",
//    "errors": [{"reason", "message"}, ...], "warnings": [{"reason", "message"}, ...],
//    "issuer": {"iss", "name"}, "fhirBundle": {...}}
//
// `reason` for invalid and revoked cards (a superseded card's outcome is its reason), `message` for
// every outcome but valid, `errors` (every error, the first too) for invalid cards, `warnings` when
// there are any. `issuer.name` (from the directory) and
// `fhirBundle` only when the issuer's signature holds (valid, revoked, superseded): what a forged
// card claims is not shown as if its issuer had said it. The bundle is moved out of `v`
// (fhir_bundle, or the claims when the verdict holds no copy).
Json verdict_json(Verdict& v);

// The card's compact JWS with its ECDSA signature's twin: (r, s) and (r, n - s) verify alike, so
// anyone can turn one into the other without the issuer's key, and a card can come back with
// either. nullopt unless the signature part is 64 bytes with s in 1..n-1. A lookup by the card's
// exact text (the transparency log names a card by the SHA-256 of its JWS as issued) tries both.
std::optional<std::string> signature_twin(std::string_view jws);

struct VerifyOptions {
  // Tolerance for clocks that run a little behind the issuer's.
  std::chrono::seconds clock_skew{300};
  std::size_t max_inflated_bytes = kMaxInflatedBytes;
  // Whether the verdict gets its own copy of the bundle in fhir_bundle (payload keeps the whole
  // claims either way). The bundle is checked either way: a caller that shows only outcomes, like
  // the CLI's text output, or that takes the bundle out of `payload` itself, like the server's
  // verify API, saves copying (and freeing) the largest part of every card.
  bool copy_bundle = true;
  // Hook for the transparency log (ledger module): called only for cards that passed every other
  // check; a non-ok Status makes the verdict invalid with kNotInTransparencyLog and its message.
  std::function<Status(const Verdict&)> transparency_check;
};

// One card given as text: "shc:/..." (an unchunked QR), a compact JWS, or a .smart-health-card
// file holding exactly one credential (more gives kMultipleCredentials). The text must be exact:
// surrounding whitespace or a BOM is kTrailingCharacters.
Verdict verify_health_card(std::string_view text, const IssuerDirectory& directory,
                           const Clock& clock, const VerifyOptions& options = {});

// As verify_health_card, into `v`, which may hold the verdict of a card before: that card's
// payload tree is reused for this one's (a batch of cards from one issuer has one shape, and
// reusing the tree spares allocating and freeing most of its nodes). `v` ends as
// verify_health_card would return it.
void verify_health_card_into(std::string_view text, const IssuerDirectory& directory,
                             const Clock& clock, const VerifyOptions& options, Verdict& v);

// Every card in the text: one verdict per credential of a .smart-health-card file, else one.
std::vector<Verdict> verify_health_cards(std::string_view text, const IssuerDirectory& directory,
                                         const Clock& clock, const VerifyOptions& options = {});

// A card scanned as one or several QR codes (a deprecated chunked card, in any order).
Verdict verify_health_card_qr(const std::vector<std::string_view>& qr_texts,
                              const IssuerDirectory& directory, const Clock& clock,
                              const VerifyOptions& options = {});

// A downloaded file: like verify_health_cards, plus kWrongFileExtension unless the name ends
// with ".smart-health-card".
std::vector<Verdict> verify_health_card_file(std::string_view file_name, std::string_view content,
                                             const IssuerDirectory& directory, const Clock& clock,
                                             const VerifyOptions& options = {});

// Checks without a signature, for issuers' and validators' tooling and for tests:
// the JWT claims (JSON text of a decompressed payload) against the clock, and the FHIR bundle.
// `for_qr` as in check_fhir_bundle.
Verdict check_payload_text(std::string_view json_text, const Clock& clock, bool for_qr = true,
                           const VerifyOptions& options = {});
// A FHIR bundle (JSON text) against the health-card rules, minification required.
Verdict check_bundle_text(std::string_view json_text);
// The bundle rules as findings. `for_qr`: minification defects are errors (a card meant for a
// QR code must be minified) rather than warnings (a large card, e.g. an IPS, need not be).
std::vector<Finding> check_fhir_bundle(const Json& bundle, bool for_qr);

}  // namespace hb::documents
