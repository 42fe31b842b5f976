// The FHIR R4 structural model: types, their elements and JSON keys, as tables generated at build
// time by scripts/gen-fhir-model.mjs from the official StructureDefinitions (fhir_model.cpp).
// Internal to the fhir module; validate.cpp is its main user.
//
// Layout: every type (primitive, complex datatype, resource, and one synthetic "backbone" type per
// element with children, named by its path, e.g. "Patient.contact") has
//   - elements (ElemDef) in snapshot order: the declared name ("status", "value[x]"), min, max;
//   - JSON keys (KeyDef), sorted by name: one per element, or one per allowed type of a choice
//     element ("valueQuantity", "valueString", ...), each with the type of its value and the
//     index of its element.
// Names are offsets into one character pool, so the tables are constant-initialised PODs.
//
// Thread-safety: immutable after static initialisation; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hb::fhir::model {

enum class Kind : std::uint8_t {
  kPrimitive,
  kComplex,           // a datatype such as CodeableConcept
  kAbstractComplex,   // Element, BackboneElement
  kResource,          // a concrete resource type
  kAbstractResource,  // Resource, DomainResource: "any resource", dispatched on resourceType
  kBackbone,          // the children of one element, e.g. "Patient.contact"
};

enum class Prim : std::uint8_t {
  kNone,
  kBoolean,
  kInteger,
  kString,
  kDecimal,
  kUri,
  kUrl,
  kCanonical,
  kBase64Binary,
  kInstant,
  kDate,
  kDateTime,
  kTime,
  kCode,
  kOid,
  kId,
  kMarkdown,
  kUnsignedInt,
  kPositiveInt,
  kUuid,
  kXhtml,
};

inline constexpr std::uint32_t kUnbounded = 0xFFFFFFFFu;  // max = "*"
inline constexpr std::size_t kMaxElems = 64;              // per type; a presence mask is a uint64

struct TypeDef {
  std::uint32_t name_off;
  std::uint16_t name_len;
  Kind kind;
  Prim prim;
  std::uint32_t first_key;
  std::uint32_t key_count;
  std::uint32_t first_elem;
  std::uint32_t elem_count;
  std::uint64_t required;  // bit i: element first_elem + i has min >= 1
};

struct ElemDef {
  std::uint32_t name_off;
  std::uint16_t name_len;
  std::uint32_t min;
  std::uint32_t max;  // kUnbounded for "*"
  std::uint8_t choice;
};

inline constexpr std::uint8_t kAttribute = 1;  // KeyDef::flags: Element.id, Extension.url

struct KeyDef {
  std::uint32_t name_off;
  std::uint16_t name_len;
  std::uint16_t type;  // index into kTypes
  std::uint8_t elem;   // index of the element within its type
  std::uint8_t flags;  // kAttribute: an XML attribute in FHIR, so no "_key" extensions
};

// The generated tables (fhir_model.cpp).
extern const char kPool[];
extern const TypeDef kTypes[];
extern const ElemDef kElems[];
extern const KeyDef kKeys[];
extern const std::uint16_t kTypesByName[];
extern const std::size_t kTypeCount;

inline std::string_view name(const TypeDef& t) { return {kPool + t.name_off, t.name_len}; }
inline std::string_view name(const ElemDef& e) { return {kPool + e.name_off, e.name_len}; }
inline std::string_view name(const KeyDef& k) { return {kPool + k.name_off, k.name_len}; }

inline const TypeDef& type_of(const KeyDef& k) { return kTypes[k.type]; }
inline const ElemDef& elem(const TypeDef& t, std::size_t i) { return kElems[t.first_elem + i]; }
inline const ElemDef& elem_of(const TypeDef& t, const KeyDef& k) { return elem(t, k.elem); }

inline bool is_primitive(const TypeDef& t) { return t.kind == Kind::kPrimitive; }
inline bool is_resource(const TypeDef& t) {
  return t.kind == Kind::kResource || t.kind == Kind::kAbstractResource;
}
// max != 1: the JSON value is an array.
inline bool is_array(const ElemDef& e) { return e.max != 1; }

// A type by name: a primitive, datatype or resource name ("Patient"), or a backbone path
// ("Patient.contact"). Null when unknown. Binary search over the name index.
const TypeDef* find_type(std::string_view name);

// The JSON key `key` of type `t` ("valueQuantity" for Observation), or null. Binary search.
const KeyDef* find_key(const TypeDef& t, std::string_view key);

}  // namespace hb::fhir::model
