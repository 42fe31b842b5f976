// The national eID login against a real OpenID provider: the npm `oidc-provider` package runs on a
// loopback port as the eID, with Healthbook registered as a confidential client. The test is the
// browser: it follows every redirect by hand (cookies kept per host), and a tiny interaction
// handler plays the resident logging in and consenting at the provider. Checked: a registered
// person ends with a working full session (a first login makes the account), a replayed or
// tampered state, a callback from another browser and a provider error are refused, and a
// national id that no record carries goes to the no-record page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';
import { Healthbook } from './harness.mjs';

const person = { nationalId: '079201004321', family: 'Le', given: 'Minh Chau', birthDate: '1992-03-05' };
// The provider's accounts: subject -> national id claim.
const eidAccounts = { 'eid-chau': person.nationalId, 'eid-stranger': '079201000000' };
const clientSecret = 'a-client-secret-for-the-local-test-provider';

let hb;
let provider;
let providerHandler;
let userinfoCalls = 0;
let providerServer;
let issuer;
// What the resident does at the provider in the next flow: log in as this subject, or refuse.
let nextUser = 'eid-chau';

before(async () => {
  // The provider's port must be known before Healthbook starts (its issuer), and Healthbook's
  // before the provider is made (the client's redirect URI): listen first, configure second.
  providerServer = createServer((req, res) => handle(req, res));
  await new Promise((r) => providerServer.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${providerServer.address().port}`;

  hb = await Healthbook.start({
    HEALTHBOOK_OIDC_ISSUER: issuer,
    HEALTHBOOK_OIDC_CLIENT_ID: 'healthbook',
    HEALTHBOOK_OIDC_CLIENT_SECRET: clientSecret,
    HEALTHBOOK_OIDC_SCOPES: 'national_id',
  });

  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const signing = { ...(await jose.exportJWK(privateKey)), kid: 'eid-2026', use: 'sig', alg: 'ES256' };
  provider = new Provider(issuer, {
    clients: [{
      client_id: 'healthbook',
      client_secret: clientSecret,
      redirect_uris: [`${hb.base}/api/v1/account/oidc/callback`],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    }],
    jwks: { keys: [signing] },
    claims: { openid: ['sub'], national_id: ['national_id'] },
    // Left at its default (true): scope-asked claims come from userinfo, not the ID token, as a
    // strict provider does; Healthbook asks userinfo for the subject the ID token names.
    findAccount: (ctx, sub) => (eidAccounts[sub] ? {
      accountId: sub,
      claims: async () => ({ sub, national_id: eidAccounts[sub] }),
    } : undefined),
    pkce: { methods: ['S256'], required: () => true },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['a-cookie-key-for-the-local-test-provider'] },
  });
  provider.on('server_error', (ctx, err) => console.error('provider error', err));

  const facility = await (async () => {
    await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
    return hb.token(await hb.addClient('01001'));
  })();
  const made = await fetch(`${hb.base}/fhir/Patient`, {
    method: 'POST',
    headers: { authorization: `Bearer ${facility}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({
      resourceType: 'Patient',
      identifier: [{ system: 'urn:oid:2.16.704.1.1.1', value: person.nationalId }],
      name: [{ family: person.family, given: [person.given] }],
      birthDate: person.birthDate,
    }),
  });
  assert.equal(made.status, 201, await made.clone().text());
  person.id = made.headers.get('location').match(/\/Patient\/([^/]+)/)[1];
});

after(async () => {
  await hb?.stop();
  await new Promise((r) => (providerServer ? providerServer.close(r) : r()));
});

// The provider's own pages: the interaction (login, then consent) is answered at once.
async function handle(req, res) {
  if (!provider) {
    res.statusCode = 503;
    res.end();
    return;
  }
  if (!req.url.startsWith('/interaction/')) {
    if (req.url.startsWith('/me')) userinfoCalls += 1;
    providerHandler ??= provider.callback();
    providerHandler(req, res);
    return;
  }
  try {
    const details = await provider.interactionDetails(req, res);
    if (nextUser === null) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the resident said no' },
        { mergeWithLastSubmission: false });
    } else if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: nextUser } }, { mergeWithLastSubmission: false });
    } else {
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: true });
    }
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e));
  }
}

// A browser: cookies per host (paths ignored: every cookie goes back to its host).
class Browser {
  constructor() { this.jar = new Map(); }

  async get(url) {
    const u = new URL(url);
    const cookies = this.jar.get(u.host) ?? new Map();
    const headers = {};
    if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(u, { redirect: 'manual', headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) ||
        attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now());
      if (gone) cookies.delete(name);
      else cookies.set(name, value);
    }
    this.jar.set(u.host, cookies);
    return res;
  }

  cookie(url, name) { return this.jar.get(new URL(url).host)?.get(name); }

  // Follows redirects from `url` until one leads to `stopAt` (not fetched) or a page answers.
  async follow(url, stopAt) {
    let at = url;
    for (let i = 0; i < 20; i++) {
      if (stopAt && at.startsWith(stopAt)) return { stopped: at };
      const res = await this.get(at);
      if (res.status < 300 || res.status >= 400) return { res, at };
      at = new URL(res.headers.get('location'), at).href;
    }
    throw new Error('too many redirects');
  }
}

// Starts a login in `browser` and walks it through the provider; answers the callback URL the
// provider sends the browser to (not yet fetched).
async function toCallback(browser, user = 'eid-chau') {
  nextUser = user;
  const start = await browser.get(`${hb.base}/api/v1/account/oidc/start`);
  assert.equal(start.status, 302);
  const auth = new URL(start.headers.get('location'));
  assert.equal(auth.origin, issuer);
  const { stopped } = await browser.follow(auth.href, `${hb.base}/api/v1/account/oidc/callback`);
  assert.ok(stopped, 'the provider sends the browser back to Healthbook');
  return new URL(stopped);
}

test('the eID login is advertised', async () => {
  const res = await fetch(`${hb.base}/api/v1/account/oidc`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { enabled: true });
});

test('the authorization request uses the code flow with PKCE S256, a fresh state and a nonce', async () => {
  const browser = new Browser();
  const start = await browser.get(`${hb.base}/api/v1/account/oidc/start`);
  assert.equal(start.status, 302);
  assert.equal(start.headers.get('referrer-policy'), 'no-referrer');
  const auth = new URL(start.headers.get('location'));
  const q = auth.searchParams;
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('client_id'), 'healthbook');
  assert.equal(q.get('redirect_uri'), `${hb.base}/api/v1/account/oidc/callback`);
  assert.deepEqual(q.get('scope').split(' ').sort(), ['national_id', 'openid']);
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.ok(q.get('state').length >= 43, '>= 256 bits');
  assert.ok(q.get('nonce').length >= 43);
  const setCookie = start.headers.getSetCookie().find((c) => c.startsWith('hb_oidc='));
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Lax/);
  assert.match(setCookie, /Max-Age=600/);
  assert.equal(browser.cookie(hb.base, 'hb_oidc'), q.get('state'));
  const again = new URL((await browser.get(`${hb.base}/api/v1/account/oidc/start`)).headers.get('location'));
  assert.notEqual(again.searchParams.get('state'), q.get('state'));
  assert.notEqual(again.searchParams.get('nonce'), q.get('nonce'));
});

test('a registered person logs in with the eID and gets a full session; the state works once', async () => {
  const browser = new Browser();
  const callback = await toCallback(browser);
  assert.ok(callback.searchParams.get('code'));
  const back = await browser.get(callback.href);
  assert.equal(back.status, 302);
  assert.equal(back.headers.get('location'), '/book');
  const session = browser.cookie(hb.base, 'hb_session');
  assert.ok(session && session.length >= 43);
  assert.equal(browser.cookie(hb.base, 'hb_oidc'), undefined, 'the state cookie is cleared');

  const me = await fetch(`${hb.base}/api/v1/account/me`, { headers: { cookie: `hb_session=${session}` } });
  assert.equal(me.status, 200, await me.clone().text());
  const body = await me.json();
  assert.equal(body.patient.reference, `Patient/${person.id}`);
  assert.equal(body.patient.name, `${person.family} ${person.given}`);
  assert.ok(userinfoCalls > 0, 'the national id came from userinfo (the provider keeps scope claims there)');

  // The account has no password: password login is refused like a wrong one.
  const login = await fetch(`${hb.base}/api/v1/account/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-healthbook-csrf': '1' },
    body: JSON.stringify({ nationalId: person.nationalId, password: 'anything at all 1' }),
  });
  assert.equal(login.status, 401);

  // The same callback again (a replay, with the state cookie put back): refused, no session.
  const replay = new Browser();
  replay.jar.set(new URL(hb.base).host, new Map([['hb_oidc', callback.searchParams.get('state')]]));
  const replayed = await replay.get(callback.href);
  assert.equal(replayed.status, 302);
  assert.equal(replayed.headers.get('location'), '/login?error=oidc-failed');
  assert.equal(replay.cookie(hb.base, 'hb_session'), undefined);

  // A second eID login reaches the same account.
  const second = new Browser();
  await second.get((await toCallback(second)).href);
  const me2 = await fetch(`${hb.base}/api/v1/account/me`, {
    headers: { cookie: `hb_session=${second.cookie(hb.base, 'hb_session')}` },
  });
  assert.equal(me2.status, 200);
  assert.equal((await me2.json()).account.id, body.account.id);
});

test('a tampered state is refused', async () => {
  const browser = new Browser();
  const callback = await toCallback(browser);
  const state = callback.searchParams.get('state');
  callback.searchParams.set('state', state.slice(0, -1) + (state.endsWith('A') ? 'B' : 'A'));
  const res = await browser.get(callback.href);
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), '/login?error=oidc-failed');
  assert.equal(browser.cookie(hb.base, 'hb_session'), undefined);
  // Changed in the URL and in the cookie alike: a state the server never made.
  browser.jar.get(new URL(hb.base).host).set('hb_oidc', callback.searchParams.get('state'));
  const both = await browser.get(callback.href);
  assert.equal(both.headers.get('location'), '/login?error=oidc-failed');
  assert.equal(browser.cookie(hb.base, 'hb_session'), undefined);
});

test('a callback in another browser than the one that started is refused (login CSRF)', async () => {
  const victim = new Browser();
  const callback = await toCallback(new Browser());
  const res = await victim.get(callback.href);
  assert.equal(res.headers.get('location'), '/login?error=oidc-failed');
  assert.equal(victim.cookie(hb.base, 'hb_session'), undefined);
});

test('a national id no record carries goes to the no-record page', async () => {
  const browser = new Browser();
  const res = await browser.get((await toCallback(browser, 'eid-stranger')).href);
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), '/login?error=oidc-no-record');
  assert.equal(browser.cookie(hb.base, 'hb_session'), undefined);
});

test('a refusal at the provider ends at the failure page', async () => {
  const browser = new Browser();
  const callback = await toCallback(browser, null);
  assert.equal(callback.searchParams.get('error'), 'access_denied');
  const res = await browser.get(callback.href);
  assert.equal(res.headers.get('location'), '/login?error=oidc-failed');
  assert.equal(browser.cookie(hb.base, 'hb_session'), undefined);
});
