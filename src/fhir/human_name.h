// How a person's full name is written: the order of family and given names is a convention of the
// country, not of the data. Vietnamese names are written family first ("Nguyễn Văn An"), many
// others given first ("Ana Silva"). FHIR's HumanName keeps the parts apart and has `text` for the
// name as written; a deployment says which order it writes (config: patients.name_order), and
// names built here carry that `text` so that every reader (the SMART Health Card's verifier, a
// FHIR client, the web app) shows the same.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace hb::fhir {

enum class NameOrder { kFamilyFirst, kGivenFirst };

// "family-first" | "given-first"; nullopt otherwise.
std::optional<NameOrder> parse_name_order(std::string_view s);

// The parts joined with single spaces in `order`, empty parts left out.
std::string written_name(std::string_view family, const std::vector<std::string>& given,
                         NameOrder order);

// A HumanName as written: its `text` when it has one, else its parts in `order`; "" for anything
// that is not a HumanName with a name in it.
std::string written_name(const Json& human_name, NameOrder order);

}  // namespace hb::fhir
