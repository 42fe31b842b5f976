// FHIR search parameters: the table of what is indexed, extraction of index rows from resources,
// and parsing of search query strings. See search_params.h for the contract.
//
// Index-row schemes (the store compares rows and SearchValues byte for byte):
//
// token        a = system ("" when none), b = code. CodeableConcept -> one row per coding with
//              a code; Coding -> (system, code); code/boolean/string primitives -> ("", value).
//
// identifier   (token rows; the value never appears in clear). For Identifier {system S, value V},
//              one row (a = S, b = blind("identifier", "|" + V)), S possibly ""; queries become:
//                `S|V` -> {a = S, b = blind(|V)}               that system and value;
//                `V`   -> {any_system, b = blind(|V)}          any identifier with that value;
//                `|V`  -> {no_system, b = blind(|V)}           only a system-less identifier;
//                `S|`  -> {a = S, b = ""}                      any identifier in system S.
//              Rows written before 2026-12 also have a second row (a = S, b = blind(S|V)) when S
//              is not empty; no query looks for it any more, and the first row is there too.
//
// token `S|`   for every token parameter, a value `system|` gives {a = system, b = ""}: the store
//              treats an empty b with a non-empty a as "any code in that system".
//
// reference    a = target type, b = target id, from literal references "Type/id" or absolute URLs
//              ending in "Type/id" (a trailing "/_history/n" is dropped). urn:uuid:, #contained,
//              conditional ("Type?...") and identifier-only references are not indexed.
//              A parameter that R4 defines as another of its type restricted to one target type
//              (Observation `patient` is `subject.where(resolve() is Patient)`, Encounter
//              `practitioner` is `participant.individual` to Practitioners) has no rows of its
//              own: it is searched, and included, through the other's rows with a = that type.
//              Its rows would repeat the other's, each on a random page of the index. Rows
//              written before 2026-12-07 under such a parameter were deleted by the store's
//              schema step 16.
//
// date         lo/hi = the period covered (date_period; a Period's missing start/end is open:
//              INT64_MIN / INT64_MAX). Timing is not indexed.
//
// person names (Patient/Practitioner name, family, given) -- kString, blind, exact matching:
//              the text is normalised (ASCII lower-case; Latin-1, Latin Extended-A and Vietnamese
//              letters folded to ASCII; combining marks and apostrophes dropped) and split into
//              words at anything else that is not a letter or digit; each word yields one row per
//              prefix (1..32 code points): a = blind(<param name>, prefix). `name` covers family,
//              given and text: where the type also has `family` and `given` (Patient,
//              Practitioner) the `name` rows hold only the prefixes of a HumanName's text that its
//              family and given words do not, and a `name` query word looks for any of
//              blind("name", w), blind("family", w) and blind("given", w) (one clause, three
//              values). Rows written before 2026-12 have every prefix under `name`; they still
//              match. A query value is normalised the same way; a multi-word value becomes one
//              clause per word (ANDed), so "van der" needs both words in the name.
//
// other strings (Organization/Location name and alias) -- kString, plain normalised text (words
//              joined by one space), prefix match; with :exact the normalised text must be equal.
#include "fhir/search_params.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/utf8.h"

namespace hb::fhir {
namespace {

using store::IndexKind;
using store::IndexRow;
using store::SearchClause;
using store::SearchValue;

// ---------------------------------------------------------------------------------------------
// The parameter table.

enum class ParamKind {
  kToken,       // CodeableConcept, Coding, code/boolean/string primitives
  kIdentifier,  // Identifier, blind-indexed
  kReference,
  kDate,
  kPersonName,  // blind word-prefix index
  kText,        // plain normalised text
};

const char* fhir_type_of(ParamKind k) {
  switch (k) {
    case ParamKind::kToken:
    case ParamKind::kIdentifier:
      return "token";
    case ParamKind::kReference:
      return "reference";
    case ParamKind::kDate:
      return "date";
    case ParamKind::kPersonName:
    case ParamKind::kText:
      return "string";
  }
  return "token";
}

struct ParamDef {
  std::string_view type;
  std::string_view name;
  ParamKind kind;
  // Element paths under the resource, dot-separated, arrays flattened at every step. Choice
  // elements are listed per variant ("effectiveDateTime", "effectivePeriod").
  std::vector<std::string_view> paths;
  // For references restricted by R4 with `.where(resolve() is X)`: only targets of type X.
  std::string_view only = {};
};

const std::vector<ParamDef>& param_table() {
  using K = ParamKind;
  static const std::vector<ParamDef> table = {
      // Patient
      {"Patient", "identifier", K::kIdentifier, {"identifier"}},
      {"Patient", "name", K::kPersonName, {"name"}},
      {"Patient", "family", K::kPersonName, {"name.family"}},
      {"Patient", "given", K::kPersonName, {"name.given"}},
      {"Patient", "birthdate", K::kDate, {"birthDate"}},
      {"Patient", "gender", K::kToken, {"gender"}},
      {"Patient", "active", K::kToken, {"active"}},
      {"Patient", "organization", K::kReference, {"managingOrganization"}},
      {"Patient", "general-practitioner", K::kReference, {"generalPractitioner"}},
      // A contact's national id, carried in the contact-national-id extension (docs/proxies.md):
      // how a parent finds the children they are recorded as guardian of.
      {"Patient", "guardian-identifier", K::kIdentifier, {"contact.extension.valueIdentifier"}},
      // Practitioner
      {"Practitioner", "identifier", K::kIdentifier, {"identifier"}},
      {"Practitioner", "name", K::kPersonName, {"name"}},
      {"Practitioner", "family", K::kPersonName, {"name.family"}},
      {"Practitioner", "given", K::kPersonName, {"name.given"}},
      {"Practitioner", "gender", K::kToken, {"gender"}},
      {"Practitioner", "active", K::kToken, {"active"}},
      // PractitionerRole
      {"PractitionerRole", "identifier", K::kIdentifier, {"identifier"}},
      {"PractitionerRole", "practitioner", K::kReference, {"practitioner"}},
      {"PractitionerRole", "organization", K::kReference, {"organization"}},
      {"PractitionerRole", "location", K::kReference, {"location"}},
      {"PractitionerRole", "role", K::kToken, {"code"}},
      {"PractitionerRole", "specialty", K::kToken, {"specialty"}},
      {"PractitionerRole", "active", K::kToken, {"active"}},
      // Organization
      {"Organization", "identifier", K::kIdentifier, {"identifier"}},
      {"Organization", "name", K::kText, {"name", "alias"}},
      {"Organization", "type", K::kToken, {"type"}},
      {"Organization", "partof", K::kReference, {"partOf"}},
      {"Organization", "active", K::kToken, {"active"}},
      // Location
      {"Location", "identifier", K::kIdentifier, {"identifier"}},
      {"Location", "name", K::kText, {"name", "alias"}},
      {"Location", "type", K::kToken, {"type"}},
      {"Location", "status", K::kToken, {"status"}},
      {"Location", "organization", K::kReference, {"managingOrganization"}},
      {"Location", "partof", K::kReference, {"partOf"}},
      // Encounter
      {"Encounter", "identifier", K::kIdentifier, {"identifier"}},
      {"Encounter", "patient", K::kReference, {"subject"}, "Patient"},
      {"Encounter", "subject", K::kReference, {"subject"}},
      {"Encounter", "status", K::kToken, {"status"}},
      {"Encounter", "class", K::kToken, {"class"}},
      {"Encounter", "type", K::kToken, {"type"}},
      {"Encounter", "reason-code", K::kToken, {"reasonCode"}},
      {"Encounter", "date", K::kDate, {"period"}},
      {"Encounter", "participant", K::kReference, {"participant.individual"}},
      {"Encounter", "practitioner", K::kReference, {"participant.individual"}, "Practitioner"},
      {"Encounter", "service-provider", K::kReference, {"serviceProvider"}},
      {"Encounter", "location", K::kReference, {"location.location"}},
      // Condition (R4 has no `date`; onset-date and recorded-date instead)
      {"Condition", "identifier", K::kIdentifier, {"identifier"}},
      {"Condition", "patient", K::kReference, {"subject"}, "Patient"},
      {"Condition", "subject", K::kReference, {"subject"}},
      {"Condition", "encounter", K::kReference, {"encounter"}},
      {"Condition", "code", K::kToken, {"code"}},
      {"Condition", "category", K::kToken, {"category"}},
      {"Condition", "clinical-status", K::kToken, {"clinicalStatus"}},
      {"Condition", "verification-status", K::kToken, {"verificationStatus"}},
      {"Condition", "onset-date", K::kDate, {"onsetDateTime", "onsetPeriod"}},
      {"Condition", "recorded-date", K::kDate, {"recordedDate"}},
      {"Condition", "asserter", K::kReference, {"asserter"}},
      // Observation
      {"Observation", "identifier", K::kIdentifier, {"identifier"}},
      {"Observation", "patient", K::kReference, {"subject"}, "Patient"},
      {"Observation", "subject", K::kReference, {"subject"}},
      {"Observation", "encounter", K::kReference, {"encounter"}},
      {"Observation", "code", K::kToken, {"code"}},
      {"Observation", "category", K::kToken, {"category"}},
      {"Observation", "status", K::kToken, {"status"}},
      {"Observation", "date", K::kDate, {"effectiveDateTime", "effectivePeriod", "effectiveInstant"}},
      {"Observation", "performer", K::kReference, {"performer"}},
      {"Observation", "based-on", K::kReference, {"basedOn"}},
      // DiagnosticReport
      {"DiagnosticReport", "identifier", K::kIdentifier, {"identifier"}},
      {"DiagnosticReport", "patient", K::kReference, {"subject"}, "Patient"},
      {"DiagnosticReport", "subject", K::kReference, {"subject"}},
      {"DiagnosticReport", "encounter", K::kReference, {"encounter"}},
      {"DiagnosticReport", "code", K::kToken, {"code"}},
      {"DiagnosticReport", "category", K::kToken, {"category"}},
      {"DiagnosticReport", "status", K::kToken, {"status"}},
      {"DiagnosticReport", "date", K::kDate, {"effectiveDateTime", "effectivePeriod"}},
      {"DiagnosticReport", "issued", K::kDate, {"issued"}},
      {"DiagnosticReport", "result", K::kReference, {"result"}},
      {"DiagnosticReport", "performer", K::kReference, {"performer"}},
      // MedicationRequest (R4: `date` is dosageInstruction.timing.event, `authoredon` authoredOn)
      {"MedicationRequest", "identifier", K::kIdentifier, {"identifier"}},
      {"MedicationRequest", "patient", K::kReference, {"subject"}, "Patient"},
      {"MedicationRequest", "subject", K::kReference, {"subject"}},
      {"MedicationRequest", "encounter", K::kReference, {"encounter"}},
      {"MedicationRequest", "code", K::kToken, {"medicationCodeableConcept"}},
      {"MedicationRequest", "medication", K::kReference, {"medicationReference"}},
      {"MedicationRequest", "status", K::kToken, {"status"}},
      {"MedicationRequest", "intent", K::kToken, {"intent"}},
      {"MedicationRequest", "category", K::kToken, {"category"}},
      {"MedicationRequest", "authoredon", K::kDate, {"authoredOn"}},
      {"MedicationRequest", "date", K::kDate, {"dosageInstruction.timing.event"}},
      {"MedicationRequest", "requester", K::kReference, {"requester"}},
      // AllergyIntolerance (R4: `date` is recordedDate)
      {"AllergyIntolerance", "identifier", K::kIdentifier, {"identifier"}},
      {"AllergyIntolerance", "patient", K::kReference, {"patient"}},
      {"AllergyIntolerance", "code", K::kToken, {"code", "reaction.substance"}},
      {"AllergyIntolerance", "category", K::kToken, {"category"}},
      {"AllergyIntolerance", "clinical-status", K::kToken, {"clinicalStatus"}},
      {"AllergyIntolerance", "verification-status", K::kToken, {"verificationStatus"}},
      {"AllergyIntolerance", "criticality", K::kToken, {"criticality"}},
      {"AllergyIntolerance", "type", K::kToken, {"type"}},
      {"AllergyIntolerance", "date", K::kDate, {"recordedDate"}},
      {"AllergyIntolerance", "recorder", K::kReference, {"recorder"}},
      {"AllergyIntolerance", "asserter", K::kReference, {"asserter"}},
      // Immunization (R4 has no `encounter` parameter)
      {"Immunization", "identifier", K::kIdentifier, {"identifier"}},
      {"Immunization", "patient", K::kReference, {"patient"}},
      {"Immunization", "status", K::kToken, {"status"}},
      {"Immunization", "vaccine-code", K::kToken, {"vaccineCode"}},
      {"Immunization", "date", K::kDate, {"occurrenceDateTime"}},
      {"Immunization", "performer", K::kReference, {"performer.actor"}},
      {"Immunization", "location", K::kReference, {"location"}},
      // Procedure
      {"Procedure", "identifier", K::kIdentifier, {"identifier"}},
      {"Procedure", "patient", K::kReference, {"subject"}, "Patient"},
      {"Procedure", "subject", K::kReference, {"subject"}},
      {"Procedure", "encounter", K::kReference, {"encounter"}},
      {"Procedure", "code", K::kToken, {"code"}},
      {"Procedure", "category", K::kToken, {"category"}},
      {"Procedure", "status", K::kToken, {"status"}},
      {"Procedure", "date", K::kDate, {"performedDateTime", "performedPeriod"}},
      {"Procedure", "performer", K::kReference, {"performer.actor"}},
      {"Procedure", "location", K::kReference, {"location"}},
      // DocumentReference
      {"DocumentReference", "identifier", K::kIdentifier, {"masterIdentifier", "identifier"}},
      {"DocumentReference", "patient", K::kReference, {"subject"}, "Patient"},
      {"DocumentReference", "subject", K::kReference, {"subject"}},
      {"DocumentReference", "encounter", K::kReference, {"context.encounter"}},
      {"DocumentReference", "type", K::kToken, {"type"}},
      {"DocumentReference", "category", K::kToken, {"category"}},
      {"DocumentReference", "status", K::kToken, {"status"}},
      {"DocumentReference", "date", K::kDate, {"date"}},
      {"DocumentReference", "period", K::kDate, {"context.period"}},
      {"DocumentReference", "author", K::kReference, {"author"}},
      {"DocumentReference", "custodian", K::kReference, {"custodian"}},
      // ServiceRequest (R4 has no `date`; authored and occurrence instead)
      {"ServiceRequest", "identifier", K::kIdentifier, {"identifier"}},
      {"ServiceRequest", "patient", K::kReference, {"subject"}, "Patient"},
      {"ServiceRequest", "subject", K::kReference, {"subject"}},
      {"ServiceRequest", "encounter", K::kReference, {"encounter"}},
      {"ServiceRequest", "code", K::kToken, {"code"}},
      {"ServiceRequest", "category", K::kToken, {"category"}},
      {"ServiceRequest", "status", K::kToken, {"status"}},
      {"ServiceRequest", "intent", K::kToken, {"intent"}},
      {"ServiceRequest", "authored", K::kDate, {"authoredOn"}},
      {"ServiceRequest", "occurrence", K::kDate, {"occurrenceDateTime", "occurrencePeriod"}},
      {"ServiceRequest", "requester", K::kReference, {"requester"}},
      {"ServiceRequest", "performer", K::kReference, {"performer"}},
      // Appointment
      {"Appointment", "identifier", K::kIdentifier, {"identifier"}},
      {"Appointment", "patient", K::kReference, {"participant.actor"}, "Patient"},
      {"Appointment", "practitioner", K::kReference, {"participant.actor"}, "Practitioner"},
      {"Appointment", "location", K::kReference, {"participant.actor"}, "Location"},
      {"Appointment", "actor", K::kReference, {"participant.actor"}},
      {"Appointment", "status", K::kToken, {"status"}},
      {"Appointment", "service-type", K::kToken, {"serviceType"}},
      {"Appointment", "date", K::kDate, {"start"}},
      // AuditEvent
      {"AuditEvent", "date", K::kDate, {"recorded"}},
      {"AuditEvent", "patient", K::kReference, {"agent.who", "entity.what"}, "Patient"},
      {"AuditEvent", "agent", K::kReference, {"agent.who"}},
      {"AuditEvent", "entity", K::kReference, {"entity.what"}},
      {"AuditEvent", "source", K::kReference, {"source.observer"}},
      {"AuditEvent", "action", K::kToken, {"action"}},
      {"AuditEvent", "type", K::kToken, {"type"}},
      {"AuditEvent", "subtype", K::kToken, {"subtype"}},
      {"AuditEvent", "outcome", K::kToken, {"outcome"}},
  };
  return table;
}

const ParamDef* find_param(std::string_view type, std::string_view name) {
  for (const ParamDef& d : param_table()) {
    if (d.type == type && d.name == name) return &d;
  }
  return nullptr;
}

// The parameter whose rows serve `d`, when `d` is that parameter restricted to one target type
// (same type, same paths, `only` set; see "reference" at the top of this file); nullptr otherwise.
const ParamDef* stored_as(const ParamDef& d) {
  static const std::map<const ParamDef*, const ParamDef*> bases = [] {
    std::map<const ParamDef*, const ParamDef*> m;
    for (const ParamDef& a : param_table()) {
      if (a.kind != ParamKind::kReference || a.only.empty()) continue;
      for (const ParamDef& b : param_table()) {
        if (b.type == a.type && b.kind == ParamKind::kReference && b.only.empty() &&
            b.paths == a.paths) {
          m.emplace(&a, &b);
          break;
        }
      }
    }
    return m;
  }();
  auto it = bases.find(&d);
  return it == bases.end() ? nullptr : it->second;
}

// Does `type` index a HumanName's family and given words under their own parameters (as well as
// under `name`)? Then `name` rows are written only for the words those two leave out (a
// HumanName's text) and a `name` query also looks in the `family` and `given` rows: the same
// matches with about half the blind rows, which land on random pages of the index.
bool name_has_parts(std::string_view type) {
  const ParamDef* family = find_param(type, "family");
  const ParamDef* given = find_param(type, "given");
  return family && given && family->kind == ParamKind::kPersonName &&
         given->kind == ParamKind::kPersonName;
}

// Where each type's patient compartment comes from, most specific first (R4 patient
// CompartmentDefinition; the primary subject/patient element before performers and authors).
const std::vector<std::string_view>& compartment_paths(std::string_view type) {
  static const std::map<std::string_view, std::vector<std::string_view>> paths = {
      {"Observation", {"subject", "performer"}},
      {"Encounter", {"subject"}},
      {"Condition", {"subject", "asserter"}},
      {"MedicationRequest", {"subject"}},
      {"AllergyIntolerance", {"patient", "recorder", "asserter"}},
      {"Immunization", {"patient"}},
      {"Procedure", {"subject", "performer.actor"}},
      {"DocumentReference", {"subject", "author"}},
      {"ServiceRequest", {"subject", "performer"}},
      {"Appointment", {"participant.actor"}},
      {"DiagnosticReport", {"subject"}},
  };
  static const std::vector<std::string_view> none;
  auto it = paths.find(type);
  return it == paths.end() ? none : it->second;
}

// ---------------------------------------------------------------------------------------------
// Small lexical helpers.

bool is_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  });
}

bool is_type_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] < 'A' || s[0] > 'Z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

// "Type/id", "Type/id/_history/v", or an absolute URL ending in one of those -> (Type, id).
// Nothing for urn:, #contained, conditional or otherwise malformed references.
std::optional<std::pair<std::string, std::string>> split_reference(std::string_view ref) {
  if (ref.empty() || ref[0] == '#' || ref.find('?') != std::string_view::npos) return std::nullopt;
  if (ref.substr(0, 4) == "urn:") return std::nullopt;
  const bool absolute = ref.find("://") != std::string_view::npos;
  std::vector<std::string_view> segs = split(ref, '/');
  if (segs.size() >= 4 && segs[segs.size() - 2] == "_history") segs.resize(segs.size() - 2);
  if (segs.size() < 2 || (!absolute && segs.size() != 2)) return std::nullopt;
  const std::string_view type = segs[segs.size() - 2];
  const std::string_view id = segs.back();
  if (!is_type_name(type) || !is_id(id)) return std::nullopt;
  return std::pair{std::string(type), std::string(id)};
}

// ---------------------------------------------------------------------------------------------
// Text normalisation.

// Maximum code points per indexed name word; longer words and query words are cut to this.
constexpr std::size_t kMaxWordCodePoints = 32;

enum class CharClass { kFolded, kDrop, kSeparator, kKeep };

// Folds one code point. kFolded sets `out` to ASCII lower-case letters.
CharClass classify(uint32_t cp, std::string_view& out) {
  static constexpr std::array<const char*, 64> kLatin1 = {
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // C0
      "d", "n", "o", "o", "o", "o", "o", nullptr, "o", "u", "u", "u", "u", "y", "th", "ss",  // D0
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // E0
      "d", "n", "o", "o", "o", "o", "o", nullptr, "o", "u", "u", "u", "u", "y", "th", "y",   // F0
  };
  // U+0100..U+017F; '*' marks the two digraphs handled below.
  static constexpr std::string_view kExtA =
      "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkkllllllllllnnnnnnnnnoooooo**"
      "rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
  static_assert(kExtA.size() == 0x180 - 0x100);
  // U+1EA0..U+1EF9 (Vietnamese letters with tone marks).
  static constexpr std::string_view kViet =
      "aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeeeiiiioooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyy";
  static_assert(kViet.size() == 0x1EFA - 0x1EA0);
  static constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyz";
  if (cp < 0x80) {
    if (cp >= 'a' && cp <= 'z') {
      out = kLetters.substr(cp - 'a', 1);
      return CharClass::kFolded;
    }
    if (cp >= 'A' && cp <= 'Z') {
      out = kLetters.substr(cp - 'A', 1);
      return CharClass::kFolded;
    }
    if (cp >= '0' && cp <= '9') return CharClass::kKeep;
    if (cp == '\'') return CharClass::kDrop;
    return CharClass::kSeparator;
  }
  if (cp >= 0xC0 && cp <= 0xFF) {
    const char* f = kLatin1[cp - 0xC0];
    if (f == nullptr) return CharClass::kSeparator;
    out = f;
    return CharClass::kFolded;
  }
  if (cp < 0xC0) return CharClass::kSeparator;  // Latin-1 controls, spaces and symbols
  if (cp >= 0x100 && cp <= 0x17F) {
    if (cp == 0x132 || cp == 0x133) {
      out = "ij";
    } else if (cp == 0x152 || cp == 0x153) {
      out = "oe";
    } else {
      out = kExtA.substr(cp - 0x100, 1);
    }
    return CharClass::kFolded;
  }
  if (cp == 0x1A0 || cp == 0x1A1) {
    out = "o";
    return CharClass::kFolded;
  }
  if (cp == 0x1AF || cp == 0x1B0) {
    out = "u";
    return CharClass::kFolded;
  }
  if (cp >= 0x1EA0 && cp <= 0x1EF9) {
    out = kViet.substr(cp - 0x1EA0, 1);
    return CharClass::kFolded;
  }
  if (cp >= 0x300 && cp <= 0x36F) return CharClass::kDrop;  // combining marks (NFD input)
  if (cp == 0x2BC || cp == 0x2019) return CharClass::kDrop;  // apostrophes
  if ((cp >= 0x2000 && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF) return CharClass::kSeparator;
  return CharClass::kKeep;  // other scripts: kept as they are, without case folding
}

// Decodes one UTF-8 code point at s[i]; returns its length, 0 if the bytes are not valid UTF-8.
std::size_t decode_utf8(std::string_view s, std::size_t i, uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// A normalised word: its bytes and where each code point ends (for prefixes).
struct Word {
  std::string text;
  std::vector<std::size_t> ends;
};

std::vector<Word> words_of(std::string_view s) {
  std::vector<Word> words;
  Word cur;
  auto flush = [&] {
    if (!cur.text.empty()) words.push_back(std::move(cur));
    cur = Word{};
  };
  std::size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    std::size_t len = decode_utf8(s, i, cp);
    if (len == 0) {  // invalid byte: a separator
      flush();
      ++i;
      continue;
    }
    std::string_view folded;
    switch (classify(cp, folded)) {
      case CharClass::kFolded:
        cur.text.append(folded);
        cur.ends.push_back(cur.text.size());
        break;
      case CharClass::kKeep:
        cur.text.append(s.substr(i, len));
        cur.ends.push_back(cur.text.size());
        break;
      case CharClass::kDrop:
        break;
      case CharClass::kSeparator:
        flush();
        break;
    }
    i += len;
  }
  flush();
  for (Word& w : words) {
    if (w.ends.size() > kMaxWordCodePoints) {
      w.ends.resize(kMaxWordCodePoints);
      w.text.resize(w.ends.back());
    }
  }
  return words;
}

std::string normalised_text(std::string_view s) {
  std::string out;
  for (const Word& w : words_of(s)) {
    if (!out.empty()) out += ' ';
    out += w.text;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Extraction.

// Collects the nodes at `path` under `node`, flattening arrays at every step.
void collect(const Json& node, std::string_view path, std::vector<const Json*>& out) {
  if (node.is_array()) {
    for (const Json& item : node) collect(item, path, out);
    return;
  }
  if (path.empty()) {
    if (!node.is_null()) out.push_back(&node);
    return;
  }
  if (!node.is_object()) return;
  const std::size_t dot = path.find('.');
  const std::string key(path.substr(0, dot));
  auto it = node.find(key);
  if (it == node.end()) return;
  collect(*it, dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1), out);
}

std::string string_at(const Json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

class Extractor {
 public:
  Extractor(const Blinder& blind, std::vector<IndexRow>& rows) : blind_(blind), rows_(rows) {}

  void add(const ParamDef& def, const Json& value) {
    switch (def.kind) {
      case ParamKind::kToken:
        token(def, value);
        break;
      case ParamKind::kIdentifier:
        identifier(def, value);
        break;
      case ParamKind::kReference:
        reference(def, value);
        break;
      case ParamKind::kDate:
        date(def, value);
        break;
      case ParamKind::kPersonName:
        person_name(def, value);
        break;
      case ParamKind::kText:
        if (value.is_string()) {
          std::string t = normalised_text(value.get<std::string>());
          if (!t.empty()) push(def, IndexKind::kString, std::move(t), "");
        }
        break;
    }
  }

 private:
  void push(const ParamDef& def, IndexKind kind, std::string a, std::string b, int64_t lo = 0,
            int64_t hi = 0) {
    rows_.push_back(IndexRow{std::string(def.name), kind, std::move(a), std::move(b), lo, hi});
  }

  void token(const ParamDef& def, const Json& v) {
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (!s.empty()) push(def, IndexKind::kToken, "", std::move(s));
    } else if (v.is_boolean()) {
      push(def, IndexKind::kToken, "", v.get<bool>() ? "true" : "false");
    } else if (v.is_object()) {
      auto codings = v.find("coding");
      if (codings != v.end()) {  // CodeableConcept
        if (codings->is_array()) {
          for (const Json& c : *codings) coding(def, c);
        }
      } else {
        coding(def, v);
      }
    }
  }

  void coding(const ParamDef& def, const Json& c) {
    std::string code = string_at(c, "code");
    if (!code.empty()) push(def, IndexKind::kToken, string_at(c, "system"), std::move(code));
  }

  void identifier(const ParamDef& def, const Json& v) {
    const std::string value = string_at(v, "value");
    if (value.empty() || !blind_) return;
    const std::string system = string_at(v, "system");
    push(def, IndexKind::kToken, system, blind_("identifier", "|" + value));
  }

  void reference(const ParamDef& def, const Json& v) {
    auto ref = split_reference(string_at(v, "reference"));
    if (!ref) return;
    if (!def.only.empty() && ref->first != def.only) return;
    push(def, IndexKind::kReference, std::move(ref->first), std::move(ref->second));
  }

  void date(const ParamDef& def, const Json& v) {
    if (v.is_string()) {
      auto p = date_period(v.get<std::string>());
      if (p) push(def, IndexKind::kDate, "", "", p->first, p->second);
      return;
    }
    if (!v.is_object()) return;  // Period
    int64_t lo = std::numeric_limits<int64_t>::min();
    int64_t hi = std::numeric_limits<int64_t>::max();
    const std::string start = string_at(v, "start");
    const std::string end = string_at(v, "end");
    if (start.empty() && end.empty()) return;
    if (!start.empty()) {
      auto p = date_period(start);
      if (!p) return;
      lo = p->first;
    }
    if (!end.empty()) {
      auto p = date_period(end);
      if (!p) return;
      hi = p->second;
    }
    if (lo > hi) std::swap(lo, hi);  // end before start violates per-1; keep the row sane
    push(def, IndexKind::kDate, "", "", lo, hi);
  }

  void person_name(const ParamDef& def, const Json& v) {
    if (!blind_) return;
    std::vector<std::string> parts;
    std::vector<std::string> covered;  // parts whose prefixes the family and given rows hold
    if (v.is_string()) {
      parts.push_back(v.get<std::string>());
    } else if (v.is_object()) {  // HumanName
      const bool split = def.name == "name" && name_has_parts(def.type);
      (split ? covered : parts).push_back(string_at(v, "family"));
      parts.push_back(string_at(v, "text"));
      auto given = v.find("given");
      if (given != v.end() && given->is_array()) {
        for (const Json& g : *given) {
          if (g.is_string()) (split ? covered : parts).push_back(g.get<std::string>());
        }
      }
    }
    std::set<std::string> prefixes;
    for (const std::string& part : parts) {
      for (const Word& w : words_of(part)) {
        for (std::size_t end : w.ends) prefixes.insert(w.text.substr(0, end));
      }
    }
    for (const std::string& part : covered) {
      for (const Word& w : words_of(part)) {
        for (std::size_t end : w.ends) prefixes.erase(w.text.substr(0, end));
      }
    }
    for (const std::string& p : prefixes) {
      push(def, IndexKind::kString, blind_(def.name, p), "");
    }
  }

  const Blinder& blind_;
  std::vector<IndexRow>& rows_;
};

// ---------------------------------------------------------------------------------------------
// Query parsing helpers.

constexpr std::size_t kMaxValuesPerParam = 100;
constexpr std::size_t kMaxValueLength = 1024;
constexpr std::size_t kMaxClauses = 64;

// Splits on `sep` where it is not escaped by a backslash; the pieces keep their escapes.
std::vector<std::string_view> split_unescaped(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// Removes R4 search escapes ("\," "\|" "\$" "\\").
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  return out;
}

// The first unescaped '|', or npos.
std::size_t find_bar(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '|') {
      return i;
    }
  }
  return std::string_view::npos;
}

// Splits an R4 search prefix off a date value ("ge2024" -> kGe, "2024"). False if the value starts
// with two letters that are not a prefix.
bool take_prefix(std::string_view& v, SearchValue::Prefix& prefix) {
  using P = SearchValue::Prefix;
  static constexpr std::pair<std::string_view, P> kPrefixes[] = {
      {"eq", P::kEq}, {"ne", P::kNe}, {"gt", P::kGt}, {"lt", P::kLt}, {"ge", P::kGe},
      {"le", P::kLe}, {"sa", P::kSa}, {"eb", P::kEb}, {"ap", P::kAp}};
  prefix = P::kEq;
  if (v.size() < 2 || v[0] < 'a' || v[0] > 'z') return true;
  for (const auto& [text, p] : kPrefixes) {
    if (v.substr(0, 2) == text) {
      prefix = p;
      v.remove_prefix(2);
      return true;
    }
  }
  return false;
}

class QueryParser {
 public:
  QueryParser(std::string_view type, const Blinder& blind) : type_(type), blind_(blind) {
    out_.query.type = std::string(type);
  }

  void param(const std::string& key, const std::string& value) {
    const std::size_t colon = key.find(':');
    const std::string name = key.substr(0, colon);
    const std::string modifier = colon == std::string::npos ? "" : key.substr(colon + 1);
    if (name == "_format" || name == "_pretty") return;  // rendering, handled by http
    if (modifier == "missing") {
      out_.ignored.push_back(key);
      return;
    }
    if (value.empty()) {
      out_.ignored.push_back(key);
      return;
    }
    if (!name.empty() && name[0] == '_') {
      control(key, name, modifier, value);
      return;
    }
    if (key.find('.') != std::string::npos) {  // chained parameters are not supported
      out_.ignored.push_back(key);
      return;
    }
    const ParamDef* def = find_param(type_, name);
    if (def == nullptr) {
      out_.ignored.push_back(key);
      return;
    }
    std::vector<std::string_view> items = split_unescaped(value, ',');
    if (items.size() > kMaxValuesPerParam) {
      fail(key, "too many values (at most " + std::to_string(kMaxValuesPerParam) + ")");
      return;
    }
    for (std::string_view item : items) {
      if (item.empty()) {
        fail(key, "empty value in the list");
        return;
      }
      if (item.size() > kMaxValueLength) {
        fail(key, "value too long");
        return;
      }
    }
    switch (def->kind) {
      case ParamKind::kToken:
      case ParamKind::kIdentifier:
        token(key, modifier, *def, items);
        break;
      case ParamKind::kReference:
        reference(key, modifier, *def, items);
        break;
      case ParamKind::kDate:
        date(key, modifier, *def, items);
        break;
      case ParamKind::kPersonName:
        person_name(key, modifier, *def, items);
        break;
      case ParamKind::kText:
        text(key, modifier, *def, items);
        break;
    }
  }

  Result<ParsedSearch> finish() {
    if (no_blinder_) return internal("search by identifier or name needs a Blinder");
    if (out_.query.clauses.size() > kMaxClauses) {
      fail("", "too many search clauses (at most " + std::to_string(kMaxClauses) + ")");
    }
    if (!problems_.empty()) {
      std::string msg = problems_.size() == 1
                            ? problems_[0].message
                            : std::to_string(problems_.size()) + " invalid search parameters";
      return Status(Code::kInvalid, std::move(msg), std::move(problems_));
    }
    return std::move(out_);
  }

 private:
  void fail(const std::string& key, std::string message, const char* issue = "value") {
    std::string full = key.empty() ? message : "search parameter '" + key + "': " + message;
    problems_.push_back(Problem{key, std::move(full), issue});
  }
  void unsupported(const std::string& key, std::string message) {
    fail(key, std::move(message), "not-supported");
  }
  bool no_modifier(const std::string& key, const std::string& modifier) {
    if (modifier.empty()) return true;
    unsupported(key, "modifier ':" + modifier + "' is not supported");
    return false;
  }
  std::string blind(std::string_view domain, std::string_view v) { return blind_(domain, v); }

  void control(const std::string& key, const std::string& name, const std::string& modifier,
               const std::string& value) {
    if (name == "_id") {
      if (!no_modifier(key, modifier)) return;
      if (id_seen_) {
        unsupported(key, "repeating _id is not supported; list the ids separated by commas");
        return;
      }
      id_seen_ = true;
      std::vector<std::string_view> ids = split(value, ',');
      if (ids.size() > kMaxValuesPerParam) {
        fail(key, "too many values");
        return;
      }
      for (std::string_view id : ids) {
        if (!is_id(id)) {
          fail(key, "'" + utf8_prefix(id, 80) + "' is not a valid resource id");
          return;
        }
        out_.query.ids.emplace_back(id);
      }
    } else if (name == "_lastUpdated") {
      if (!no_modifier(key, modifier)) return;
      last_updated(key, value);
    } else if (name == "_count") {
      if (!no_modifier(key, modifier)) return;
      int n = 0;
      const bool digits = !value.empty() && value.size() <= 7 &&
                          std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (digits) n = std::stoi(value);
      if (!digits || n < 1 || n > 1000) {
        fail(key, "must be a whole number from 1 to 1000");
        return;
      }
      out_.query.count = n;
    } else if (name == "_sort") {
      if (!no_modifier(key, modifier)) return;
      sort(key, value);
    } else if (name == "_include") {
      if (!modifier.empty()) {
        unsupported(key, "_include:" + modifier + " is not supported");
        return;
      }
      include(key, value);
    } else if (name == "_summary") {
      if (value == "count") {
        out_.summary_count = true;
        out_.query.want_total = true;
      } else if (value != "false") {
        out_.ignored.push_back(key);
      }
    } else if (name == "_total") {
      if (value == "accurate") {
        out_.query.want_total = true;
      } else if (value != "none" && value != "estimate") {
        fail(key, "must be none, estimate or accurate");
      }
    } else if (name == "_cursor") {
      if (value.size() > kMaxValueLength) {
        fail(key, "cursor too long");
        return;
      }
      out_.query.after = value;
    } else {
      out_.ignored.push_back(key);
    }
  }

  void last_updated(const std::string& key, const std::string& value) {
    using P = SearchValue::Prefix;
    if (value.find(',') != std::string::npos) {
      unsupported(key, "a list of _lastUpdated values is not supported");
      return;
    }
    std::string_view v = value;
    P prefix = P::kEq;
    if (!take_prefix(v, prefix)) {
      fail(key, "unknown prefix '" + utf8_prefix(value, 2) + "'");
      return;
    }
    auto period = date_period(v);
    if (!period) {
      fail(key, period.error().message());
      return;
    }
    const auto [lo, hi] = *period;
    std::optional<int64_t> new_lo;
    std::optional<int64_t> new_hi;
    switch (prefix) {
      case P::kEq:
        new_lo = lo;
        new_hi = hi;
        break;
      case P::kGt:
      case P::kSa:
        new_lo = hi == std::numeric_limits<int64_t>::max() ? hi : hi + 1;
        break;
      case P::kGe:
        new_lo = lo;
        break;
      case P::kLt:
      case P::kEb:
        new_hi = lo == std::numeric_limits<int64_t>::min() ? lo : lo - 1;
        break;
      case P::kLe:
        new_hi = hi;
        break;
      case P::kNe:
      case P::kAp:
        unsupported(key, "prefixes ne and ap are not supported for _lastUpdated");
        return;
    }
    auto& q = out_.query;
    if (new_lo) q.last_updated_lo = q.last_updated_lo ? std::max(*q.last_updated_lo, *new_lo) : *new_lo;
    if (new_hi) q.last_updated_hi = q.last_updated_hi ? std::min(*q.last_updated_hi, *new_hi) : *new_hi;
  }

  void sort(const std::string& key, const std::string& value) {
    if (value.find(',') != std::string::npos) {
      unsupported(key, "sorting by more than one key is not supported");
      return;
    }
    std::string_view v = value;
    const bool descending = !v.empty() && v[0] == '-';
    if (descending) v.remove_prefix(1);
    auto& q = out_.query;
    if (v == "_lastUpdated") {
      q.sort = store::SortKey::kLastUpdated;
      q.sort_param.clear();
    } else if (const ParamDef* def = find_param(type_, v); def && def->kind == ParamKind::kDate) {
      q.sort = store::SortKey::kDate;
      q.sort_param = std::string(v);
    } else {
      unsupported(key, "can sort by _lastUpdated or a date parameter of " + std::string(type_) +
                           ", not '" + utf8_prefix(v, 80) + "'");
      return;
    }
    q.descending = descending;
  }

  void include(const std::string& key, const std::string& value) {
    std::vector<std::string_view> parts = split(value, ':');
    if (parts.size() < 2 || parts.size() > 3) {
      fail(key, "expected Type:param or Type:param:Target");
      return;
    }
    if (parts[0] == "*" || parts[1] == "*") {
      unsupported(key, "wildcard includes are not supported");
      return;
    }
    if (parts[0] != type_) {
      unsupported(key, "only parameters of the searched type " + std::string(type_) +
                           " can be included");
      return;
    }
    const ParamDef* def = find_param(type_, parts[1]);
    if (def == nullptr || def->kind != ParamKind::kReference) {
      fail(key, "'" + utf8_prefix(parts[1], 80) + "' is not a reference parameter of " +
                    std::string(type_));
      return;
    }
    std::string target;
    if (parts.size() == 3) {
      if (!is_stored_type(parts[2])) {
        fail(key, "'" + utf8_prefix(parts[2], 80) + "' is not a resource type served here");
        return;
      }
      if (!def->only.empty() && parts[2] != def->only) {
        fail(key, std::string(def->name) + " only refers to " + std::string(def->only));
        return;
      }
      target = std::string(parts[2]);
    }
    // A parameter restricted to one type is included through the rows of the one it restricts.
    const ParamDef* base = stored_as(*def);
    if (base != nullptr && target.empty()) target = std::string(def->only);
    out_.includes.push_back(Include{
        std::string(type_), std::string((base != nullptr ? base : def)->name), std::move(target)});
  }

  void token(const std::string& key, const std::string& modifier, const ParamDef& def,
             const std::vector<std::string_view>& items) {
    if (!no_modifier(key, modifier)) return;
    if (def.kind == ParamKind::kIdentifier && !blind_) {
      no_blinder_ = true;
      return;
    }
    SearchClause clause{std::string(def.name), IndexKind::kToken, {}};
    for (std::string_view item : items) {
      SearchValue sv;
      const std::size_t bar = find_bar(item);
      std::string code;
      if (bar == std::string_view::npos) {
        sv.any_system = true;
        code = unescape(item);
      } else {
        sv.a = unescape(item.substr(0, bar));
        code = unescape(item.substr(bar + 1));
        sv.no_system = sv.a.empty();
        if (sv.a.empty() && code.empty()) {
          fail(key, "'|' needs a system or a code");
          return;
        }
      }
      if (def.kind == ParamKind::kIdentifier && !code.empty()) {
        sv.b = blind("identifier", "|" + code);
      } else {
        sv.b = std::move(code);
      }
      clause.any_of.push_back(std::move(sv));
    }
    out_.query.clauses.push_back(std::move(clause));
  }

  void reference(const std::string& key, const std::string& modifier, const ParamDef& def,
                 const std::vector<std::string_view>& items) {
    std::string type_modifier;
    if (!modifier.empty()) {
      if (!is_type_name(modifier)) {
        unsupported(key, "modifier ':" + modifier + "' is not supported");
        return;
      }
      if (!def.only.empty() && modifier != def.only) {
        fail(key, std::string(def.name) + " only refers to " + std::string(def.only));
        return;
      }
      type_modifier = modifier;
    }
    // Every value below names def.only when def has one, so the rows of the parameter def
    // restricts serve it as they are.
    const ParamDef* base = stored_as(def);
    SearchClause clause{
        std::string(base != nullptr ? base->name : def.name), IndexKind::kReference, {}};
    for (std::string_view raw : items) {
      const std::string item = unescape(raw);
      SearchValue sv;
      if (is_id(item)) {
        sv.a = !type_modifier.empty() ? type_modifier : std::string(def.only);
        sv.b = item;
      } else {
        auto ref = split_reference(item);
        if (!ref) {
          fail(key, "expected an id, Type/id or an absolute URL ending in Type/id");
          return;
        }
        if ((!type_modifier.empty() && ref->first != type_modifier) ||
            (!def.only.empty() && ref->first != def.only)) {
          fail(key, "reference type " + ref->first + " does not fit this parameter");
          return;
        }
        sv.a = std::move(ref->first);
        sv.b = std::move(ref->second);
      }
      clause.any_of.push_back(std::move(sv));
    }
    out_.query.clauses.push_back(std::move(clause));
  }

  void date(const std::string& key, const std::string& modifier, const ParamDef& def,
            const std::vector<std::string_view>& items) {
    if (!no_modifier(key, modifier)) return;
    SearchClause clause{std::string(def.name), IndexKind::kDate, {}};
    for (std::string_view item : items) {
      SearchValue sv;
      std::string_view v = item;
      if (!take_prefix(v, sv.prefix)) {
        fail(key, "unknown prefix '" + utf8_prefix(item, 2) + "'");
        return;
      }
      auto period = date_period(v);
      if (!period) {
        fail(key, period.error().message());
        return;
      }
      sv.lo = period->first;
      sv.hi = period->second;
      clause.any_of.push_back(std::move(sv));
    }
    out_.query.clauses.push_back(std::move(clause));
  }

  void person_name(const std::string& key, const std::string& modifier, const ParamDef& def,
                   const std::vector<std::string_view>& items) {
    if (!modifier.empty() && modifier != "exact") {  // blind matching is exact already
      unsupported(key, "modifier ':" + modifier + "' is not supported");
      return;
    }
    if (!blind_) {
      no_blinder_ = true;
      return;
    }
    std::vector<std::vector<Word>> values;
    for (std::string_view item : items) {
      std::vector<Word> words = words_of(unescape(item));
      if (words.empty()) {
        fail(key, "a name needs at least one letter or digit");
        return;
      }
      if (items.size() > 1 && words.size() > 1) {
        unsupported(key, "several words in one of a list of names are not supported");
        return;
      }
      values.push_back(std::move(words));
    }
    // A word of `name` is in the name rows (its text, and every part in rows written before
    // 2026-12) or in the family or given rows (see name_has_parts).
    std::vector<std::string_view> params = {def.name};
    if (def.name == "name" && name_has_parts(type_)) params = {"name", "family", "given"};
    auto add_word = [&](SearchClause& clause, const Word& w) {
      for (std::string_view param : params) {
        SearchValue sv;
        sv.a = blind(param, w.text);
        sv.exact = true;
        if (param != def.name) sv.param = std::string(param);
        clause.any_of.push_back(std::move(sv));
      }
    };
    if (values.size() == 1) {  // every word must match (AND)
      std::set<std::string> seen;
      for (const Word& w : values[0]) {
        if (!seen.insert(w.text).second) continue;
        SearchClause clause{std::string(def.name), IndexKind::kString, {}};
        add_word(clause, w);
        out_.query.clauses.push_back(std::move(clause));
      }
      return;
    }
    SearchClause clause{std::string(def.name), IndexKind::kString, {}};
    for (const auto& words : values) add_word(clause, words[0]);
    out_.query.clauses.push_back(std::move(clause));
  }

  void text(const std::string& key, const std::string& modifier, const ParamDef& def,
            const std::vector<std::string_view>& items) {
    if (!modifier.empty() && modifier != "exact") {
      unsupported(key, "modifier ':" + modifier + "' is not supported");
      return;
    }
    SearchClause clause{std::string(def.name), IndexKind::kString, {}};
    for (std::string_view item : items) {
      SearchValue sv;
      sv.a = normalised_text(unescape(item));
      sv.exact = modifier == "exact";
      if (sv.a.empty()) {
        fail(key, "a name needs at least one letter or digit");
        return;
      }
      clause.any_of.push_back(std::move(sv));
    }
    out_.query.clauses.push_back(std::move(clause));
  }

  std::string_view type_;
  const Blinder& blind_;
  ParsedSearch out_;
  std::vector<Problem> problems_;
  bool id_seen_ = false;
  bool no_blinder_ = false;
};

bool row_less(const IndexRow& x, const IndexRow& y) {
  return std::tie(x.param, x.kind, x.a, x.b, x.lo, x.hi) < std::tie(y.param, y.kind, y.a, y.b, y.lo, y.hi);
}
bool row_equal(const IndexRow& x, const IndexRow& y) {
  return std::tie(x.param, x.kind, x.a, x.b, x.lo, x.hi) == std::tie(y.param, y.kind, y.a, y.b, y.lo, y.hi);
}

std::string describe(const ParamDef& d) {
  std::string out;
  for (std::string_view p : d.paths) {
    if (!out.empty()) out += " | ";
    out += std::string(d.type) + "." + std::string(p);
    if (!d.only.empty()) out += ".where(resolve() is " + std::string(d.only) + ")";
  }
  return out;
}

}  // namespace

const std::vector<std::string>& stored_resource_types() {
  static const std::vector<std::string> types = {
      "Patient",          "Practitioner",      "PractitionerRole",   "Organization",
      "Location",         "Encounter",         "Condition",          "Observation",
      "DiagnosticReport", "MedicationRequest", "AllergyIntolerance", "Immunization",
      "Procedure",        "DocumentReference", "ServiceRequest",     "Appointment",
      "AuditEvent"};
  return types;
}

bool is_stored_type(std::string_view type) {
  const auto& types = stored_resource_types();
  return std::find(types.begin(), types.end(), type) != types.end();
}

const std::vector<SearchParamInfo>& search_params_for(std::string_view type) {
  static const std::map<std::string, std::vector<SearchParamInfo>, std::less<>> by_type = [] {
    std::map<std::string, std::vector<SearchParamInfo>, std::less<>> m;
    for (const std::string& t : stored_resource_types()) m[t];
    for (const ParamDef& d : param_table()) {
      m[std::string(d.type)].push_back(SearchParamInfo{std::string(d.name), fhir_type_of(d.kind), describe(d)});
    }
    return m;
  }();
  static const std::vector<SearchParamInfo> none;
  auto it = by_type.find(type);
  return it == by_type.end() ? none : it->second;
}

std::vector<store::IndexRow> extract_index(const Json& resource, const Blinder& blind) {
  std::vector<IndexRow> rows;
  try {
    const std::string type = string_at(resource, "resourceType");
    if (type.empty()) return rows;
    Extractor ex(blind, rows);
    std::vector<const Json*> nodes;
    for (const ParamDef& def : param_table()) {
      if (def.type != type || stored_as(def) != nullptr) continue;
      for (std::string_view path : def.paths) {
        nodes.clear();
        collect(resource, path, nodes);
        for (const Json* n : nodes) ex.add(def, *n);
      }
    }
  } catch (const std::exception&) {
    // nlohmann or the Blinder threw: keep what was extracted (callers validate resources first).
  }
  std::sort(rows.begin(), rows.end(), row_less);
  rows.erase(std::unique(rows.begin(), rows.end(), row_equal), rows.end());
  return rows;
}

std::optional<std::string> patient_compartment(const Json& resource) {
  try {
    const std::string type = string_at(resource, "resourceType");
    if (type == "Patient") {
      std::string id = string_at(resource, "id");
      if (is_id(id)) return id;
      return std::nullopt;
    }
    std::vector<const Json*> nodes;
    for (std::string_view path : compartment_paths(type)) {
      nodes.clear();
      collect(resource, path, nodes);
      for (const Json* n : nodes) {
        // Only relative literal references: an absolute URL may name another server's Patient,
        // and the compartment is an access boundary.
        const std::string ref = string_at(*n, "reference");
        if (ref.rfind("Patient/", 0) != 0) continue;
        auto split_ref = split_reference(ref);
        if (split_ref && split_ref->first == "Patient") return split_ref->second;
      }
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

Result<ParsedSearch> parse_search(std::string_view type,
                                  const std::vector<std::pair<std::string, std::string>>& params,
                                  const Blinder& blind) {
  if (!is_stored_type(type)) {
    return Status(Code::kNotFound,
                  "resource type '" + utf8_prefix(type, 80) + "' is not served here");
  }
  try {
    QueryParser parser(type, blind);
    for (const auto& [key, value] : params) parser.param(key, value);
    return parser.finish();
  } catch (const std::exception& e) {
    return internal(std::string("search parsing failed: ") + e.what());
  }
}

}  // namespace hb::fhir
