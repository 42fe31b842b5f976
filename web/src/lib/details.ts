// The kind-specific part of a document as the link API sends it ("details"), read defensively:
// the page shows what it can understand and leaves out any member of the wrong shape. The shapes
// are the server's (src/documents/request.cpp): lab results, a vaccination, a referral or a
// discharge summary. Leave certificates have none.

import { offsetOf } from './dates';
import { decimalText, fractionDigits } from './json';

export type LabFlag = 'L' | 'N' | 'H';

export interface LabResult {
  // The test's name; '' when the clinic named it only by a code (then `code`, and `system` if known).
  name: string;
  code?: string;
  system?: string;
  effective?: string;
  value?: number | string;
  unit?: string;
  low?: number;
  high?: number;
  // The digits after the point of value, low and high as the clinic wrote them (5.40: 2), where
  // the JSON was read with parseJson; a number printed with fewer would claim less precision.
  digits?: { value?: number; low?: number; high?: number };
  // Set when the result has a reference range: below it, within it or above it.
  flag?: LabFlag;
}

export type Details =
  | { family: 'lab'; results: LabResult[] }
  | { family: 'vaccination'; vaccine: string; date?: string; doseNumber?: number; lotNumber?: string }
  | { family: 'referral'; to: string; reason: string; priority?: string }
  | { family: 'discharge'; from?: string; to?: string; summary: string };

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const text = (o: Obj, k: string): string | undefined => (typeof o[k] === 'string' && o[k] !== '' ? o[k] : undefined);
const num = (o: Obj, k: string): number | undefined => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? o[k] : undefined);

// The server names a result by its coding's display, else by its code: a name shaped like a LOINC
// code ("2345-7") is that code, not a name.
const loincShape = /^\d{1,8}-\d$/;

function labResult(x: unknown): LabResult | undefined {
  if (!isObj(x)) return undefined;
  const name = text(x, 'name');
  if (!name) return undefined;
  const r: LabResult = loincShape.test(name) ? { name: '', code: name, system: loinc } : { name };
  const effective = text(x, 'effective');
  if (effective) r.effective = effective;
  const value = num(x, 'value') ?? text(x, 'value');
  if (value !== undefined) r.value = value;
  const unit = text(x, 'unit');
  if (unit) r.unit = unit;
  const low = num(x, 'low');
  if (low !== undefined) r.low = low;
  const high = num(x, 'high');
  if (high !== undefined) r.high = high;
  const flag = x.flag;
  if (flag === 'L' || flag === 'N' || flag === 'H') r.flag = flag;
  keepDigits(r, { value: x, low: x, high: x });
  return r;
}

// Records in r.digits the written precision of r's value, low and high: holders[k] is the object
// that held k's number in the JSON, under the name `key` (k itself when not given).
export function keepDigits(r: LabResult, holders: { value?: unknown; low?: unknown; high?: unknown }, key?: string) {
  const digits: NonNullable<LabResult['digits']> = {};
  for (const k of ['value', 'low', 'high'] as const) {
    if (typeof r[k] !== 'number') continue;
    const d = fractionDigits(decimalText(holders[k], key ?? k));
    if (d !== undefined) digits[k] = d;
  }
  if (Object.keys(digits).length > 0) r.digits = digits;
}

// The details of a document of `kind`, or undefined when there are none this page can show.
export function readDetails(kind: string, details: unknown): Details | undefined {
  if (!isObj(details)) return undefined;
  switch (kind) {
    case 'lab-result': {
      const results = Array.isArray(details.results) ? details.results.map(labResult).filter((r) => r !== undefined) : [];
      return results.length > 0 ? { family: 'lab', results } : undefined;
    }
    case 'vaccination': {
      const vaccine = text(details, 'vaccine');
      if (!vaccine) return undefined;
      const dose = num(details, 'doseNumber');
      return {
        family: 'vaccination', vaccine, date: text(details, 'date'), lotNumber: text(details, 'lotNumber'),
        doseNumber: dose !== undefined && Number.isInteger(dose) ? dose : undefined,
      };
    }
    case 'referral': {
      const to = text(details, 'to');
      const reason = text(details, 'reason');
      return to && reason ? { family: 'referral', to, reason, priority: text(details, 'priority') } : undefined;
    }
    case 'discharge-summary': {
      const summary = text(details, 'summary');
      if (!summary) return undefined;
      const admission = isObj(details.admission) ? details.admission : {};
      return { family: 'discharge', from: text(admission, 'from'), to: text(admission, 'to'), summary };
    }
    default:
      return undefined;
  }
}

const loinc = 'http://loinc.org';
// Code systems a reader may know by name.
const systemNames: Record<string, string> = {
  [loinc]: 'LOINC', 'http://snomed.info/sct': 'SNOMED CT', 'http://hl7.org/fhir/sid/cvx': 'CVX',
};

// A code as a reader sees it: "LOINC 2345-7", or the code alone when its system is not one people
// know by name.
export function codeWithSystem(code: string, system: string | undefined): string {
  const name = system ? systemNames[system] : undefined;
  return name ? `${name} ${code}` : code;
}

// A result named only by a code, as a reader sees it ("LOINC 2345-7"); undefined for a result
// with a name.
export function resultCode(r: LabResult): string | undefined {
  return r.name || !r.code ? undefined : codeWithSystem(r.code, r.system);
}

// A number as the clinic wrote it, in the reader's locale (decimal comma in Vietnamese), never
// rounded: 13.25 stays 13,25, not 13,3.
// `digits`: at least this many after the point, as written (5.40 stays 5,40).
export function formatNumber(n: number, locale: string, digits?: number): string {
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: Math.min(digits ?? 0, 20), maximumFractionDigits: 20, useGrouping: false,
  }).format(n);
}

// The reference range as one phrase's parts: both bounds, only a lower one, or only an upper one.
export type RangeParts = { kind: 'between'; low: string; high: string } | { kind: 'atLeast'; low: string } | { kind: 'atMost'; high: string };

export function rangeOf(r: LabResult, locale: string): RangeParts | undefined {
  const unit = r.unit ? ` ${r.unit}` : '';
  if (r.low !== undefined && r.high !== undefined) {
    return {
      kind: 'between', low: formatNumber(r.low, locale, r.digits?.low),
      high: `${formatNumber(r.high, locale, r.digits?.high)}${unit}`,
    };
  }
  if (r.low !== undefined) return { kind: 'atLeast', low: `${formatNumber(r.low, locale, r.digits?.low)}${unit}` };
  if (r.high !== undefined) return { kind: 'atMost', high: `${formatNumber(r.high, locale, r.digits?.high)}${unit}` };
  return undefined;
}

export function valueOf(r: LabResult, locale: string): string {
  if (r.value === undefined) return '';
  const v = typeof r.value === 'number' ? formatNumber(r.value, locale, r.digits?.value) : r.value;
  return r.unit && typeof r.value === 'number' ? `${v} ${r.unit}` : v;
}

// The "shlink:/…" part of what the server sends (which may sit behind a viewer URL, after "#"),
// or undefined when it is not a SMART Health Link. What a health app accepts when pasted.
export function shlinkPayload(link: string | undefined): string | undefined {
  if (!link) return undefined;
  const at = link.indexOf('shlink:/');
  if (at < 0 || (at > 0 && link[at - 1] !== '#')) return undefined;
  const payload = link.slice(at);
  return /^shlink:\/[A-Za-z0-9_-]+$/.test(payload) ? payload : undefined;
}

// The clinic's offset from UTC (minutes east), as the document's own date-times carry it: a time
// chit's start, else the first lab sample taken at a time. The page shows its other instants (when
// it was issued) in it too, so one document reads in one zone; undefined when the document has
// only plain dates, and the page uses the viewer's zone.
export function clinicOffset(leaveFrom: string | undefined, details: Details | undefined): number | undefined {
  const own = [leaveFrom, ...(details?.family === 'lab' ? details.results.map((r) => r.effective) : [])];
  for (const iso of own) {
    const offset = iso === undefined ? undefined : offsetOf(iso);
    if (offset !== undefined) return offset;
  }
  return undefined;
}
