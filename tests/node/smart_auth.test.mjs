// SMART Backend Services with a client whose keys are published at a JWK Set URL, as many
// hospital systems do: the server fetches the set, and fetches it again when the client rotates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { Healthbook } from './harness.mjs';

let hb;
let jwksServer;
const fetches = {};
let published = { keys: [] };

async function newKey() {
  const { publicKey, privateKey } = await jose.generateKeyPair('RS384', { modulusLength: 2048 });
  const jwk = await jose.exportJWK(publicKey);
  jwk.kid = await jose.calculateJwkThumbprint(jwk);
  jwk.alg = 'RS384';
  return { jwk, privateKey };
}

async function tokenFor(clientId, key, kid) {
  const tokenUrl = `${hb.base}/auth/token`;
  const assertion = await new jose.SignJWT({})
    .setProtectedHeader({ alg: 'RS384', kid, typ: 'JWT' })
    .setIssuer(clientId).setSubject(clientId).setAudience(tokenUrl)
    .setExpirationTime('2m').setJti(randomUUID())
    .sign(key);
  return fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials', scope: 'system/Patient.rs',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
}

before(async () => {
  hb = await Healthbook.start();
  await hb.addFacility('01015', 'Hoan Kiem District Health Centre', 'health-centre');
  jwksServer = createServer((req, res) => {
    fetches[req.url] = (fetches[req.url] ?? 0) + 1;
    // A slow key server, so that concurrent token requests overlap with the fetch.
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(published));
    }, req.url === '/slow.json' ? 300 : 0);
  });
  await new Promise((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  jwksServer?.close();
  await hb?.stop();
});

test('a client registered by JWK Set URL gets tokens, also after rotating its key', async () => {
  const first = await newKey();
  published = { keys: [first.jwk] };
  const url = `http://127.0.0.1:${jwksServer.address().port}/jwks.json`;
  const clientId = hb.run(['client', 'add', '--data', hb.data, '--facility', '01015', '--jwks-url', url,
    '--scopes', 'system/*.rs']).trim();
  const ok = await tokenFor(clientId, first.privateKey, first.jwk.kid);
  assert.equal(ok.status, 200, await ok.clone().text());
  const body = await ok.json();
  assert.equal(body.token_type, 'bearer');
  assert.equal(body.scope, 'system/Patient.rs');
  const search = await fetch(`${hb.base}/fhir/Patient`, { headers: { authorization: `Bearer ${body.access_token}` } });
  assert.equal(search.status, 200);

  // Rotation: the old key is withdrawn and a new one published.
  const second = await newKey();
  published = { keys: [second.jwk] };
  // The server caches the set; a key it does not know makes it fetch again (at most every 10 s).
  await new Promise((r) => setTimeout(r, 10500));
  const rotated = await tokenFor(clientId, second.privateKey, second.jwk.kid);
  assert.equal(rotated.status, 200, await rotated.clone().text());
  const stale = await tokenFor(clientId, first.privateKey, first.jwk.kid);
  assert.equal(stale.status, 401);
  assert.equal((await stale.json()).error, 'invalid_client');
});

test('client registration refuses a JWK Set with private key material', async () => {
  const { privateKey } = await jose.generateKeyPair('ES384', { extractable: true });
  const priv = await jose.exportJWK(privateKey);
  assert.throws(() => hb.run(['client', 'add', '--data', hb.data, '--facility', '01015',
    '--jwks', JSON.stringify({ keys: [priv] })]), /private|not a usable/);
});

test('concurrent token requests of a client by URL share one fetch of its JWK Set', async () => {
  const key = await newKey();
  published = { keys: [key.jwk] };
  const url = `http://127.0.0.1:${jwksServer.address().port}/slow.json`;
  const clientId = hb.run(['client', 'add', '--data', hb.data, '--facility', '01015', '--jwks-url', url,
    '--scopes', 'system/*.rs']).trim();
  const replies = await Promise.all(
    Array.from({ length: 8 }, () => tokenFor(clientId, key.privateKey, key.jwk.kid)));
  for (const r of replies) assert.equal(r.status, 200, await r.clone().text());
  assert.equal(fetches['/slow.json'], 1);
});
