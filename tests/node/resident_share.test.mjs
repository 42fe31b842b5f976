// A resident's share opened by an independent SMART Health Link client: the resident signs up
// (the SMS code is read from the development sink), shares an Observation and a medical
// certificate with a passcode, and this client decodes the shlink:/ payload, asks for the
// manifest with the passcode, decrypts every file with the npm `jose` package (JWE dir + A256GCM,
// zip DEF) and checks the FHIR Bundle and the certificate's SMART Health Card inside.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import * as jose from 'jose';
import { Healthbook } from './harness.mjs';

const person = {
  nationalId: '001190012345', family: 'Pham', given: 'Thu Ha', birthDate: '1988-07-09', phone: '+84912345678',
};
let hb;
let token;

before(async () => {
  hb = await Healthbook.start({
    HEALTHBOOK_ACCOUNTS_PASSWORD_OPS_LIMIT: '1', HEALTHBOOK_ACCOUNTS_PASSWORD_MEMORY_KIB: '8',
  });
  await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
  token = await hb.token(await hb.addClient('01001'));
});

after(async () => {
  await hb?.stop();
});

// The newest sign-up code sent to `phone` (the development SMS sink's file).
async function smsCode(phone) {
  const file = join(hb.data, 'notify-sms.jsonl');
  for (let i = 0; i < 200; i++) {
    if (existsSync(file)) {
      const codes = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
        .filter((m) => m.to === phone).map((m) => m.text.match(/code: (\d{6})\./)?.[1]).filter(Boolean);
      if (codes.length) return codes.at(-1);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no SMS code for ${phone}`);
}

async function account(route, body, cookie) {
  const headers = { 'content-type': 'application/json', 'x-healthbook-csrf': '1' };
  if (cookie) headers.cookie = cookie;
  return fetch(`${hb.base}/api/v1/account/${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

test('a resident share opens in an independent SMART Health Link client', async () => {
  // A clinic issues a certificate (registering the person) and records a result.
  const facility = { authorization: `Bearer ${token}` };
  const issued = await fetch(`${hb.base}/api/v1/documents`, {
    method: 'POST', headers: { ...facility, 'content-type': 'application/json' },
    body: JSON.stringify({
      documentId: 'MC-SHARE-1', kind: 'mc-outpatient', patient: person,
      doctor: { name: 'Dr. Vu' }, leave: { from: '2026-11-21', to: '2026-11-22' },
    }),
  });
  assert.equal(issued.status, 201, await issued.clone().text());
  const doc = await issued.json();
  const obs = await fetch(`${hb.base}/fhir/Observation`, {
    method: 'POST', headers: { ...facility, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({
      resourceType: 'Observation', status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: doc.patient }, valueQuantity: { value: 72, unit: '/min' },
    }),
  });
  assert.equal(obs.status, 201, await obs.clone().text());
  const observation = await obs.json();

  // The resident signs up and shares both, with a passcode.
  const start = await account('signup/start', { nationalId: person.nationalId, birthDate: person.birthDate });
  assert.equal(start.status, 202);
  const verified = await account('signup/verify', {
    challenge: (await start.json()).challenge, code: await smsCode(person.phone), password: 'correct horse 42',
  });
  assert.equal(verified.status, 201, await verified.clone().text());
  const cookie = verified.headers.get('set-cookie').split(';')[0];
  const made = await fetch(`${hb.base}/api/v1/me/shares`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'x-healthbook-csrf': '1' },
    body: JSON.stringify({
      records: [`Observation/${observation.id}`, doc.documentReference],
      label: 'For Dr. Hoa', expiresIn: 7 * 24 * 3600, passcode: 'lotus-2718',
    }),
  });
  assert.equal(made.status, 201, await made.clone().text());
  const share = await made.json();

  // The client: the viewer URL's fragment is the link; its payload says where and with what key.
  assert.ok(share.viewerUrl.startsWith(`${hb.base}/s#shlink:/`), share.viewerUrl);
  const payload = JSON.parse(Buffer.from(share.viewerUrl.split('#shlink:/')[1], 'base64url').toString('utf8'));
  assert.equal(payload.flag, 'P');
  assert.equal(payload.label, 'For Dr. Hoa');
  assert.equal(payload.v, 1);
  assert.ok(payload.exp > Date.now() / 1000 + 6 * 24 * 3600);
  const key = Buffer.from(payload.key, 'base64url');
  assert.equal(key.length, 32);

  const ask = (passcode) => fetch(payload.url, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ recipient: 'Dr. Hoa, Family Clinic', passcode }),
  });
  const wrong = await ask('lotus-0000');
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).remainingAttempts, 19, 'the passcodes left before the share is disabled');
  const right = await ask('lotus-2718');
  assert.equal(right.status, 200, await right.clone().text());
  const { files } = await right.json();
  assert.deepEqual(files.map((f) => f.contentType).sort(), ['application/fhir+json;fhirVersion=4.0.1', 'application/smart-health-card']);

  // Every file decrypts with the link's key alone.
  const opened = {};
  for (const f of files) {
    const { plaintext, protectedHeader } = await jose.compactDecrypt(f.embedded, key);
    assert.equal(protectedHeader.alg, 'dir');
    assert.equal(protectedHeader.enc, 'A256GCM');
    opened[f.contentType] = JSON.parse(new TextDecoder().decode(plaintext));
  }
  // A viewer that takes short embedded files only gets single-use locations, with the same files.
  const small = await fetch(payload.url, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ recipient: 'Dr. Hoa, Family Clinic', passcode: 'lotus-2718', embeddedLengthMax: 32 }),
  });
  assert.equal(small.status, 200, await small.clone().text());
  for (const f of (await small.json()).files) {
    assert.equal(f.embedded, undefined);
    const got = await fetch(f.location);
    assert.equal(got.status, 200, f.location);
    const { plaintext } = await jose.compactDecrypt(await got.text(), key);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(plaintext)), opened[f.contentType]);
    assert.equal((await fetch(f.location)).status, 404, 'once');
  }

  const bundle = opened['application/fhir+json;fhirVersion=4.0.1'];
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.type, 'collection');
  const shared = bundle.entry.map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
  assert.deepEqual(shared, [doc.documentReference, `Observation/${observation.id}`].sort());
  assert.equal(bundle.entry.find((e) => e.resource.resourceType === 'Observation').resource.valueQuantity.value, 72);

  const jws = opened['application/smart-health-card'].verifiableCredential[0];
  assert.equal(jws, doc.card.jws);
  const jwks = await (await fetch(`${doc.issuer}/.well-known/jwks.json`)).json();
  const { payload: signed } = await jose.compactVerify(jws, jose.createLocalJWKSet(jwks));
  const claims = JSON.parse(inflateRawSync(Buffer.from(signed)).toString('utf8'));
  assert.equal(claims.vc.credentialSubject.fhirBundle.entry[0].resource.birthDate, person.birthDate);

  // Wrong passcodes sent at once are checked one after another: the fifth is told so like the
  // others (401, with the passcodes left before the share is disabled) and locks the share (429),
  // and none gets past that lock, however many come together.
  const remaining = [];
  let locked = false;
  for (let round = 0; round < 20 && !locked; round++) {
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(`lotus-${round}${i}00`)));
    for (const a of answers) {
      const body = await a.json();
      assert.ok(a.status === 401 || a.status === 429, `${a.status} ${JSON.stringify(body)}`);
      if (a.status === 401) remaining.push(body.remainingAttempts);
      if (a.status === 429 && body.title === 'locked') locked = true;
    }
  }
  assert.ok(locked);
  assert.deepEqual(remaining.sort((x, y) => y - x), [19, 18, 17, 16, 15], 'each counted once, in turn');
  assert.equal((await ask('lotus-2718')).status, 429, 'locked, even for the right passcode');

  // The resident sees the opening, then revokes: the client gets 404.
  const listed = await (await fetch(`${hb.base}/api/v1/me/shares`, { headers: { cookie } })).json();
  assert.equal(listed.shares[0].accesses[0].recipient, 'Dr. Hoa, Family Clinic');
  assert.equal(listed.shares[0].shlink, null, 'the link is shown once');
  const revoked = await fetch(`${hb.base}/api/v1/me/shares/${share.id}`, {
    method: 'DELETE', headers: { cookie, 'x-healthbook-csrf': '1' },
  });
  assert.equal(revoked.status, 200);
  assert.equal((await ask('lotus-2718')).status, 404);
});
