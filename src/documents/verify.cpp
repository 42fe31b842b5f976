#include "documents/verify.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <exception>
#include <set>
#include <utility>

#include "crypto/encoding.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "documents/health_card.h"
#include "documents/numeric.h"
#include "fhir/validate.h"

namespace hb::documents {
namespace {

// Members are looked up by string_view ("iss"sv): by C string, every comparison in the map's
// descent starts with a strlen.
using namespace std::string_view_literals;

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// Bounds on hostile inputs: a .smart-health-card file, a JWS (a chunked IPS card is a few kB).
constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxJwsBytes = 1024 * 1024;
constexpr std::size_t kMaxCredentials = 100;
// Values above this are milliseconds, not seconds (10^11 s is the year 5138).
constexpr double kMillisThreshold = 1e11;

const std::set<std::string, std::less<>> kKnownTypes = {
    "https://smarthealth.cards#health-card", "https://smarthealth.cards#immunization",
    "https://smarthealth.cards#covid19", "https://smarthealth.cards#laboratory"};
// CVX codes of COVID-19 vaccines (used to check the deprecated #covid19 type when present).
const std::set<std::string, std::less<>> kCovidCvx = {
    "207", "208", "210", "211", "212", "213", "217", "218", "219", "221", "225",
    "226", "227", "228", "229", "230", "300", "301", "302", "500", "501", "502",
    "503", "504", "505", "506", "507", "508", "509", "510", "511"};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// Strips surrounding whitespace and a leading BOM, recording kTrailingCharacters (an error) if
// any: a shc:/ text or a JWS comes exactly from a scanner or a copy, and a payload or bundle
// checked on its own is minified inside its card. With `file`, a .smart-health-card file's JSON
// may end with one line break ("\n" or "\r\n"), as a text file saved by an editor does; any
// other whitespace around it is still refused, as the IG's negative example
// test-example-00-e-file-trailing_chars expects. Inside the JSON, whitespace is JSON's business.
std::string_view strip_outside(std::string_view text, Verdict& v, bool file = false) {
  std::string_view t = text;
  if (file) {
    std::string_view body = t;
    if (body.ends_with("\r\n")) {
      body.remove_suffix(2);
    } else if (body.ends_with("\n")) {
      body.remove_suffix(1);
    }
    if (body.starts_with("{") && body.ends_with("}")) return body;
  }
  bool changed = false;
  for (;;) {
    if (t.starts_with(kBom)) {
      t.remove_prefix(kBom.size());
      changed = true;
    } else if (!t.empty() && is_space(t.front())) {
      t.remove_prefix(1);
      changed = true;
    } else {
      break;
    }
  }
  while (!t.empty() && is_space(t.back())) {
    t.remove_suffix(1);
    changed = true;
  }
  if (changed) {
    v.add(Reason::kTrailingCharacters, Severity::kError,
          "whitespace or a byte order mark around the card text");
  }
  return t;
}

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool is_short_ref(std::string_view s) {
  constexpr std::string_view kScheme = "resource:";
  if (!s.starts_with(kScheme) || s.size() == kScheme.size()) return false;
  std::string_view n = s.substr(kScheme.size());
  return n.find_first_not_of("0123456789") == std::string_view::npos &&
         (n.size() == 1 || n[0] != '0');
}

bool coding_member(std::string_view k) {
  return k == "system" || k == "version" || k == "code" || k == "display" || k == "userSelected" ||
         k == "id" || k == "extension";
}

// Where a bundle check is in the tree: a chain of segments on the stack, parent first. The
// FHIRPath-like text ("Bundle.entry[0].resource.meta") is built only for a finding: building it
// for every node visited, as this checker once did, cost more than the checks themselves.
struct PathSeg {
  const PathSeg* parent = nullptr;
  std::string_view name;     // a member name, or the root's text when there is no parent
  std::ptrdiff_t index = -1;  // >= 0: the index-th item of the array at `parent`
};

void append_path(std::string& out, const PathSeg& seg) {
  if (seg.parent) append_path(out, *seg.parent);
  if (seg.index >= 0) {
    out += '[';
    out += std::to_string(seg.index);
    out += ']';
    return;
  }
  if (seg.parent) out += '.';
  out.append(seg.name);
}

// The path's text followed by `rest`.
std::string at(const PathSeg& seg, std::string_view rest) {
  std::string out;
  append_path(out, seg);
  out.append(rest);
  return out;
}

PathSeg member(const PathSeg& parent, std::string_view name) { return {&parent, name, -1}; }
PathSeg item(const PathSeg& parent, std::size_t i) {
  return {&parent, {}, static_cast<std::ptrdiff_t>(i)};
}

// Collects health-card bundle findings over the JSON tree.
class BundleChecker {
 public:
  BundleChecker(std::vector<Finding>& out, bool for_qr)
      : out_(out), minify_(for_qr ? Severity::kError : Severity::kWarning) {}

  void check(const Json& bundle) {
    if (!bundle.is_object() || bundle.value("resourceType", "") != "Bundle") {
      add(Reason::kFhirInvalid, Severity::kError, "fhirBundle is not a FHIR Bundle");
      return;
    }
    Status s = fhir::validate_resource(bundle);
    if (!s.is_ok()) {
      std::string msg = "FHIR validation failed";
      std::size_t n = 0;
      for (const Problem& p : s.problems()) {
        if (++n > 5) {
          msg += "; ... (" + std::to_string(s.problems().size()) + " problems)";
          break;
        }
        msg += "; " + p.path + ": " + p.message;
      }
      if (s.problems().empty()) msg += ": " + s.message();
      add(Reason::kFhirInvalid, Severity::kError, msg);
    }
    const PathSeg root{nullptr, "Bundle", -1};
    empty_values(bundle, root);
    resource_rules(bundle, root);
    auto entries_it = bundle.find("entry"sv);
    const Json* entries = entries_it != bundle.end() ? &*entries_it : nullptr;
    if (!entries || !entries->is_array() || entries->empty()) {
      add(Reason::kFhirInvalid, Severity::kError, "Bundle has no entries");
      return;
    }
    const PathSeg entry = member(root, "entry");
    std::set<std::string, std::less<>> urls;
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const Json& e = (*entries)[i];
      if (!e.is_object()) continue;
      auto full = e.find("fullUrl"sv);
      if (full == e.end() || !full->is_string() ||
          !is_short_ref(full->get_ref<const std::string&>())) {
        add(Reason::kFhirBadReference, minify_,
            at(item(entry, i),
               ".fullUrl must be a short resource-scheme URI such as \"resource:0\""));
      } else {
        urls.insert(full->get_ref<const std::string&>());
      }
    }
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const Json& e = (*entries)[i];
      if (!e.is_object()) continue;
      auto r = e.find("resource"sv);
      if (r == e.end()) continue;
      const PathSeg one = item(entry, i);
      walk(*r, member(one, "resource"), urls);
    }
  }

 private:
  void add(Reason r, Severity s, std::string msg) { out_.push_back({r, s, std::move(msg)}); }

  void empty_values(const Json& node, const PathSeg& path) {
    if ((node.is_object() || node.is_array()) && node.empty()) {
      add(Reason::kFhirEmptyValue, Severity::kError,
          at(path, " is empty (FHIR JSON has no empty objects or arrays)"));
      return;
    }
    if (node.is_string() && node.get_ref<const std::string&>().empty()) {
      add(Reason::kFhirEmptyValue, Severity::kError, at(path, " is an empty string"));
      return;
    }
    // The containers themselves, not nlohmann's iterators, which switch on the type at every step.
    if (node.is_array()) {
      const auto& items = node.get_ref<const Json::array_t&>();
      for (std::size_t i = 0; i < items.size(); ++i) empty_values(items[i], item(path, i));
    } else if (node.is_object()) {
      for (const auto& [key, value] : node.get_ref<const Json::object_t&>()) {
        empty_values(value, member(path, key));
      }
    }
  }

  // Resource-level minification: Resource.id, Resource.meta, DomainResource.text.
  void resource_rules(const Json& r, const PathSeg& path) {
    if (r.contains("id"sv)) {
      add(Reason::kFhirNotMinified, minify_, at(path, ".id must be left out"));
    }
    if (r.contains("text"sv)) {
      add(Reason::kFhirNotMinified, minify_, at(path, ".text must be left out"));
    }
    auto meta = r.find("meta"sv);
    if (meta == r.end()) return;
    if (!meta->is_object()) {
      add(Reason::kFhirBadMeta, minify_, at(path, ".meta is not an object"));
      return;
    }
    for (auto it = meta->begin(); it != meta->end(); ++it) {
      if (it.key() != "security") {
        add(Reason::kFhirBadMeta, minify_,
            at(path, ".meta." + it.key() + ": meta may hold only \"security\""));
      }
    }
    auto sec = meta->find("security"sv);
    if (sec == meta->end()) {
      add(Reason::kFhirBadMeta, minify_, at(path, ".meta without security must be left out"));
      return;
    }
    if (!sec->is_array() || sec->empty()) {
      add(Reason::kFhirBadMeta, Severity::kError,
          at(path, ".meta.security must be a list of codings"));
      return;
    }
    const PathSeg meta_path = member(path, "meta");
    const PathSeg security = member(meta_path, "security");
    for (std::size_t i = 0; i < sec->size(); ++i) {
      const Json& c = (*sec)[i];
      const PathSeg p = item(security, i);
      if (!c.is_object() || !c.contains("code"sv)) {
        add(Reason::kFhirBadMeta, Severity::kError, at(p, " is not a Coding with a code"));
        continue;
      }
      for (auto it = c.begin(); it != c.end(); ++it) {
        if (!coding_member(it.key())) {
          add(Reason::kFhirBadMeta, Severity::kError,
              at(p, "." + it.key() + " is not a Coding member"));
        }
      }
    }
  }

  void walk(const Json& node, const PathSeg& path,
            const std::set<std::string, std::less<>>& urls) {
    if (node.is_array()) {
      const auto& items = node.get_ref<const Json::array_t&>();
      for (std::size_t i = 0; i < items.size(); ++i) walk(items[i], item(path, i), urls);
      return;
    }
    if (!node.is_object()) return;
    const auto& members = node.get_ref<const Json::object_t&>();
    // One pass over the members gathers what the rules below look at: a lookup by name costs a
    // strlen and a memcmp at every level of the map, and this runs for every object of the bundle.
    bool has_resource_type = false;
    bool has_coding = false;
    bool has_text = false;
    bool has_display = false;
    bool has_code_or_system = false;
    bool coding_members_only = true;
    const Json* reference = nullptr;
    for (const auto& [key, value] : members) {
      const std::string_view k = key;
      if (k == "resourceType") {
        has_resource_type = true;
      } else if (k == "coding") {
        has_coding = true;
      } else if (k == "text") {
        has_text = true;
      } else if (k == "display") {
        has_display = true;
      } else if (k == "code" || k == "system") {
        has_code_or_system = true;
      } else if (k == "reference") {
        reference = &value;
      }
      if (!coding_member(k)) coding_members_only = false;
    }
    if (has_resource_type) {
      resource_rules(node, path);
      // value() throws for a resourceType that is not a string; the verdict then says so
      // (internal_failure), as it always has.
      auto status = node.find("status"sv);
      if (node.value("resourceType", "") == "Immunization" && status != node.end() &&
          *status != "completed") {
        add(Reason::kFhirStatusNotCompleted, Severity::kError,
            at(path, ".status is " + status->dump() +
                         "; a health card records completed immunizations only"));
      }
    }
    if (has_coding && has_text) {
      add(Reason::kFhirNotMinified, minify_,
          at(path, ".text (CodeableConcept.text) must be left out"));
    }
    // A Coding (only Coding members, a display and a code or system) that keeps its display.
    if (has_display && has_code_or_system && coding_members_only) {
      add(Reason::kFhirNotMinified, minify_,
          at(path, ".display (Coding.display) must be left out"));
    }
    if (reference && reference->is_string()) {
      const std::string& r = reference->get_ref<const std::string&>();
      if (!is_short_ref(r)) {
        add(Reason::kFhirBadReference, minify_,
            at(path, ".reference \"" + r + "\" is not a short resource-scheme URI"));
      } else if (!urls.contains(r)) {
        add(Reason::kFhirBadReference, Severity::kError,
            at(path, ".reference \"" + r + "\" points to no entry of the bundle"));
      }
    }
    for (const auto& [key, value] : members) {
      if (&value == reference) continue;
      walk(value, member(path, key), urls);
    }
  }

  std::vector<Finding>& out_;
  Severity minify_;
};

bool bundle_has_covid_vaccine(const Json& bundle) {
  if (!bundle.contains("entry"sv) || !bundle["entry"].is_array()) return false;
  for (const Json& e : bundle["entry"]) {
    if (!e.is_object() || !e.contains("resource"sv)) continue;
    const Json& r = e["resource"];
    if (!r.is_object() || r.value("resourceType", "") != "Immunization") continue;
    if (!r.contains("vaccineCode"sv) || !r["vaccineCode"].is_object()) continue;
    const Json& vc = r["vaccineCode"];
    if (!vc.contains("coding"sv) || !vc["coding"].is_array()) continue;
    for (const Json& c : vc["coding"]) {
      if (c.is_object() && c.value("system", "") == "http://hl7.org/fhir/sid/cvx" &&
          c.contains("code"sv) && c["code"].is_string() &&
          kCovidCvx.contains(c["code"].get<std::string>())) {
        return true;
      }
    }
  }
  return false;
}

// The JWT claims and everything inside vc. `for_qr`: the card is small enough for one QR, so its
// bundle must be minified.
// The parsed claims are in v.payload and checked there (a copy of the tree per card was a visible
// share of verifying one); a payload that is not an object is not kept.
void check_claims(Verdict& v, const Clock& clock, const VerifyOptions& opt, bool for_qr) {
  if (!v.payload.is_object()) {
    v.payload = nullptr;
    v.add(Reason::kMalformedPayload, Severity::kError, "the payload is not a JSON object");
    return;
  }
  const Json& p = v.payload;
  const double now = static_cast<double>(unix_seconds(clock.now()));
  const double skew = static_cast<double>(opt.clock_skew.count());

  auto iss = p.find("iss"sv);
  if (iss == p.end() || !iss->is_string()) {
    v.add(Reason::kMissingClaim, Severity::kError, "the payload has no \"iss\"");
  } else {
    v.iss = iss->get<std::string>();
    if (!valid_issuer_url(v.iss)) {
      v.add(Reason::kBadIssuerUrl, Severity::kError,
            "issuer URL \"" + v.iss + "\" must use https and have no trailing slash");
    }
  }

  auto nbf = p.find("nbf"sv);
  if (nbf == p.end() || !nbf->is_number()) {
    v.add(Reason::kMissingClaim, Severity::kError, "the payload has no numeric \"nbf\"");
  } else {
    v.nbf = nbf->get<double>();
    if (*v.nbf >= kMillisThreshold) {
      v.add(Reason::kNbfMilliseconds, Severity::kError, "nbf is in milliseconds, not seconds");
    } else if (*v.nbf > now + skew) {
      v.add(Reason::kNotYetValid, Severity::kError, "nbf is in the future: not yet valid");
    }
  }
  auto exp = p.find("exp"sv);
  if (exp != p.end()) {
    if (!exp->is_number()) {
      v.add(Reason::kMalformedPayload, Severity::kError, "\"exp\" is not a number");
    } else {
      v.exp = exp->get<double>();
      if (*v.exp >= kMillisThreshold) {
        v.add(Reason::kExpMilliseconds, Severity::kError, "exp is in milliseconds, not seconds");
      } else {
        if (v.nbf && *v.nbf < kMillisThreshold && *v.exp <= *v.nbf) {
          v.add(Reason::kExpBeforeNbf, Severity::kError, "exp is not after nbf");
        }
        if (*v.exp <= now) v.add(Reason::kExpired, Severity::kError, "the card has expired");
      }
    }
  }

  auto vc = p.find("vc"sv);
  if (vc == p.end() || !vc->is_object()) {
    v.add(Reason::kMissingClaim, Severity::kError, "the payload has no \"vc\" object");
    return;
  }
  std::set<std::string, std::less<>> types;
  auto type = vc->find("type"sv);
  if (type == vc->end() || !type->is_array()) {
    v.add(Reason::kMissingClaim, Severity::kError, "vc has no \"type\" array");
  } else {
    for (const Json& t : *type) {
      if (!t.is_string()) {
        v.add(Reason::kMalformedPayload, Severity::kError, "vc.type holds a non-string");
        continue;
      }
      const std::string s = t.get<std::string>();
      types.insert(s);
      if (!kKnownTypes.contains(s)) {
        v.add(Reason::kVcTypeUnknown, Severity::kWarning,
              "vc.type \"" + s + "\" is not a type we know; ignored as the spec requires");
      }
    }
    if (!types.contains(kHealthCardType)) {
      v.add(Reason::kVcTypeMissing, Severity::kError,
            "vc.type lacks \"https://smarthealth.cards#health-card\"");
    }
  }

  auto rid = vc->find("rid"sv);
  if (rid != vc->end()) {
    if (!rid->is_string() || rid->get<std::string>().empty() ||
        rid->get<std::string>().size() > 24 ||
        !std::all_of(rid->get_ref<const std::string&>().begin(),
                     rid->get_ref<const std::string&>().end(), is_base64url_char)) {
      v.add(Reason::kMalformedPayload, Severity::kError,
            "vc.rid is not 1..24 base64url characters");
    } else {
      v.rid = rid->get<std::string>();
    }
  }

  auto subject = vc->find("credentialSubject"sv);
  if (subject == vc->end() || !subject->is_object()) {
    v.add(Reason::kMissingClaim, Severity::kError, "vc has no \"credentialSubject\" object");
    return;
  }
  auto version = subject->find("fhirVersion"sv);
  if (version == subject->end() || !version->is_string()) {
    v.add(Reason::kMissingClaim, Severity::kError, "credentialSubject has no \"fhirVersion\"");
  } else if (!version->get<std::string>().starts_with("4.0.")) {
    v.add(Reason::kBadFhirVersion, Severity::kError,
          "fhirVersion " + version->dump() + " is not FHIR R4 (4.0.1)");
  }
  auto bundle = subject->find("fhirBundle"sv);
  if (bundle == subject->end() || !bundle->is_object()) {
    v.add(Reason::kMissingClaim, Severity::kError, "credentialSubject has no \"fhirBundle\"");
    return;
  }
  if (opt.copy_bundle) v.fhir_bundle = *bundle;
  for (Finding& f : check_fhir_bundle(*bundle, for_qr)) v.findings.push_back(std::move(f));

  // The deprecated type refinements, when an issuer uses them, should agree with the content.
  const bool imm = types.contains("https://smarthealth.cards#immunization");
  const bool covid = types.contains("https://smarthealth.cards#covid19");
  if (covid && !imm) {
    v.add(Reason::kVcTypeInconsistent, Severity::kWarning,
          "vc.type lists #covid19 without #immunization");
  }
  if (imm && !covid && bundle_has_covid_vaccine(*bundle)) {
    v.add(Reason::kVcTypeInconsistent, Severity::kWarning,
          "vc.type lists #immunization but not #covid19 for COVID-19 vaccinations");
  }
}

std::string utc_text(double unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  char buf[32] = "?";
  if (gmtime_r(&t, &tm) != nullptr) std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The checks of one JWK entry's x5c certificate chain (SHC "Certificates"), as findings.
//
// A malformed chain, or one whose first certificate is not for the JWK's own key, is a broken key
// set (RFC 7517 4.7 says the key MUST match) and always an error. The rest is how a verifier that
// trusts issuers through a PKI establishes trust: the leaf names the issuer (a subjectAltName URI
// equal to iss), and a path of certificates valid at the card's issue time leads to a trust
// anchor. The issue time (nbf), not today, because a card outlives the certificate of the key that
// signed it; a certificate expired or not yet valid when the card was signed proves nothing for
// it. Without trust anchors the directory listing is the trust decision, so the naming and time
// findings are warnings and no path is built.
std::vector<Finding> x5c_findings(const crypto::Jwk& jwk, const Verdict& v,
                                  const std::vector<crypto::Certificate>& anchors) {
  std::vector<Finding> out;
  if (!jwk.x5c) return out;
  const crypto::X5c& x5c = *jwk.x5c;
  if (!x5c.error.empty() || x5c.chain.empty()) {
    out.push_back({Reason::kX5cMalformed, Severity::kError,
                   "the issuer key's x5c certificate chain is malformed: " + x5c.error});
    return out;
  }
  const crypto::Certificate& leaf = x5c.chain.front();
  auto leaf_key = leaf.public_key();
  if (!leaf_key || leaf_key->thumbprint() != jwk.thumbprint) {
    out.push_back({Reason::kX5cKeyMismatch, Severity::kError,
                   "the first x5c certificate (" + leaf.subject() +
                       ") is for another public key than the issuer's key " + jwk.kid});
    return out;
  }
  const Severity pki = anchors.empty() ? Severity::kWarning : Severity::kError;
  const std::vector<std::string> uris = leaf.san_uris();
  if (!v.iss.empty() && std::find(uris.begin(), uris.end(), v.iss) == uris.end()) {
    std::string listed;
    for (const std::string& u : uris) listed += (listed.empty() ? "" : ", ") + u;
    out.push_back({Reason::kX5cSanMismatch, pki,
                   "the x5c certificate " + leaf.subject() + " names " +
                       (listed.empty() ? std::string("no URI") : listed) +
                       " in its subjectAltName, not the issuer " + v.iss});
  }
  const bool have_nbf = v.nbf && *v.nbf < kMillisThreshold && *v.nbf >= 0;
  bool leaf_time_reported = false;
  if (have_nbf && (*v.nbf < static_cast<double>(leaf.not_before()) ||
                   *v.nbf > static_cast<double>(leaf.not_after()))) {
    leaf_time_reported = true;
    out.push_back({Reason::kX5cNotValidAtNbf, pki,
                   "the card was issued at " + utc_text(*v.nbf) +
                       ", outside the validity of its x5c certificate " + leaf.subject() + " (" +
                       utc_text(static_cast<double>(leaf.not_before())) + " to " +
                       utc_text(static_cast<double>(leaf.not_after())) + ")"});
  }
  if (!anchors.empty() && have_nbf) {
    crypto::PathResult path = crypto::verify_certificate_path(
        x5c.chain, anchors, static_cast<int64_t>(std::floor(*v.nbf)));
    if (path.error == crypto::PathError::kNotValidAtTime) {
      if (!leaf_time_reported) {
        out.push_back({Reason::kX5cNotValidAtNbf, Severity::kError,
                       "the x5c chain was not valid when the card was issued (" + utc_text(*v.nbf) +
                           "): " + path.message});
      }
    } else if (!path.ok()) {
      out.push_back({Reason::kX5cUntrusted, Severity::kError,
                     "the x5c chain does not lead to a trusted root: " + path.message});
    }
  }
  return out;
}

// The x5c findings for the key under the card's kid. The spec gives an issuer with several
// certificates for one key one JWK entry per certificate (same key, different x5c), so the key
// passes if any entry does; otherwise the first entry's findings explain the refusal.
void check_key_certificates(Verdict& v, const std::vector<const crypto::Jwk*>& keys,
                            const std::vector<crypto::Certificate>& anchors) {
  std::optional<std::vector<Finding>> first;
  for (const crypto::Jwk* k : keys) {
    if (k->thumbprint != v.kid) continue;
    std::vector<Finding> f = x5c_findings(*k, v, anchors);
    const bool passes = std::none_of(
        f.begin(), f.end(), [](const Finding& x) { return x.severity == Severity::kError; });
    if (passes) {
      first = std::move(f);
      break;
    }
    if (!first) first = std::move(f);
  }
  if (!first) return;
  for (Finding& f : *first) v.findings.push_back(std::move(f));
}

std::string revoked_message(std::string_view rid, bool superseded) {
  std::string out = superseded ? "the issuer has replaced this card by a newer one"
                               : "the issuer has revoked this card";
  if (!rid.empty()) out += " (rid " + std::string(rid) + ")";
  return out;
}

// The JWS layer onwards. `single_qr`: the JWS came from one QR code, so it must fit one.
void verify_jws(Verdict& v, std::string_view jws, bool single_qr, const IssuerDirectory& dir,
                const Clock& clock, const VerifyOptions& opt) {
  // A tree left in v.payload is an earlier card's (verify_health_card_into), for this card's
  // payload to be parsed into; v.payload itself stays null until this card's is parsed.
  Json spare = std::exchange(v.payload, nullptr);
  if (jws.size() > kMaxJwsBytes) {
    v.add(Reason::kMalformedJws, Severity::kError, "JWS is over 1 MiB");
    return;
  }
  v.jws = std::string(jws);
  // The spec's rule is on the text: "any JWS longer than 1195 characters SHALL be split" (or, since
  // chunking was deprecated, not put in one QR code). 1195 is also what version 22 holds at level
  // L, the level with the most room, so it is the right limit whatever level the code was drawn
  // at: this verifier only ever sees the scanned text, never the code's version or level, and a
  // code at M, Q or H holds less, never more. The picture-level rules (version <= 22 from the
  // actual version, no larger version than the actual level needs) are checked where the picture
  // is: web/src/verify/qrImageCheck.ts.
  if (jws.size() > kMaxSingleQrJws) {
    v.add(Reason::kJwsTooLong, single_qr ? Severity::kError : Severity::kWarning,
          "JWS is " + std::to_string(jws.size()) +
              " characters, over the 1195 that fit one version-22 QR code");
  }
  const std::size_t d1 = jws.find('.');
  const std::size_t d2 = d1 == std::string_view::npos ? d1 : jws.find('.', d1 + 1);
  if (d2 == std::string_view::npos || jws.find('.', d2 + 1) != std::string_view::npos) {
    v.add(Reason::kMalformedJws, Severity::kError, "a compact JWS has three dot-separated parts");
    return;
  }
  auto header_bytes = crypto::base64url_decode(jws.substr(0, d1));
  auto payload_bytes = crypto::base64url_decode(jws.substr(d1 + 1, d2 - d1 - 1));
  auto signature = crypto::base64url_decode(jws.substr(d2 + 1));
  if (!header_bytes || !payload_bytes || !signature) {
    v.add(Reason::kMalformedJws, Severity::kError, "a JWS part is not strict base64url");
    return;
  }
  auto parsed_header = parse_json(*header_bytes, JsonLimits{4096, 8});
  if (!parsed_header || !parsed_header->is_object() || header_bytes->starts_with(kBom)) {
    v.add(Reason::kMalformedJws, Severity::kError, "the JWS header is not a JSON object");
    return;
  }
  v.header = std::move(parsed_header).value();
  const Json* header = &v.header;
  auto alg = header->find("alg"sv);
  if (alg == header->end()) {
    v.add(Reason::kMissingHeaderField, Severity::kError, "the JWS header has no \"alg\"");
  } else if (*alg != "ES256") {
    v.add(Reason::kUnsupportedAlgorithm, Severity::kError,
          "JWS alg is " + alg->dump() + "; health cards use ES256");
  }
  auto kid = header->find("kid"sv);
  if (kid == header->end()) {
    v.add(Reason::kMissingHeaderField, Severity::kError, "the JWS header has no \"kid\"");
  } else if (!kid->is_string()) {
    v.add(Reason::kMalformedJws, Severity::kError, "the JWS \"kid\" is not a string");
  } else {
    v.kid = kid->get<std::string>();
  }
  auto zip = header->find("zip"sv);
  const bool zip_def = zip != header->end() && *zip == "DEF";
  if (zip == header->end()) {
    v.add(Reason::kMissingHeaderField, Severity::kError, "the JWS header has no \"zip\":\"DEF\"");
  } else if (!zip_def) {
    v.add(Reason::kUnsupportedAlgorithm, Severity::kError,
          "JWS zip is " + zip->dump() + "; health cards use \"DEF\"");
  }
  if (header->contains("crit"sv)) {
    v.add(Reason::kMalformedJws, Severity::kError, "the JWS header has \"crit\" extensions");
  }

  const bool sig_ok_size = signature->size() == 64;
  if (!sig_ok_size) {
    const auto& s = *signature;
    if (s.size() >= 8 && s.size() <= 72 && static_cast<unsigned char>(s[0]) == 0x30) {
      v.add(Reason::kDerSignature, Severity::kError,
            "the signature is DER-encoded (" + std::to_string(s.size()) +
                " bytes); JWS ES256 uses the 64-byte r||s form");
    } else {
      v.add(Reason::kBadSignature, Severity::kError,
            "the signature is " + std::to_string(s.size()) + " bytes; ES256 needs 64");
    }
  }

  // Payload: raw DEFLATE, and nothing else.
  std::string text;
  bool have_text = false;
  auto raw = inflate_raw(*payload_bytes, opt.max_inflated_bytes);
  if (raw) {
    text = std::move(raw).value();
    have_text = true;
  } else if (raw.error().code() == Code::kTooLarge) {
    v.add(Reason::kInflateFailed, Severity::kError,
          "the payload inflates past " + std::to_string(opt.max_inflated_bytes) + " bytes");
  } else if (auto z = inflate_zlib(*payload_bytes, opt.max_inflated_bytes)) {
    v.add(Reason::kZlibNotRawDeflate, Severity::kError,
          "the payload is zlib-wrapped DEFLATE; health cards use raw DEFLATE");
    text = std::move(z).value();
    have_text = true;
  } else if (payload_bytes->starts_with("{") || payload_bytes->starts_with(kBom)) {
    v.add(Reason::kNotDeflated, Severity::kError, "the payload is not compressed");
    text = *payload_bytes;
    have_text = true;
  } else {
    v.add(Reason::kInflateFailed, Severity::kError,
          "the payload is not raw DEFLATE: " + raw.error().message());
  }
  (void)zip_def;

  if (have_text) {
    std::string_view t = text;
    if (t.starts_with(kBom)) {
      v.add(Reason::kUtf8Bom, Severity::kError, "the payload JSON starts with a byte order mark");
      t.remove_prefix(kBom.size());
    }
    Status parsed = parse_json_into(t, JsonLimits{opt.max_inflated_bytes, 64}, spare);
    if (!parsed.is_ok()) {
      v.add(Reason::kMalformedPayload, Severity::kError,
            "the payload is not JSON: " + parsed.message());
    } else {
      v.payload = std::move(spare);
      check_claims(v, clock, opt, jws.size() <= kMaxSingleQrJws);
    }
  }

  // Issuer and key.
  const TrustedIssuer* issuer = v.iss.empty() ? nullptr : dir.find(v.iss);
  if (!v.iss.empty() && !issuer) {
    v.add(Reason::kUnknownIssuer, Severity::kError,
          "issuer " + v.iss + " is not in the trusted issuer directory");
  }
  if (issuer) {
    v.issuer_name = issuer->name;
    if (kid != header->end() && kid->is_string()) {
      auto keys = issuer->keys.find(v.kid);
      if (keys.empty()) {
        v.add(Reason::kUnknownKid, Severity::kError,
              "issuer " + v.iss + " has no key with kid \"" + v.kid + "\"");
      } else if (keys[0]->thumbprint != v.kid) {
        v.add(Reason::kKidMismatch, Severity::kError,
              "kid \"" + v.kid + "\" is not the RFC 7638 thumbprint of the issuer's key");
      } else {
        check_key_certificates(v, keys, dir.trust_anchors());
        if (sig_ok_size && alg != header->end() && *alg == "ES256") {
          Status s = keys[0]->key.verify("ES256", jws.substr(0, d2), *signature);
          if (!s.is_ok()) {
            v.add(Reason::kBadSignature, Severity::kError, "the signature does not verify");
          }
        }
      }
    }
    // Revocation (CRL semantics of the SHC spec). Only a card with a rid can be revoked, so only
    // such a card's verdict depends on the list being current: a key's crlVersion says which list
    // the issuer publishes now, and a verifier SHALL fetch it; offline, it says it could not.
    auto version = issuer->crl_versions.find(v.kid);
    auto crl = issuer->crls.find(v.kid);
    if (!v.rid.empty() && version != issuer->crl_versions.end() &&
        (crl == issuer->crls.end() || crl->second.ctr < version->second)) {
      v.add(Reason::kCrlOutdated, Severity::kWarning,
            "the issuer's key publishes revocation list version " +
                std::to_string(version->second) + " and the directory holds " +
                (crl == issuer->crls.end() ? std::string("none")
                                           : "version " + std::to_string(crl->second.ctr)) +
                ": whether this card was revoked since could not be checked (get a current "
                "directory)");
    }
    if (crl != issuer->crls.end() && !v.rid.empty() && v.nbf &&
        crl->second.revokes(v.rid, *v.nbf)) {
      v.superseded = issuer->was_superseded(v.rid);
      v.add(Reason::kRevoked, Severity::kError, revoked_message(v.rid, v.superseded));
    }
  }
}

void run_hook(Verdict& v, const VerifyOptions& opt) {
  v.finish();
  if (v.outcome != Outcome::kValid || !opt.transparency_check) return;
  Status s = opt.transparency_check(v);
  if (!s.is_ok()) {
    v.add(Reason::kNotInTransparencyLog, Severity::kError,
          s.message().empty() ? "the card is not in the transparency log" : s.message());
    v.finish();
  }
}

Verdict internal_failure(const std::exception& e) {
  Verdict v;
  v.add(Reason::kUnsupportedInput, Severity::kError,
        std::string("verification failed: ") + e.what());
  v.finish();
  return v;
}

// A parsed .smart-health-card file's credentials, or findings in `v`.
std::optional<std::vector<std::string>> file_credentials(std::string_view text, Verdict& v) {
  if (text.size() > kMaxFileBytes) {
    v.add(Reason::kMalformedFile, Severity::kError, "the file is over 4 MiB");
    return std::nullopt;
  }
  auto j = parse_json(text, JsonLimits{kMaxFileBytes, 16});
  if (!j || !j->is_object()) {
    v.add(Reason::kMalformedFile, Severity::kError, "not a .smart-health-card JSON object");
    return std::nullopt;
  }
  if (j->contains("resourceType"sv)) {
    v.add(Reason::kUnsupportedInput, Severity::kError,
          "a FHIR " + (*j)["resourceType"].dump() +
              " (e.g. a $health-cards-issue response) is not a .smart-health-card file; "
              "take the credentials out of it first");
    return std::nullopt;
  }
  auto list = j->find("verifiableCredential"sv);
  if (list == j->end() || !list->is_array() || list->empty() || list->size() > kMaxCredentials) {
    v.add(Reason::kMalformedFile, Severity::kError,
          "the file needs a \"verifiableCredential\" array of 1..100 JWS strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const Json& e : *list) {
    if (!e.is_string()) {
      v.add(Reason::kMalformedFile, Severity::kError, "verifiableCredential holds a non-string");
      return std::nullopt;
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

// `spare`: a tree to parse a single card's payload into (verify_health_card_into).
std::vector<Verdict> verify_all(std::string_view text, const IssuerDirectory& dir,
                                const Clock& clock, const VerifyOptions& opt, bool expect_one,
                                Json spare = nullptr) {
  Verdict v;
  std::string_view t = strip_outside(text, v, true);
  if (t.starts_with("shc:")) {
    Reason why = Reason::kNone;
    auto chunk = parse_shc_text(t, &why);
    if (!chunk) {
      v.add(why, Severity::kError, chunk.error().message());
    } else if (chunk->total > 1) {
      // parse_shc_text judges non-final chunks by size; a lone final chunk is judged here, where
      // the card is incomplete anyway.
      const std::size_t estimate = static_cast<std::size_t>(chunk->total) * chunk->jws_part.size();
      if ((estimate + kMaxChunkJws - 1) / kMaxChunkJws < static_cast<std::size_t>(chunk->total)) {
        v.add(Reason::kChunkTooSmall, Severity::kError,
              "chunks of " + std::to_string(chunk->jws_part.size()) +
                  " characters: the card would fit in fewer QR codes");
      }
      v.add(Reason::kMissingChunk, Severity::kError,
            "this is chunk " + std::to_string(chunk->index) + " of " +
                std::to_string(chunk->total) + "; scan all chunks together");
    } else {
      v.payload = std::move(spare);
      verify_jws(v, chunk->jws_part, true, dir, clock, opt);
    }
  } else if (t.starts_with("{")) {
    auto creds = file_credentials(t, v);
    if (creds) {
      if (creds->size() > 1 && expect_one) {
        v.add(Reason::kMultipleCredentials, Severity::kError,
              "the file holds " + std::to_string(creds->size()) +
                  " cards, and one card is verified at a time: give each card on its own");
      } else {
        std::vector<Verdict> out;
        for (const std::string& jws : *creds) {
          Verdict one;
          one.findings = v.findings;  // e.g. trailing characters around the file
          verify_jws(one, jws, false, dir, clock, opt);
          run_hook(one, opt);
          out.push_back(std::move(one));
        }
        return out;
      }
    }
  } else if (t.starts_with("ey")) {
    v.payload = std::move(spare);
    verify_jws(v, t, false, dir, clock, opt);
  } else {
    v.add(Reason::kUnsupportedInput, Severity::kError,
          "not a shc:/ QR text, a compact JWS or a .smart-health-card file");
  }
  run_hook(v, opt);
  // Not `return {std::move(v)}`: an initializer list holds const elements, so the vector would
  // deep-copy the verdict (its header, claims and bundle trees) once more for every card.
  std::vector<Verdict> out;
  out.push_back(std::move(v));
  return out;
}

// payload.vc.credentialSubject.fhirBundle, when the claims hold an object there.
Json* claims_bundle(Json& claims) {
  Json* at = &claims;
  for (std::string_view key : {"vc"sv, "credentialSubject"sv, "fhirBundle"sv}) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at->is_object() ? at : nullptr;
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kValid:
      return "valid";
    case Outcome::kInvalid:
      return "invalid";
    case Outcome::kRevoked:
      return "revoked";
  }
  return "invalid";
}

const char* verdict_word(const Verdict& v) {
  return v.outcome == Outcome::kRevoked && v.superseded ? "superseded" : outcome_name(v.outcome);
}

void mark_revoked(Verdict& v, bool superseded) {
  if (v.outcome == Outcome::kInvalid) return;
  std::erase_if(v.findings, [](const Finding& f) { return f.reason == Reason::kRevoked; });
  v.superseded = superseded;
  v.add(Reason::kRevoked, Severity::kError, revoked_message(v.rid, superseded));
  v.finish();
}

Json verdict_json(Verdict& v) {
  Json out = Json::object();
  out["outcome"] = verdict_word(v);
  if (!v.valid()) {
    if (!v.superseded || v.outcome != Outcome::kRevoked) out["reason"] = reason_name(v.reason);
    out["message"] = v.message;
  }
  Json errors = Json::array();
  Json warnings = Json::array();
  for (const Finding& f : v.findings) {
    Json& list = f.severity == Severity::kError ? errors : warnings;
    list.push_back({{"reason", reason_name(f.reason)}, {"message", f.message}});
  }
  if (v.outcome == Outcome::kInvalid) out["errors"] = std::move(errors);
  if (!warnings.empty()) out["warnings"] = std::move(warnings);
  const bool signed_by_issuer = v.outcome != Outcome::kInvalid;
  if (!v.iss.empty()) {
    out["issuer"] = {{"iss", v.iss}};
    if (signed_by_issuer && !v.issuer_name.empty()) out["issuer"]["name"] = v.issuer_name;
  }
  if (signed_by_issuer) {
    if (!v.fhir_bundle.is_null()) {
      out["fhirBundle"] = std::move(v.fhir_bundle);
      v.fhir_bundle = nullptr;
    } else if (Json* bundle = claims_bundle(v.payload)) {
      out["fhirBundle"] = std::move(*bundle);
      *bundle = nullptr;
    }
  }
  return out;
}

std::optional<std::string> signature_twin(std::string_view jws) {
  // The order n of P-256's group, big-endian.
  static constexpr unsigned char kOrder[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00,
                                               0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                               0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84,
                                               0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
  const std::size_t dot = jws.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto signature = crypto::base64url_decode(jws.substr(dot + 1));
  if (!signature || signature->size() != 64) return std::nullopt;
  std::string twin = *signature;
  const auto* s = reinterpret_cast<const unsigned char*>(signature->data()) + 32;
  if (std::all_of(s, s + 32, [](unsigned char b) { return b == 0; }) ||
      !std::lexicographical_compare(s, s + 32, kOrder, kOrder + 32)) {
    return std::nullopt;  // s is 0 or at least n: no signature, and no twin
  }
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = kOrder[i] - s[i] - borrow;
    borrow = d < 0 ? 1 : 0;
    twin[32 + static_cast<std::size_t>(i)] = static_cast<char>(d + 256 * borrow);
  }
  return std::string(jws.substr(0, dot + 1)) + crypto::base64url_encode(twin);
}

Verdict::~Verdict() {
  free_json(header);
  free_json(payload);
  free_json(fhir_bundle);
}

bool Verdict::has(Reason r) const {
  return std::any_of(findings.begin(), findings.end(),
                     [r](const Finding& f) { return f.reason == r; });
}

bool Verdict::has_error(Reason r) const {
  return std::any_of(findings.begin(), findings.end(), [r](const Finding& f) {
    return f.reason == r && f.severity == Severity::kError;
  });
}

void Verdict::add(Reason r, Severity s, std::string msg) {
  findings.push_back({r, s, std::move(msg)});
}

void Verdict::finish() {
  const Finding* first_error = nullptr;
  const Finding* revoked = nullptr;
  for (const Finding& f : findings) {
    if (f.severity != Severity::kError) continue;
    if (f.reason == Reason::kRevoked) {
      if (!revoked) revoked = &f;
    } else if (!first_error) {
      first_error = &f;
    }
  }
  if (first_error) {
    outcome = Outcome::kInvalid;
    reason = first_error->reason;
    message = first_error->message;
  } else if (revoked) {
    outcome = Outcome::kRevoked;
    reason = Reason::kRevoked;
    message = revoked->message;
  } else {
    outcome = Outcome::kValid;
    reason = Reason::kNone;
    message.clear();
  }
}

Verdict verify_health_card(std::string_view text, const IssuerDirectory& directory,
                           const Clock& clock, const VerifyOptions& options) {
  try {
    return std::move(verify_all(text, directory, clock, options, true).front());
  } catch (const std::exception& e) {
    return internal_failure(e);
  }
}

void verify_health_card_into(std::string_view text, const IssuerDirectory& directory,
                             const Clock& clock, const VerifyOptions& options, Verdict& v) {
  try {
    Json spare = std::move(v.payload);
    v = std::move(verify_all(text, directory, clock, options, true, std::move(spare)).front());
  } catch (const std::exception& e) {
    v = internal_failure(e);
  }
}

std::vector<Verdict> verify_health_cards(std::string_view text, const IssuerDirectory& directory,
                                         const Clock& clock, const VerifyOptions& options) {
  try {
    return verify_all(text, directory, clock, options, false);
  } catch (const std::exception& e) {
    return {internal_failure(e)};
  }
}

Verdict verify_health_card_qr(const std::vector<std::string_view>& qr_texts,
                              const IssuerDirectory& directory, const Clock& clock,
                              const VerifyOptions& options) {
  try {
    Verdict v;
    std::vector<std::string_view> stripped;
    for (std::string_view t : qr_texts) stripped.push_back(strip_outside(t, v));
    Reason why = Reason::kNone;
    auto jws = assemble_shc_chunks(stripped, &why);
    if (!jws) {
      v.add(why, Severity::kError, jws.error().message());
    } else {
      verify_jws(v, *jws, stripped.size() == 1, directory, clock, options);
    }
    run_hook(v, options);
    return v;
  } catch (const std::exception& e) {
    return internal_failure(e);
  }
}

std::vector<Verdict> verify_health_card_file(std::string_view file_name, std::string_view content,
                                             const IssuerDirectory& directory, const Clock& clock,
                                             const VerifyOptions& options) {
  std::vector<Verdict> out = verify_health_cards(content, directory, clock, options);
  if (!file_name.ends_with(".smart-health-card")) {
    for (Verdict& v : out) {
      // Something else than a card file (a FHIR resource, a picture) is refused for what it is.
      if (v.has(Reason::kUnsupportedInput)) continue;
      v.add(Reason::kWrongFileExtension, Severity::kError,
            "health card files are named *.smart-health-card");
      v.finish();
    }
  }
  return out;
}

Verdict check_payload_text(std::string_view json_text, const Clock& clock, bool for_qr,
                           const VerifyOptions& options) {
  try {
    Verdict v;
    std::string_view t = strip_outside(json_text, v);
    auto j = parse_json(t, JsonLimits{options.max_inflated_bytes, 64});
    if (!j) {
      v.add(Reason::kMalformedPayload, Severity::kError, "not JSON: " + j.error().message());
    } else {
      v.payload = std::move(j).value();
      check_claims(v, clock, options, for_qr);
    }
    v.finish();
    return v;
  } catch (const std::exception& e) {
    return internal_failure(e);
  }
}

Verdict check_bundle_text(std::string_view json_text) {
  try {
    Verdict v;
    std::string_view t = strip_outside(json_text, v);
    auto j = parse_json(t, JsonLimits{kMaxFileBytes, 64});
    if (!j) {
      v.add(Reason::kFhirInvalid, Severity::kError, "not JSON: " + j.error().message());
    } else {
      v.fhir_bundle = *j;
      for (Finding& f : check_fhir_bundle(*j, true)) v.findings.push_back(std::move(f));
    }
    v.finish();
    return v;
  } catch (const std::exception& e) {
    return internal_failure(e);
  }
}

std::vector<Finding> check_fhir_bundle(const Json& bundle, bool for_qr) {
  std::vector<Finding> out;
  BundleChecker(out, for_qr).check(bundle);
  return out;
}

}  // namespace hb::documents
