// Our SMART Health Cards, checked by independent implementations: the QR image is decoded with
// the npm `jsqr` package (PNG read by `pngjs`), and the JWS is verified with the npm `jose`
// package against the issuer's published JWK Set, after raw DEFLATE decompression by Node's zlib.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';
import * as jose from 'jose';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { Healthbook } from './harness.mjs';

let hb;
let token;

before(async () => {
  hb = await Healthbook.start();
  await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
  token = await hb.token(await hb.addClient('01001'));
});

after(async () => {
  await hb?.stop();
});

function shcToJws(text) {
  const digits = text.slice('shc:/'.length);
  assert.equal(digits.length % 2, 0);
  let jws = '';
  for (let i = 0; i < digits.length; i += 2) jws += String.fromCharCode(Number(digits.slice(i, i + 2)) + 45);
  return jws;
}

test('a certificate QR decodes with jsqr and its JWS verifies with jose against the published keys', async () => {
  const request = {
    documentId: 'MC-NODE-1', kind: 'mc-hospitalisation',
    patient: { nationalId: '001190012345', family: 'Pham', given: 'Van Duc', birthDate: '1985-07-30', phone: '+84912345678' },
    doctor: { name: 'Dr. Le Thi Hoa' },
    leave: { from: '2026-11-18', to: '2026-11-24' },
  };
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const issued = await fetch(`${hb.base}/api/v1/documents`, { method: 'POST', headers, body: JSON.stringify(request) });
  assert.equal(issued.status, 201, await issued.clone().text());
  const doc = await issued.json();

  const png = await fetch(`${hb.base}/api/v1/documents/MC-NODE-1/qr.png`, { headers });
  assert.equal(png.status, 200);
  assert.equal(png.headers.get('content-type'), 'image/png');
  const image = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
  const qr = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  assert.ok(qr, 'jsqr found a QR code');
  assert.equal(qr.data, doc.card.qr);
  assert.ok(qr.version <= 22, `QR version ${qr.version} fits the SMART Health Cards limit`);
  // Two segments: "shc:/" in byte mode, the digits in numeric mode.
  assert.deepEqual(qr.chunks.map((c) => c.type), ['byte', 'numeric']);

  const jws = shcToJws(qr.data);
  assert.equal(jws, doc.card.jws);
  const header = jose.decodeProtectedHeader(jws);
  assert.equal(header.alg, 'ES256');
  assert.equal(header.zip, 'DEF');
  const jwks = await (await fetch(`${doc.issuer}/.well-known/jwks.json`)).json();
  assert.equal(jwks.keys[0].kid, header.kid);
  assert.equal(await jose.calculateJwkThumbprint(jwks.keys[0]), header.kid, 'kid is the RFC 7638 thumbprint');
  const { payload } = await jose.compactVerify(jws, jose.createLocalJWKSet(jwks));
  const claims = JSON.parse(inflateRawSync(Buffer.from(payload)).toString('utf8'));
  assert.equal(claims.iss, doc.issuer);
  assert.ok(Number.isInteger(claims.nbf));
  assert.deepEqual(claims.vc.type, ['https://smarthealth.cards#health-card']);
  const bundle = claims.vc.credentialSubject.fhirBundle;
  assert.equal(claims.vc.credentialSubject.fhirVersion, '4.0.1');
  assert.equal(bundle.entry[0].fullUrl, 'resource:0');
  assert.equal(bundle.entry[0].resource.birthDate, '1985-07-30');
  assert.equal(bundle.entry[1].resource.subject.reference, 'resource:0');
  assert.deepEqual(bundle.entry[1].resource.context.period, { start: '2026-11-18', end: '2026-11-24' });
  assert.ok(!JSON.stringify(bundle).includes('001190012345'), 'no national id on the card');

  // A tampered payload fails jose's verification.
  const [h, p, s] = jws.split('.');
  const flipped = p.slice(0, 10) + (p[10] === 'A' ? 'B' : 'A') + p.slice(11);
  await assert.rejects(jose.compactVerify(`${h}.${flipped}.${s}`, jose.createLocalJWKSet(jwks)));
});
