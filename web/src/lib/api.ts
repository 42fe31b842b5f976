// Calls to the Healthbook platform API. Every call resolves to a tagged result; only a broken
// network rejects (as NetworkError), so pages can tell "the server said no" from "no server".
import { isVerifyAnswer, type VerifyAnswer } from './verdict';
import { parseJson } from './json';

export interface Problem {
  status: number;
  title?: string;
  detail?: string;
  remainingAttempts?: number;
  retryAfter?: number;
  // Which limit a 429 is: this link's own lock after wrong answers, or the reader's network
  // address after wrong answers across links (certificate links only).
  limit?: 'link' | 'address';
  errors?: { path: string; message: string }[];
}

export class NetworkError extends Error {}

// A 429 titled "busy": another guess on the same thing (a certificate link, a share, an account)
// was being checked at that moment. Not a lock and no attempt was counted, so the person can
// simply try again; every other 429 is a real wait of retryAfter seconds.
export const isBusy = (p: { status: number; title?: string }) => p.status === 429 && p.title === 'busy';

export interface DocumentView {
  kind: string;
  label: string;
  status: 'active' | 'revoked' | 'superseded';
  supersededBy?: string;
  revokedReason?: string;
  patient: { name: string; maskedId: string };
  leave?: { from: string; to: string };
  facility: { name: string; code: string };
  doctor: string;
  issued: string;
  // The health card as "shc:/<digits>", which the page draws as a QR code; empty for a document
  // too large for one QR code (linkOnly): it is shared by link only.
  qr: string;
  linkOnly?: boolean;
  // Whether the document's links show the diagnosis: the patient's choice (on their own document
  // page). The link view carries `diagnosis` only when true; the patient's own view always does.
  showDiagnosis: boolean;
  diagnosis?: { text: string; code?: string };
  // The kind-specific content (lab results, a vaccination, ...): read with readDetails().
  details?: unknown;
  // The same document as a SMART Health Link for other health apps ("<viewer>#shlink:/..."); absent
  // when the page shows a replacement through an older document's link.
  shlink?: string;
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; problem: Problem };

async function call(path: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(path, {
      ...init,
      credentials: 'same-origin',
      headers: { accept: 'application/json', ...(init?.body ? { 'content-type': 'application/json' } : {}) },
    });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
}

// A problem+json body, with the Retry-After header as retryAfter when the body lacks it.
export async function readProblem(res: Response): Promise<Problem> {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = await res.json();
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: status alone
  }
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  const header = res.headers.get('retry-after');
  const problem: Problem = { status: res.status };
  if (typeof body.title === 'string') problem.title = body.title;
  if (typeof body.detail === 'string') problem.detail = body.detail;
  const remaining = num(body.remainingAttempts);
  if (remaining !== undefined) problem.remainingAttempts = remaining;
  const retry = num(body.retryAfter) ?? (header && /^\d+$/.test(header) ? Number(header) : undefined);
  if (retry !== undefined) problem.retryAfter = retry;
  if (body.limit === 'link' || body.limit === 'address') problem.limit = body.limit;
  if (Array.isArray(body.errors)) problem.errors = body.errors as Problem['errors'];
  return problem;
}

async function json<T>(res: Response, check: (x: unknown) => x is T): Promise<ApiResult<T>> {
  if (!res.ok) return { ok: false, problem: await readProblem(res) };
  const body: unknown = await res.text().then(parseJson).catch(() => undefined);
  if (!check(body)) return { ok: false, problem: { status: 502, detail: 'unexpected answer from the server' } };
  return { ok: true, value: body };
}

export async function verifyCard(card: string): Promise<ApiResult<VerifyAnswer>> {
  return json(await call('/api/v1/verify', { method: 'POST', body: JSON.stringify({ card }) }), isVerifyAnswer);
}

function isDocumentView(x: unknown): x is DocumentView {
  const o = x as Partial<DocumentView> | null;
  return typeof o === 'object' && o !== null && typeof o.kind === 'string' && typeof o.status === 'string' &&
    typeof o.patient === 'object' && o.patient !== null && typeof o.facility === 'object' && o.facility !== null &&
    (o.qr === undefined || typeof o.qr === 'string') && (o.shlink === undefined || typeof o.shlink === 'string');
}

const linkPath = (token: string) => `/api/v1/links/${encodeURIComponent(token)}`;

// latest: for a replaced document, open its newest replacement through the same link.
export async function getLink(token: string, latest = false): Promise<ApiResult<DocumentView>> {
  return json(await call(`${linkPath(token)}${latest ? '?latest' : ''}`), isDocumentView);
}

export async function unlockLink(token: string, birthDate: string): Promise<ApiResult<DocumentView>> {
  return json(await call(`${linkPath(token)}/unlock`, { method: 'POST', body: JSON.stringify({ birthDate }) }), isDocumentView);
}

// The QR code SVG as an image URL: drawn by <img>, so whatever the SVG holds never becomes part
// of the page (no script, no markup injection), and the page's CSP only needs img-src data:.
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg).replace(/'/g, '%27')}`;
}

// Only a same-site certificate path may become a link (never javascript: or another site); the
// server names a replacement as the same link with ?latest.
export function safeLinkPath(path: string | undefined): string | undefined {
  return path && /^\/c\/[A-Za-z0-9_-]+(\?latest)?$/.test(path) ? path : undefined;
}
