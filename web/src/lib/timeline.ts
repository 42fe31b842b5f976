// The health book's timeline (GET /api/v1/me/timeline): reading the answer defensively, the
// query for its filters, and grouping entries by day. Pure functions; the page stays thin.
import { anyObject, residentCall } from './resident';
import type { LabResult } from './details';

export const entryKinds = [
  'visit', 'condition', 'result', 'medication', 'allergy', 'immunization', 'procedure', 'document', 'referral', 'appointment',
] as const;
export type EntryKind = (typeof entryKinds)[number];
export const isEntryKind = (k: unknown): k is EntryKind => typeof k === 'string' && (entryKinds as readonly string[]).includes(k);

export interface Facility {
  code: string;
  name: string;
}

export interface TimelineEntry {
  id: string; // "Observation/abc"
  kind: EntryKind;
  date: string; // a date or an instant
  title: string;
  summary?: string;
  status?: string;
  facility: Facility;
  value?: LabResult; // name = the entry's title
  document?: { id: string; kind: string; link?: string };
}

export interface TimelinePage {
  entries: TimelineEntry[];
  next: string | null;
  facilities: Facility[];
  kinds: EntryKind[];
}

type Obj = Record<string, unknown>;
const str = (o: Obj, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
const num = (o: Obj, k: string) => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);

export const recordIdPattern = /^[A-Z][A-Za-z]{1,40}\/[A-Za-z0-9.\-]{1,64}$/;

export function readFacility(x: unknown): Facility | undefined {
  if (!anyObject(x)) return undefined;
  const code = str(x, 'code');
  const name = str(x, 'name');
  return code !== undefined && name !== undefined ? { code, name } : undefined;
}

function readValue(x: unknown, title: string): LabResult | undefined {
  if (!anyObject(x)) return undefined;
  const r: LabResult = { name: title };
  const v = num(x, 'value') ?? str(x, 'value');
  if (v === undefined) return undefined;
  r.value = v;
  const unit = str(x, 'unit');
  if (unit) r.unit = unit;
  const low = num(x, 'low');
  if (low !== undefined) r.low = low;
  const high = num(x, 'high');
  if (high !== undefined) r.high = high;
  if (x.flag === 'H' || x.flag === 'L') r.flag = x.flag;
  else if (low !== undefined || high !== undefined) r.flag = 'N';
  return r;
}

// One entry, or undefined when it lacks what the page needs (id, kind, date, title, facility).
export function readEntry(x: unknown): TimelineEntry | undefined {
  if (!anyObject(x)) return undefined;
  const id = str(x, 'id');
  const date = str(x, 'date');
  const title = str(x, 'title');
  const facility = readFacility(x.facility);
  if (!id || !recordIdPattern.test(id) || !isEntryKind(x.kind) || !date || !title || !facility) return undefined;
  const e: TimelineEntry = { id, kind: x.kind, date, title, facility };
  const summary = str(x, 'summary');
  if (summary) e.summary = summary;
  const status = str(x, 'status');
  if (status) e.status = status;
  const value = readValue(x.value, title);
  if (value) e.value = value;
  if (anyObject(x.document) && typeof x.document.id === 'string' && typeof x.document.kind === 'string') {
    e.document = { id: x.document.id, kind: x.document.kind };
    if (typeof x.document.link === 'string') e.document.link = x.document.link;
  }
  return e;
}

export function readTimeline(x: unknown): TimelinePage | undefined {
  if (!anyObject(x) || !Array.isArray(x.entries)) return undefined;
  return {
    entries: x.entries.map(readEntry).filter((e) => e !== undefined),
    next: typeof x.next === 'string' && x.next !== '' ? x.next : null,
    facilities: Array.isArray(x.facilities) ? x.facilities.map(readFacility).filter((f) => f !== undefined) : [],
    kinds: Array.isArray(x.kinds) ? x.kinds.filter(isEntryKind) : [],
  };
}

export interface TimelineFilter {
  facility: string;
  kind: string;
  from: string; // YYYY-MM-DD or ''
  to: string;
  q: string;
}

export const emptyFilter: TimelineFilter = { facility: '', kind: '', from: '', to: '', q: '' };
const filterKeys = ['facility', 'kind', 'from', 'to', 'q'] as const;

// The filter as the page's address keeps it (?kind=result&from=2026-01-01), so Back and a
// bookmark bring the same view.
export function filterFromSearch(search: string): TimelineFilter {
  const p = new URLSearchParams(search);
  const f = { ...emptyFilter };
  for (const k of filterKeys) f[k] = (p.get(k) ?? '').trim();
  if (f.kind && !isEntryKind(f.kind)) f.kind = '';
  for (const k of ['from', 'to'] as const) if (f[k] && !/^\d{4}-\d{2}-\d{2}$/.test(f[k])) f[k] = '';
  return f;
}

export function filterSearch(f: TimelineFilter): string {
  const p = new URLSearchParams();
  for (const k of filterKeys) if (f[k].trim()) p.set(k, f[k].trim());
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const pageSize = 50;

export function timelinePath(f: TimelineFilter, cursor?: string | null, limit = pageSize): string {
  const p = new URLSearchParams();
  for (const k of filterKeys) if (f[k].trim()) p.set(k, f[k].trim());
  p.set('limit', String(limit));
  if (cursor) p.set('cursor', cursor);
  return `/api/v1/me/timeline?${p.toString()}`;
}

export function filterProblem(f: TimelineFilter): 'range' | undefined {
  return f.from && f.to && f.from > f.to ? 'range' : undefined;
}

// The calendar day of a date or instant, in the viewer's zone (or the one given).
export function dayOf(date: string, timeZone?: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(date)) return date;
  if (/^\d{4}-\d{2}$/.test(date)) return `${date}-01`;
  if (/^\d{4}$/.test(date)) return `${date}-01-01`;
  const d = new Date(date);
  if (Number.isNaN(d.getTime())) return date.slice(0, 10);
  const parts = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', ...(timeZone ? { timeZone } : {}) })
    .formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

// Entries grouped by day in the order the server sent them (newest first); a day that comes back
// on a later page joins its group.
export function groupByDay(entries: TimelineEntry[], timeZone?: string): { day: string; entries: TimelineEntry[] }[] {
  const groups: { day: string; entries: TimelineEntry[] }[] = [];
  const index = new Map<string, number>();
  for (const e of entries) {
    const day = dayOf(e.date, timeZone);
    const at = index.get(day);
    if (at === undefined) {
      index.set(day, groups.length);
      groups.push({ day, entries: [e] });
    } else {
      groups[at]!.entries.push(e);
    }
  }
  return groups;
}

// Appends a later page, leaving out entries already shown (a record sent meanwhile can shift
// the pages by one).
export function appendPage(shown: TimelineEntry[], more: TimelineEntry[]): TimelineEntry[] {
  const seen = new Set(shown.map((e) => e.id));
  return [...shown, ...more.filter((e) => !seen.has(e.id))];
}

// The in-app path of a record's detail page.
export function recordPath(id: string): string {
  const [type, rid] = id.split('/');
  return `/book/${type}/${encodeURIComponent(rid ?? '')}`;
}

const isTimeline = (x: unknown): x is TimelinePage => readTimeline(x) !== undefined;

export async function getTimeline(f: TimelineFilter, cursor?: string | null) {
  const res = await residentCall('GET', timelinePath(f, cursor), undefined, isTimeline);
  return res.ok ? { ...res, value: readTimeline(res.value)! } : res;
}

export async function getRecord(type: string, id: string) {
  return residentCall('GET', `/api/v1/me/records/${encodeURIComponent(type)}/${encodeURIComponent(id)}`, undefined, anyObject);
}
