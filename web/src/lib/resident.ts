// Calls to the resident API (/api/v1/account/..., /api/v1/me/...) and what a refusal means for
// the page. The session lives in an HttpOnly cookie the page never sees; every request that
// changes something carries the X-Healthbook-CSRF header (docs/accounts.md), which a page on
// another site cannot add without a CORS preflight the server never grants.
import { isBusy, NetworkError, readProblem, type ApiResult, type Problem } from './api';
import { parseJson } from './json';

export const csrfHeader = 'x-healthbook-csrf';
// The person the resident acts for (a guardian for a child, a carer for the person who chose
// them): sent with /api/v1/me requests; the server checks the relation on every one
// (docs/proxies.md). Kept for this tab only.
export const actingForHeader = 'x-healthbook-acting-for';
const actingForKey = 'healthbook.actingFor';
export const actingForEvent = 'healthbook:acting-for';

export function actingFor(): string | null {
  try {
    return window.sessionStorage.getItem(actingForKey);
  } catch {
    return null;
  }
}

export function setActingFor(patientId: string | null): void {
  try {
    if (patientId) window.sessionStorage.setItem(actingForKey, patientId);
    else window.sessionStorage.removeItem(actingForKey);
  } catch {
    // storage refused (private mode): the choice lasts until the page reloads
  }
  window.dispatchEvent(new Event(actingForEvent));
}

// Routes that are always about the signed-in person themself (their carers, whom they act for).
export const ownOnly = (path: string) => /^\/api\/v1\/me\/(carers|acting-for)\b/.test(path);

// One request; `check` decides whether a 2xx body has the expected shape.
export async function residentCall<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body: unknown,
  check: (x: unknown) => x is T,
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers[csrfHeader] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const subject = actingFor();
  if (subject && path.startsWith('/api/v1/me/') && !ownOnly(path)) headers[actingForHeader] = subject;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
  if (!res.ok) return { ok: false, problem: await readProblem(res) };
  if (res.status === 204) return check(undefined) ? { ok: true, value: undefined as T } : { ok: true, value: {} as T };
  const parsed: unknown = await res.text().then(parseJson).catch(() => undefined);
  if (!check(parsed)) return { ok: false, problem: { status: 502, detail: 'unexpected answer from the server' } };
  return { ok: true, value: parsed };
}

export const anyObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
export const anything = (_x: unknown): _x is unknown => true;

// What a refusal means to the person, whatever route gave it.
export type Refusal =
  // No session, or it ended: log in (again).
  | { kind: 'session'; expired: boolean }
  // A wrong code or password; remaining tries when the server counts them.
  | { kind: 'wrong'; remaining?: number }
  // This login or code can no longer be used (too many tries, expired, replayed): start over.
  | { kind: 'startAgain' }
  | { kind: 'throttled'; retryAfter: number }
  // Another attempt for the same account was being checked at that moment: try again now.
  | { kind: 'busy' }
  | { kind: 'invalid'; fields: { path: string; message: string }[]; detail?: string }
  | { kind: 'conflict' }
  | { kind: 'notFound' }
  | { kind: 'forbidden' }
  | { kind: 'other'; status: number };

const sessionTitles = new Set(['session-expired', 'not-signed-in', 'second-factor-required']);

export function classify(p: Problem): Refusal {
  switch (p.status) {
    case 401:
      if (p.title && sessionTitles.has(p.title)) return { kind: 'session', expired: p.title === 'session-expired' };
      if (p.title === 'start-again') return { kind: 'startAgain' };
      return p.remainingAttempts !== undefined ? { kind: 'wrong', remaining: p.remainingAttempts } : { kind: 'wrong' };
    case 403:
      return { kind: 'forbidden' };
    case 404:
      return { kind: 'notFound' };
    case 409:
      return { kind: 'conflict' };
    case 410:
      return { kind: 'startAgain' };
    case 422:
    case 400:
      return { kind: 'invalid', fields: p.errors ?? [], ...(p.detail ? { detail: p.detail } : {}) };
    case 429:
      return isBusy(p) ? { kind: 'busy' } : { kind: 'throttled', retryAfter: p.retryAfter ?? 60 };
    default:
      return { kind: 'other', status: p.status };
  }
}

// Where to send someone whose session is gone, so they come back to the page they were on.
export function loginPath(expired: boolean, from: string): string {
  const q = new URLSearchParams();
  if (expired) q.set('expired', '1');
  if (isInAppPath(from) && !/^\/(login|signup|reset)\b/.test(from)) q.set('next', from);
  const s = q.toString();
  return s ? `/login?${s}` : '/login';
}

// Only a path on this site may be a "next" page (never //evil.example or javascript:).
export function isInAppPath(p: string | null | undefined): p is string {
  return !!p && /^\/(?!\/)[A-Za-z0-9/_\-.%?=&]*$/.test(p) && !p.includes('\\');
}

// ---- accounts (docs/accounts.md) ------------------------------------------------------------

export interface Me {
  // hasPassword: false for an account the national eID login made (it has no password to change)
  account: { id: string; created: string; secondFactors: string[]; hasPassword?: boolean };
  patient: { reference: string; name: string; birthDate: string };
  session: { created: string; expires: string };
}

function isMe(x: unknown): x is Me {
  return anyObject(x) && anyObject(x.account) && anyObject(x.patient) && typeof x.patient.name === 'string' &&
    Array.isArray(x.account.secondFactors);
}

export interface SignupStart { challenge: string; expiresIn: number }
const isSignupStart = (x: unknown): x is SignupStart => anyObject(x) && typeof x.challenge === 'string';
// smsLimited: no code was sent because the phone already had as many login codes as an hour allows.
export interface LoginAnswer { secondFactor: { methods: string[]; smsSent: boolean; smsLimited?: boolean } }
const isLoginAnswer = (x: unknown): x is LoginAnswer =>
  anyObject(x) && anyObject(x.secondFactor) && Array.isArray(x.secondFactor.methods);
export interface TotpSetup { secret: string; uri: string; digits: number; period: number }
const isTotpSetup = (x: unknown): x is TotpSetup => anyObject(x) && typeof x.secret === 'string' && typeof x.uri === 'string';

const account = (route: string) => `/api/v1/account/${route}`;

export const startSignup = (nationalId: string, birthDate: string) =>
  residentCall('POST', account('signup/start'), { nationalId, birthDate }, isSignupStart);
export const finishSignup = (challenge: string, code: string, password: string) =>
  residentCall('POST', account('signup/verify'), { challenge, code, password }, anyObject);
// A forgotten password (or an eID account's first one): the same proof as sign-up, then the
// code, the new password and, when the account has an authenticator app, a code from it.
export const startReset = (nationalId: string, birthDate: string) =>
  residentCall('POST', account('reset/start'), { nationalId, birthDate }, isSignupStart);
export const finishReset = (challenge: string, code: string, password: string, authenticatorCode: string) =>
  residentCall('POST', account('reset/finish'), { challenge, code, password, ...(authenticatorCode ? { authenticatorCode } : {}) }, anyObject);
export const login = (nationalId: string, password: string) =>
  residentCall('POST', account('login'), { nationalId, password }, isLoginAnswer);
// The national eID login (OpenID Connect): the browser navigates to the start route, the
// provider, and back; the server ends the trip at /book signed in or at /login?error=oidc-... .
export const oidcStartPath = '/api/v1/account/oidc/start';
const isOidcStatus = (x: unknown): x is { enabled: boolean } => anyObject(x) && typeof x.enabled === 'boolean';
export const oidcStatus = () => residentCall('GET', account('oidc'), undefined, isOidcStatus);
// The message key for the server's ?error= after an eID login, or null for none or one we do not know.
export function oidcErrorKey(error: string | null): 'login.eidNoRecord' | 'login.eidFailed' | null {
  if (error === 'oidc-no-record') return 'login.eidNoRecord';
  if (error === 'oidc-failed') return 'login.eidFailed';
  return null;
}
export const sendLoginSms = () => residentCall('POST', account('login/sms'), undefined, anyObject);
export const secondFactor = (code: string) => residentCall('POST', account('login/second-factor'), { code }, anyObject);
export const getMe = () => residentCall('GET', account('me'), undefined, isMe);
export const totpSetup = () => residentCall('POST', account('totp/setup'), undefined, isTotpSetup);
export const totpConfirm = (code: string) => residentCall('POST', account('totp/confirm'), { code }, anyObject);
export const logout = () => residentCall('POST', account('logout'), undefined, anyObject);
export const logoutEverywhere = () => residentCall('POST', account('logout-everywhere'), undefined, anyObject);
export const changePassword = (currentPassword: string, newPassword: string) =>
  residentCall('POST', account('password'), { currentPassword, newPassword }, anyObject);

// ---- passwords: the server's rules, shown as the person types -------------------------------

export interface PasswordCheck {
  length: boolean; // at least 10 characters
  mix: boolean; // at least two of lower, upper, digits, other
  notId: boolean; // does not hold the national id
  maxBytes: boolean; // at most 256 bytes of UTF-8
}

export const minPasswordChars = 10;

export function checkPassword(password: string, nationalId = ''): PasswordCheck {
  let lower = false;
  let upper = false;
  let digit = false;
  let other = false;
  for (const ch of password) {
    if (ch >= 'a' && ch <= 'z') lower = true;
    else if (ch >= 'A' && ch <= 'Z') upper = true;
    else if (ch >= '0' && ch <= '9') digit = true;
    else other = true;
  }
  const kinds = Number(lower) + Number(upper) + Number(digit) + Number(other);
  const id = nationalId.trim();
  return {
    length: [...password].length >= minPasswordChars,
    mix: kinds >= 2,
    notId: id === '' || !password.includes(id),
    maxBytes: new TextEncoder().encode(password).length <= 256,
  };
}

export const passwordOk = (c: PasswordCheck) => c.length && c.mix && c.notId && c.maxBytes;

// A one-time code as typed: spaces and hyphens dropped ("123 456").
export function cleanCode(s: string): string {
  return s.replace(/[\s-]/g, '');
}
export const isSixDigits = (s: string) => /^\d{6}$/.test(s);
