// libFuzzer target for strict JSON parsing and FHIR R4 structural validation.
//
// Every input goes through hb::parse_json; an object is then validated as a resource. Beyond "no
// crash, no leak, no UB", it aborts when an invariant breaks:
//   - validation never fails internally (kInternal would mean an exception escaped the walk);
//   - a rejection is kUnprocessable with 1..100 problems, each with a path-or-root, a message and
//     one of the documented issue types;
//   - validation is deterministic, and a valid resource stays valid after dump_json -> parse_json;
//   - dump_json round-trips: plain values compare equal, FHIR decimal texts come back byte-exact;
//   - parse_json's fast path accepts only what the full parser accepts, with the same tree (value
//     types included), and parse_json and parse_fhir_json answer as their full parsers do;
//   - parse_json_into answers as parse_json does, whatever tree it starts from: the input is split
//     at its first NUL byte (which JSON never holds), the first part parsed and the second parsed
//     into its tree (an input without one is parsed into its own tree).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/json_internal.h"
#include "fhir/validate.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool known_issue_type(const std::string& t) {
  return t == "structure" || t == "required" || t == "value" || t == "invalid";
}

bool finite(const hb::Json& j) {
  if (j.is_number_float()) return std::isfinite(j.get<double>());
  if (j.is_structured()) {
    for (const auto& v : j) {
      if (!finite(v)) return false;
    }
  }
  return true;
}

// A parser with its fast path answers as the full parser does: the same tree or the same error.
void same_answer(const hb::Result<hb::Json>& with_fast_path, const hb::Result<hb::Json>& full) {
  check(with_fast_path.is_ok() == full.is_ok());
  if (full.is_ok()) {
    check(hb::detail::same_tree(*with_fast_path, *full));
  } else {
    check(with_fast_path.error().message() == full.error().message());
  }
}

// parse_json_into(b) over the tree of parse_json_into(a) gives parse_json(b): the same tree, or
// the same error and a null tree.
void same_when_reused(std::string_view a, std::string_view b, const hb::JsonLimits& limits) {
  hb::Json tree;
  (void)hb::parse_json_into(a, limits, tree);
  hb::Status s = hb::parse_json_into(b, limits, tree);
  auto fresh = hb::parse_json(b, limits);
  check(s.is_ok() == fresh.is_ok());
  if (fresh.is_ok()) {
    check(hb::detail::same_tree(tree, *fresh));
  } else {
    check(tree.is_null() && s.code() == fresh.error().code() &&
          s.message() == fresh.error().message());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size <= 64) (void)hb::fhir::is_resource_type(text);

  // dump_json writes what parse_json read: re-reading it gives the same value, and FHIR parsing
  // (decimals kept as sent) writes back byte-identical text on the second round.
  {
    const hb::JsonLimits limits{1 << 20, 1 + size % 16};
    auto full = hb::detail::parse_json_full(text, limits);
    if (auto fast = hb::detail::parse_json_fast(text, limits.max_depth)) {
      check(full.is_ok() && hb::detail::same_tree(*fast, *full));
    }
    same_answer(hb::parse_json(text, limits), full);
    same_answer(hb::parse_fhir_json(text, limits), hb::detail::parse_fhir_json_full(text, limits));
    const std::size_t nul = text.find('\0');
    if (nul == std::string_view::npos) {
      same_when_reused(text, text, limits);
    } else {
      same_when_reused(text.substr(0, nul), text.substr(nul + 1), limits);
    }
  }
  if (auto plain = hb::parse_json(text); plain.is_ok()) {
    auto back = hb::parse_json(hb::dump_json(*plain));
    check(back.is_ok());
    if (finite(*plain)) check(*back == *plain);  // an overflowing number is written as null
  }
  auto parsed = hb::parse_fhir_json(text);
  if (!parsed.is_ok()) return 0;
  {
    std::string once = hb::dump_json(*parsed);
    auto reread = hb::parse_fhir_json(once);
    check(reread.is_ok() && hb::dump_json(*reread) == once);
  }
  if (!parsed->is_object()) return 0;

  hb::Status s = hb::fhir::validate_resource(*parsed);
  check(s.code() != hb::Code::kInternal);
  if (s.is_ok()) {
    check(s.problems().empty());
    auto again = hb::parse_fhir_json(hb::dump_json(*parsed));
    check(again.is_ok());
    check(hb::fhir::validate_resource(*again).is_ok());
    return 0;
  }
  check(s.code() == hb::Code::kUnprocessable);
  check(!s.problems().empty() && s.problems().size() <= 100);
  for (const hb::Problem& p : s.problems()) {
    check(!p.message.empty());
    check(known_issue_type(p.issue_type));
  }
  hb::Status twice = hb::fhir::validate_resource(*parsed);
  check(twice.problems().size() == s.problems().size());
  for (std::size_t i = 0; i < s.problems().size(); ++i) {
    check(twice.problems()[i].path == s.problems()[i].path);
  }
  return 0;
}
