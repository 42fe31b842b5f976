// Status and Result<T>: how every Healthbook library reports success or a typed error.
//
// Exceptions never cross a module boundary; functions that can fail return Status or Result<T>.
// The Code says what kind of failure it is; only src/http maps codes to HTTP statuses.
// "The input is invalid" (kInvalid, with every problem listed and its element path named) is a
// different thing from "we failed" (kInternal: logged, nothing half-written).
//
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace hb {

enum class Code {
  kOk = 0,
  kInvalid,             // the caller's input is wrong (400)
  kUnprocessable,       // well-formed but fails validation rules (422)
  kUnauthorized,        // no or bad credentials (401)
  kForbidden,           // authenticated, but not allowed (403)
  kNotFound,            // (404)
  kGone,                // deleted (410)
  kConflict,            // clashes with stored state (409)
  kPreconditionFailed,  // If-Match and friends (412)
  kTooLarge,            // body or nesting over a limit (413)
  kUnsupportedMedia,    // wrong content type (415)
  kTooManyRequests,     // rate limited (429)
  kNotAcceptable,       // cannot answer in the requested format (406)
  kMethodNotAllowed,    // the resource does not answer this method (405; the HTTP layer says Allow)
  kNotImplemented,      // a feature the server does not offer (501)
  kUnavailable,         // shutting down, overloaded (503)
  kInternal,            // our fault (500)
};

const char* code_name(Code c);
// The HTTP status that fits a code (the one mapping, used by the HTTP layer and by FHIR Bundle
// responses, which carry HTTP statuses per entry).
int http_status_of(Code c);

// One problem found in the input, with the element path it concerns (FHIRPath-like, e.g.
// "Patient.name[0].given[1]"). A Status may carry many.
struct Problem {
  std::string path;
  std::string message;
  // An OperationOutcome issue type (http://hl7.org/fhir/issue-type), e.g. "invalid", "structure",
  // "required", "value", "not-found", "conflict", "security". Empty means derive from the Code.
  std::string issue_type;
};

// What `Status::ok()` gives: a success that converts to a Status and to nothing else. Were ok()
// a Status, `status.ok()` on a value would compile, call the static, and always be true; a test
// asserting it would assert nothing. As this tag has no truth value, `EXPECT_TRUE(s.ok())` and
// `if (!s.ok())` do not compile: the check is `s.is_ok()`.
struct OkStatus {};
static_assert(!std::is_constructible_v<bool, OkStatus>, "Status::ok() must have no truth value");

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(OkStatus) {}  // NOLINT(google-explicit-constructor): `return Status::ok();`
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(Code code, std::string message, std::vector<Problem> problems)
      : code_(code), message_(std::move(message)), problems_(std::move(problems)) {}

  static constexpr OkStatus ok() { return {}; }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<Problem>& problems() const { return problems_; }
  Status& add(Problem p) {
    problems_.push_back(std::move(p));
    return *this;
  }
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::vector<Problem> problems_;
};

inline Status invalid(std::string msg) { return {Code::kInvalid, std::move(msg)}; }
inline Status not_found(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
inline Status conflict(std::string msg) { return {Code::kConflict, std::move(msg)}; }
inline Status forbidden(std::string msg) { return {Code::kForbidden, std::move(msg)}; }
inline Status unauthorized(std::string msg) { return {Code::kUnauthorized, std::move(msg)}; }
inline Status internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

// Result<T>: a T or a non-ok Status. Modelled on std::expected (C++23).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).is_ok());
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; Status::ok() when a value is held.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }
  const Status& error() const { return std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace hb

// Early-return helpers for functions returning Status or Result<U>.
#define HB_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::hb::Status hb_status_ = (expr);         \
    if (!hb_status_.is_ok()) return hb_status_; \
  } while (0)

#define HB_CONCAT_INNER(a, b) a##b
#define HB_CONCAT(a, b) HB_CONCAT_INNER(a, b)
#define HB_ASSIGN_OR_RETURN(lhs, expr) HB_ASSIGN_OR_RETURN_IMPL(HB_CONCAT(hb_result_, __COUNTER__), lhs, expr)
#define HB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.is_ok()) return tmp.error();          \
  lhs = std::move(tmp).value()
