#include "core/json.h"

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/json_internal.h"

namespace hb {
namespace {

// A SAX handler that builds a Json value while enforcing depth and key uniqueness.
class StrictBuilder {
 public:
  StrictBuilder(std::size_t max_depth, bool keep_decimals)
      : max_depth_(max_depth), keep_decimals_(keep_decimals) {}

  bool null() { return put(Json(nullptr)); }
  bool boolean(bool v) { return put(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return put(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return put(Json(v)); }
  bool number_float(Json::number_float_t v, const std::string& text) {
    return put(keep_decimals_ ? make_decimal_text(text) : Json(v));
  }
  bool string(std::string& v) { return put(Json(std::move(v))); }
  bool binary(Json::binary_t&) { return fail("binary values are not JSON"); }

  bool start_object(std::size_t) { return open(Json::object()); }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool end_array() { return close(); }

  bool key(std::string& k) {
    Json& obj = *stack_.back();
    if (obj.contains(k)) return fail("duplicate object key \"" + k + "\"");
    key_ = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) {
    // nlohmann's message already names the byte position and what it expected.
    std::string what = ex.what();
    auto pos = what.find("] ");
    if (pos != std::string::npos) what = what.substr(pos + 2);
    return fail(what + " (at byte " + std::to_string(position) + ")");
  }

  Json take() { return std::move(root_); }
  const std::string& error() const { return error_; }
  bool too_deep() const { return too_deep_; }

 private:
  bool fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return false;
  }

  bool put(Json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Json& top = *stack_.back();
    if (top.is_object()) {
      top.emplace(std::move(key_), std::move(v));
    } else {
      top.push_back(std::move(v));
    }
    return true;
  }

  bool open(Json v) {
    if (stack_.size() >= max_depth_) {
      too_deep_ = true;
      return fail("nesting deeper than " + std::to_string(max_depth_) + " levels");
    }
    Json* slot;
    if (stack_.empty()) {
      root_ = std::move(v);
      slot = &root_;
    } else {
      Json& top = *stack_.back();
      if (top.is_object()) {
        auto [it, inserted] = top.emplace(std::move(key_), std::move(v));
        slot = &it.value();
      } else {
        top.push_back(std::move(v));
        slot = &top.back();
      }
    }
    stack_.push_back(slot);
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  std::size_t max_depth_;
  bool keep_decimals_;
  Json root_;
  std::vector<Json*> stack_;
  std::string key_;
  std::string error_;
  bool too_deep_ = false;
};

Result<Json> parse(std::string_view text, const JsonLimits& limits, bool keep_decimals) {
  if (text.size() > limits.max_bytes) {
    return Status(Code::kTooLarge, "JSON body of " + std::to_string(text.size()) +
                                       " bytes is over the limit of " +
                                       std::to_string(limits.max_bytes));
  }
  StrictBuilder builder(limits.max_depth, keep_decimals);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json, true);
  } catch (const std::exception& e) {
    return invalid(std::string("malformed JSON: ") + e.what());
  }
  if (!ok) {
    if (builder.too_deep()) return Status(Code::kTooLarge, "JSON " + builder.error());
    return invalid("malformed JSON: " +
                   (builder.error().empty() ? std::string("unexpected input") : builder.error()));
  }
  return builder.take();
}

// ---- the fast path (json_internal.h) ---------------------------------------------------------
// simdjson parses and validates the text (UTF-8 included) in one pass, several times faster than
// nlohmann's SAX parser, which copies every byte into a token buffer; the tree is then built from
// simdjson's document. Whatever simdjson refuses, and whatever the two libraries might read
// differently or our rules refuse, goes to the full parser, which decides with its own messages:
// floating-point numbers, integers past 64 bits, duplicate keys, nesting past the limit, and "-0"
// (an integer for both, but a signed one for nlohmann, which simdjson's document cannot tell
// from 0).

struct FromSimdjson {
  std::string_view text;
  std::size_t max_depth;
  int minus_zero = -1;  // whether the text may hold the number -0 (-1: not looked yet)

  // True when "-0" stands in the text as a whole number (followed by the end, a delimiter or
  // whitespace); inside a string this only costs the fast path.
  bool may_hold_minus_zero() {
    if (minus_zero < 0) {
      minus_zero = 0;
      for (std::size_t i = text.find("-0"); i != std::string_view::npos;
           i = text.find("-0", i + 1)) {
        if (i + 2 == text.size() ||
            std::string_view(",]} \t\r\n").find(text[i + 2]) != std::string_view::npos) {
          minus_zero = 1;
          break;
        }
      }
    }
    return minus_zero == 1;
  }

  bool build(simdjson::dom::element e, std::size_t depth, Json& out);
  // As build, keeping what it can of the tree `out` already holds: the nodes of members, items
  // and strings where the new value has the same place and kind.
  bool reuse(simdjson::dom::element e, std::size_t depth, Json& out);
};

// Builds `out` from `e`; false when the full parser must decide.
bool FromSimdjson::build(simdjson::dom::element e, std::size_t depth, Json& out) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      if (depth >= max_depth) return false;
      out = Json::object();
      auto& obj = out.get_ref<Json::object_t&>();
      for (auto field : simdjson::dom::object(e)) {
        // Inserted at the end: a text written by dump_json (every JWT and card we issue) has its
        // keys in order, and then the map needs one comparison per key instead of a descent.
        const std::size_t before = obj.size();
        auto it = obj.emplace_hint(obj.end(), std::piecewise_construct,
                                   std::forward_as_tuple(field.key), std::forward_as_tuple());
        if (obj.size() == before) return false;  // a duplicate key
        if (!build(field.value, depth + 1, it->second)) return false;
      }
      return true;
    }
    case element_type::ARRAY: {
      if (depth >= max_depth) return false;
      out = Json::array();
      auto& arr = out.get_ref<Json::array_t&>();
      const simdjson::dom::array items(e);
      arr.reserve(items.size());
      for (auto item : items) {
        arr.emplace_back();
        if (!build(item, depth + 1, arr.back())) return false;
      }
      return true;
    }
    case element_type::STRING:
      out = std::string_view(e);
      return true;
    case element_type::INT64: {
      // nlohmann types every non-negative integer as unsigned.
      const int64_t v = int64_t(e);
      if (v == 0 && may_hold_minus_zero()) return false;
      out = v >= 0 ? Json(static_cast<Json::number_unsigned_t>(v))
                   : Json(static_cast<Json::number_integer_t>(v));
      return true;
    }
    case element_type::UINT64:
      out = Json(static_cast<Json::number_unsigned_t>(uint64_t(e)));
      return true;
    case element_type::BOOL:
      out = bool(e);
      return true;
    case element_type::NULL_VALUE:
      out = nullptr;
      return true;
    case element_type::DOUBLE:
    default:
      return false;
  }
}

// An object's keys in strictly ascending order (as dump_json writes them): they can then be merged
// with a std::map in one pass, and no key repeats.
bool keys_ascend(simdjson::dom::object obj) {
  std::string_view before;
  bool first = true;
  for (auto field : obj) {
    if (!first && !(before < field.key)) return false;
    before = field.key;
    first = false;
  }
  return true;
}

bool FromSimdjson::reuse(simdjson::dom::element e, std::size_t depth, Json& out) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      const simdjson::dom::object fields(e);
      if (!out.is_object() || !keys_ascend(fields)) {
        out = nullptr;
        return build(e, depth, out);
      }
      if (depth >= max_depth) return false;
      // One pass over the old members and the new keys, both in order: an old member whose key
      // is gone is dropped, a new key gets a new member, a kept key keeps its node.
      auto& obj = out.get_ref<Json::object_t&>();
      auto it = obj.begin();
      for (auto field : fields) {
        while (it != obj.end() && std::string_view(it->first) < field.key) it = obj.erase(it);
        if (it == obj.end() || std::string_view(it->first) != field.key) {
          it = obj.emplace_hint(it, std::piecewise_construct, std::forward_as_tuple(field.key),
                                std::forward_as_tuple());
        }
        if (!reuse(field.value, depth + 1, it->second)) return false;
        ++it;
      }
      obj.erase(it, obj.end());
      return true;
    }
    case element_type::ARRAY: {
      if (!out.is_array()) {
        out = nullptr;
        return build(e, depth, out);
      }
      if (depth >= max_depth) return false;
      // By index, not by items.size(): simdjson stops counting at 0xFFFFFF items.
      auto& arr = out.get_ref<Json::array_t&>();
      std::size_t i = 0;
      for (auto item : simdjson::dom::array(e)) {
        if (i == arr.size()) arr.emplace_back();
        if (!reuse(item, depth + 1, arr[i++])) return false;
      }
      arr.resize(i);
      return true;
    }
    case element_type::STRING:
      if (out.is_string()) {
        out.get_ref<std::string&>().assign(std::string_view(e));
        return true;
      }
      return build(e, depth, out);
    default:
      return build(e, depth, out);
  }
}

constexpr std::string_view kDecimalMark("\0D", 2);

// True when none of the 8 bytes of `w` needs escaping in a JSON string: none is below 0x20, a
// quote or a backslash (bytes of 0x80 and up never do). The classic word-at-a-time tests: each
// term is non-zero exactly when some byte is below 0x20, or equals '"' or '\\'.
inline bool needs_no_escape(uint64_t w) {
  constexpr uint64_t k01 = 0x0101010101010101ULL;
  constexpr uint64_t k80 = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (k01 * '"');
  const uint64_t backslash = w ^ (k01 * '\\');
  const uint64_t control = (w - k01 * 0x20) & ~w;
  return ((((quote - k01) & ~quote) | ((backslash - k01) & ~backslash) | control) & k80) == 0;
}

void append_escaped(std::string& out, const std::string& s) {
  // simdjson's validator checks a string's UTF-8 several bytes at a time: most strings written
  // are long runs of ASCII (a card's QR digits, a JWS, a receipt).
  if (!simdjson::validate_utf8(s.data(), s.size())) {
    // Not from parse_json (which refuses invalid UTF-8): let nlohmann replace the bad bytes.
    out += Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    // Eight bytes at a time while none needs an escape.
    uint64_t w;
    while (i + 8 <= s.size() && (std::memcpy(&w, s.data() + i, 8), needs_no_escape(w))) i += 8;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s, run, std::string::npos);
  out.push_back('"');
}

void append_json(std::string& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        append_escaped(out, it.key());
        out.push_back(':');
        append_json(out, it.value());
      }
      out.push_back('}');
      return;
    }
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& v : j) {
        if (!first) out.push_back(',');
        first = false;
        append_json(out, v);
      }
      out.push_back(']');
      return;
    }
    case Json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (is_decimal_text(j)) {
        out.append(s, kDecimalMark.size(), std::string::npos);
      } else {
        append_escaped(out, s);
      }
      return;
    }
    case Json::value_t::number_integer: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, j.get<Json::number_integer_t>());
      out.append(buf, r.ptr);
      return;
    }
    case Json::value_t::number_unsigned: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, j.get<Json::number_unsigned_t>());
      out.append(buf, r.ptr);
      return;
    }
    default:  // null, boolean, float (nlohmann's shortest round-trip form), binary
      out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
      return;
  }
}

// Empties the containers under `j`, deepest first, so that destroying each one finds no children.
void free_children(Json& j, int depth) {
  if (depth > 64) return;
  if (j.is_object()) {
    auto& obj = j.get_ref<Json::object_t&>();
    for (auto& [key, value] : obj) {
      if (value.is_structured()) free_children(value, depth + 1);
    }
    obj.clear();
  } else if (j.is_array()) {
    auto& arr = j.get_ref<Json::array_t&>();
    for (Json& value : arr) {
      if (value.is_structured()) free_children(value, depth + 1);
    }
    arr.clear();
  }
}

}  // namespace

void free_json(Json& j) {
  free_children(j, 0);
  j = nullptr;
}

namespace {

// One parser per thread: it keeps its buffers between documents.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

}  // namespace

std::optional<std::string> json_string_member(std::string_view text, std::string_view key) {
  simdjson::dom::element root;
  if (thread_parser().parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS)
    return std::nullopt;
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return std::nullopt;
  std::string_view value;
  if (object.at_key(key).get(value) != simdjson::SUCCESS) return std::nullopt;
  return std::string(value);
}

namespace detail {

std::optional<Json> parse_json_fast(std::string_view text, std::size_t max_depth) {
  simdjson::dom::parser& parser = thread_parser();
  simdjson::dom::element root;
  // `true`: simdjson copies the text into a padded buffer when it cannot read past its end.
  if (parser.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  Json out;
  if (!FromSimdjson{text, max_depth}.build(root, 0, out)) return std::nullopt;
  return out;
}

bool parse_json_fast_into(std::string_view text, std::size_t max_depth, Json& out) {
  simdjson::dom::parser& parser = thread_parser();
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) return false;
  return FromSimdjson{text, max_depth}.reuse(root, 0, out);
}

Result<Json> parse_json_full(std::string_view text, const JsonLimits& limits) {
  return parse(text, limits, false);
}

Result<Json> parse_fhir_json_full(std::string_view text, const JsonLimits& limits) {
  return parse(text, limits, true);
}

}  // namespace detail

Result<Json> parse_json(std::string_view text, const JsonLimits& limits) {
  // The fast path first (json_internal.h). What it gives up on costs one partial pass more; JWTs,
  // JWKs and API bodies are nearly always in its subset.
  if (text.size() <= limits.max_bytes) {
    if (auto fast = detail::parse_json_fast(text, limits.max_depth)) return std::move(*fast);
  }
  return parse(text, limits, false);
}

Status parse_json_into(std::string_view text, const JsonLimits& limits, Json& out) {
  if (text.size() <= limits.max_bytes &&
      detail::parse_json_fast_into(text, limits.max_depth, out)) {
    return Status::ok();
  }
  auto full = parse(text, limits, false);
  if (!full) {
    out = nullptr;
    return full.error();
  }
  out = std::move(full).value();
  return Status::ok();
}

Result<Json> parse_fhir_json(std::string_view text, const JsonLimits& limits) {
  // The fast path too: it gives up on every number that is not an integer, which is the only
  // thing FHIR parsing reads differently (as a decimal text), so a text with decimals (a lab
  // value) goes to the full parser whole. Stored resources, documents and certificates mostly
  // have none.
  if (text.size() <= limits.max_bytes) {
    if (auto fast = detail::parse_json_fast(text, limits.max_depth)) return std::move(*fast);
  }
  return parse(text, limits, true);
}

bool is_json_number(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

Json make_decimal_text(std::string_view number) {
  std::string s;
  s.reserve(kDecimalMark.size() + number.size());
  s.append(kDecimalMark);
  s.append(number);
  return Json(std::move(s));
}

bool is_decimal_text(const Json& j) {
  if (!j.is_string()) return false;
  std::string_view s = j.get_ref<const std::string&>();
  return s.size() > kDecimalMark.size() && s.substr(0, kDecimalMark.size()) == kDecimalMark &&
         is_json_number(s.substr(kDecimalMark.size()));
}

std::string_view decimal_text(const Json& j) {
  if (!is_decimal_text(j)) return {};
  return std::string_view(j.get_ref<const std::string&>()).substr(kDecimalMark.size());
}

std::string dump_json(const Json& j) {
  std::string out;
  out.reserve(256);
  append_json(out, j);
  return out;
}

}  // namespace hb
