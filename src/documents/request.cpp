#include "documents/request.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

#include "fhir/calendar.h"

namespace hb::documents {
namespace {

constexpr std::array<Kind, 8> kAllKinds = {{
    {"mc-outpatient", "Medical certificate: outpatient sick leave", Family::kLeave, true, false},
    {"mc-hospitalisation", "Medical certificate: hospitalisation leave", Family::kLeave, true, false},
    {"mc-maternity", "Medical certificate: maternity leave", Family::kLeave, true, false},
    {"time-chit", "Time chit", Family::kLeave, true, true},
    {"discharge-summary", "Discharge summary", Family::kDischarge, false, false},
    {"lab-result", "Laboratory results", Family::kLab, false, false},
    {"vaccination", "Vaccination record", Family::kVaccination, false, false},
    {"referral", "Referral letter", Family::kReferral, false, false},
}};

const Kind* find_kind_in(std::string_view code) {
  for (const auto& k : kAllKinds) {
    if (code == k.code) return &k;
  }
  return nullptr;
}

}  // namespace

bool valid_date(std::string_view s, int64_t* days) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  int y = std::stoi(std::string(s.substr(0, 4)));
  int m = std::stoi(std::string(s.substr(5, 2)));
  int d = std::stoi(std::string(s.substr(8, 2)));
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  if (d > fhir::days_in_month(y, m)) return false;
  if (days) {
    // Days from civil (proleptic Gregorian).
    int yy = m <= 2 ? y - 1 : y;
    int era = yy / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  }
  return true;
}

// YYYY-MM-DDThh:mm[:ss](Z|+hh:mm|-hh:mm).
bool valid_datetime(std::string_view s) {
  if (s.size() < 17 || s[10] != 'T' || !valid_date(s.substr(0, 10))) return false;
  auto two = [&](size_t i, int max) {
    return i + 2 <= s.size() && std::isdigit(static_cast<unsigned char>(s[i])) &&
           std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
           (s[i] - '0') * 10 + (s[i + 1] - '0') <= max;
  };
  if (!two(11, 23) || s[13] != ':' || !two(14, 59)) return false;
  size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!two(i + 1, 59)) return false;
    i += 3;
  }
  if (i < s.size() && s[i] == 'Z') return i + 1 == s.size();
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    return i + 6 == s.size() && two(i + 1, 14) && s[i + 3] == ':' && two(i + 4, 59);
  }
  return false;
}

bool valid_e164(std::string_view s) {
  if (s.size() < 9 || s.size() > 16 || s[0] != '+' || s[1] == '0') return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

namespace {

bool valid_ref(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

// A national id or insurance number goes into FHIR token searches (system|value, comma for "or",
// backslash to escape, $ for composites) and, with its system, into the patient's blind index:
// letters, digits, '-', '.', '/' and single spaces between them keep it one unambiguous token.
bool valid_identifier(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ' ' && s[i - 1] == ' ') return false;
    const bool ascii_alnum =
        (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ascii_alnum && c != '-' && c != '.' && c != '/' && c != ' ') return false;
  }
  return true;
}

// Limits are stated in characters: a Vietnamese name takes more bytes than letters. The text is
// valid UTF-8 (the JSON parser checked), so counting the bytes that start a character is enough.
std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The first character of s that a reader of the page or the card would not see as written: a
// control character (tab and line breaks aside), a bidirectional override or isolate that reorders
// the text around it ("Nguyễn\u202eyrneH" shows as "NguyễnHenry"), or an invisible one. ZWNJ and
// ZWJ (U+200C, U+200D) stay: Persian, Indic scripts and emoji need them. 0 when there is none;
// *why says what it is.
char32_t hidden_character(std::string_view s, const char** why) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    i += n;
    if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || (cp >= 0x7F && cp <= 0x9F)) {
      *why = "a control character";
      return cp;
    }
    if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
      *why = "a text-direction control that reorders the text around it";
      return cp;
    }
    if (cp == 0x200B || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF) {
      *why = "an invisible character";
      return cp;
    }
  }
  return 0;
}

std::string code_point_name(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// Seconds since 1970 of a date-time that valid_datetime accepted (its offset applied).
int64_t instant_of(std::string_view s) {
  int64_t days = 0;
  valid_date(s.substr(0, 10), &days);
  auto two = [&](std::size_t i) { return (s[i] - '0') * 10 + (s[i + 1] - '0'); };
  int64_t t = days * 86400 + two(11) * 3600 + two(14) * 60;
  std::size_t i = 16;
  if (s[i] == ':') t += two(i + 1), i += 3;
  if (s[i] == '+' || s[i] == '-') {
    const int64_t offset = two(i + 1) * 3600 + two(i + 4) * 60;
    t += s[i] == '+' ? -offset : offset;
  }
  return t;
}

// The request's dates against the time it arrived and the patient's birth.
struct Timeline {
  int64_t now = 0;         // seconds since 1970
  bool has_birth = false;  // the birth date is valid
  int64_t birth = 0;       // days since 1970
  // One day of allowance beyond now: a date has no time zone (east of UTC it is tomorrow for
  // hours), and a date-time sent in local time but marked Z is hours ahead. What is refused is the
  // date that cannot be right (2099), not the clinic whose clock or offset is off.
  bool future_day(int64_t days) const { return days > now / 86400 + 1; }
  bool future_instant(int64_t seconds) const { return seconds > now + 86400; }
  bool before_birth(int64_t days) const { return has_birth && days < birth; }
};

std::string member_path(const std::string& prefix, const std::string& key) {
  const std::string k = key.empty() ? std::string("\"\"") : key;
  return prefix.empty() ? k : prefix + "." + k;
}

// Refuses the members of o that are not in `known`, as the top level does: a member the sender
// thinks is on the document but that is dropped (a misspelt "registation") is worse than an error.
template <typename Bad>
void only_members(const Json& o, const std::string& path,
                  std::initializer_list<std::string_view> known, Bad& bad) {
  if (!o.is_object()) return;
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      bad(member_path(path, it.key()), "unknown member");
    }
  }
}

bool is_number_value(const Json& v) { return v.is_number() || is_decimal_text(v); }
double number_of(const Json& v) {
  if (is_decimal_text(v)) return std::strtod(std::string(decimal_text(v)).c_str(), nullptr);
  return v.is_number() ? v.get<double>() : 0;
}

// The content of the kinds other than leave certificates, as FHIR resources (with "subject" or
// "patient" left for the bundle to fill).
template <typename Bad, typename Str>
void parse_kind_content(const Json& j, Request& r, const Timeline& when, Bad& bad, Str& str) {
  const Json empty = Json::object();
  auto coding = [&](const Json& o, const std::string& path) -> Json {
    if (!o.is_object()) {
      bad(path, "required: an object with system and code");
      return Json();
    }
    only_members(o, path, {"system", "code", "display"}, bad);
    std::string system = str(o, "system", path + ".system", true, 200);
    std::string code = str(o, "code", path + ".code", true, 64);
    std::string display = str(o, "display", path + ".display", false, 200);
    Json c = {{"system", system}, {"code", code}};
    if (!display.empty()) c["display"] = display;
    return c;
  };
  switch (r.kind->family) {
    case Family::kLeave:
      return;
    case Family::kDischarge: {
      const Json& a = j.contains("admission") && j["admission"].is_object() ? j["admission"] : empty;
      if (!j.contains("admission") || !j["admission"].is_object()) bad("admission", "required: an object with from and to");
      only_members(a, "admission", {"from", "to"}, bad);
      r.from = str(a, "from", "admission.from", true);
      r.to = str(a, "to", "admission.to", true);
      int64_t x = 0, y = 0;
      if (!r.from.empty() && !valid_date(r.from, &x)) bad("admission.from", "must be a date, YYYY-MM-DD");
      if (!r.to.empty() && !valid_date(r.to, &y)) bad("admission.to", "must be a date, YYYY-MM-DD");
      if (x && y && y < x) bad("admission.to", "is before admission.from");
      if (!r.from.empty() && valid_date(r.from) && when.before_birth(x)) {
        bad("admission.from", "is before the patient's birth date");
      }
      r.summary = str(j, "summary", "summary", true, 4000);
      r.details = {{"admission", {{"from", r.from}, {"to", r.to}}}, {"summary", r.summary}};
      return;
    }
    case Family::kLab: {
      auto it = j.find("results");
      if (it == j.end() || !it->is_array() || it->empty() || it->size() > 20) {
        bad("results", "required: 1 to 20 results");
        return;
      }
      r.details = {{"results", Json::array()}};
      for (size_t i = 0; i < it->size(); ++i) {
        const std::string path = "results[" + std::to_string(i) + "]";
        const Json& x = (*it)[i];
        if (!x.is_object()) {
          bad(path, "must be an object");
          continue;
        }
        only_members(x, path, {"code", "value", "text", "unit", "low", "high", "effective"}, bad);
        Json code = coding(x.contains("code") ? x["code"] : Json(), path + ".code");
        std::string unit = str(x, "unit", path + ".unit", false, 40);
        std::string effective = str(x, "effective", path + ".effective", true);
        if (!effective.empty()) {
          // A date-time's own calendar date is compared with the birth date: both are local dates.
          int64_t day = 0;
          const bool is_datetime = valid_datetime(effective);
          if (!is_datetime && !valid_date(effective, &day)) {
            bad(path + ".effective", "must be a date or a date-time with its offset");
          } else {
            if (is_datetime) valid_date(std::string_view(effective).substr(0, 10), &day);
            if (is_datetime ? when.future_instant(instant_of(effective)) : when.future_day(day)) {
              bad(path + ".effective", "is in the future");
            } else if (when.before_birth(day)) {
              bad(path + ".effective", "is before the patient's birth date");
            }
          }
        }
        Json obs = {{"resourceType", "Observation"},
                    {"status", "final"},
                    {"category", Json::array({{{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/observation-category"},
                                                                       {"code", "laboratory"}}})}}})},
                    {"code", {{"coding", Json::array({code})}}},
                    {"effectiveDateTime", effective}};
        Json shown = {{"name", code.is_object() ? code.value("display", code.value("code", "")) : ""},
                      {"effective", effective}};
        auto v = x.find("value");
        if (v != x.end() && is_number_value(*v)) {
          Json q = {{"value", *v}};
          if (!unit.empty()) q["unit"] = unit;
          obs["valueQuantity"] = q;
          shown["value"] = *v;
          if (!unit.empty()) shown["unit"] = unit;
          Json range = Json::object();
          for (const char* bound : {"low", "high"}) {
            if (auto b = x.find(bound); b != x.end()) {
              if (!is_number_value(*b)) {
                bad(path + "." + bound, "must be a number");
                continue;
              }
              Json bq = {{"value", *b}};
              if (!unit.empty()) bq["unit"] = unit;
              range[bound] = bq;
              shown[bound] = *b;
            }
          }
          if (range.contains("low") && range.contains("high") &&
              number_of(range["low"]["value"]) > number_of(range["high"]["value"])) {
            bad(path + ".low", "is above " + path + ".high");
          }
          if (!range.empty()) {
            obs["referenceRange"] = Json::array({range});
            // The flag a reader looks for first: below, above or within the reference range.
            double val = number_of(*v);
            const char* flag = "N";
            if (range.contains("low") && val < number_of(range["low"]["value"])) flag = "L";
            if (range.contains("high") && val > number_of(range["high"]["value"])) flag = "H";
            obs["interpretation"] = Json::array({{{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"},
                                                                           {"code", flag}}})}}});
            shown["flag"] = flag;
          }
        } else if (auto t = x.find("text"); t != x.end() && t->is_string() && !t->get_ref<const std::string&>().empty()) {
          std::string text = str(x, "text", path + ".text", true, 200);
          obs["valueString"] = text;
          shown["value"] = text;
        } else {
          bad(path, "needs a numeric value (with optional unit, low, high) or a text");
        }
        r.clinical.push_back(std::move(obs));
        r.details["results"].push_back(std::move(shown));
      }
      return;
    }
    case Family::kVaccination: {
      Json code = coding(j.contains("vaccine") ? j["vaccine"] : Json(), "vaccine");
      std::string date = str(j, "date", "date", true);
      int64_t day = 0;
      if (!date.empty() && !valid_date(date, &day)) {
        bad("date", "must be a date, YYYY-MM-DD");
      } else if (!date.empty() && when.future_day(day)) {
        bad("date", "is in the future");
      } else if (!date.empty() && when.before_birth(day)) {
        bad("date", "is before the patient's birth date");
      }
      Json imm = {{"resourceType", "Immunization"},
                  {"status", "completed"},
                  {"vaccineCode", {{"coding", Json::array({code})}}},
                  {"occurrenceDateTime", date}};
      r.details = {{"vaccine", code.is_object() ? code.value("display", code.value("code", "")) : ""}, {"date", date}};
      if (auto lot = j.find("lotNumber"); lot != j.end()) {
        std::string l = str(j, "lotNumber", "lotNumber", false, 64);
        if (!l.empty()) imm["lotNumber"] = l, r.details["lotNumber"] = l;
      }
      if (auto dose = j.find("doseNumber"); dose != j.end()) {
        if (!dose->is_number_integer() || dose->get<int64_t>() < 1 || dose->get<int64_t>() > 20) {
          bad("doseNumber", "must be a whole number from 1 to 20");
        } else {
          imm["protocolApplied"] = Json::array({{{"doseNumberPositiveInt", dose->get<int64_t>()}}});
          r.details["doseNumber"] = *dose;
        }
      }
      r.clinical.push_back(std::move(imm));
      return;
    }
    case Family::kReferral: {
      const Json& f = j.contains("referral") && j["referral"].is_object() ? j["referral"] : empty;
      if (!j.contains("referral") || !j["referral"].is_object()) bad("referral", "required: an object with to and reason");
      only_members(f, "referral", {"to", "reason", "priority"}, bad);
      std::string to = str(f, "to", "referral.to", true, 200);
      std::string reason = str(f, "reason", "referral.reason", true, 1000);
      std::string priority = str(f, "priority", "referral.priority", false, 10);
      if (priority.empty()) priority = "routine";
      if (priority != "routine" && priority != "urgent" && priority != "asap" && priority != "stat") {
        bad("referral.priority", "must be routine, urgent, asap or stat");
      }
      r.clinical.push_back({{"resourceType", "ServiceRequest"},
                            {"status", "active"},
                            {"intent", "order"},
                            {"priority", priority},
                            {"code", {{"coding", Json::array({{{"system", kKindSystem}, {"code", "referral"}}})}}},
                            {"performer", Json::array({{{"display", to}}})},
                            {"note", Json::array({{{"text", reason}}})}});
      r.details = {{"to", to}, {"reason", reason}, {"priority", priority}};
      return;
    }
  }
}

}  // namespace

Result<Request> parse_document_request(const Json& j, Time now) {
  std::vector<Problem> problems;
  auto bad = [&](std::string path, std::string msg) { problems.push_back({std::move(path), std::move(msg), "invalid"}); };
  if (!j.is_object()) return invalid("the request must be a JSON object");
  auto str = [&](const Json& o, const char* key, const std::string& path, bool required,
                 std::size_t max = 200) -> std::string {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) {
      if (required) bad(path, "required");
      return {};
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      bad(path, "must be a non-empty string");
      return {};
    }
    const auto& v = it->get_ref<const std::string&>();
    if (code_points(v) > max) bad(path, "longer than " + std::to_string(max) + " characters");
    // Every member is checked, codes too: what is shown on the page or the card must read as sent.
    const char* why = nullptr;
    if (char32_t hidden = hidden_character(v, &why)) {
      bad(path, "contains " + code_point_name(hidden) + ", " + why + "; remove it");
    }
    return v;
  };
  only_members(
      j, "",
      {"documentId", "kind", "patient", "doctor", "leave", "diagnosis", "replaces", "admission",
       "summary", "results", "vaccine", "referral", "date", "lotNumber", "doseNumber"},
      bad);
  Request r;
  r.ref = str(j, "documentId", "documentId", true, 64);
  if (!r.ref.empty() && !valid_ref(r.ref)) bad("documentId", "use letters, digits, '-', '.' and '_' only");
  r.kind_code = str(j, "kind", "kind", true);
  r.kind = find_kind(r.kind_code);
  if (!r.kind_code.empty() && !r.kind) {
    std::string list;
    for (const auto& k : kAllKinds) list += (list.empty() ? "" : ", ") + std::string(k.code);
    bad("kind", "\"" + r.kind_code + "\" is not a kind this server issues (" + list + ")");
  }
  if (r.kind) {
    // The content of the other kinds would be dropped, and the sender think it on the document.
    // null is "not given", as for every member.
    struct Owner {
      const char* member;
      Family family;
    };
    static constexpr std::array<Owner, 9> kOwners = {{{"leave", Family::kLeave},
                                                      {"admission", Family::kDischarge},
                                                      {"summary", Family::kDischarge},
                                                      {"results", Family::kLab},
                                                      {"vaccine", Family::kVaccination},
                                                      {"date", Family::kVaccination},
                                                      {"lotNumber", Family::kVaccination},
                                                      {"doseNumber", Family::kVaccination},
                                                      {"referral", Family::kReferral}}};
    for (const Owner& o : kOwners) {
      auto it = j.find(o.member);
      if (it != j.end() && !it->is_null() && o.family != r.kind->family) {
        bad(o.member, std::string("not used by kind ") + r.kind->code);
      }
    }
  }
  const Json empty = Json::object();
  const Json& p = j.contains("patient") && j["patient"].is_object() ? j["patient"] : empty;
  if (!j.contains("patient") || !j["patient"].is_object()) bad("patient", "required: an object");
  only_members(p, "patient",
               {"nationalId", "insuranceNumber", "family", "given", "birthDate", "phone"}, bad);
  r.national_id = str(p, "nationalId", "patient.nationalId", false, 64);
  r.insurance = str(p, "insuranceNumber", "patient.insuranceNumber", false, 64);
  constexpr const char* kIdChars =
      "use letters A-Z, digits, '-', '.', '/' and single spaces between them only";
  if (!r.national_id.empty() && !valid_identifier(r.national_id)) {
    bad("patient.nationalId", kIdChars);
  }
  if (!r.insurance.empty() && !valid_identifier(r.insurance)) {
    bad("patient.insuranceNumber", kIdChars);
  }
  if (r.national_id.empty() && r.insurance.empty()) {
    bad("patient", "needs nationalId or insuranceNumber (or both)");
  }
  r.family = str(p, "family", "patient.family", true, 100);
  r.given = str(p, "given", "patient.given", true, 100);
  r.birth_date = str(p, "birthDate", "patient.birthDate", true);
  Timeline when;
  when.now = unix_seconds(now);
  int64_t birth_days = 0;
  if (!r.birth_date.empty()) {
    if (!valid_date(r.birth_date, &birth_days)) {
      bad("patient.birthDate", "must be a date, YYYY-MM-DD");
    } else if (birth_days > unix_seconds(now) / 86400) {
      bad("patient.birthDate", "is in the future");
    } else {
      when.has_birth = true;
      when.birth = birth_days;
    }
  }
  r.phone = str(p, "phone", "patient.phone", true, 16);
  if (!r.phone.empty() && !valid_e164(r.phone)) bad("patient.phone", "must be an E.164 number, e.g. +6591234567");
  const Json& d = j.contains("doctor") && j["doctor"].is_object() ? j["doctor"] : empty;
  if (!j.contains("doctor") || !j["doctor"].is_object()) bad("doctor", "required: an object");
  only_members(d, "doctor", {"name", "registration"}, bad);
  r.doctor = str(d, "name", "doctor.name", true, 100);
  r.doctor_registration = str(d, "registration", "doctor.registration", false, 64);
  if (r.kind && r.kind->leave) {
    const Json& l = j.contains("leave") && j["leave"].is_object() ? j["leave"] : empty;
    if (!j.contains("leave") || !j["leave"].is_object()) bad("leave", "required: an object with from and to");
    only_members(l, "leave", {"from", "to"}, bad);
    r.from = str(l, "from", "leave.from", true);
    r.to = str(l, "to", "leave.to", true);
    auto ok = [&](const std::string& v) { return r.kind->datetimes ? valid_datetime(v) : valid_date(v); };
    const char* form = r.kind->datetimes ? "a date-time with its offset, e.g. 2026-11-20T09:00:00+08:00"
                                         : "a date, YYYY-MM-DD";
    bool good = true;
    if (!r.from.empty() && !ok(r.from)) bad("leave.from", std::string("must be ") + form), good = false;
    if (!r.to.empty() && !ok(r.to)) bad("leave.to", std::string("must be ") + form), good = false;
    if (good && !r.from.empty() && !r.to.empty()) {
      // A time chit covers the hours of one visit; a certificate, days of leave. Compared as
      // instants, so 09:00+07:00 to 09:30+08:00 is correctly a chit that ends before it starts.
      int64_t a = 0, b = 0;
      if (r.kind->datetimes) {
        a = instant_of(r.from);
        b = instant_of(r.to);
      } else {
        valid_date(r.from, &a);
        valid_date(r.to, &b);
      }
      if (b < a) bad("leave.to", "is before leave.from");
      if (r.kind->datetimes && b - a > 24 * 3600) {
        bad("leave", "longer than 24 hours: a time chit covers one visit");
      }
      if (!r.kind->datetimes && b - a > 365) bad("leave", "longer than a year");
    }
    // Leave may start in the future (a certificate for planned surgery), but not before birth.
    for (const auto& [value, path] :
         {std::pair{&r.from, "leave.from"}, std::pair{&r.to, "leave.to"}}) {
      int64_t day = 0;
      if (good && !value->empty() && valid_date(std::string_view(*value).substr(0, 10), &day) &&
          when.before_birth(day)) {
        bad(path, "is before the patient's birth date");
      }
    }
  }
  if (auto dg = j.find("diagnosis"); dg != j.end() && !dg->is_null()) {
    if (!dg->is_object()) {
      bad("diagnosis", "must be an object");
    } else {
      only_members(*dg, "diagnosis", {"text", "code", "system"}, bad);
      std::string text = str(*dg, "text", "diagnosis.text", true, 500);
      std::string code = str(*dg, "code", "diagnosis.code", false, 64);
      std::string system = str(*dg, "system", "diagnosis.system", false, 200);
      r.diagnosis = {{"text", text}};
      if (!code.empty()) r.diagnosis["code"] = code;
      if (!system.empty()) r.diagnosis["system"] = system;
    }
  }
  if (r.kind) parse_kind_content(j, r, when, bad, str);
  r.replaces = str(j, "replaces", "replaces", false, 64);
  if (!r.replaces.empty() && r.replaces == r.ref) bad("replaces", "a document cannot replace itself");
  if (!problems.empty()) {
    return Status(Code::kUnprocessable, "the document request is not valid", std::move(problems));
  }
  return r;
}


const Kind* find_kind(std::string_view code) { return find_kind_in(code); }

// A birth date as people type it: 1990-04-12, 12/04/1990, 12-04-1990, 12.04.1990 or 12041990
// (day first, as in Vietnam and Singapore). Empty when it is none of these.
std::string normalise_birth_date(std::string_view in) {
  std::string s;
  for (char c : in) {
    if (c != ' ') s.push_back(c);
  }
  auto digits = [](std::string_view p) {
    return !p.empty() && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::string out;
  if (s.size() == 8 && digits(s)) {
    out = s.substr(4, 4) + "-" + s.substr(2, 2) + "-" + s.substr(0, 2);
  } else if (!s.empty()) {
    // Three numbers with one separator, the same both times: year first, or day first.
    const size_t first = s.find_first_not_of("0123456789");
    if (first == std::string::npos) return {};
    const char sep = s[first];
    if (sep != '-' && sep != '/' && sep != '.') return {};
    const size_t a = s.find(sep);
    const size_t b = s.find(sep, a + 1);
    if (b == std::string::npos || s.find(sep, b + 1) != std::string::npos) return {};
    std::string_view p1 = std::string_view(s).substr(0, a);
    std::string_view p2 = std::string_view(s).substr(a + 1, b - a - 1);
    std::string_view p3 = std::string_view(s).substr(b + 1);
    if (!digits(p1) || !digits(p2) || !digits(p3)) return {};
    auto two = [](std::string_view p) { return p.size() == 1 ? "0" + std::string(p) : std::string(p); };
    if (p1.size() == 4 && p2.size() <= 2 && p3.size() <= 2) {
      out = std::string(p1) + "-" + two(p2) + "-" + two(p3);
    } else if (p3.size() == 4 && p1.size() <= 2 && p2.size() <= 2) {
      out = std::string(p3) + "-" + two(p2) + "-" + two(p1);
    }
  }
  return valid_date(out) ? out : std::string();
}

Result<std::string> parse_revocation(const Json& j) {
  std::vector<Problem> problems;
  auto bad = [&](std::string path, std::string msg) {
    problems.push_back({std::move(path), std::move(msg), "invalid"});
  };
  if (!j.is_object()) {
    return Status(Code::kUnprocessable, "a revocation is a JSON object {\"reason\": \"...\"}",
                  {{"", "must be an object", "structure"}});
  }
  only_members(j, "", {"reason"}, bad);
  std::string reason;
  auto it = j.find("reason");
  if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    problems.push_back({"reason", "required: a string of 1 to 200 characters", "required"});
  } else {
    reason = it->get<std::string>();
    if (code_points(reason) > 200) bad("reason", "longer than 200 characters");
    const char* why = nullptr;
    if (char32_t hidden = hidden_character(reason, &why)) {
      bad("reason", "contains " + code_point_name(hidden) + ", " + why + "; remove it");
    }
  }
  if (!problems.empty()) {
    return Status(Code::kUnprocessable, "a revocation needs a reason", std::move(problems));
  }
  return reason;
}

Result<std::vector<Json>> take_batch_requests(Json& batch) {
  if (!batch.is_object()) {
    return Status(Code::kInvalid, "a batch is a JSON object {\"documents\": [...]}",
                  {{"", "must be an object", "structure"}});
  }
  for (const auto& [key, value] : batch.items()) {
    if (key != "documents") {
      return Status(Code::kInvalid, "unknown member \"" + key + "\" in the batch",
                    {{key, "not a member of a batch (only \"documents\")", "structure"}});
    }
  }
  auto list = batch.find("documents");
  if (list == batch.end() || !list->is_array() || list->empty()) {
    return Status(Code::kInvalid, "a batch needs \"documents\": an array of document requests",
                  {{"documents", "must be a non-empty array", "required"}});
  }
  if (list->size() > kMaxBatch) {
    return Status(
        Code::kTooLarge,
        "a batch holds at most " + std::to_string(kMaxBatch) + " documents, this one " +
            std::to_string(list->size()),
        {{"documents", "more than " + std::to_string(kMaxBatch) + " requests", "too-costly"}});
  }
  std::vector<Json> out;
  out.reserve(list->size());
  for (auto& request : *list) out.push_back(std::move(request));
  return out;
}

}  // namespace hb::documents
