// Structural validation of FHIR R4 JSON against the generated model (model.h).
//
// One pass over the JSON tree. Paths are never built while the input is fine: each level of the
// walk holds a PathSeg on the stack (parent pointer, key, array index), and the FHIRPath-like
// string is assembled only when a problem is reported. Element presence per object is tracked in
// two 64-bit masks (values and "_field" primitive extensions), which gives required-element and
// choice-type checks without allocating.
#include "fhir/validate.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

#include "fhir/calendar.h"
#include "fhir/model.h"

namespace hb::fhir {
namespace {

using model::ElemDef;
using model::KeyDef;
using model::Kind;
using model::Prim;
using model::TypeDef;

constexpr std::size_t kMaxProblems = 100;             // the last slot says that more were found
constexpr int kMaxDepth = 128;                        // object nesting, against hostile Json trees
constexpr std::size_t kMaxStringBytes = 1024 * 1024;  // FHIR string/markdown: at most 1 MiB

constexpr const char* kStructure = "structure";
constexpr const char* kRequired = "required";
constexpr const char* kValue = "value";
constexpr const char* kInvalidIssue = "invalid";

// ---- paths ----------------------------------------------------------------------------------

struct PathSeg {
  const PathSeg* parent;
  std::string_view name;
  std::ptrdiff_t index;  // -1: not an array item
};

void append_path(std::string& out, const PathSeg* seg) {
  if (seg == nullptr) return;
  append_path(out, seg->parent);
  if (seg->parent != nullptr) out += '.';
  out.append(seg->name);
  if (seg->index >= 0) {
    out += '[';
    out += std::to_string(seg->index);
    out += ']';
  }
}

std::string path_string(const PathSeg* seg) {
  std::string out;
  append_path(out, seg);
  return out;
}

// ---- primitive formats ------------------------------------------------------------------------
// Hand-written matchers for the R4 regular expressions (std::regex is slow and recursive).

// Character classes, one table lookup per byte; loops over long strings (base64 attachments,
// narratives) OR the classes together instead of branching per character.
enum : std::uint8_t {
  kWs = 1,         // \s: space, \t, \n, \r, \f, \v
  kCtrl = 2,       // below 0x20 and not \t, \n, \r: not allowed in a FHIR string
  kNotB64 = 4,     // neither the base64 alphabet, "=" nor whitespace
  kNotIdChar = 8,  // not [A-Za-z0-9\-\.]
};

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    std::uint8_t v = 0;
    if (ws) v |= kWs;
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') v |= kCtrl;
    if (!(alnum || c == '+' || c == '/' || c == '=' || ws)) v |= kNotB64;
    if (!(alnum || c == '-' || c == '.')) v |= kNotIdChar;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> kClasses = make_classes();

std::uint8_t cls(char c) { return kClasses[static_cast<unsigned char>(c)]; }
bool is_ws(char c) { return (cls(c) & kWs) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The union of the classes of all bytes of s.
std::uint8_t classes_of(std::string_view s) {
  std::uint8_t acc = 0;
  for (char c : s) acc |= cls(c);
  return acc;
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ == s_.size(); }
  bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++i_;
    return true;
  }
  // Exactly n digits as a number, or -1.
  int number(int n) {
    if (s_.size() - i_ < static_cast<std::size_t>(n)) return -1;
    int v = 0;
    for (int k = 0; k < n; ++k) {
      char c = s_[i_ + k];
      if (!is_digit(c)) return -1;
      v = v * 10 + (c - '0');
    }
    i_ += n;
    return v;
  }
  bool digits1() {  // [0-9]+
    std::size_t start = i_;
    while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    return i_ > start;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

// hh:mm:ss(.f+)?
bool match_time(Cursor& c) {
  int h = c.number(2);
  if (h < 0 || h > 23 || !c.eat(':')) return false;
  int mi = c.number(2);
  if (mi < 0 || mi > 59 || !c.eat(':')) return false;
  int s = c.number(2);
  if (s < 0 || s > 60) return false;
  if (c.eat('.') && !c.digits1()) return false;
  return true;
}

// Z | (+|-)((0[0-9]|1[0-3]):[0-5][0-9] | 14:00)
bool match_zone(Cursor& c) {
  if (c.eat('Z')) return true;
  if (!c.eat('+') && !c.eat('-')) return false;
  int h = c.number(2);
  if (h < 0 || h > 14 || !c.eat(':')) return false;
  int m = c.number(2);
  if (m < 0 || m > 59) return false;
  return h < 14 || m == 0;
}

// YYYY(-MM(-DD(Thh:mm:ss(.f)?zone)?)?)?; `need` is how much must be present (1 year .. 4 time).
bool match_date_time(std::string_view s, int need, bool allow_time) {
  Cursor c(s);
  int y = c.number(4);
  if (y <= 0) return false;  // year 0000 is not allowed
  int parts = 1;
  if (c.eat('-')) {
    int m = c.number(2);
    if (m < 1 || m > 12) return false;
    ++parts;
    if (c.eat('-')) {
      int d = c.number(2);
      if (d < 1 || d > days_in_month(y, m)) return false;
      ++parts;
      if (allow_time && c.eat('T')) {
        if (!match_time(c) || !match_zone(c)) return false;
        ++parts;
      }
    }
  }
  return parts >= need && c.done();
}

bool valid_time(std::string_view s) {
  Cursor c(s);
  return match_time(c) && c.done();
}

bool valid_id(std::string_view s) {
  return !s.empty() && s.size() <= 64 && (classes_of(s) & kNotIdChar) == 0;
}

// [^\s]+(\s[^\s]+)*
bool valid_code(std::string_view s) {
  if (s.empty() || is_ws(s.front()) || is_ws(s.back())) return false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (is_ws(s[i]) && is_ws(s[i - 1])) return false;
  }
  return true;
}

bool no_whitespace(std::string_view s) { return (classes_of(s) & kWs) == 0; }

// Tab, CR and LF are the only control characters a FHIR string may hold.
bool valid_string_chars(std::string_view s) { return (classes_of(s) & kCtrl) == 0; }

// urn:oid:[0-2](\.(0|[1-9][0-9]*))+
bool valid_oid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:oid:";
  if (s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  if (s.size() < 3 || s[0] < '0' || s[0] > '2') return false;
  std::size_t i = 1;
  int arcs = 0;
  while (i < s.size()) {
    if (s[i] != '.') return false;
    ++i;
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start || (s[start] == '0' && i - start > 1)) return false;
    ++arcs;
  }
  return arcs >= 1;
}

// urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}
bool valid_uuid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.size() != kPrefix.size() + 36 || s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
      return false;
    }
  }
  return true;
}

// Standard base64 (RFC 4648 alphabet), whitespace ignored, "=" padding (at most 2) only at the end.
bool valid_base64(std::string_view s) {
  std::uint8_t acc = 0;
  std::size_t ws = 0;
  for (char c : s) {
    std::uint8_t k = cls(c);
    acc |= k;
    ws += k & kWs;
  }
  if ((acc & kNotB64) != 0) return false;
  std::size_t n = s.size() - ws;  // alphabet characters and padding
  if (n == 0 || n % 4 != 0) return false;
  std::size_t first_pad = s.find('=');
  if (first_pad == std::string_view::npos) return true;
  std::size_t pad = 0;
  for (char c : s.substr(first_pad)) {
    if (c == '=') {
      ++pad;
    } else if (!is_ws(c)) {
      return false;
    }
  }
  return pad <= 2;
}

const char* prim_name(Prim p) {
  switch (p) {
    case Prim::kBoolean:
      return "boolean";
    case Prim::kInteger:
      return "integer";
    case Prim::kString:
      return "string";
    case Prim::kDecimal:
      return "decimal";
    case Prim::kUri:
      return "uri";
    case Prim::kUrl:
      return "url";
    case Prim::kCanonical:
      return "canonical";
    case Prim::kBase64Binary:
      return "base64Binary";
    case Prim::kInstant:
      return "instant";
    case Prim::kDate:
      return "date";
    case Prim::kDateTime:
      return "dateTime";
    case Prim::kTime:
      return "time";
    case Prim::kCode:
      return "code";
    case Prim::kOid:
      return "oid";
    case Prim::kId:
      return "id";
    case Prim::kMarkdown:
      return "markdown";
    case Prim::kUnsignedInt:
      return "unsignedInt";
    case Prim::kPositiveInt:
      return "positiveInt";
    case Prim::kUuid:
      return "uuid";
    case Prim::kXhtml:
      return "xhtml";
    case Prim::kNone:
      break;
  }
  return "?";
}

const char* json_kind(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return is_decimal_text(j) ? "a number" : "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a decimal number";
    default:
      return "a non-JSON value";
  }
}

// ---- the walk -----------------------------------------------------------------------------------

class Validator {
 public:
  Validator() {
    static const TypeDef* const element = model::find_type("Element");
    static const TypeDef* const extension = model::find_type("Extension");
    element_ = element;
    extension_ = extension;
  }

  // A resource at `at` (the root, "contained[0]", "entry[0].resource"). `expected` is the declared
  // type: an abstract Resource accepts any resource type; a concrete one only itself.
  void resource(const Json& j, const PathSeg* at, const TypeDef* expected, int depth) {
    if (!j.is_object()) {
      problem(at, std::string("a resource must be a JSON object, not ") + json_kind(j), kStructure);
      return;
    }
    auto rt = j.find(std::string_view("resourceType"));
    PathSeg rt_seg{at, "resourceType", -1};
    if (rt == j.end()) {
      problem(&rt_seg, "missing resourceType", kRequired);
      return;
    }
    if (!rt->is_string()) {
      problem(&rt_seg, std::string("resourceType must be a string, not ") + json_kind(*rt),
              kStructure);
      return;
    }
    const std::string& name = rt->get_ref<const std::string&>();
    const TypeDef* t = model::find_type(name);
    if (t == nullptr || t->kind != Kind::kResource) {
      problem(&rt_seg, "unknown resource type '" + name + "'", kInvalidIssue);
      return;
    }
    if (expected != nullptr && expected->kind == Kind::kResource && expected != t) {
      problem(&rt_seg,
              "expected a " + std::string(model::name(*expected)) + " resource, not " + name,
              kStructure);
      return;
    }
    if (at == nullptr) {
      PathSeg root{nullptr, model::name(*t), -1};
      object(j, *t, &root, depth, true);
    } else {
      object(j, *t, at, depth, true);
    }
  }

  std::vector<Problem> take() { return std::move(problems_); }
  bool has_problems() const { return !problems_.empty(); }

 private:
  bool full() const { return problems_.size() >= kMaxProblems; }

  void problem(const PathSeg* at, std::string message, const char* issue_type) {
    if (full()) return;
    if (problems_.size() + 1 == kMaxProblems) {
      problems_.push_back(Problem{
          path_string(at),
          "too many problems; only the first " + std::to_string(kMaxProblems - 1) + " are listed",
          kInvalidIssue});
      return;
    }
    problems_.push_back(Problem{path_string(at), std::move(message), issue_type});
  }

  // The members of an object of complex, backbone or resource type `t`.
  void object(const Json& j, const TypeDef& t, const PathSeg* at, int depth, bool is_resource,
              bool check_ele1 = true) {
    if (depth > kMaxDepth) {
      problem(at, "nesting too deep", kStructure);
      return;
    }
    std::uint64_t values = 0;                       // elements present with a value
    std::uint64_t extensions = 0;                   // elements present with a "_field"
    std::uint32_t value_variant[model::kMaxElems];  // choice elements: which key, when set
    std::uint32_t ext_variant[model::kMaxElems];

    // The map itself, not nlohmann's iterator, which switches on the value's type at every step.
    for (const auto& [key, v] : j.get_ref<const Json::object_t&>()) {
      if (full()) return;
      PathSeg seg{at, key, -1};
      bool underscore = !key.empty() && key[0] == '_';
      std::string_view name = underscore ? std::string_view(key).substr(1) : std::string_view(key);
      const KeyDef* k = model::find_key(t, name);
      if (k == nullptr || (underscore && (!model::is_primitive(model::type_of(*k)) ||
                                          (k->flags & model::kAttribute) != 0))) {
        if (is_resource && key == "resourceType") continue;
        problem(&seg, "unknown element '" + key + "' in " + std::string(model::name(t)),
                kStructure);
        continue;
      }
      const ElemDef& e = model::elem_of(t, *k);
      const std::uint64_t bit = std::uint64_t{1} << k->elem;
      const auto key_index = static_cast<std::uint32_t>(k - model::kKeys);
      std::uint64_t& mask = underscore ? extensions : values;
      std::uint32_t* variant = underscore ? ext_variant : value_variant;
      if (e.choice) {
        if ((mask & bit) != 0) {
          problem(&seg,
                  "more than one variant of " + std::string(model::name(e)) + " (also '" +
                      std::string(model::name(model::kKeys[variant[k->elem]])) + "')",
                  kStructure);
        }
        variant[k->elem] = key_index;
      }
      mask |= bit;
      if (underscore) {
        primitive_extension(j, v, name, e, &seg, depth);
      } else {
        member(j, v, key, *k, e, &seg, depth);
      }
    }
    if (full()) return;

    // A choice element given as value and "_field" must use one variant for both.
    for (std::uint64_t both = values & extensions; both != 0; both &= both - 1) {
      int i = __builtin_ctzll(both);
      if (model::elem(t, i).choice && value_variant[i] != ext_variant[i]) {
        std::string ext_key = "_" + std::string(model::name(model::kKeys[ext_variant[i]]));
        PathSeg seg{at, ext_key, -1};
        problem(&seg,
                "more than one variant of " + std::string(model::name(model::elem(t, i))) +
                    " (also '" + std::string(model::name(model::kKeys[value_variant[i]])) + "')",
                kStructure);
      }
    }
    for (std::uint64_t missing = t.required & ~(values | extensions); missing != 0;
         missing &= missing - 1) {
      int i = __builtin_ctzll(missing);
      std::string_view ename = model::name(model::elem(t, i));
      PathSeg seg{at, ename, -1};
      problem(&seg, "missing required element '" + std::string(ename) + "'", kRequired);
    }
    // ele-1: an element has a value or children other than id.
    if (check_ele1 && !is_resource && j.size() == 1 && values == 1 && extensions == 0 &&
        model::name(model::elem(t, 0)) == "id") {
      problem(at, "an element must have a value or children besides its id (ele-1)", kInvalidIssue);
    }
    // ext-1: an extension has either nested extensions or a value, not both (nor neither).
    if (&t == extension_) {
      bool has_value = false;
      bool has_nested = false;
      for (std::size_t i = 0; i < t.elem_count; ++i) {
        std::uint64_t bit = std::uint64_t{1} << i;
        if (((values | extensions) & bit) == 0) continue;
        std::string_view ename = model::name(model::elem(t, i));
        if (ename == "value[x]") has_value = true;
        if (ename == "extension") has_nested = true;
      }
      if (has_value == has_nested) {
        problem(at, "an extension must have either extensions or value[x], not both (ext-1)",
                kInvalidIssue);
      }
    }
  }

  // One member "key": v of an object, `e` its element.
  void member(const Json& obj, const Json& v, std::string_view key, const KeyDef& k,
              const ElemDef& e, const PathSeg* seg, int depth) {
    const TypeDef& vt = model::type_of(k);
    if (!model::is_array(e)) {
      if (v.is_array()) {
        problem(seg,
                "element " + std::string(model::name(e)) +
                    " has max cardinality 1; an array is not allowed",
                kStructure);
        return;
      }
      single(v, vt, seg, depth);
      return;
    }
    if (!v.is_array()) {
      problem(seg,
              std::string("element ") + std::string(model::name(e)) +
                  " repeats and must be a JSON array, not " + json_kind(v),
              kStructure);
      return;
    }
    if (v.empty()) {
      problem(seg, "empty arrays are not allowed", kStructure);
      return;
    }
    if (e.max != model::kUnbounded && v.size() > e.max) {
      problem(seg,
              "at most " + std::to_string(e.max) + " item(s) allowed, found " +
                  std::to_string(v.size()),
              kStructure);
    }
    if (v.size() < e.min) {
      problem(seg,
              "at least " + std::to_string(e.min) + " item(s) required, found " +
                  std::to_string(v.size()),
              kRequired);
    }
    const Json* ext = nullptr;  // the "_key" array, looked up only when a null needs it
    bool ext_looked_up = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (full()) return;
      PathSeg item{seg->parent, seg->name, static_cast<std::ptrdiff_t>(i)};
      const Json& x = v[i];
      if (x.is_null()) {
        if (model::is_primitive(vt)) {
          if (!ext_looked_up) {
            ext_looked_up = true;
            auto it = obj.find("_" + std::string(key));
            if (it != obj.end() && it->is_array()) ext = &*it;
          }
          if (ext != nullptr && i < ext->size() && (*ext)[i].is_object()) continue;
          problem(&item,
                  "null is only allowed where _" + std::string(key) +
                      " has an extension at the same index",
                  kStructure);
        } else {
          problem(&item, "null is not allowed here", kStructure);
        }
        continue;
      }
      single(x, vt, &item, depth);
    }
  }

  // "_key": the id and extensions of a primitive element; an object, or for repeating elements an
  // array of objects or nulls aligned with the value array.
  void primitive_extension(const Json& obj, const Json& v, std::string_view name, const ElemDef& e,
                           const PathSeg* seg, int depth) {
    auto value_it = obj.find(name);
    const Json* value = value_it == obj.end() ? nullptr : &*value_it;
    if (!model::is_array(e)) {
      if (!v.is_object()) {
        problem(seg, std::string("must be an object, not ") + json_kind(v), kStructure);
        return;
      }
      element_object(v, seg, depth, value != nullptr && !value->is_null());
      return;
    }
    if (!v.is_array()) {
      problem(seg,
              std::string("must be an array aligned with ") + std::string(name) + ", not " +
                  json_kind(v),
              kStructure);
      return;
    }
    if (v.empty()) {
      problem(seg, "empty arrays are not allowed", kStructure);
      return;
    }
    if (value != nullptr && value->is_array() && value->size() != v.size()) {
      problem(seg,
              "has " + std::to_string(v.size()) + " item(s) but " + std::string(name) + " has " +
                  std::to_string(value->size()),
              kStructure);
    }
    if (value == nullptr && e.max != model::kUnbounded && v.size() > e.max) {
      problem(seg,
              "at most " + std::to_string(e.max) + " item(s) allowed, found " +
                  std::to_string(v.size()),
              kStructure);
    }
    bool value_array = value != nullptr && value->is_array();
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (full()) return;
      PathSeg item{seg->parent, seg->name, static_cast<std::ptrdiff_t>(i)};
      const Json& x = v[i];
      bool has_value = value_array && i < value->size() && !(*value)[i].is_null();
      if (x.is_null()) {
        // With a value array, a null on both sides is reported there (and a length mismatch above).
        if (!value_array) {
          problem(&item, "null here and no value at the same index of " + std::string(name),
                  kStructure);
        }
        continue;
      }
      if (!x.is_object()) {
        problem(&item, std::string("must be an object or null, not ") + json_kind(x), kStructure);
        continue;
      }
      element_object(x, &item, depth, has_value);
    }
  }

  // The Element (id, extension) of a primitive; ele-1 applies only when there is no value.
  void element_object(const Json& v, const PathSeg* seg, int depth, bool has_value) {
    if (v.empty()) {
      problem(seg, "empty objects are not allowed", kStructure);
      return;
    }
    object(v, *element_, seg, depth + 1, false, !has_value);
  }

  // One (non-array) value of type `vt`.
  void single(const Json& v, const TypeDef& vt, const PathSeg* seg, int depth) {
    switch (vt.kind) {
      case Kind::kPrimitive:
        primitive(v, vt.prim, seg);
        return;
      case Kind::kResource:
      case Kind::kAbstractResource:
        if (v.is_object() && v.empty()) {
          problem(seg, "empty objects are not allowed", kStructure);
          return;
        }
        resource(v, seg, &vt, depth + 1);
        return;
      default:
        break;
    }
    if (!v.is_object()) {
      problem(seg, "expected an object (" + std::string(model::name(vt)) + "), not " + json_kind(v),
              kStructure);
      return;
    }
    if (v.empty()) {
      problem(seg, "empty objects are not allowed", kStructure);
      return;
    }
    object(v, vt, seg, depth + 1, false);
  }

  void primitive(const Json& v, Prim p, const PathSeg* seg) {
    auto wrong_kind = [&](const char* want) {
      problem(seg,
              std::string("a FHIR ") + prim_name(p) + " must be " + want + " in JSON, not " +
                  json_kind(v),
              kStructure);
    };
    auto bad_value = [&](const char* why) {
      problem(seg, std::string("invalid ") + prim_name(p) + ": " + why, kValue);
    };
    switch (p) {
      case Prim::kBoolean:
        if (!v.is_boolean()) wrong_kind("true or false");
        return;
      case Prim::kInteger:
      case Prim::kUnsignedInt:
      case Prim::kPositiveInt: {
        if (!v.is_number_integer()) {
          wrong_kind("an integer number");
          return;
        }
        constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
        constexpr std::int64_t kMin = std::numeric_limits<std::int32_t>::min();
        bool too_big = v.is_number_unsigned()
                           ? v.get<std::uint64_t>() > static_cast<std::uint64_t>(kMax)
                           : v.get<std::int64_t>() > kMax;
        std::int64_t n = too_big ? kMax : v.get<std::int64_t>();
        if (too_big || n < kMin) {
          bad_value("out of the 32-bit range");
        } else if (p == Prim::kUnsignedInt && n < 0) {
          bad_value("must be >= 0");
        } else if (p == Prim::kPositiveInt && n < 1) {
          bad_value("must be >= 1");
        }
        return;
      }
      case Prim::kDecimal:
        if (is_decimal_text(v)) {
          // Kept as sent (parse_fhir_json); the lexer accepted it as a number. Range: a finite
          // double, as for numbers parsed the ordinary way.
          if (!std::isfinite(std::strtod(std::string(decimal_text(v)).c_str(), nullptr))) {
            bad_value("out of range");
          }
        } else if (!v.is_number()) {
          wrong_kind("a number");
        } else if (v.is_number_float() && !std::isfinite(v.get<double>())) {
          bad_value("out of range");
        }
        return;
      default:
        break;
    }
    if (!v.is_string() || is_decimal_text(v)) {
      wrong_kind("a string");
      return;
    }
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty()) {
      problem(seg, "empty strings are not allowed", kValue);
      return;
    }
    switch (p) {
      case Prim::kString:
      case Prim::kMarkdown:
        if (s.size() > kMaxStringBytes) {
          bad_value("longer than 1 MiB");
        } else if (!valid_string_chars(s)) {
          bad_value("contains control characters");
        }
        return;
      case Prim::kUri:
      case Prim::kUrl:
      case Prim::kCanonical:
        if (!no_whitespace(s)) bad_value("contains whitespace");
        return;
      case Prim::kCode:
        if (!valid_code(s)) bad_value("leading, trailing or repeated whitespace");
        return;
      case Prim::kId:
        if (!valid_id(s)) bad_value("must be 1-64 characters of A-Z, a-z, 0-9, '-' and '.'");
        return;
      case Prim::kDate:
        if (!match_date_time(s, 1, false)) bad_value("expected YYYY, YYYY-MM or YYYY-MM-DD");
        return;
      case Prim::kDateTime:
        if (!match_date_time(s, 1, true)) {
          bad_value("expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.sss)+zz:zz");
        }
        return;
      case Prim::kInstant:
        if (!match_date_time(s, 4, true)) bad_value("expected YYYY-MM-DDThh:mm:ss(.sss)+zz:zz");
        return;
      case Prim::kTime:
        if (!valid_time(s)) bad_value("expected hh:mm:ss(.sss)");
        return;
      case Prim::kOid:
        if (!valid_oid(s)) bad_value("expected urn:oid:<digits and dots>");
        return;
      case Prim::kUuid:
        if (!valid_uuid(s)) bad_value("expected urn:uuid:<lower-case UUID>");
        return;
      case Prim::kBase64Binary:
        if (!valid_base64(s)) bad_value("not base64");
        return;
      case Prim::kXhtml:
        if (s.compare(0, 4, "<div") != 0 || s.size() < 5 ||
            !(s[4] == ' ' || s[4] == '>' || s[4] == '/' || is_ws(s[4]))) {
          bad_value("narrative must be an XHTML <div> element");
        }
        return;
      default:
        return;
    }
  }

  const TypeDef* element_;
  const TypeDef* extension_;
  std::vector<Problem> problems_;
};

}  // namespace

bool is_resource_type(std::string_view type) {
  const model::TypeDef* t = model::find_type(type);
  return t != nullptr && t->kind == model::Kind::kResource;
}

Status validate_resource(const Json& resource) {
  Validator v;
  try {
    v.resource(resource, nullptr, nullptr, 0);
  } catch (const std::exception& e) {
    // Not expected (every access is type-checked first); never let it cross the module boundary.
    return internal(std::string("FHIR validation failed: ") + e.what());
  }
  if (!v.has_problems()) return Status::ok();
  std::vector<Problem> problems = v.take();
  std::string message = "invalid FHIR R4 resource: " + std::to_string(problems.size()) +
                        (problems.size() == 1 ? " problem" : " problems") + "; first: " +
                        (problems[0].path.empty() ? std::string() : problems[0].path + ": ") +
                        problems[0].message;
  return Status(Code::kUnprocessable, std::move(message), std::move(problems));
}

}  // namespace hb::fhir
