#include "fhir/model.h"

#include <algorithm>

namespace hb::fhir::model {
namespace {

// a < b, bytewise, in a loop: names are short (a few to a few dozen bytes) and most differ in
// their first bytes, where a call to memcmp costs more than the comparison. Validating a bundle
// looks up every member's key; with memcmp they were a hundred library calls per health card.
inline bool less(std::string_view a, std::string_view b) {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

inline bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

const TypeDef* find_type(std::string_view n) {
  const std::uint16_t* first = kTypesByName;
  const std::uint16_t* last = kTypesByName + kTypeCount;
  const std::uint16_t* it = std::lower_bound(
      first, last, n, [](std::uint16_t i, std::string_view v) { return less(name(kTypes[i]), v); });
  if (it == last || !same(name(kTypes[*it]), n)) return nullptr;
  return &kTypes[*it];
}

const KeyDef* find_key(const TypeDef& t, std::string_view key) {
  const KeyDef* first = kKeys + t.first_key;
  const KeyDef* last = first + t.key_count;
  const KeyDef* it = std::lower_bound(
      first, last, key, [](const KeyDef& k, std::string_view v) { return less(name(k), v); });
  if (it == last || !same(name(*it), key)) return nullptr;
  return it;
}

}  // namespace hb::fhir::model
