// The resident's own data beyond the timeline: facility connections (consent), shares (SMART
// Health Links), the access log and notification choices. Readers accept only the documented
// shapes (anything else is left out); the calls go through residentCall (CSRF header on changes).
import type { MessageKey } from '../i18n/en';
import { readFacility, type Facility } from './timeline';
import { anyObject, residentCall } from './resident';

type Obj = Record<string, unknown>;
const str = (o: Obj, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

// ---- connections ---------------------------------------------------------------------------

export interface Connection extends Facility {
  holdsRecords: boolean;
  shared: boolean;
}

export function readConnections(x: unknown): Connection[] | undefined {
  if (!anyObject(x) || !Array.isArray(x.facilities)) return undefined;
  return x.facilities.flatMap((f) => {
    const base = readFacility(f);
    if (!base || !anyObject(f) || typeof f.shared !== 'boolean') return [];
    return [{ ...base, holdsRecords: f.holdsRecords === true, shared: f.shared }];
  });
}

const isConnections = (x: unknown): x is { facilities: unknown[] } => readConnections(x) !== undefined;
export async function getConnections() {
  const r = await residentCall('GET', '/api/v1/me/connections', undefined, isConnections);
  return r.ok ? { ok: true as const, value: readConnections(r.value)! } : r;
}
export const setConnection = (code: string, shared: boolean) =>
  residentCall('PUT', `/api/v1/me/connections/${encodeURIComponent(code)}`, { shared }, anyObject);

// ---- shares --------------------------------------------------------------------------------

export type ShareStatus = 'active' | 'expired' | 'revoked' | 'used' | 'disabled';
const shareStatuses: readonly string[] = ['active', 'expired', 'revoked', 'used', 'disabled'];

export interface Share {
  id: string;
  label: string;
  // The link itself comes only in the answer that made the share: the server keeps only a hash of
  // it (docs/sharing.md), so a listed share has '' here.
  shlink: string;
  viewerUrl: string;
  qrSvg?: string;
  expires: string;
  singleUse: boolean;
  passcode: boolean;
  accesses: { time: string; recipient: string }[];
  status: ShareStatus;
}

export function readShare(x: unknown): Share | undefined {
  if (!anyObject(x)) return undefined;
  const id = str(x, 'id');
  const shlink = str(x, 'shlink') ?? '';
  const expires = str(x, 'expires');
  const status = str(x, 'status');
  if (!id || !expires || !status || !shareStatuses.includes(status)) return undefined;
  const accesses = Array.isArray(x.accesses)
    ? x.accesses.flatMap((a) => (anyObject(a) && typeof a.time === 'string'
      ? [{ time: a.time, recipient: typeof a.recipient === 'string' ? a.recipient : '' }] : []))
    : [];
  const s: Share = {
    id, shlink, expires, accesses, status: status as ShareStatus,
    label: str(x, 'label') ?? '',
    viewerUrl: str(x, 'viewerUrl') ?? '',
    singleUse: x.singleUse === true,
    passcode: x.passcode === true,
  };
  const qr = str(x, 'qrSvg');
  if (qr && qr.trimStart().startsWith('<svg')) s.qrSvg = qr;
  return s;
}

export function readShares(x: unknown): Share[] | undefined {
  if (!anyObject(x) || !Array.isArray(x.shares)) return undefined;
  return x.shares.map(readShare).filter((s) => s !== undefined);
}

// The choices of how long a share lasts: an hour to a year.
export const expiryChoices: { seconds: number; key: MessageKey }[] = [
  { seconds: 3600, key: 'shares.expiry.hour' },
  { seconds: 86_400, key: 'shares.expiry.day' },
  { seconds: 7 * 86_400, key: 'shares.expiry.week' },
  { seconds: 30 * 86_400, key: 'shares.expiry.month' },
  { seconds: 90 * 86_400, key: 'shares.expiry.quarter' },
  { seconds: 365 * 86_400, key: 'shares.expiry.year' },
];

export interface NewShare {
  records: string[];
  label: string;
  expiresIn: number;
  passcode?: string;
  singleUse: boolean;
}

export type ShareFormError = 'records' | 'label' | 'passcode' | 'expiry';

// The form's own checks before anything is sent: at least one record, a label of 1 to 80
// characters, a passcode of 6 to 64 characters when one is asked for (the server's rule,
// docs/sharing.md), a known expiry.
export function checkNewShare(s: NewShare, wantPasscode: boolean): ShareFormError[] {
  const errors: ShareFormError[] = [];
  if (s.records.length === 0) errors.push('records');
  const label = s.label.trim();
  if (!label || [...label].length > 80) errors.push('label');
  if (!expiryChoices.some((c) => c.seconds === s.expiresIn)) errors.push('expiry');
  if (wantPasscode && ((s.passcode ?? '').length < 6 || [...(s.passcode ?? '')].length > 64)) errors.push('passcode');
  return errors;
}

// The body POSTed: the passcode only when one was asked for.
export function shareBody(s: NewShare, wantPasscode: boolean): Obj {
  const body: Obj = { records: s.records, label: s.label.trim(), expiresIn: s.expiresIn, singleUse: s.singleUse };
  if (wantPasscode && s.passcode) body.passcode = s.passcode;
  return body;
}

const isShare = (x: unknown): x is Share => readShare(x) !== undefined;
const isShares = (x: unknown): x is { shares: unknown[] } => readShares(x) !== undefined;

export async function createShare(s: NewShare, wantPasscode: boolean) {
  const r = await residentCall('POST', '/api/v1/me/shares', shareBody(s, wantPasscode), isShare);
  return r.ok ? { ok: true as const, value: readShare(r.value)! } : r;
}
export async function getShares() {
  const r = await residentCall('GET', '/api/v1/me/shares', undefined, isShares);
  return r.ok ? { ok: true as const, value: readShares(r.value)! } : r;
}
export const revokeShare = (id: string) =>
  residentCall('DELETE', `/api/v1/me/shares/${encodeURIComponent(id)}`, undefined, (_x: unknown): _x is unknown => true);

// ---- access log ----------------------------------------------------------------------------

export interface AccessEvent {
  time: string;
  who: { kind: string; name: string };
  action: string;
  what: string;
  why: string;
  refused: boolean;
}

export function readAccessLog(x: unknown): { events: AccessEvent[]; next: string | null } | undefined {
  if (!anyObject(x) || !Array.isArray(x.events)) return undefined;
  const events = x.events.flatMap((e) => {
    if (!anyObject(e) || typeof e.time !== 'string') return [];
    const who = anyObject(e.who) ? e.who : {};
    return [{
      time: e.time,
      who: { kind: typeof who.kind === 'string' ? who.kind : '', name: typeof who.name === 'string' ? who.name : '' },
      action: str(e, 'action') ?? '',
      what: str(e, 'what') ?? '',
      why: str(e, 'why') ?? '',
      refused: e.outcome === 'refused',
    }];
  });
  return { events, next: typeof x.next === 'string' && x.next ? x.next : null };
}

// The server's words (docs/sharing.md, "The access log") and the messages that say them. A
// facility (also in an emergency) is named by its name; the others in words.
const whoKeys: Record<string, MessageKey> = {
  'share-recipient': 'log.who.share',
  resident: 'log.who.resident',
  proxy: 'log.who.proxy',
  operator: 'log.who.system',
};
// Actions on records: "<who> <action> <what>." (what: the records touched, counted by type).
const recordActions: Record<string, MessageKey> = {
  read: 'log.action.read',
  search: 'log.action.search',
  create: 'log.action.create',
  update: 'log.action.update',
  delete: 'log.action.delete',
  'share-opened': 'log.action.open',
  'share-created': 'log.action.share',
};
// Account events, whole sentences without records: "<who> <action>.".
const accountActions: Record<string, MessageKey> = {
  'share-revoked': 'log.action.revoke',
  'sign-up': 'log.action.signUp',
  'sign-in': 'log.action.signIn',
  'sign-in-code-sent': 'log.action.signInCode',
  'sign-out': 'log.action.signOut',
  'session-ended': 'log.action.sessionEnded',
  'security-settings': 'log.action.security',
};

export const isEmergency = (e: AccessEvent) => e.who.kind === 'break-glass';

// The sentence's parts: who (null: say the name as given), what they did (in words; "accessed"
// when unknown), and whether the records touched follow (else the action is the whole sentence).
export function accessSentence(e: AccessEvent): { who: MessageKey | null; action: MessageKey; withWhat: boolean } {
  const who = e.who.kind === 'share-recipient' && e.why === 'document link' ? 'log.who.documentLink' : whoKeys[e.who.kind] ?? null;
  if (isEmergency(e)) return { who, action: 'log.action.emergency', withWhat: true };
  const account = accountActions[e.action];
  if (account) return { who, action: account, withWhat: false };
  return { who, action: recordActions[e.action] ?? 'log.action.other', withWhat: true };
}

// "Observation (3 records), Patient (1 record)": each record type with its count, for the
// message that says it in the page's language; null when the text is in another shape.
export function recordCounts(what: string): { type: string; n: number }[] | null {
  if (!what) return [];
  const parts = what.split(', ').map((p) => /^([A-Za-z]+) \((\d+) records?\)$/.exec(p));
  if (parts.some((m) => !m)) return null;
  return parts.map((m) => ({ type: m![1]!, n: Number(m![2]) }));
}

// The reason the server gives, in the page's words: [message, its values], or the text as given.
export function reasonOf(why: string): { key: MessageKey; values: Record<string, string> } | string {
  const fixed: Record<string, MessageKey> = {
    treatment: 'log.reason.treatment',
    'your account': 'log.reason.account',
    operations: 'log.reason.operations',
    'acting for you': 'log.reason.proxy',
    'document link': 'log.reason.documentLink',
  };
  if (fixed[why]) return { key: fixed[why], values: {} };
  if (why.startsWith('share ')) return { key: 'log.reason.share', values: { label: why.slice('share '.length) } };
  if (why.startsWith('emergency: ')) return { key: 'log.reason.emergency', values: { reason: why.slice('emergency: '.length) } };
  return why;
}

const isLog = (x: unknown): x is Obj => readAccessLog(x) !== undefined;
export async function getAccessLog(cursor?: string | null) {
  const q = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
  const r = await residentCall('GET', `/api/v1/me/access-log${q}`, undefined, isLog);
  return r.ok ? { ok: true as const, value: readAccessLog(r.value)! } : r;
}

// ---- notifications -------------------------------------------------------------------------

export interface Notifications {
  onAccess: { sms: boolean; email: boolean };
  email: string;
}

export function readNotifications(x: unknown): Notifications | undefined {
  if (!anyObject(x) || !anyObject(x.onAccess)) return undefined;
  return {
    onAccess: { sms: x.onAccess.sms === true, email: x.onAccess.email === true },
    email: typeof x.email === 'string' ? x.email : '',
  };
}

export const looksLikeEmail = (s: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim());

const isNotifications = (x: unknown): x is Obj => readNotifications(x) !== undefined;
export async function getNotifications() {
  const r = await residentCall('GET', '/api/v1/me/notifications', undefined, isNotifications);
  return r.ok ? { ok: true as const, value: readNotifications(r.value)! } : r;
}
export async function putNotifications(n: Notifications) {
  const r = await residentCall('PUT', '/api/v1/me/notifications', n, isNotifications);
  return r.ok ? { ok: true as const, value: readNotifications(r.value)! } : r;
}
