#!/usr/bin/env node
// Generates the FHIR R4 structural model (src/fhir/model.h describes the tables) from the official
// StructureDefinition bundles, so that validation is driven by the specification and not by
// hand-written code per resource.
//
// Usage: node scripts/gen-fhir-model.mjs <defs-dir> <out.cpp>
//   <defs-dir> holds profiles-resources.json and profiles-types.json (R4 4.0.1 bundles).
//
// What is emitted:
//   - one type per primitive type, complex datatype (kind=complex-type, derivation=specialization,
//     plus the abstract Element and BackboneElement), and resource (kind=resource, including the
//     abstract Resource and DomainResource, which stand for "any resource");
//   - one synthetic "backbone" type per element that has children in the snapshot
//     (e.g. "Patient.contact", "Timing.repeat"), named after its path;
//   - for every type its declared elements (ElemDef: name as in the snapshot, "value[x]" included,
//     min, max) and its JSON keys (KeyDef: "valueQuantity", "valueString", ... one per allowed
//     type of a choice element), keys sorted by name for binary search; Element.id and
//     Extension.url are flagged as attributes (no "_id"/"_url" primitive extensions);
//   - contentReference ("#Questionnaire.item") resolved to the referenced backbone type;
//   - a name index of all types, sorted, for binary search.
// All names live in one character pool; the tables are arrays of PODs holding offsets, so the
// output compiles quickly and needs no dynamic initialisation.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [defsDir, outFile] = process.argv.slice(2);
if (!defsDir || !outFile) {
  console.error('usage: gen-fhir-model.mjs <defs-dir> <out.cpp>');
  process.exit(2);
}

function loadBundle(name) {
  const bundle = JSON.parse(readFileSync(join(defsDir, name), 'utf8'));
  return bundle.entry.map((e) => e.resource).filter((r) => r && r.resourceType === 'StructureDefinition');
}

const defs = [...loadBundle('profiles-types.json'), ...loadBundle('profiles-resources.json')];

// Primitive type name -> enumerator of hb::fhir::model::Prim.
const PRIMS = {
  boolean: 'kBoolean', integer: 'kInteger', string: 'kString', decimal: 'kDecimal', uri: 'kUri',
  url: 'kUrl', canonical: 'kCanonical', base64Binary: 'kBase64Binary', instant: 'kInstant',
  date: 'kDate', dateTime: 'kDateTime', time: 'kTime', code: 'kCode', oid: 'kOid', id: 'kId',
  markdown: 'kMarkdown', unsignedInt: 'kUnsignedInt', positiveInt: 'kPositiveInt', uuid: 'kUuid',
  xhtml: 'kXhtml',
};
const FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const MAX_ELEMS = 64; // the validator tracks presence of a type's elements in one uint64_t

const fail = (msg) => {
  console.error(`gen-fhir-model: ${msg}`);
  process.exit(1);
};

// ---- select the structure definitions ----------------------------------------------------------
const primitives = defs.filter((d) => d.kind === 'primitive-type');
const complexes = defs.filter(
  (d) => d.kind === 'complex-type' && (d.derivation === 'specialization' || d.id === 'Element'));
const resources = defs.filter(
  (d) => d.kind === 'resource' && (d.derivation === 'specialization' || d.id === 'Resource'));

for (const p of primitives) if (!PRIMS[p.id]) fail(`unknown primitive type ${p.id}`);
if (primitives.length !== Object.keys(PRIMS).length) fail('primitive type list changed');

// ---- build the types ----------------------------------------------------------------------------
// type: { name, kind, prim, elems: [{name, min, max, choice, types: [typeRef]}] }
// typeRef is a type name, or a backbone path, resolved to an index at the end.
const types = [];
const typeByName = new Map();
function addType(t) {
  if (typeByName.has(t.name)) fail(`duplicate type ${t.name}`);
  typeByName.set(t.name, t);
  types.push(t);
  return t;
}

for (const p of primitives) addType({ name: p.id, kind: 'kPrimitive', prim: PRIMS[p.id], elems: [] });

// The FHIR type of an element whose type code is a FHIRPath system type (Element.id,
// Extension.url, Resource.id) comes from the structuredefinition-fhir-type extension.
function typeCode(el, t, isResourceRoot) {
  if (!t.code.startsWith('http://hl7.org/fhirpath/')) return t.code;
  // R4 declares Resource.id (and every resource's id) as FHIR type "string", but the
  // specification's prose and JSON rules make it an `id` (1-64 of [A-Za-z0-9\-\.]).
  if (isResourceRoot && el.path.split('.').length === 2 && el.path.endsWith('.id')) return 'id';
  const ext = (t.extension || []).find((x) => x.url === FHIR_TYPE_EXT);
  if (!ext) fail(`no FHIR type for ${el.path} (${t.code})`);
  return ext.valueUrl || ext.valueUri || ext.valueString;
}

function parseMax(el) {
  if (el.max === '*') return 'kUnbounded';
  const n = Number(el.max);
  if (!Number.isInteger(n) || n < 0) fail(`bad max ${el.max} at ${el.path}`);
  return n;
}

const upperFirst = (s) => s.charAt(0).toUpperCase() + s.slice(1);

function addStructure(sd, kind) {
  const elements = sd.snapshot && sd.snapshot.element;
  if (!elements || elements.length === 0) fail(`${sd.id} has no snapshot`);
  const root = elements[0].path;
  const isResource = sd.kind === 'resource';
  // Group elements by their parent path; a parent with children becomes a (backbone) type.
  const children = new Map();
  const hasChildren = new Set();
  for (const el of elements.slice(1)) {
    const dot = el.path.lastIndexOf('.');
    const parent = el.path.slice(0, dot);
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(el);
    hasChildren.add(parent);
  }
  const paths = [root, ...elements.slice(1).map((e) => e.path).filter((p) => hasChildren.has(p))];
  for (const path of paths) {
    const elems = [];
    for (const el of children.get(path) || []) {
      const name = el.path.slice(path.length + 1);
      const max = parseMax(el);
      if (max === 0) continue; // prohibited
      const choice = name.endsWith('[x]');
      let refs;
      let attribute = false;
      if (hasChildren.has(el.path)) {
        refs = [el.path];
      } else if (el.contentReference) {
        if (!el.contentReference.startsWith('#')) fail(`external contentReference at ${el.path}`);
        refs = [el.contentReference.slice(1)];
      } else {
        if (!el.type || el.type.length === 0) fail(`no type at ${el.path}`);
        refs = el.type.map((t) => typeCode(el, t, isResource));
        // Element.id and Extension.url are XML attributes: a value only, no "_id"/"_url" extensions.
        attribute = el.type.some((t) => t.code.startsWith('http://hl7.org/fhirpath/')) &&
          !(isResource && el.path.split('.').length === 2);
        if (!choice && new Set(refs).size !== 1) fail(`several types for non-choice ${el.path}`);
        if (!choice) refs = [refs[0]];
      }
      elems.push({ name, min: el.min || 0, max, choice, refs, attribute });
    }
    if (elems.length > MAX_ELEMS) fail(`${path} has ${elems.length} elements (> ${MAX_ELEMS})`);
    addType({
      name: path,
      kind: path === root ? kind : 'kBackbone',
      prim: 'kNone',
      elems,
    });
  }
}

for (const sd of complexes) addStructure(sd, sd.abstract ? 'kAbstractComplex' : 'kComplex');
for (const sd of resources) addStructure(sd, sd.abstract ? 'kAbstractResource' : 'kResource');

// ---- resolve, lay out -----------------------------------------------------------------------
const typeIndex = new Map(types.map((t, i) => [t.name, i]));
const resolve = (ref, where) => {
  const i = typeIndex.get(ref);
  if (i === undefined) fail(`unresolved type ${ref} at ${where}`);
  return i;
};

const pool = [];
const poolIndex = new Map();
let poolLen = 0;
function intern(s) {
  if (!/^[A-Za-z0-9.\[\]_-]*$/.test(s)) fail(`unexpected character in name ${s}`);
  if (poolIndex.has(s)) return poolIndex.get(s);
  const off = poolLen;
  pool.push(s);
  poolLen += s.length;
  poolIndex.set(s, off);
  return off;
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const typeRows = [];
const elemRows = [];
const keyRows = [];
for (const t of types) {
  const firstElem = elemRows.length;
  const firstKey = keyRows.length;
  const keys = [];
  let required = 0n;
  t.elems.forEach((e, i) => {
    if (e.min > 0) required |= 1n << BigInt(i);
    elemRows.push(`{${intern(e.name)},${e.name.length},${e.min},${e.max},${e.choice ? 1 : 0}}`);
    if (e.choice) {
      const base = e.name.slice(0, -3);
      for (const r of e.refs) {
        keys.push({ name: base + upperFirst(r), type: resolve(r, e.name), elem: i, flags: '0' });
      }
    } else {
      keys.push({ name: e.name, type: resolve(e.refs[0], `${t.name}.${e.name}`), elem: i,
                  flags: e.attribute ? 'kAttribute' : '0' });
    }
  });
  keys.sort((a, b) => cmp(a.name, b.name));
  for (let i = 1; i < keys.length; i++) {
    if (keys[i].name === keys[i - 1].name) fail(`duplicate key ${t.name}.${keys[i].name}`);
  }
  for (const k of keys) keyRows.push(`{${intern(k.name)},${k.name.length},${k.type},${k.elem},${k.flags}}`);
  typeRows.push(
    `{${intern(t.name)},${t.name.length},Kind::${t.kind},Prim::${t.prim},` +
      `${firstKey},${keys.length},${firstElem},${t.elems.length},0x${required.toString(16)}ull}`);
}
const byName = types.map((t, i) => i).sort((a, b) => cmp(types[a].name, types[b].name));

// ---- emit -------------------------------------------------------------------------------------
const chunk = (rows, per) => {
  const out = [];
  for (let i = 0; i < rows.length; i += per) out.push('  ' + rows.slice(i, i + per).join(', ') + ',');
  return out.join('\n');
};
// The pool as several adjacent string literals (concatenated by the compiler).
const poolText = pool.join('');
const poolLines = [];
for (let i = 0; i < poolText.length; i += 100) poolLines.push(`  "${poolText.slice(i, i + 100)}"`);

const out = `// Generated by scripts/gen-fhir-model.mjs from the FHIR R4 StructureDefinitions. Do not edit.
// ${types.length} types, ${elemRows.length} elements, ${keyRows.length} JSON keys.
#include "fhir/model.h"

namespace hb::fhir::model {

extern const char kPool[] =
${poolLines.join('\n') || '  ""'};

extern const TypeDef kTypes[] = {
${chunk(typeRows, 2)}
};
extern const ElemDef kElems[] = {
${chunk(elemRows, 4)}
};
extern const KeyDef kKeys[] = {
${chunk(keyRows, 5)}
};
extern const std::uint16_t kTypesByName[] = {
${chunk(byName.map(String), 20)}
};
extern const std::size_t kTypeCount = ${types.length};

}  // namespace hb::fhir::model
`;

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, out);
