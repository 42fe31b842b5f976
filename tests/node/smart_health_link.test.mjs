// A document link opened as a SMART Health Link by an independent viewer: the shlink:/ payload is
// decoded here, the manifest is requested with the birth date as passcode (flag P), and the file
// is decrypted with the npm `jose` package (JWE dir + A256GCM) and its card verified.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';
import * as jose from 'jose';
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

test('the certificate link works as a passcode-protected SMART Health Link', async () => {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const issued = await fetch(`${hb.base}/api/v1/documents`, {
    method: 'POST', headers,
    body: JSON.stringify({
      documentId: 'SHL-1', kind: 'mc-outpatient',
      patient: { nationalId: '001190099999', family: 'Hoang', given: 'Lan', birthDate: '1979-02-28', phone: '+84987654321' },
      doctor: { name: 'Dr. Vu' }, leave: { from: '2026-11-21', to: '2026-11-21' },
    }),
  });
  assert.equal(issued.status, 201, await issued.clone().text());
  const doc = await issued.json();
  const linkToken = doc.link.split('/c/')[1];
  assert.ok(linkToken.length >= 43, 'a manifest URL carries at least 256 bits');

  // The patient opens their link and gets the shlink for any viewer.
  const unlocked = await fetch(`${hb.base}/api/v1/links/${linkToken}/unlock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ birthDate: '28/02/1979' }),
  });
  assert.equal(unlocked.status, 200, await unlocked.clone().text());
  const view = await unlocked.json();
  assert.ok(view.shlink.startsWith(`${hb.base}/c/${linkToken}#shlink:/`), view.shlink);

  // An SHL viewer: decode the payload...
  const payload = JSON.parse(Buffer.from(view.shlink.split('#shlink:/')[1], 'base64url').toString('utf8'));
  assert.equal(payload.flag, 'P');
  assert.equal(payload.url, `${hb.base}/shl/${linkToken}`);
  assert.equal(Buffer.from(payload.key, 'base64url').length, 32);
  assert.ok(payload.label.length <= 80);

  // ...ask for the manifest with a wrong passcode, then the right one.
  const ask = (passcode) => fetch(payload.url, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ recipient: 'Example Employer HR', passcode }),
  });
  const wrong = await ask('1979-02-27');
  assert.equal(wrong.status, 401);
  const wrongBody = await wrong.json();
  assert.equal(wrongBody.remainingAttempts, 19, 'the passcodes left before the link is disabled');
  const unknown = await fetch(`${hb.base}/shl/${'A'.repeat(43)}`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ recipient: 'x', passcode: '1979-02-27' }),
  });
  assert.equal(unknown.status, 401, 'an unknown link answers like a wrong passcode');
  assert.deepEqual(await unknown.json(), wrongBody);
  const right = await ask('1979-02-28');
  assert.equal(right.status, 200, await right.clone().text());
  const manifest = await right.json();
  assert.equal(manifest.files.length, 1);
  assert.equal(manifest.files[0].contentType, 'application/smart-health-card');

  // Decrypt the file with the link's key and verify the card inside against the issuer's keys.
  const { plaintext, protectedHeader } = await jose.compactDecrypt(manifest.files[0].embedded,
    Buffer.from(payload.key, 'base64url'));
  assert.equal(protectedHeader.alg, 'dir');
  assert.equal(protectedHeader.enc, 'A256GCM');
  const file = JSON.parse(new TextDecoder().decode(plaintext));
  const jws = file.verifiableCredential[0];
  assert.equal(jws, doc.card.jws);
  const jwks = await (await fetch(`${doc.issuer}/.well-known/jwks.json`)).json();
  const { payload: signed } = await jose.compactVerify(jws, jose.createLocalJWKSet(jwks));
  const claims = JSON.parse(inflateRawSync(Buffer.from(signed)).toString('utf8'));
  assert.equal(claims.vc.credentialSubject.fhirBundle.entry[0].resource.birthDate, '1979-02-28');

  // A viewer that takes only short embedded files gets a single-use location to fetch instead.
  const byLocation = await fetch(payload.url, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ recipient: 'Example Employer HR', passcode: '1979-02-28', embeddedLengthMax: 64 }),
  });
  assert.equal(byLocation.status, 200, await byLocation.clone().text());
  const located = (await byLocation.json()).files[0];
  assert.equal(located.embedded, undefined);
  assert.ok(located.location.startsWith(`${hb.base}/shl/file/`), located.location);
  const fetched = await fetch(located.location);
  assert.equal(fetched.status, 200);
  assert.equal(fetched.headers.get('content-type'), 'application/jose');
  assert.equal(fetched.headers.get('access-control-allow-origin'), '*');
  const again = await jose.compactDecrypt(await fetched.text(), Buffer.from(payload.key, 'base64url'));
  assert.equal(JSON.parse(new TextDecoder().decode(again.plaintext)).verifiableCredential[0], doc.card.jws);
  assert.equal((await fetch(located.location)).status, 404, 'a location serves its file once');

  // Five wrong passcodes in an hour lock it, as on the page (the right ones above started the
  // hour's count over, not the link's); the fifth is still told how many passcodes are left before
  // the link is disabled (401), and the next request waits (429).
  for (let left = 18; left >= 15; left--) {
    const another = await ask('1900-01-01');
    assert.equal(another.status, 401);
    assert.equal((await another.json()).remainingAttempts, left);
  }
  const fifth = await ask('1900-01-01');
  assert.equal(fifth.status, 401, 'the wrong passcode that locks the link is a wrong passcode');
  assert.equal((await fifth.json()).remainingAttempts, 14);
  const locked = await ask('1979-02-28');
  assert.equal(locked.status, 429, 'locked: even the right passcode waits');
  assert.ok(Number(locked.headers.get('retry-after')) > 0);
  assert.equal((await locked.json()).remainingAttempts, undefined);
});
