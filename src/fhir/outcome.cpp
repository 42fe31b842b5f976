#include "fhir/outcome.h"

namespace hb::fhir {

const char* issue_type_for(Code code) {
  switch (code) {
    case Code::kOk: return "informational";
    case Code::kInvalid: return "invalid";
    case Code::kUnprocessable: return "processing";
    case Code::kUnauthorized: return "login";
    case Code::kForbidden: return "forbidden";
    case Code::kNotFound: return "not-found";
    case Code::kGone: return "deleted";
    case Code::kConflict: return "conflict";
    case Code::kPreconditionFailed: return "conflict";
    case Code::kTooLarge: return "too-costly";
    case Code::kUnsupportedMedia: return "not-supported";
    case Code::kTooManyRequests: return "throttled";
    case Code::kNotAcceptable: return "not-supported";
    case Code::kMethodNotAllowed:
      return "not-supported";
    case Code::kNotImplemented: return "not-supported";
    case Code::kUnavailable: return "transient";
    case Code::kInternal: return "exception";
  }
  return "exception";
}

Json operation_outcome(const Status& status) {
  Json issues = Json::array();
  const char* fallback = issue_type_for(status.code());
  if (status.problems().empty()) {
    issues.push_back({{"severity", status.code() == Code::kInternal ? "fatal" : "error"},
                      {"code", fallback},
                      {"diagnostics", status.message().empty() ? code_name(status.code())
                                                               : status.message()}});
  }
  for (const auto& p : status.problems()) {
    Json issue = {{"severity", "error"},
                  {"code", p.issue_type.empty() ? fallback : p.issue_type},
                  {"diagnostics", p.message.empty() ? status.message() : p.message}};
    if (!p.path.empty()) issue["expression"] = Json::array({p.path});
    issues.push_back(std::move(issue));
  }
  return {{"resourceType", "OperationOutcome"}, {"issue", std::move(issues)}};
}

Json operation_outcome_note(const std::string& severity, const std::string& code,
                            const std::string& text) {
  return {{"resourceType", "OperationOutcome"},
          {"issue", Json::array({{{"severity", severity}, {"code", code}, {"diagnostics", text}}})}};
}

}  // namespace hb::fhir
