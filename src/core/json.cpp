#include "core/json.h"

#include <string>
#include <vector>

namespace hb {
namespace {

// A SAX handler that builds a Json value while enforcing depth and key uniqueness.
class StrictBuilder {
 public:
  explicit StrictBuilder(std::size_t max_depth) : max_depth_(max_depth) {}

  bool null() { return put(Json(nullptr)); }
  bool boolean(bool v) { return put(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return put(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return put(Json(v)); }
  bool number_float(Json::number_float_t v, const std::string&) { return put(Json(v)); }
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

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) {
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
  Json root_;
  std::vector<Json*> stack_;
  std::string key_;
  std::string error_;
  bool too_deep_ = false;
};

}  // namespace

Result<Json> parse_json(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status(Code::kTooLarge, "JSON body of " + std::to_string(text.size()) +
                                       " bytes is over the limit of " +
                                       std::to_string(limits.max_bytes));
  }
  StrictBuilder builder(limits.max_depth);
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

std::string dump_json(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace hb
