// Changing a resident's password over HTTP against the real server: the CSRF header is required,
// a wrong current password is refused, the change signs out the other device (its cookie stops
// working) and keeps this one, the old password stops working, and the registered phone gets a
// notice with no health data in it (the development SMS sink). A forgotten password is reset with
// the SMS code sent after national id + birth date, which signs out every device.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Healthbook } from './harness.mjs';

const person = {
  resourceType: 'Patient',
  identifier: [{ system: 'urn:oid:2.16.704.1.1.1', value: '079301002468' }],
  name: [{ family: 'Le', given: ['Van An'] }],
  birthDate: '1979-03-15',
  telecom: [{ system: 'phone', value: '+84913579246', use: 'mobile' }],
};
const nationalId = person.identifier[0].value;
const phone = person.telecom[0].value;
const first = 'correct horse 42';
const second = 'Battery staple 99';
let hb;

before(async () => {
  hb = await Healthbook.start({
    HEALTHBOOK_ACCOUNTS_PASSWORD_OPS_LIMIT: '1', HEALTHBOOK_ACCOUNTS_PASSWORD_MEMORY_KIB: '8',
  });
  await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
  const token = await hb.token(await hb.addClient('01001'));
  const res = await fetch(`${hb.base}/fhir/Patient`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(person),
  });
  assert.equal(res.status, 201, await res.text());
});

after(async () => {
  await hb?.stop();
});

function texts() {
  const file = join(hb.data, 'notify-sms.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((m) => m.to === phone);
}

async function nextText(seen, pattern) {
  for (let i = 0; i < 400; i++) {
    const fresh = texts().slice(seen).filter((m) => pattern.test(m.text));
    if (fresh.length) return fresh.at(-1).text;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no text matching ${pattern}`);
}

async function post(route, body, cookie, csrf = true) {
  const headers = { 'content-type': 'application/json' };
  if (csrf) headers['x-healthbook-csrf'] = '1';
  if (cookie) headers.cookie = cookie;
  return fetch(`${hb.base}/api/v1/account/${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

const cookieOf = (res) => res.headers.get('set-cookie').split(';')[0];
const me = (cookie) => fetch(`${hb.base}/api/v1/account/me`, { headers: { cookie } }).then((r) => r.status);

async function logIn(password) {
  const seen = texts().length;
  const half = await post('login', { nationalId, password });
  if (half.status !== 200) return { status: half.status };
  const code = (await nextText(seen, /code: \d{6}\./)).match(/code: (\d{6})\./)[1];
  const full = await post('login/second-factor', { code }, cookieOf(half));
  assert.equal(full.status, 200);
  return { status: 200, cookie: cookieOf(full) };
}

test('a resident changes their password: other devices signed out, the phone told', async () => {
  let seen = texts().length;
  const start = await post('signup/start', { nationalId, birthDate: person.birthDate });
  assert.equal(start.status, 202);
  const code = (await nextText(seen, /code: \d{6}\./)).match(/code: (\d{6})\./)[1];
  const signed = await post('signup/verify', { challenge: (await start.json()).challenge, code, password: first });
  assert.equal(signed.status, 201);
  const here = cookieOf(signed);
  const elsewhere = (await logIn(first)).cookie;
  assert.equal(await me(elsewhere), 200);

  // Without the CSRF header nothing happens.
  assert.equal((await post('password', { currentPassword: first, newPassword: second }, here, false)).status, 403);
  // A wrong current password.
  const wrong = await post('password', { currentPassword: 'not the one 1', newPassword: second }, here);
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).title, 'wrong-credentials');
  // A new password that breaks the rules.
  const weak = await post('password', { currentPassword: first, newPassword: 'short' }, here);
  assert.equal(weak.status, 422);

  seen = texts().length;
  const changed = await post('password', { currentPassword: first, newPassword: second }, here);
  assert.equal(changed.status, 200, await changed.clone().text());
  assert.deepEqual(await changed.json(), { changed: true, otherSessionsEnded: true });
  assert.equal(await me(here), 200, 'this device stays signed in');
  assert.equal(await me(elsewhere), 401, 'the other device is signed out');
  const notice = await nextText(seen, /password was changed/);
  assert.doesNotMatch(notice, /Bach Mai|Van An|\d{6}/, 'no name, facility or code in the notice');

  assert.equal((await logIn(first)).status, 401, 'the old password no longer works');
  assert.equal((await logIn(second)).status, 200, 'the new one does');
});

test('a resident who forgot the password resets it with the SMS code: every device signed out', async () => {
  // Signed in on one device with the password from the test above.
  const before = await logIn(second);
  assert.equal(before.status, 200);
  const third = 'Forgotten and new 55';

  // Without the CSRF header nothing happens; the start answers alike for any details.
  assert.equal((await post('reset/start', { nationalId, birthDate: person.birthDate }, undefined, false)).status, 403);
  let seen = texts().length;
  const wrongBirth = await post('reset/start', { nationalId, birthDate: '1979-03-16' });
  const start = await post('reset/start', { nationalId, birthDate: person.birthDate });
  assert.equal(wrongBirth.status, 202);
  assert.equal(start.status, 202);
  const { challenge } = await start.json();
  assert.equal((await wrongBirth.json()).detail, 'If the details match a record, a code was sent to the phone the clinic registered.');
  const text = await nextText(seen, /password reset code: \d{6}\./);
  assert.equal(texts().slice(seen).length, 1, 'one code: the wrong birth date sent nothing');
  const code = text.match(/code: (\d{6})\./)[1];

  // A body member of the wrong type, a wrong code, then the right one.
  assert.equal((await post('reset/finish', { challenge, code, password: third, authenticatorCode: 123456 })).status, 400);
  const wrong = await post('reset/finish', { challenge, code: code === '000000' ? '000001' : '000000', password: third });
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).remainingAttempts, 4);
  seen = texts().length;
  const done = await post('reset/finish', { challenge, code, password: third });
  assert.equal(done.status, 200, await done.clone().text());
  assert.deepEqual(await done.json(), { reset: true, signedIn: true });
  assert.equal(await me(cookieOf(done)), 200, 'signed in with the new password');
  assert.equal(await me(before.cookie), 401, 'the earlier session ended');
  const notice = await nextText(seen, /password was changed/);
  assert.doesNotMatch(notice, /Bach Mai|Van An|\d{6}/);
  // The code works once; the old password is gone.
  assert.equal((await post('reset/finish', { challenge, code, password: third })).status, 410);
  assert.equal((await logIn(second)).status, 401);
  assert.equal((await logIn(third)).status, 200);
});
