#include "fhir/model.h"

#include <algorithm>

namespace hb::fhir::model {
namespace {

// a < b, bytewise. Most names differ in their first byte, so look at it before calling memcmp.
inline bool less(std::string_view a, std::string_view b) {
  if (!a.empty() && !b.empty() && a[0] != b[0]) {
    return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]);
  }
  return a < b;
}

}  // namespace

const TypeDef* find_type(std::string_view n) {
  const std::uint16_t* first = kTypesByName;
  const std::uint16_t* last = kTypesByName + kTypeCount;
  const std::uint16_t* it = std::lower_bound(
      first, last, n, [](std::uint16_t i, std::string_view v) { return less(name(kTypes[i]), v); });
  if (it == last || name(kTypes[*it]) != n) return nullptr;
  return &kTypes[*it];
}

const KeyDef* find_key(const TypeDef& t, std::string_view key) {
  const KeyDef* first = kKeys + t.first_key;
  const KeyDef* last = first + t.key_count;
  const KeyDef* it = std::lower_bound(
      first, last, key, [](const KeyDef& k, std::string_view v) { return less(name(k), v); });
  if (it == last || name(*it) != key) return nullptr;
  return it;
}

}  // namespace hb::fhir::model
