// Delivery to the patient: issuing a document sends an SMS with the link and no health data,
// through the HTTP SMS gateway transport, to a real local HTTP sink; a failing gateway is retried.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Healthbook } from './harness.mjs';

let hb;
let gateway;
const received = [];
let failNext = 0;

before(async () => {
  gateway = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end();
        return;
      }
      received.push({ at: Date.now(), auth: req.headers.authorization, body: JSON.parse(body) });
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
    });
  });
  await new Promise((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  hb = await Healthbook.start({
    HEALTHBOOK_SMS_TRANSPORT: 'http',
    HEALTHBOOK_SMS_URL: `http://127.0.0.1:${gateway.address().port}/send`,
    HEALTHBOOK_SMS_AUTH_HEADER: 'Authorization: Bearer gateway-secret',
  });
  await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
});

after(async () => {
  await hb?.stop();
  gateway?.close();
});

async function issue(token, documentId, phone) {
  const sent = Date.now();
  const r = await fetch(`${hb.base}/api/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      documentId, kind: 'mc-outpatient',
      patient: { nationalId: `0012${documentId.replace(/\D/g, '').padStart(8, '0')}`, family: 'Tran', given: 'Quang',
        birthDate: '1970-01-31', phone },
      doctor: { name: 'Dr. Ngo' }, leave: { from: '2026-11-21', to: '2026-11-23' },
      diagnosis: { text: 'Lumbago' },
    }),
  });
  assert.equal(r.status, 201, await r.clone().text());
  return { doc: await r.json(), sent };
}

async function waitFor(pred, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const hit = received.find(pred);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

test('the patient gets an SMS with the link within 5 s, and no health data', async () => {
  const token = await hb.token(await hb.addClient('01001'));
  const { doc, sent } = await issue(token, 'SMS-1', '+84911111111');
  const sms = await waitFor((m) => m.body.to === '+84911111111');
  assert.ok(sms, 'the gateway got the SMS within 5 s');
  console.log(`# SMS at the gateway ${sms.at - sent} ms after the issue request was sent`);
  assert.equal(sms.auth, 'Bearer gateway-secret');
  assert.ok(sms.body.text.includes(doc.link), sms.body.text);
  for (const secret of ['Lumbago', 'Tran', 'Quang', 'Bach Mai', 'certificate', '1970']) {
    assert.ok(!sms.body.text.includes(secret), `the SMS must not say "${secret}"`);
  }
  // The delivery is recorded with the document.
  let status;
  for (let i = 0; i < 50; i++) {
    status = await (await fetch(`${hb.base}/api/v1/documents/SMS-1`, { headers: { authorization: `Bearer ${token}` } })).json();
    if (status.delivery?.status === 'sent') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(status.delivery.status, 'sent');
  assert.equal(status.delivery.channel, 'sms');
});

test('a gateway that fails is retried with backoff until it takes the message', async () => {
  const token = await hb.token(await hb.addClient('01001'));
  failNext = 2;
  await issue(token, 'SMS-2', '+84922222222');
  const sms = await waitFor((m) => m.body.to === '+84922222222', 15000);
  assert.ok(sms, 'delivered after the gateway recovered');
  assert.equal(failNext, 0);
});

test('while the gateway fails, the issuer sees the last error and the next try', async () => {
  const token = await hb.token(await hb.addClient('01001'));
  failNext = 1;
  await issue(token, 'SMS-3', '+84933333333');
  let delivery;
  for (let i = 0; i < 100; i++) {
    delivery = (await (await fetch(`${hb.base}/api/v1/documents/SMS-3`, { headers: { authorization: `Bearer ${token}` } })).json()).delivery;
    if (delivery?.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(delivery.status, 'failed', JSON.stringify(delivery));
  assert.match(delivery.lastError, /HTTP 503/);
  assert.ok(!delivery.lastError.includes('933333333'), delivery.lastError);
  assert.ok(Date.parse(delivery.nextAttempt) > Date.now() - 1000, delivery.nextAttempt);
  // The first retry comes a second later; then it is sent, and the error is gone.
  assert.ok(await waitFor((m) => m.body.to === '+84933333333'), 'delivered after the gateway recovered');
  for (let i = 0; i < 50 && delivery.status !== 'sent'; i++) {
    await new Promise((r) => setTimeout(r, 20));
    delivery = (await (await fetch(`${hb.base}/api/v1/documents/SMS-3`, { headers: { authorization: `Bearer ${token}` } })).json()).delivery;
  }
  assert.equal(delivery.status, 'sent');
  assert.equal(delivery.attempts, 2);
  assert.equal(delivery.lastError, undefined);
  assert.equal(delivery.nextAttempt, undefined);
});
