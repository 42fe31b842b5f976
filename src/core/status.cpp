#include "core/status.h"

namespace hb {

const char* code_name(Code c) {
  switch (c) {
    case Code::kOk: return "ok";
    case Code::kInvalid: return "invalid";
    case Code::kUnprocessable: return "unprocessable";
    case Code::kUnauthorized: return "unauthorized";
    case Code::kForbidden: return "forbidden";
    case Code::kNotFound: return "not-found";
    case Code::kGone: return "gone";
    case Code::kConflict: return "conflict";
    case Code::kPreconditionFailed: return "precondition-failed";
    case Code::kTooLarge: return "too-large";
    case Code::kUnsupportedMedia: return "unsupported-media-type";
    case Code::kTooManyRequests: return "too-many-requests";
    case Code::kNotAcceptable: return "not-acceptable";
    case Code::kMethodNotAllowed:
      return "method-not-allowed";
    case Code::kNotImplemented: return "not-implemented";
    case Code::kUnavailable: return "unavailable";
    case Code::kInternal: return "internal";
  }
  return "unknown";
}

int http_status_of(Code c) {
  switch (c) {
    case Code::kOk: return 200;
    case Code::kInvalid: return 400;
    case Code::kUnprocessable: return 422;
    case Code::kUnauthorized: return 401;
    case Code::kForbidden: return 403;
    case Code::kNotFound: return 404;
    case Code::kGone: return 410;
    case Code::kConflict: return 409;
    case Code::kPreconditionFailed: return 412;
    case Code::kTooLarge: return 413;
    case Code::kUnsupportedMedia: return 415;
    case Code::kTooManyRequests: return 429;
    case Code::kNotAcceptable: return 406;
    case Code::kMethodNotAllowed:
      return 405;
    case Code::kNotImplemented: return 501;
    case Code::kUnavailable: return 503;
    case Code::kInternal: return 500;
  }
  return 500;
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string s = code_name(code_);
  s += ": ";
  s += message_;
  for (const auto& p : problems_) {
    s += "\n  ";
    if (!p.path.empty()) s += p.path + ": ";
    s += p.message;
  }
  return s;
}

}  // namespace hb
