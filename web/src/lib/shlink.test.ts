// The viewer's decryption against JWEs made by an independent implementation (the npm `jose`
// package, from the repository's tools), and payload parsing.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { CompactEncrypt } from 'jose';
import {
  base64urlBytes, bytesBase64url, cardBundle, decryptJwe, healthCardClaims, isExpired, needsPasscode, openFile, parseShlink,
  readManifest, requestManifest,
} from './shlink';

const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
const keyText = bytesBase64url(key);
const payloadOf = (o: object) => `shlink:/${bytesBase64url(new TextEncoder().encode(JSON.stringify(o)))}`;

describe('parseShlink', () => {
  const p = { url: 'http://127.0.0.1:8080/shl/abc', key: keyText, flag: 'P', exp: 1_900_000_000, label: 'For Dr Lan' };
  test('bare, behind a viewer URL, and percent-decoded', () => {
    expect(parseShlink(payloadOf(p))).toEqual({ ok: true, payload: p });
    expect(parseShlink(`http://127.0.0.1:8080/s#${payloadOf(p)}`)).toEqual({ ok: true, payload: p });
  });
  test('refuses what is not a link', () => {
    expect(parseShlink('')).toEqual({ ok: false, error: 'missing' });
    expect(parseShlink('shlink:/!!!')).toEqual({ ok: false, error: 'malformed' });
    expect(parseShlink(payloadOf({ ...p, key: 'c2hvcnQ' }))).toEqual({ ok: false, error: 'malformed' });
    expect(parseShlink(payloadOf({ ...p, url: 'javascript:alert(1)' }))).toEqual({ ok: false, error: 'malformed' });
  });
  test('flags and expiry', () => {
    const r = parseShlink(payloadOf(p));
    if (!r.ok) throw new Error('parse');
    expect(needsPasscode(r.payload)).toBe(true);
    expect(needsPasscode({ ...r.payload, flag: 'L' })).toBe(false);
    expect(isExpired(r.payload, new Date(1_899_999_999_000))).toBe(false);
    expect(isExpired(r.payload, new Date(1_900_000_000_000))).toBe(true);
  });
});

describe('decryptJwe', () => {
  test('dir + A256GCM from jose decrypts to the same bytes', async () => {
    const text = JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [] });
    const jwe = await new CompactEncrypt(new TextEncoder().encode(text)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'application/fhir+json' }).encrypt(key);
    expect(new TextDecoder().decode(await decryptJwe(jwe, keyText))).toBe(text);
  });
  test('zip DEF is inflated', async () => {
    // jose compresses the plaintext itself when the header says zip DEF.
    const text = 'x'.repeat(500);
    const jwe = await new CompactEncrypt(new TextEncoder().encode(text)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', zip: 'DEF' }).encrypt(key);
    expect(jwe.length).toBeLessThan(300);
    expect(new TextDecoder().decode(await decryptJwe(jwe, keyText))).toBe(text);
  });
  test('a wrong key, a changed header or another algorithm fails', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode('secret')).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key);
    await expect(decryptJwe(jwe, bytesBase64url(new Uint8Array(32)))).rejects.toThrow();
    const [, ...rest] = jwe.split('.');
    const otherHeader = bytesBase64url(new TextEncoder().encode(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: 'x' })));
    await expect(decryptJwe([otherHeader, ...rest].join('.'), keyText)).rejects.toThrow();
    const cbc = await new CompactEncrypt(new TextEncoder().encode('secret')).setProtectedHeader({ alg: 'dir', enc: 'A256CBC-HS512' }).encrypt(new Uint8Array(64));
    await expect(decryptJwe(cbc, keyText)).rejects.toThrow(/unsupported/);
    await expect(decryptJwe('a.b.c', keyText)).rejects.toThrow();
  });
});

describe('health cards and manifests', () => {
  test('a card’s claims are inflated and its bundle found', async () => {
    const claims = { iss: 'http://127.0.0.1:8080/issuers/01001', nbf: 1, vc: { credentialSubject: { fhirBundle: { resourceType: 'Bundle', entry: [] } } } };
    const body = bytesBase64url(new Uint8Array(deflateRawSync(Buffer.from(JSON.stringify(claims)))));
    const jws = `eyJhbGciOiJFUzI1NiJ9.${body}.c2ln`;
    const read = await healthCardClaims(jws);
    expect(read.iss).toBe(claims.iss);
    expect(cardBundle(read)).toEqual({ resourceType: 'Bundle', entry: [] });
  });
  test('manifest files: embedded or an http(s) location', () => {
    expect(readManifest({ files: [
      { contentType: 'application/fhir+json', embedded: 'a.b.c.d.e' },
      { contentType: 'application/smart-health-card', location: 'https://x.example/f' },
      { contentType: 'application/fhir+json', location: 'javascript:x' },
      { embedded: 'x' },
    ] })).toEqual([
      { contentType: 'application/fhir+json', embedded: 'a.b.c.d.e' },
      { contentType: 'application/smart-health-card', location: 'https://x.example/f' },
    ]);
    expect(readManifest({})).toBeUndefined();
  });
  test('a FHIR file named with its fhirVersion parameter (HL7 STU1) opens as FHIR', async () => {
    const text = JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [] });
    const jwe = await new CompactEncrypt(new TextEncoder().encode(text)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key);
    for (const contentType of ['application/fhir+json;fhirVersion=4.0.1', 'Application/FHIR+json ; fhirVersion=4.0.1', 'application/fhir+json']) {
      expect(await openFile({ contentType, embedded: jwe }, keyText)).toEqual({ type: 'fhir', resource: JSON.parse(text) });
    }
    expect(await openFile({ contentType: 'application/fhir+jsonx', embedded: jwe }, keyText)).toEqual({ type: 'unknown', contentType: 'application/fhir+jsonx' });
  });
  test('base64url round trip', () => {
    const b = new Uint8Array([0, 250, 251, 252, 253, 254, 255]);
    expect(base64urlBytes(bytesBase64url(b))).toEqual(b);
    expect(() => base64urlBytes('a+b')).toThrow();
  });
});

describe('requestManifest refusals', () => {
  const payload = { url: 'http://127.0.0.1:8080/shl/abc', key: keyText, flag: 'P' };
  const answering = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } }));
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  test('a busy answer keeps its title, so the page can tell it from a lock', async () => {
    answering(429, { type: 'about:blank', status: 429, title: 'busy', detail: 'Another passcode is being checked.', retryAfter: 1 });
    expect(await requestManifest(payload, 'Dr Lan', '1234')).toEqual({ ok: false, status: 429, title: 'busy', retryAfter: 1 });
  });
  test('a lock, with Retry-After when the body has no retryAfter; a title that is not a string is left out', async () => {
    answering(429, { title: 'locked' }, { 'retry-after': '3600' });
    expect(await requestManifest(payload, 'Dr Lan', '1234')).toEqual({ ok: false, status: 429, title: 'locked', retryAfter: 3600 });
    answering(401, { title: ['busy'], remainingAttempts: 4 });
    expect(await requestManifest(payload, 'Dr Lan', '1234')).toEqual({ ok: false, status: 401, remainingAttempts: 4 });
  });
});
