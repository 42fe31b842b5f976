// A FHIR R4 resource as rows a person can read: the fields the common clinical resources share
// (what, when, status, value and range, who, where, notes), each as a label key and plain text.
// Anything else stays out; nothing here renders raw JSON. Pure; tested with fixtures.
import type { MessageKey } from '../i18n/en';
import { keepDigits, type LabResult } from './details';
import { decimalText } from './json';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x.trim() !== '' ? x : undefined);

export type Row = { label: MessageKey; text: string; kind?: 'date' | 'dateRange' };

// The words of a CodeableConcept: its text, else its codings' displays, else code (system).
export function conceptText(x: unknown): string | undefined {
  if (!isObj(x)) return undefined;
  const text = str(x.text);
  if (text) return text;
  const displays = arr(x.coding).map((c) => (isObj(c) ? str(c.display) : undefined)).filter((d) => d !== undefined);
  if (displays.length) return [...new Set(displays)].join(', ');
  const codes = arr(x.coding).map((c) => (isObj(c) ? str(c.code) : undefined)).filter((d) => d !== undefined);
  return codes.length ? codes.join(', ') : undefined;
}

const concepts = (x: unknown) => {
  const list = arr(x).map(conceptText).filter((t) => t !== undefined);
  return list.length ? list.join('; ') : undefined;
};

export const referenceText = (x: unknown): string | undefined =>
  isObj(x) ? str(x.display) ?? str(x.reference) : undefined;

export function quantityText(x: unknown): string | undefined {
  if (!isObj(x) || typeof x.value !== 'number') return undefined;
  const unit = str(x.unit) ?? str(x.code);
  return `${x.comparator ?? ''}${decimalText(x, 'value') ?? x.value}${unit ? ` ${unit}` : ''}`;
}

// The measured value of an Observation as a lab result (for the range and the High/Low flag).
export function observationResult(o: Obj, name: string): LabResult | undefined {
  const r: LabResult = { name };
  const q = isObj(o.valueQuantity) ? o.valueQuantity : undefined;
  if (q && typeof q.value === 'number') {
    r.value = q.value;
    const unit = str(q.unit) ?? str(q.code);
    if (unit) r.unit = unit;
  } else {
    const v = str(o.valueString) ?? conceptText(o.valueCodeableConcept) ??
      (typeof o.valueInteger === 'number' ? String(o.valueInteger) : undefined) ??
      (typeof o.valueBoolean === 'boolean' ? String(o.valueBoolean) : undefined);
    if (v === undefined) return undefined;
    r.value = v;
  }
  const range = arr(o.referenceRange).find(isObj);
  if (range) {
    if (isObj(range.low) && typeof range.low.value === 'number') r.low = range.low.value;
    if (isObj(range.high) && typeof range.high.value === 'number') r.high = range.high.value;
  }
  keepDigits(r, { value: q, low: range?.low, high: range?.high }, 'value');
  const interp = arr(o.interpretation).flatMap((c) => (isObj(c) ? arr(c.coding) : []))
    .map((c) => (isObj(c) ? str(c.code) : undefined));
  if (interp.some((c) => c === 'H' || c === 'HH' || c === 'HU')) r.flag = 'H';
  else if (interp.some((c) => c === 'L' || c === 'LL' || c === 'LU')) r.flag = 'L';
  else if (typeof r.value === 'number' && (r.low !== undefined || r.high !== undefined)) {
    r.flag = r.high !== undefined && r.value > r.high ? 'H' : r.low !== undefined && r.value < r.low ? 'L' : 'N';
  }
  return r;
}

export interface ResourceView {
  type: string;
  title: string | undefined;
  rows: Row[];
  result?: LabResult;
  notes: string[];
}

function firstDate(o: Obj, keys: string[]): string | undefined {
  for (const k of keys) {
    const v = str(o[k]);
    if (v) return v;
    const p = o[k];
    if (isObj(p) && (str(p.start) || str(p.end))) return str(p.start) ?? str(p.end);
  }
  return undefined;
}

const dosageText = (x: unknown) => {
  const list = arr(x).map((d) => (isObj(d) ? str(d.text) : undefined)).filter((d) => d !== undefined);
  return list.length ? list.join('; ') : undefined;
};

export function describeResource(x: unknown): ResourceView | undefined {
  if (!isObj(x) || typeof x.resourceType !== 'string') return undefined;
  const o = x;
  const type = o.resourceType as string;
  const rows: Row[] = [];
  const add = (label: MessageKey, text: string | undefined, kind?: Row['kind']) => {
    if (text) rows.push(kind ? { label, text, kind } : { label, text });
  };

  const title =
    conceptText(o.code) ?? conceptText(o.vaccineCode) ?? conceptText(o.medicationCodeableConcept) ??
    (isObj(o.type) ? conceptText(o.type) : concepts(o.type)) ?? str(o.description) ?? concepts(o.serviceType) ??
    (isObj(o.class) ? str(o.class.display) ?? str(o.class.code) : undefined) ?? str(o.title);

  add('record.status', str(o.status));
  add('record.clinicalStatus', conceptText(o.clinicalStatus));
  add('record.verificationStatus', conceptText(o.verificationStatus));
  add('record.category', isObj(o.category) ? conceptText(o.category) : concepts(o.category) ?? arr(o.category).filter((c) => typeof c === 'string').join(', '));
  add('record.criticality', str(o.criticality));
  add('record.priority', str(o.priority));

  const when = firstDate(o, ['effectiveDateTime', 'effectivePeriod', 'occurrenceDateTime', 'performedDateTime', 'performedPeriod',
    'onsetDateTime', 'authoredOn', 'period', 'start', 'date', 'issued', 'recordedDate']);
  add('record.date', when, 'date');
  if (type === 'Appointment') add('record.end', str(o.end), 'date');
  if (type === 'Encounter' && isObj(o.period) && str(o.period.end)) add('record.end', str(o.period.end), 'date');
  add('record.abatement', str(o.abatementDateTime), 'date');

  const result = type === 'Observation' ? observationResult(o, title ?? type) : undefined;
  add('record.bodySite', isObj(o.bodySite) ? conceptText(o.bodySite) : concepts(o.bodySite));
  add('record.reason', concepts(o.reasonCode) ?? arr(o.reasonReference).map(referenceText).filter(Boolean).join('; '));
  add('record.dosage', dosageText(o.dosageInstruction) ?? dosageText(o.dosage));
  add('record.dose', typeof o.protocolApplied === 'object' ? arr(o.protocolApplied).map((p) => (isObj(p) ? String(p.doseNumberPositiveInt ?? p.doseNumberString ?? '') : '')).filter(Boolean).join(', ') : undefined);
  add('record.lot', str(o.lotNumber));
  add('record.reactions', arr(o.reaction).flatMap((r) => (isObj(r) ? arr(r.manifestation).map(conceptText) : [])).filter(Boolean).join(', '));
  add('record.performer', [
    ...arr(o.performer).map((p) => referenceText(p) ?? (isObj(p) ? referenceText(p.actor) : undefined)),
    referenceText(o.requester), referenceText(o.recorder), referenceText(o.asserter),
    ...arr(o.participant).map((p) => (isObj(p) ? referenceText(p.individual) ?? referenceText(p.actor) : undefined)),
    ...arr(o.author).map(referenceText),
  ].filter(Boolean).filter((v, i, a) => a.indexOf(v) === i).join(', '));
  add('record.location', referenceText(o.serviceProvider) ?? referenceText(o.location) ?? referenceText(o.custodian) ??
    arr(o.location).map((l) => (isObj(l) ? referenceText(l.location) : undefined)).filter(Boolean).join(', '));
  add('record.description', type !== 'DocumentReference' || title !== str(o.description) ? str(o.description) ?? str(o.comment) : undefined);
  const notes = arr(o.note).map((n) => (isObj(n) ? str(n.text) : undefined)).filter((n) => n !== undefined);
  if (str(o.conclusion)) notes.push(o.conclusion as string);
  return { type, title, rows, ...(result ? { result } : {}), notes };
}

// The resources of a FHIR Bundle (for the share viewer), leaving out what is not an object.
export function bundleResources(x: unknown): Obj[] {
  if (!isObj(x)) return [];
  if (x.resourceType !== 'Bundle') return typeof x.resourceType === 'string' ? [x] : [];
  return arr(x.entry).map((e) => (isObj(e) && isObj(e.resource) ? e.resource : undefined)).filter((r) => r !== undefined);
}

// The Patient of a Bundle, as a name and a birth date.
export function patientOf(resources: Obj[]): { name?: string; birthDate?: string } | undefined {
  const p = resources.find((r) => r.resourceType === 'Patient');
  if (!p) return undefined;
  const n = arr(p.name).find(isObj);
  const name = n ? str(n.text) ?? [...arr(n.given).filter((g) => typeof g === 'string'), str(n.family)].filter(Boolean).join(' ') : undefined;
  return { ...(name ? { name } : {}), ...(str(p.birthDate) ? { birthDate: p.birthDate as string } : {}) };
}
