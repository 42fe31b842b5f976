// The resident's own verifiable documents (docs/documents.md, "The patient's own documents"): the
// list with the state of each document's links, one document as its link page shows it, reopening
// links that wrong birth dates locked, a new link, and the patient's choice to show the diagnosis
// on the document's links (the link page's diagnosis row follows it). Readers accept only the
// documented shapes; the calls go through residentCall (CSRF header on changes).
import type { MessageKey } from '../i18n/en';
import type { DocumentView } from './api';
import { anyObject, residentCall } from './resident';

type Obj = Record<string, unknown>;
const str = (o: Obj, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

export type LinkState =
  | { state: 'open'; count: number }
  // Every usable link is in its hour after 5 wrong birth dates.
  | { state: 'locked'; count: number; lockedUntil?: string }
  // Every link had too many wrong birth dates in a row: only the patient (or the facility) reopens it.
  | { state: 'disabled'; count: number };

export type DocumentStatus = 'active' | 'revoked' | 'superseded';
const statuses: readonly string[] = ['active', 'revoked', 'superseded'];

export interface MyDocument {
  id: string;
  kind: string;
  label: string;
  status: DocumentStatus;
  issued: string;
  facility: { code: string; name: string };
  links: LinkState;
  supersededBy?: string;
}

export function readLinks(x: unknown): LinkState | undefined {
  if (!anyObject(x)) return undefined;
  const count = typeof x.count === 'number' && Number.isFinite(x.count) ? x.count : 0;
  if (x.state === 'open') return { state: 'open', count };
  if (x.state === 'disabled') return { state: 'disabled', count };
  if (x.state === 'locked') {
    const until = str(x, 'lockedUntil');
    return until && !Number.isNaN(Date.parse(until)) ? { state: 'locked', count, lockedUntil: until } : { state: 'locked', count };
  }
  return undefined;
}

export function readMyDocument(x: unknown): MyDocument | undefined {
  if (!anyObject(x)) return undefined;
  const id = str(x, 'id');
  const kind = str(x, 'kind');
  const status = str(x, 'status');
  const issued = str(x, 'issued');
  const links = readLinks(x.links);
  if (!id || !kind || !status || !statuses.includes(status) || !issued || !links) return undefined;
  const f = anyObject(x.facility) ? x.facility : {};
  const d: MyDocument = {
    id, kind, issued, links,
    status: status as DocumentStatus,
    label: str(x, 'label') ?? kind,
    facility: { code: str(f, 'code') ?? '', name: str(f, 'name') ?? '' },
  };
  const newer = str(x, 'supersededBy');
  if (newer && isDocumentId(newer)) d.supersededBy = newer;
  return d;
}

// Newest first (the server sends them so; a list read back in another order is put right).
export function readMyDocuments(x: unknown): MyDocument[] | undefined {
  if (!anyObject(x) || !Array.isArray(x.documents)) return undefined;
  const docs = x.documents.map(readMyDocument).filter((d) => d !== undefined);
  return docs.sort((a, b) => Date.parse(b.issued) - Date.parse(a.issued));
}

// A diagnosis as one line: "Influenza (J11)".
export const diagnosisText = (d: { text: string; code?: string }) => (d.code ? `${d.text} (${d.code})` : d.text);

// The link page's diagnosis row. Whoever opened the link may not be the patient: unless the
// patient chose to show it, the row says only that it is not shown (never whether there is one).
export function linkDiagnosis(view: DocumentView, t: (key: MessageKey) => string): string {
  if (!view.showDiagnosis) return t('cert.diagnosis.hidden');
  return view.diagnosis ? diagnosisText(view.diagnosis) : t('cert.diagnosis.none');
}

// Ids as the facility gave them; only these become a path of this site.
export const isDocumentId = (s: string) => /^[A-Za-z0-9._-]{1,128}$/.test(s);
export const documentPath = (id: string) => `/documents/${encodeURIComponent(id)}`;

// A document as its link page shows it, plus its id and the state of its links; `diagnosis` is
// always there when the document has one (it is the patient's own), and `showDiagnosis` says
// whether its links show it too.
export interface MyDocumentView extends DocumentView {
  id: string;
  links: LinkState;
}

export function readView(x: unknown): MyDocumentView | undefined {
  if (!anyObject(x) || typeof x.kind !== 'string' || typeof x.id !== 'string' || !anyObject(x.patient) ||
    !anyObject(x.facility) || typeof x.status !== 'string' || !statuses.includes(x.status)) return undefined;
  const links = readLinks(x.links);
  if (!links) return undefined;
  const v = { ...(x as unknown as MyDocumentView), links };
  if (typeof v.qr !== 'string') v.qr = '';
  // Whether the document's links show the diagnosis (absent: they do not).
  v.showDiagnosis = x.showDiagnosis === true;
  const d = anyObject(x.diagnosis) ? x.diagnosis : undefined;
  if (d && typeof d.text === 'string' && d.text !== '') {
    v.diagnosis = typeof d.code === 'string' && d.code !== '' ? { text: d.text, code: d.code } : { text: d.text };
  } else {
    delete v.diagnosis;
  }
  if (typeof v.supersededBy !== 'string' || !isDocumentId(v.supersededBy)) delete v.supersededBy;
  return v;
}

// The link a new-link answer names, only when it is a document link ("https://host/c/<token>").
export function readNewLink(x: unknown): string | undefined {
  if (!anyObject(x) || typeof x.link !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(x.link);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return /^\/c\/[A-Za-z0-9_-]{8,200}$/.test(url.pathname) && !url.search && !url.hash ? url.href : undefined;
}

// What to tell the patient about their links, and whether they can reopen them.
export type LinkWords = 'none' | 'open' | 'lockedUntil' | 'locked' | 'disabled';
export function linkWords(l: LinkState): LinkWords {
  if (l.state === 'open') return l.count === 0 ? 'none' : 'open';
  if (l.state === 'locked') return l.lockedUntil ? 'lockedUntil' : 'locked';
  return 'disabled';
}
export const canReopen = (l: LinkState) => l.state !== 'open';

const base = '/api/v1/me/documents';
const isList = (x: unknown): x is Obj => readMyDocuments(x) !== undefined;
const isView = (x: unknown): x is Obj => readView(x) !== undefined;
const isReopened = (x: unknown): x is Obj => anyObject(x) && typeof x.linksReopened === 'number' && readLinks(x.links) !== undefined;

export async function getMyDocuments() {
  const r = await residentCall('GET', base, undefined, isList);
  return r.ok ? { ok: true as const, value: readMyDocuments(r.value)! } : r;
}

export async function getMyDocument(id: string) {
  const r = await residentCall('GET', `${base}/${encodeURIComponent(id)}`, undefined, isView);
  return r.ok ? { ok: true as const, value: readView(r.value)! } : r;
}

export async function reopenLinks(id: string) {
  const r = await residentCall('POST', `${base}/${encodeURIComponent(id)}/reopen-link`, undefined, isReopened);
  return r.ok ? { ok: true as const, value: { reopened: r.value.linksReopened as number, links: readLinks(r.value.links)! } } : r;
}

export async function newLink(id: string) {
  const r = await residentCall('POST', `${base}/${encodeURIComponent(id)}/links`, undefined, anyObject);
  if (!r.ok) return r;
  const link = readNewLink(r.value);
  return link ? { ok: true as const, value: link } : { ok: false as const, problem: { status: 502, detail: 'unexpected answer from the server' } };
}

// The patient's choice: show the diagnosis to whoever opens the document's links (with the birth
// date), or not. Answers the document as GET does, with the new `showDiagnosis`.
export async function setDiagnosisShown(id: string, showDiagnosis: boolean) {
  const r = await residentCall('POST', `${base}/${encodeURIComponent(id)}/preferences`, { showDiagnosis }, isView);
  return r.ok ? { ok: true as const, value: readView(r.value)! } : r;
}
