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
// characters, a passcode of at least 4 characters when one is asked for, a known expiry.
export function checkNewShare(s: NewShare, wantPasscode: boolean): ShareFormError[] {
  const errors: ShareFormError[] = [];
  if (s.records.length === 0) errors.push('records');
  const label = s.label.trim();
  if (!label || [...label].length > 80) errors.push('label');
  if (!expiryChoices.some((c) => c.seconds === s.expiresIn)) errors.push('expiry');
  if (wantPasscode && (s.passcode ?? '').length < 4) errors.push('passcode');
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
    }];
  });
  return { events, next: typeof x.next === 'string' && x.next ? x.next : null };
}

const namedKinds = ['client', 'share', 'resident', 'proxy', 'system'] as const;
const actions = ['read', 'search', 'create', 'update', 'delete', 'share', 'open', 'emergency', 'login', 'export'] as const;

// The sentence's parts: who (a facility or a person by their name; a system, a share's recipient,
// the resident or a proxy in words), what they did (in words; "accessed" when unknown).
export function accessSentence(e: AccessEvent): { who: MessageKey | null; action: MessageKey } {
  const who = (namedKinds as readonly string[]).includes(e.who.kind) ? (`log.who.${e.who.kind}` as MessageKey) : null;
  const action = (actions as readonly string[]).includes(e.action) ? e.action : 'other';
  return { who, action: `log.action.${action}` as MessageKey };
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
