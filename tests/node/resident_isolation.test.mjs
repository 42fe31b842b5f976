// One resident can never read or change another's data, whatever ids they name. Two residents, A
// and B, sign up against the real server with data of every kind (records from two facilities, an
// issued document, a share, consent, alert settings); then every /api/v1/me/... and
// /api/v1/account/... route is called with A's session cookie and B's ids, and must answer 404 (or
// 401/403/409/422 where the route refuses for another reason), never 2xx with B's data; B's data
// is compared before and after. The route list is checked against the route dispatch in
// src/http/*_api.cpp, so a new route without a case here fails this test. Also: a cookie after
// logout, an expired session (the server's test clock moved), a replayed sign-up code, and brute
// force on the password, the login code and the sign-up code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Healthbook } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const password = 'correct horse 42';
const people = {
  a: { nationalId: '079301000111', family: 'Le', given: 'Van Anh', birthDate: '1979-02-03', phone: '+84903000111' },
  b: { nationalId: '079301000222', family: 'Vo', given: 'Thi Bich', birthDate: '1992-08-19', phone: '+84903000222' },
  c: { nationalId: '079301000333', family: 'Dang', given: 'Minh Chau', birthDate: '1984-05-05', phone: '+84903000333' },
  d: { nationalId: '079301000444', family: 'Ho', given: 'Van Duc', birthDate: '1970-12-24', phone: '+84903000444' },
  e: { nationalId: '079301000555', family: 'Ngo', given: 'Thi Em', birthDate: '2001-01-15', phone: '+84903000555' },
};

// Every resident route: method and path, <...> standing for an id. The last test checks this list
// against the dispatch code.
const ROUTES = [
  'GET /api/v1/account/me',
  'POST /api/v1/account/signup/start',
  'POST /api/v1/account/signup/verify',
  'POST /api/v1/account/login',
  'POST /api/v1/account/login/sms',
  'POST /api/v1/account/login/second-factor',
  'POST /api/v1/account/totp/setup',
  'POST /api/v1/account/totp/confirm',
  'POST /api/v1/account/logout',
  'POST /api/v1/account/logout-everywhere',
  'POST /api/v1/account/password',
  'POST /api/v1/account/reset/start',
  'POST /api/v1/account/reset/finish',
  'GET /api/v1/account/oidc',
  'GET /api/v1/account/oidc/start',
  'GET /api/v1/account/oidc/callback',
  'GET /api/v1/me/timeline',
  'GET /api/v1/me/records/<type>/<id>',
  'GET /api/v1/me/connections',
  'PUT /api/v1/me/connections/<code>',
  'GET /api/v1/me/documents',
  'GET /api/v1/me/documents/<id>',
  'POST /api/v1/me/documents/<id>/reopen-link',
  'POST /api/v1/me/documents/<id>/links',
  'POST /api/v1/me/documents/<id>/preferences',
  'GET /api/v1/me/shares',
  'POST /api/v1/me/shares',
  'DELETE /api/v1/me/shares/<id>',
  'GET /api/v1/me/access-log',
  'GET /api/v1/me/notifications',
  'PUT /api/v1/me/notifications',
  'GET /api/v1/me/acting-for',
  'GET /api/v1/me/carers',
  'POST /api/v1/me/carers',
  'DELETE /api/v1/me/carers/<id>',
];
const covered = new Set();

let hb;
const tokens = {};
const cookies = {};
const mine = { a: {}, b: {} }; // each resident's ids
let clockAhead = 0;

before(async () => {
  hb = await Healthbook.start({
    HEALTHBOOK_TESTING_CLOCK_CONTROL: '1',
    HEALTHBOOK_ACCOUNTS_PASSWORD_OPS_LIMIT: '1',
    HEALTHBOOK_ACCOUNTS_PASSWORD_MEMORY_KIB: '8',
  });
  await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
  await hb.addFacility('79002', 'Cho Ray Hospital', 'public-hospital');
  tokens['01001'] = await hb.token(await hb.addClient('01001'));
  tokens['79002'] = await hb.token(await hb.addClient('79002'));

  // Bach Mai issues a certificate to A and to B (registering both, with their phones) and records
  // a result for each; Cho Ray knows B only.
  for (const who of ['a', 'b']) {
    const p = people[who];
    const issued = await api('01001', 'POST', '/api/v1/documents', {
      documentId: `MC-ISO-${who}`, kind: 'mc-outpatient', patient: p,
      doctor: { name: 'Dr Tran' }, leave: { from: '2026-11-20', to: '2026-11-21' },
    }, 'application/json');
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    mine[who].patient = issued.body.patient;
    mine[who].documentReference = issued.body.documentReference;
    mine[who].observation = await record('01001', who, 'Haemoglobin', 13.1);
  }
  const registered = await api('79002', 'POST', '/fhir/Patient', patientResource(people.b));
  assert.ok(registered.status === 200 || registered.status === 201, JSON.stringify(registered.body));
  assert.equal(`Patient/${registered.body.id}`, mine.b.patient);
  mine.b.choRayObservation = await record('79002', 'b', 'Fasting glucose', 5.4);
  // Two more people for the brute-force tests, with accounts.
  for (const who of ['c', 'd', 'e']) {
    const r = await api('01001', 'POST', '/fhir/Patient', patientResource(people[who]));
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }

  for (const who of ['a', 'b', 'c', 'd']) cookies[who] = await signUp(people[who]);

  // B's own settings: a share, consent for both facilities, SMS alerts.
  const share = await me('b', 'POST', '/shares', {
    records: [mine.b.observation, mine.b.documentReference], label: 'For Dr Hoa', expiresIn: 86_400, passcode: 'lotus-2718',
  });
  assert.equal(share.status, 201, JSON.stringify(share.body));
  mine.b.share = share.body.id;
  // B lets C view B's records until a date: a proxy grant A must not see, end or use.
  const grant = await me('b', 'POST', '/carers', { nationalId: people.c.nationalId, rights: ['view-records'], endsAt: inHalfAYear() });
  assert.equal(grant.status, 201, grant.text);
  mine.b.carerGrant = grant.body.id;
  mine.b.shareViewerUrl = share.body.viewerUrl;
  for (const code of ['01001', '79002']) {
    const c = await me('b', 'PUT', `/connections/${code}`, { shared: true });
    assert.equal(c.status, 200, JSON.stringify(c.body));
  }
  const n = await me('b', 'PUT', '/notifications', { onAccess: { sms: true, email: true }, email: 'bich@example.org' });
  assert.equal(n.status, 200, JSON.stringify(n.body));
  // A has a share too (so "A's list" is not trivially empty).
  const aShare = await me('a', 'POST', '/shares', { records: [mine.a.observation], label: 'Mine', expiresIn: 3600 });
  assert.equal(aShare.status, 201, JSON.stringify(aShare.body));
  mine.a.share = aShare.body.id;

  for (const who of ['a', 'b']) {
    const docs = await me(who, 'GET', '/documents');
    assert.equal(docs.status, 200);
    assert.equal(docs.body.documents.length, 1);
    mine[who].document = docs.body.documents[0].id;
    const account = await call('GET', '/api/v1/account/me', undefined, cookies[who]);
    assert.equal(account.status, 200);
    mine[who].account = account.body.account?.id ?? account.body.id;
    assert.ok(mine[who].account, JSON.stringify(account.body));
  }
  mine.b.consent = `Consent/consent-${mine.b.patient.split('/')[1]}`;
});

after(async () => {
  await hb?.stop();
});

function patientResource(p) {
  return {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:2.16.704.1.1.1', value: p.nationalId }],
    name: [{ family: p.family, given: [p.given] }],
    birthDate: p.birthDate,
    telecom: [{ system: 'phone', value: p.phone, use: 'mobile' }],
  };
}

async function record(facility, who, title, value) {
  const r = await api(facility, 'POST', '/fhir/Observation', {
    resourceType: 'Observation', status: 'final', code: { text: title },
    subject: { reference: mine[who].patient }, effectiveDateTime: '2026-11-20T09:00:00+07:00',
    valueQuantity: { value, unit: 'g/dL' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return `Observation/${r.body.id}`;
}

async function api(facility, method, path, body, type = 'application/fhir+json') {
  const res = await fetch(`${hb.base}${path}`, {
    method, headers: { authorization: `Bearer ${tokens[facility]}`, 'content-type': type }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

// A resident call: JSON in and out, the CSRF header on changes, the cookie given.
// A carer grant's end date: the server allows at most two years ahead.
const inHalfAYear = () => new Date(Date.now() + 183 * 86_400_000).toISOString().slice(0, 10);

async function call(method, path, body, cookie, extra = {}) {
  const headers = { ...extra };
  if (cookie) headers.cookie = cookie;
  if (method !== 'GET') headers['x-healthbook-csrf'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${hb.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
const me = (who, method, path, body) => call(method, `/api/v1/me${path}`, body, cookies[who]);

// Reads the SMS sink: every message, in order.
function smsLines() {
  const sink = join(hb.data, 'notify-sms.jsonl');
  return existsSync(sink) ? readFileSync(sink, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}
async function nextCode(phone, after) {
  for (let i = 0; i < 200; i++) {
    const m = smsLines().slice(after).map((l) => l.to === phone && /code: ([0-9]{6})\./.exec(l.text ?? '')).find(Boolean);
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no SMS code for ${phone}`);
}

async function signUp(p) {
  const seen = smsLines().length;
  const start = await call('POST', '/api/v1/account/signup/start', { nationalId: p.nationalId, birthDate: p.birthDate });
  assert.equal(start.status, 202);
  const code = await nextCode(p.phone, seen);
  const verified = await call('POST', '/api/v1/account/signup/verify', { challenge: start.body.challenge, code, password });
  assert.equal(verified.status, 201, verified.text);
  const cookie = verified.headers.get('set-cookie').split(';')[0];
  signUp.last = { challenge: start.body.challenge, code };
  return cookie;
}

// Password then SMS code: a new full session.
async function logIn(p) {
  const seen = smsLines().length;
  const first = await call('POST', '/api/v1/account/login', { nationalId: p.nationalId, password });
  assert.equal(first.status, 200, first.text);
  const half = first.headers.get('set-cookie').split(';')[0];
  const code = await nextCode(p.phone, seen);
  const second = await call('POST', '/api/v1/account/login/second-factor', { code }, half);
  assert.equal(second.status, 200, second.text);
  return second.headers.get('set-cookie').split(';')[0];
}

// Everything of B's that a resident could read or change, through B's own session.
async function snapshotOfB() {
  const get = async (path) => {
    const r = await me('b', 'GET', path);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return r.body;
  };
  const shares = (await get('/shares')).shares.map(({ id, status, records, label, accesses, expires }) => ({ id, status, records, label, accesses, expires }));
  const account = (await call('GET', '/api/v1/account/me', undefined, cookies.b)).body;
  return {
    timeline: (await get('/timeline')).entries,
    connections: await get('/connections'),
    documents: (await get('/documents')).documents,
    document: await get(`/documents/${mine.b.document}`),
    shares,
    notifications: await get('/notifications'),
    carers: (await get('/carers')).carers,
    records: await Promise.all([mine.b.observation, mine.b.choRayObservation, mine.b.documentReference, mine.b.patient, mine.b.consent]
      .map(async (ref) => { const r = await me('b', 'GET', `/records/${ref}`); assert.equal(r.status, 200, ref); return r.body; })),
    secondFactors: JSON.stringify(account.secondFactors ?? account.account?.secondFactors ?? null),
  };
}

// Nothing of B's in an answer to A.
function holdsNothingOfB(answer, where) {
  const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
  const bIds = [mine.b.patient, mine.b.observation, mine.b.choRayObservation, mine.b.documentReference, mine.b.document,
    mine.b.share, mine.b.account, mine.b.consent].map((x) => x.split('/').at(-1));
  for (const id of bIds) assert.ok(!text.includes(id), `${where}: the answer holds B's id ${id}`);
  for (const word of [people.b.given, people.b.family, people.b.nationalId, people.b.phone, 'Cho Ray', 'For Dr Hoa', 'bich@example.org']) {
    assert.ok(!text.includes(word), `${where}: the answer holds B's "${word}"`);
  }
}

// B's id answers 404 exactly like an unknown id of the same shape (the id itself may be echoed),
// with nothing else of B's in it.
async function likeAnUnknownId(bId, ask, where) {
  const unknownId = /^[0-9a-f-]{36}$/.test(bId) ? crypto.randomUUID() : `${bId.slice(0, -4)}ZZZZ`;
  const [r, unknown] = [await ask(bId), await ask(unknownId)];
  assert.equal(r.status, 404, `${where}: ${r.text}`);
  assert.equal(unknown.status, 404, `${where} (unknown id): ${unknown.text}`);
  assert.equal(r.text.replaceAll(bId, '<id>'), unknown.text.replaceAll(unknownId, '<id>'), `${where}: not like an unknown id`);
  holdsNothingOfB(r.text.replaceAll(bId, '<id>'), where);
}

test('with A\'s session, no route reads or changes anything of B\'s', async () => {
  const before = await snapshotOfB();
  assert.deepEqual(before.connections.facilities.map((f) => [f.code, f.shared]).sort(), [['01001', true], ['79002', true]]);
  assert.equal(before.shares[0].status, 'active');
  const smsBefore = smsLines().length;
  const a = cookies.a;
  const route = (r) => { assert.ok(ROUTES.includes(r), `not in ROUTES: ${r}`); covered.add(r); };

  // The account routes take no id: each acts on the session's own account.
  route('GET /api/v1/account/me');
  const account = await call('GET', '/api/v1/account/me', undefined, a);
  assert.equal(account.status, 200);
  assert.ok(account.text.includes(mine.a.patient.split('/')[1]), 'A sees A');
  holdsNothingOfB(account.text, 'account/me');

  route('POST /api/v1/account/signup/start');
  const start = await call('POST', '/api/v1/account/signup/start', { nationalId: people.b.nationalId, birthDate: people.b.birthDate }, a);
  assert.equal(start.status, 202, 'the same answer as for anyone');
  holdsNothingOfB(start.text, 'signup/start');
  assert.equal(start.headers.get('set-cookie'), null);

  route('POST /api/v1/account/signup/verify');
  const verify = await call('POST', '/api/v1/account/signup/verify', { challenge: start.body.challenge, code: '000000', password }, a);
  assert.equal(verify.status, 401, verify.text);
  assert.equal(verify.headers.get('set-cookie'), null, 'no session for B');

  // A password reset for B's details: the answer anyone gets; B's phone gets the code, A cannot
  // finish it, and B's password stays (B logs in with it below).
  route('POST /api/v1/account/reset/start');
  const reset = await call('POST', '/api/v1/account/reset/start', { nationalId: people.b.nationalId, birthDate: people.b.birthDate }, a);
  assert.equal(reset.status, 202, reset.text);
  holdsNothingOfB(reset.text, 'reset/start');
  assert.equal(reset.headers.get('set-cookie'), null);
  route('POST /api/v1/account/reset/finish');
  const finish = await call('POST', '/api/v1/account/reset/finish', { challenge: reset.body.challenge, code: '000000', password: 'taken over 1234' }, a);
  assert.equal(finish.status, 401, finish.text);
  assert.equal(finish.headers.get('set-cookie'), null, 'no session for B');

  route('POST /api/v1/account/login');
  const login = await call('POST', '/api/v1/account/login', { nationalId: people.b.nationalId, password: 'not Bs password 9' }, a);
  assert.equal(login.status, 401, login.text);
  assert.equal(login.headers.get('set-cookie'), null);

  // The second-factor routes, with a session that already has both factors: "you are signed in",
  // no new cookie, no code sent, whatever code is given.
  const smsCount = smsLines().length;
  route('POST /api/v1/account/login/sms');
  const sms = await call('POST', '/api/v1/account/login/sms', {}, a);
  assert.equal(sms.status, 200, sms.text);
  assert.deepEqual(sms.body, { signedIn: true });
  assert.equal(sms.headers.get('set-cookie'), null);
  route('POST /api/v1/account/login/second-factor');
  const second = await call('POST', '/api/v1/account/login/second-factor', { code: '000000' }, a);
  assert.equal(second.status, 200, second.text);
  assert.deepEqual(second.body, { signedIn: true });
  assert.equal(second.headers.get('set-cookie'), null);
  assert.equal(smsLines().slice(smsCount).filter((l) => l.to !== people.b.phone).length, 0, 'no login code was sent');

  route('POST /api/v1/account/totp/setup');
  const setup = await call('POST', '/api/v1/account/totp/setup', {}, a);
  assert.equal(setup.status, 200, setup.text);
  holdsNothingOfB(setup.text, 'totp/setup');
  route('POST /api/v1/account/totp/confirm');
  const confirm = await call('POST', '/api/v1/account/totp/confirm', { code: '000000' }, a);
  assert.ok(confirm.status === 401 || confirm.status === 422, confirm.text);
  holdsNothingOfB(confirm.text, 'totp/confirm');

  // The book: B's records, document, share and facility by id.
  route('GET /api/v1/me/timeline');
  for (const q of ['', '?facility=79002', '?q=glucose', '?kind=result,document&limit=200']) {
    const t = await me('a', 'GET', `/timeline${q}`);
    assert.equal(t.status, 200, t.text);
    holdsNothingOfB(t.text, `timeline${q}`);
  }
  const aTimeline = await me('a', 'GET', '/timeline');
  assert.ok(aTimeline.text.includes(mine.a.observation), 'A sees A\'s records');

  route('GET /api/v1/me/records/<type>/<id>');
  for (const ref of [mine.b.observation, mine.b.choRayObservation, mine.b.documentReference, mine.b.patient, mine.b.consent]) {
    const [type, id] = ref.split('/');
    await likeAnUnknownId(id, (x) => me('a', 'GET', `/records/${type}/${x}`), `records/${ref}`);
  }

  route('GET /api/v1/me/connections');
  const connections = await me('a', 'GET', '/connections');
  assert.equal(connections.status, 200);
  assert.deepEqual(connections.body.facilities.map((f) => f.code), ['01001']);
  route('PUT /api/v1/me/connections/<code>');
  const consent = await me('a', 'PUT', '/connections/79002', { shared: false });
  assert.equal(consent.status, 404, `A may not name B's facility: ${consent.text}`);
  // A facility that knows both: A's choice is A's alone (B's stays "shared", checked at the end).
  for (const shared of [true, false]) {
    const own = await me('a', 'PUT', '/connections/01001', { shared });
    assert.equal(own.status, 200, own.text);
    holdsNothingOfB(own.text, 'PUT connections/01001');
  }
  assert.deepEqual((await me('a', 'GET', '/connections')).body.facilities.map((f) => [f.code, f.shared]), [['01001', false]]);

  route('GET /api/v1/me/documents');
  const docs = await me('a', 'GET', '/documents');
  assert.equal(docs.status, 200);
  assert.deepEqual(docs.body.documents.map((d) => d.id), [mine.a.document]);
  holdsNothingOfB(docs.text, 'documents');
  route('GET /api/v1/me/documents/<id>');
  route('POST /api/v1/me/documents/<id>/reopen-link');
  route('POST /api/v1/me/documents/<id>/links');
  route('POST /api/v1/me/documents/<id>/preferences');
  for (const [method, path] of [['GET', ''], ['POST', '/reopen-link'], ['POST', '/links'], ['POST', '/preferences']]) {
    const body = path === '/preferences' ? { showDiagnosis: true } : method === 'POST' ? {} : undefined;
    await likeAnUnknownId(mine.b.document,
      (x) => me('a', method, `/documents/${encodeURIComponent(x)}${path}`, body), `${method} documents/<B's>${path}`);
  }

  route('GET /api/v1/me/shares');
  const shares = await me('a', 'GET', '/shares');
  assert.equal(shares.status, 200);
  assert.deepEqual(shares.body.shares.map((s) => s.id), [mine.a.share]);
  route('POST /api/v1/me/shares');
  for (const records of [[mine.b.observation], [mine.a.observation, mine.b.documentReference], [mine.b.patient], [mine.b.consent]]) {
    const r = await me('a', 'POST', '/shares', { records, label: 'Taking B\'s', expiresIn: 3600 });
    assert.equal(r.status, 422, `sharing ${records}: ${r.text}`);
    assert.match(JSON.stringify(r.body.errors), /there is no .* in your health book/);
  }
  assert.deepEqual((await me('a', 'GET', '/shares')).body.shares.map((s) => s.id), [mine.a.share], 'nothing was made');
  route('DELETE /api/v1/me/shares/<id>');
  await likeAnUnknownId(mine.b.share, (x) => me('a', 'DELETE', `/shares/${x}`), 'DELETE shares/<B\'s>');

  route('GET /api/v1/me/access-log');
  const bCursor = (await me('b', 'GET', '/access-log?limit=1')).body.next;
  assert.ok(bCursor, 'B has a cursor to offer');
  for (const q of ['', '?limit=200', `?cursor=${bCursor}`, `?cursor=${bCursor}&limit=200`]) {
    const log = await me('a', 'GET', `/access-log${q}`);
    assert.equal(log.status, 200, log.text);
    assert.ok(log.body.events.length > 0, 'A sees A\'s own events');
    holdsNothingOfB(log.text, `access-log${q}`);
  }

  route('GET /api/v1/me/notifications');
  const notes = await me('a', 'GET', '/notifications');
  assert.equal(notes.status, 200);
  assert.deepEqual(notes.body.onAccess, { sms: false, email: false });
  holdsNothingOfB(notes.text, 'notifications');
  route('PUT /api/v1/me/notifications');
  const put = await me('a', 'PUT', '/notifications', { onAccess: { sms: false, email: false } });
  assert.equal(put.status, 200, put.text);

  // Proxies: A acts for nobody, cannot see or end B's carer grant, and cannot act for B by naming
  // B in the header (every /api/v1/me route with it is covered by the proxies integration test).
  route('GET /api/v1/me/acting-for');
  const actingFor = await me('a', 'GET', '/acting-for');
  assert.equal(actingFor.status, 200, actingFor.text);
  holdsNothingOfB(actingFor.text, 'acting-for');
  route('GET /api/v1/me/carers');
  const carers = await me('a', 'GET', '/carers');
  assert.equal(carers.status, 200, carers.text);
  assert.deepEqual(carers.body.carers, []);
  route('DELETE /api/v1/me/carers/<id>');
  await likeAnUnknownId(mine.b.carerGrant, (x) => me('a', 'DELETE', `/carers/${x}`), 'DELETE carers/<B\'s grant>');
  route('POST /api/v1/me/carers');
  const toNobody = await me('a', 'POST', '/carers', { nationalId: '079301009999', rights: ['view-records'], endsAt: inHalfAYear() });
  assert.equal(toNobody.status, 422, toNobody.text);
  const bId = mine.b.patient.split('/')[1];
  const asB = await call('GET', '/api/v1/me/timeline', undefined, a, { 'x-healthbook-acting-for': bId });
  assert.equal(asB.status, 404, asB.text);
  holdsNothingOfB(asB.text.replaceAll(bId, '<id>'), 'timeline acting for B');

  // The eID login routes take no person at all (this server has no eID provider): whatever A's
  // session and whatever is named, nothing of anyone's comes back and no session is made.
  route('GET /api/v1/account/oidc');
  const eid = await call('GET', '/api/v1/account/oidc', undefined, a);
  assert.equal(eid.status, 200, eid.text);
  assert.deepEqual(eid.body, { enabled: false });
  route('GET /api/v1/account/oidc/start');
  route('GET /api/v1/account/oidc/callback');
  for (const path of ['/api/v1/account/oidc/start', `/api/v1/account/oidc/callback?code=x&state=${bId}`]) {
    const r = await call('GET', path, undefined, a);
    assert.equal(r.status, 404, `${path}: ${r.text}`);
    assert.equal(r.headers.get('set-cookie'), null);
    holdsNothingOfB(r.text.replaceAll(bId, '<id>'), path);
  }

  // Sign out everywhere ends A's sessions only.
  route('POST /api/v1/account/logout-everywhere');
  const everywhere = await call('POST', '/api/v1/account/logout-everywhere', {}, a);
  assert.equal(everywhere.status, 200, everywhere.text);
  assert.equal((await call('GET', '/api/v1/account/me', undefined, a)).status, 401);
  assert.equal((await call('GET', '/api/v1/account/me', undefined, cookies.b)).status, 200, 'B is still signed in');
  cookies.a = await logIn(people.a);
  route('POST /api/v1/account/logout'); // and the next test

  // Changing the password changes A's only (A and B chose the same one here): a wrong current
  // password is refused; a right one changes A's, and B still logs in with the old one.
  route('POST /api/v1/account/password');
  const changedAs = 'another horse 43';
  const wrongCurrent = await call('POST', '/api/v1/account/password', { currentPassword: 'not it at all 7', newPassword: changedAs }, cookies.a);
  assert.equal(wrongCurrent.status, 401, wrongCurrent.text);
  const changed = await call('POST', '/api/v1/account/password', { currentPassword: password, newPassword: changedAs }, cookies.a);
  assert.equal(changed.status, 200, changed.text);
  holdsNothingOfB(changed.text, 'account/password');
  assert.equal((await call('GET', '/api/v1/account/me', undefined, cookies.b)).status, 200, 'B\'s session was not ended');
  const bLogin = await call('POST', '/api/v1/account/login', { nationalId: people.b.nationalId, password });
  assert.equal(bLogin.status, 200, `B's password is unchanged: ${bLogin.text}`);
  const aOld = await call('POST', '/api/v1/account/login', { nationalId: people.a.nationalId, password });
  assert.equal(aOld.status, 401, 'A\'s old password no longer works');
  const back = await call('POST', '/api/v1/account/password', { currentPassword: changedAs, newPassword: password }, cookies.a);
  assert.equal(back.status, 200, back.text);

  // B's data is as it was, and B's phone got nothing from all this but codes (the sign-up and
  // reset codes A's starts asked for, which A never sees, and the login code of B's own login):
  // no document link, no notice.
  assert.deepEqual(await snapshotOfB(), before);
  const bSms = smsLines().slice(smsBefore).filter((l) => l.to === people.b.phone);
  assert.ok(bSms.every((l) => /code: [0-9]{6}\./.test(l.text) && !/\/c\//.test(l.text)), JSON.stringify(bSms));
  // B's share still opens for its recipient.
  const payload = JSON.parse(Buffer.from(mine.b.shareViewerUrl.split('#shlink:/')[1], 'base64url').toString('utf8'));
  const opened = await fetch(payload.url, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ recipient: 'Dr Hoa', passcode: 'lotus-2718' }),
  });
  assert.equal(opened.status, 200);
});

test('a session cookie is refused after logout', async () => {
  const cookie = await logIn(people.a);
  assert.equal((await call('GET', '/api/v1/me/timeline', undefined, cookie)).status, 200);
  const out = await call('POST', '/api/v1/account/logout', {}, cookie);
  assert.equal(out.status, 200, out.text);
  assert.match(out.headers.get('set-cookie'), /hb_session=; Max-Age=0/);
  for (const path of ['/api/v1/account/me', '/api/v1/me/timeline', '/api/v1/me/shares', '/api/v1/me/access-log']) {
    const r = await call('GET', path, undefined, cookie);
    assert.equal(r.status, 401, `${path}: ${r.text}`);
  }
  const change = await call('PUT', '/api/v1/me/connections/01001', { shared: true }, cookie);
  assert.equal(change.status, 401);
  // The other session of A's is still good.
  assert.equal((await call('GET', '/api/v1/me/timeline', undefined, cookies.a)).status, 200);
});

test('a replayed sign-up code is refused with 410', async () => {
  const replay = await call('POST', '/api/v1/account/signup/verify', { ...signUp.last, password });
  assert.equal(replay.status, 410, replay.text);
  assert.equal(replay.headers.get('set-cookie'), null);
});

test('guessing a sign-up code: 5 wrong codes end it, the right one is then refused', async () => {
  const p = people.e;
  const seen = smsLines().length;
  const start = await call('POST', '/api/v1/account/signup/start', { nationalId: p.nationalId, birthDate: p.birthDate });
  assert.equal(start.status, 202);
  const code = await nextCode(p.phone, seen);
  const wrong = code === '111111' ? '222222' : '111111';
  for (let left = 4; left >= 0; left--) {
    const r = await call('POST', '/api/v1/account/signup/verify', { challenge: start.body.challenge, code: wrong, password });
    if (left > 0) {
      assert.equal(r.status, 401, r.text);
      assert.equal(r.body.remainingAttempts, left);
    } else {
      assert.equal(r.status, 410, `the 5th wrong code ends the code: ${r.text}`);
    }
  }
  const right = await call('POST', '/api/v1/account/signup/verify', { challenge: start.body.challenge, code, password });
  assert.equal(right.status, 410, right.text);
});

test('guessing a password locks the account: 429 with Retry-After, even for the right password', async () => {
  const p = people.c;
  for (let i = 0; i < 5; i++) {
    const r = await call('POST', '/api/v1/account/login', { nationalId: p.nationalId, password: `wrong password ${i}A` });
    // The 5th wrong password is the one that locks.
    assert.equal(r.status, i < 4 ? 401 : 429, `try ${i + 1}: ${r.text}`);
  }
  const locked = await call('POST', '/api/v1/account/login', { nationalId: p.nationalId, password });
  assert.equal(locked.status, 429, locked.text);
  assert.ok(Number(locked.headers.get('retry-after')) > 0);
  assert.ok(locked.body.retryAfter > 0);
  assert.equal(locked.headers.get('set-cookie'), null);
});

test('guessing the login code ends the half session and locks the account', async () => {
  const p = people.d;
  const seen = smsLines().length;
  const first = await call('POST', '/api/v1/account/login', { nationalId: p.nationalId, password });
  assert.equal(first.status, 200, first.text);
  const half = first.headers.get('set-cookie').split(';')[0];
  // A half session reaches nothing but the second factor.
  assert.equal((await call('GET', '/api/v1/me/timeline', undefined, half)).status, 401);
  const code = await nextCode(p.phone, seen);
  const wrong = code === '111111' ? '222222' : '111111';
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await call('POST', '/api/v1/account/login/second-factor', { code: wrong }, half));
  assert.deepEqual(answers.slice(0, 4).map((r) => [r.status, r.body.remainingAttempts]), [[401, 4], [401, 3], [401, 2], [401, 1]]);
  // The 5th wrong code ends the half session and locks the account (5 wrong factors in 15 minutes).
  assert.equal(answers[4].status, 429, answers[4].text);
  assert.equal(answers[4].body.title, 'locked');
  const late = await call('POST', '/api/v1/account/login/second-factor', { code }, half);
  assert.equal(late.status, 401, `the right code after 5 wrong: ${late.text}`);
  assert.equal(late.headers.get('set-cookie')?.includes('Max-Age=43200') ?? false, false, 'no session');
  const again = await call('POST', '/api/v1/account/login', { nationalId: p.nationalId, password });
  assert.equal(again.status, 429, `the account is locked: ${again.text}`);
  assert.ok(Number(again.headers.get('retry-after')) > 0);
});

test('an expired session is refused (the server\'s clock moved past the idle timeout)', async () => {
  const cookie = cookies.a;
  assert.equal((await call('GET', '/api/v1/me/timeline', undefined, cookie)).status, 200);
  const moved = await fetch(`${hb.base}/api/test/clock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 31 * 60 }),
  });
  assert.equal(moved.status, 200, 'the server runs with testing.clock_control');
  clockAhead = Math.round(Date.parse((await moved.json()).now) / 1000 - Date.now() / 1000);
  assert.ok(clockAhead >= 31 * 60 - 5);
  const r = await call('GET', '/api/v1/me/timeline', undefined, cookie);
  assert.equal(r.status, 401, r.text);
  assert.equal(r.body.title, 'session-expired');
  assert.match(r.headers.get('set-cookie'), /hb_session=; Max-Age=0/);
  // And it stays refused: the session is gone, not merely late.
  const again = await call('GET', '/api/v1/account/me', undefined, cookie);
  assert.equal(again.status, 401);
  assert.equal((await call('GET', '/api/v1/me/shares', undefined, cookies.b)).status, 401, 'B\'s idle session ended too');
});

test('every resident route of the dispatch code is in ROUTES, and every one was called', () => {
  const src = (f) => readFileSync(join(root, 'src', 'http', f), 'utf8');
  // The files that answer resident routes: a new one must be added here (and its routes above).
  const apiFiles = readdirSync(join(root, 'src', 'http')).filter((f) => f.endsWith('_api.cpp')).sort();
  assert.deepEqual(apiFiles, ['account_api.cpp', 'book_api.cpp', 'me_documents_api.cpp', 'oidc_api.cpp', 'proxy_api.cpp', 'share_api.cpp']);

  const found = new Set();
  // account_api.cpp: `route == "me"` (GET) and the POST routes of kPosts.
  const account = src('account_api.cpp');
  assert.match(account, /if \(route == "me"\)/);
  found.add('GET /api/v1/account/me');
  const posts = /kPosts\[\] = \{([^}]*)\}/.exec(account)[1];
  for (const [, r] of posts.matchAll(/"([^"]+)"/g)) found.add(`POST /api/v1/account/${r}`);
  // api.cpp: which /api/v1/me/<x> goes to which file.
  const dispatch = src('api.cpp');
  const meSegments = [...dispatch.matchAll(/if \(parts\[2\] == "me"[^{]*\{/g)]
    .flatMap((m) => [...m[0].matchAll(/parts\[3\] == "([a-z-]+)"/g)].map((x) => x[1]));
  assert.deepEqual(meSegments.sort(), ['access-log', 'documents', 'notifications', 'shares']);
  // oidc_api.cpp: /api/v1/account/oidc[/start|/callback], GET only.
  assert.match(dispatch, /parts\[3\] == "oidc"\)\s*return oidc_api/);
  const oidc = src('oidc_api.cpp');
  const eidRoutes = /route != "" && route != "start" && route != "callback"/.test(oidc) ? ['', '/start', '/callback'] : [];
  for (const r of eidRoutes) found.add(`GET /api/v1/account/oidc${r}`);
  // proxy_api.cpp: its shapes with their Allow headers (dispatched by is_proxy_route).
  assert.match(dispatch, /is_proxy_route\(parts\)/);
  const proxy = src('proxy_api.cpp');
  for (const [, what, n, allow] of proxy.matchAll(/what == "([a-z-]+)" && parts\.size\(\) == (\d)\) allow = "([^"]+)"/g)) {
    for (const method of allow.split(', ')) found.add(`${method} /api/v1/me/${what}${n === '5' ? '/<id>' : ''}`);
  }
  // book_api.cpp: its shapes (timeline, records/<type>/<id>, connections[/<code>]).
  const book = src('book_api.cpp');
  assert.deepEqual([...book.matchAll(/r == "([a-z-]+)"/g)].map((m) => m[1]).sort(), ['connections', 'records', 'timeline']);
  for (const [, r, n] of book.matchAll(/route == "([a-z-]+)" && parts\.size\(\) == (\d)/g)) {
    const path = { timeline: 'timeline', records: 'records/<type>/<id>', connections: 'connections' }[r];
    found.add(`${r === 'connections' && n === '5' ? 'PUT' : 'GET'} /api/v1/me/${n === '5' && r === 'connections' ? 'connections/<code>' : path}`);
  }
  assert.match(book, /route == "connections" && \(parts\.size\(\) == 4 \|\| parts\.size\(\) == 5\)/);
  found.add('GET /api/v1/me/connections');
  found.add('PUT /api/v1/me/connections/<code>');
  // me_documents_api.cpp: the list, one, and the actions named in parts[5].
  const docs = src('me_documents_api.cpp');
  found.add('GET /api/v1/me/documents');
  found.add('GET /api/v1/me/documents/<id>');
  for (const [, a] of docs.matchAll(/parts\[5\] == "([a-z-]+)"/g)) found.add(`POST /api/v1/me/documents/<id>/${a}`);
  // share_api.cpp: each shape with its Allow header.
  const shares = src('share_api.cpp');
  for (const [, what, n, allow] of shares.matchAll(/what == "([a-z-]+)" && parts\.size\(\) == (\d)\) allow = "([^"]+)"/g)) {
    for (const method of allow.split(', ')) found.add(`${method} /api/v1/me/${what}${n === '5' ? '/<id>' : ''}`);
  }
  assert.deepEqual([...found].sort(), [...ROUTES].sort(), 'the resident routes in the code are the ones this test calls');
  assert.deepEqual([...covered].sort(), [...ROUTES].sort(), 'every route was called with A\'s session and B\'s ids');
});
