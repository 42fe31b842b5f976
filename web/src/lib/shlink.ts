// SMART Health Links for recipients (the viewer at /s#shlink:/...): reading the payload,
// asking for the manifest, and opening its files. Files are JWE compact with "alg":"dir" and
// "enc":"A256GCM" under the 32-byte key in the payload, decrypted with WebCrypto; the key never
// leaves the page (it travels in the URL's fragment, which browsers do not send to servers).
// A file is a FHIR resource (application/fhir+json) or SMART Health Cards
// (application/smart-health-card: {"verifiableCredential": [JWS, ...]}).
import { parseJson } from './json';

export interface ShlinkPayload {
  url: string;
  key: string; // base64url, 32 bytes
  flag: string; // letters: L long-term, P passcode, U direct file
  exp?: number; // seconds since the epoch
  label?: string;
  v?: number;
}

export function base64urlBytes(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url');
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesBase64url(b: Uint8Array): string {
  let bin = '';
  for (const x of b) bin += String.fromCharCode(x);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export type PayloadError = 'missing' | 'malformed';

// The payload from the page's fragment or a pasted link ("shlink:/…", "<viewer>#shlink:/…").
export function parseShlink(text: string): { ok: true; payload: ShlinkPayload } | { ok: false; error: PayloadError } {
  const at = text.indexOf('shlink:/');
  if (at < 0) return { ok: false, error: 'missing' };
  const encoded = text.slice(at + 'shlink:/'.length).trim();
  try {
    const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64urlBytes(encoded)));
    if (typeof json !== 'object' || json === null) return { ok: false, error: 'malformed' };
    const o = json as Record<string, unknown>;
    if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url) || typeof o.key !== 'string' || base64urlBytes(o.key).length !== 32) {
      return { ok: false, error: 'malformed' };
    }
    const p: ShlinkPayload = { url: o.url, key: o.key, flag: typeof o.flag === 'string' ? o.flag : '' };
    if (typeof o.exp === 'number' && Number.isFinite(o.exp)) p.exp = o.exp;
    if (typeof o.label === 'string') p.label = o.label.slice(0, 80);
    if (typeof o.v === 'number') p.v = o.v;
    return { ok: true, payload: p };
  } catch {
    return { ok: false, error: 'malformed' };
  }
}

export const needsPasscode = (p: ShlinkPayload) => p.flag.includes('P');
export const isExpired = (p: ShlinkPayload, now: Date) => p.exp !== undefined && p.exp * 1000 <= now.getTime();

// Decrypts a JWE compact serialisation with alg "dir", enc "A256GCM"; "zip":"DEF" is inflated.
export async function decryptJwe(jwe: string, keyB64url: string): Promise<Uint8Array> {
  const parts = jwe.trim().split('.');
  if (parts.length !== 5) throw new Error('not a JWE compact serialisation');
  const [protectedB64, encryptedKey, ivB64, cipherB64, tagB64] = parts as [string, string, string, string, string];
  const header = JSON.parse(new TextDecoder().decode(base64urlBytes(protectedB64))) as Record<string, unknown>;
  if (header.alg !== 'dir' || header.enc !== 'A256GCM' || encryptedKey !== '') throw new Error('unsupported JWE (need dir + A256GCM)');
  const key = await crypto.subtle.importKey('raw', base64urlBytes(keyB64url) as BufferSource, 'AES-GCM', false, ['decrypt']);
  const cipher = base64urlBytes(cipherB64);
  const tag = base64urlBytes(tagB64);
  const sealed = new Uint8Array(cipher.length + tag.length);
  sealed.set(cipher);
  sealed.set(tag, cipher.length);
  const plain = new Uint8Array(await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: base64urlBytes(ivB64) as BufferSource, additionalData: new TextEncoder().encode(protectedB64), tagLength: 128 },
    key, sealed as BufferSource,
  ));
  return header.zip === 'DEF' ? inflateRaw(plain) : plain;
}

export async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// The claims of a SMART Health Card (a compact JWS whose payload is raw-DEFLATEd JSON). The
// signature is checked by the server's verifier (/api/v1/verify), not here.
export async function healthCardClaims(jws: string): Promise<Record<string, unknown>> {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWS');
  const json = new TextDecoder().decode(await inflateRaw(base64urlBytes(parts[1]!)));
  const claims: unknown = parseJson(json);
  if (typeof claims !== 'object' || claims === null) throw new Error('not a health card');
  return claims as Record<string, unknown>;
}

export function cardBundle(claims: Record<string, unknown>): unknown {
  const vc = claims.vc as { credentialSubject?: { fhirBundle?: unknown } } | undefined;
  return vc?.credentialSubject?.fhirBundle;
}

export interface ManifestFile {
  contentType: string;
  embedded?: string;
  location?: string;
}

export function readManifest(x: unknown): ManifestFile[] | undefined {
  if (typeof x !== 'object' || x === null || !Array.isArray((x as { files?: unknown }).files)) return undefined;
  return ((x as { files: unknown[] }).files).flatMap((f) => {
    if (typeof f !== 'object' || f === null) return [];
    const o = f as Record<string, unknown>;
    if (typeof o.contentType !== 'string') return [];
    const file: ManifestFile = { contentType: o.contentType };
    if (typeof o.embedded === 'string') file.embedded = o.embedded;
    else if (typeof o.location === 'string' && /^https?:\/\//.test(o.location)) file.location = o.location;
    else return [];
    return [file];
  });
}

export type ManifestAnswer =
  | { ok: true; files: ManifestFile[] }
  | { ok: false; status: number; title?: string; remainingAttempts?: number; retryAfter?: number };

// POSTs the manifest request: who is opening it (the recipient's own words) and the passcode.
export async function requestManifest(p: ShlinkPayload, recipient: string, passcode?: string): Promise<ManifestAnswer> {
  const res = await fetch(p.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ recipient, ...(passcode !== undefined ? { passcode } : {}) }),
    credentials: 'omit',
    cache: 'no-store',
  });
  const body: unknown = await res.json().catch(() => undefined);
  if (res.ok) {
    const files = readManifest(body);
    return files ? { ok: true, files } : { ok: false, status: 502 };
  }
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const out: ManifestAnswer = { ok: false, status: res.status };
  if (typeof o.title === 'string') out.title = o.title;
  if (typeof o.remainingAttempts === 'number') out.remainingAttempts = o.remainingAttempts;
  const retry = typeof o.retryAfter === 'number' ? o.retryAfter : Number(res.headers.get('retry-after') ?? NaN);
  if (Number.isFinite(retry)) out.retryAfter = retry;
  return out;
}

export type OpenedFile =
  | { type: 'fhir'; resource: unknown }
  | { type: 'cards'; cards: { jws: string; claims: Record<string, unknown> }[] }
  | { type: 'unknown'; contentType: string };

// One manifest file: fetched when it is a location, decrypted, and read by its content type.
export async function openFile(f: ManifestFile, key: string): Promise<OpenedFile> {
  let jwe = f.embedded;
  if (jwe === undefined && f.location) {
    const res = await fetch(f.location, { credentials: 'omit', cache: 'no-store' });
    if (!res.ok) throw new Error(`file answered ${res.status}`);
    jwe = await res.text();
  }
  if (jwe === undefined) throw new Error('file has no content');
  const plain = new TextDecoder().decode(await decryptJwe(jwe, key));
  // The media type decides; STU1 servers add parameters ("application/fhir+json;fhirVersion=4.0.1").
  const type = (f.contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'application/fhir+json') return { type: 'fhir', resource: parseJson(plain) };
  if (type === 'application/smart-health-card') {
    const vcs = (JSON.parse(plain) as { verifiableCredential?: unknown }).verifiableCredential;
    const jwss = Array.isArray(vcs) ? vcs.filter((v): v is string => typeof v === 'string') : [];
    return { type: 'cards', cards: await Promise.all(jwss.map(async (jws) => ({ jws, claims: await healthCardClaims(jws) }))) };
  }
  return { type: 'unknown', contentType: f.contentType };
}
