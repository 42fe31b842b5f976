#include "fhir/human_name.h"

namespace hb::fhir {

std::optional<NameOrder> parse_name_order(std::string_view s) {
  if (s == "family-first") return NameOrder::kFamilyFirst;
  if (s == "given-first") return NameOrder::kGivenFirst;
  return std::nullopt;
}

std::string written_name(std::string_view family, const std::vector<std::string>& given,
                         NameOrder order) {
  std::string out;
  auto add = [&out](std::string_view part) {
    if (part.empty()) return;
    if (!out.empty()) out.push_back(' ');
    out.append(part);
  };
  if (order == NameOrder::kFamilyFirst) add(family);
  for (const std::string& g : given) add(g);
  if (order == NameOrder::kGivenFirst) add(family);
  return out;
}

std::string written_name(const Json& human_name, NameOrder order) {
  if (!human_name.is_object()) return "";
  if (auto text = human_name.find("text"); text != human_name.end() && text->is_string()) {
    if (!text->get_ref<const std::string&>().empty()) return text->get<std::string>();
  }
  std::string family;
  if (auto f = human_name.find("family"); f != human_name.end() && f->is_string()) {
    family = f->get<std::string>();
  }
  std::vector<std::string> given;
  if (auto g = human_name.find("given"); g != human_name.end() && g->is_array()) {
    for (const Json& part : *g) {
      if (part.is_string()) given.push_back(part.get<std::string>());
    }
  }
  return written_name(family, given, order);
}

}  // namespace hb::fhir
