// The whole journey of a medical certificate, in Chromium against the real server (issue 3, item
// 8): a clinic issues it; the patient's SMS arrives in the development sink; wrong dates of birth
// lock the link; the right one on a fresh link shows the certificate with its QR code; after 7 days
// (the server's test clock, moved over HTTP) the link asks again; an employer pastes the card into
// /verify and sees it valid; the clinic revokes it and /verify says revoked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Healthbook, launch, phonePage } from './harness.mjs';

let hb;
let browser;
let token;
let client;

before(async () => {
  hb = await Healthbook.start({ HEALTHBOOK_TESTING_CLOCK_CONTROL: '1' });
  await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
  client = await hb.addClient('01001');
  token = await hb.token(client);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hb?.stop();
});

async function issue(documentId, phone, nationalId) {
  const res = await fetch(`${hb.base}/api/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      documentId, kind: 'mc-outpatient',
      patient: { nationalId, family: 'Pham', given: 'Thu Ha', birthDate: '1988-09-15', phone },
      doctor: { name: 'Dr Le Van Nam' }, leave: { from: '2026-11-21', to: '2026-11-23' },
    }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

// The link in the SMS sent to `phone`, read from the development sink (<data>/notify-sms.jsonl).
async function smsLink(phone, sentAt) {
  const sink = join(hb.data, 'notify-sms.jsonl');
  for (let i = 0; i < 100; i++) {
    if (existsSync(sink)) {
      const sms = readFileSync(sink, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
        .find((m) => m.to === phone);
      if (sms) {
        const waited = Date.now() - sentAt;
        assert.ok(waited < 5000, `SMS within 5 s (took ${waited} ms)`);
        assert.doesNotMatch(sms.text, /Pham|Thu Ha|1988|certificate|Bach Mai/, 'no health data in the SMS');
        return new URL(sms.text.match(/https?:\/\/\S+\/c\/[A-Za-z0-9_-]+/)[0]).pathname;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no SMS to ${phone} in ${sink}`);
}

async function enterBirthDate(page, day, month, year) {
  await page.getByLabel('Day').fill(day);
  await page.getByLabel('Month').fill(month);
  await page.getByLabel('Year').fill(year);
  await page.getByRole('button', { name: 'Show document' }).click();
}

async function verifyInBrowser(qr) {
  const { context, page } = await phonePage(browser);
  await page.goto(`${hb.base}/verify`);
  await page.getByLabel(/^Card text/).fill(qr);
  await page.getByRole('button', { name: 'Check', exact: true }).click();
  const verdict = page.locator('[data-outcome]');
  await verdict.waitFor();
  const outcome = await verdict.getAttribute('data-outcome');
  const text = await verdict.innerText();
  await context.close();
  return { outcome, text };
}

test('issue, SMS, lock, unlock, relock after 7 days, verify, revoke, verify again', async () => {
  // 1. Issued; the SMS carries the link.
  let sent = Date.now();
  await issue('E2E-1', '+84913000001', '001088000001');
  const firstLink = await smsLink('+84913000001', sent);

  // 2. Wrong dates of birth until the link locks.
  {
    const { context, page } = await phonePage(browser);
    await page.goto(`${hb.base}${firstLink}`);
    await page.getByRole('group', { name: 'Date of birth' }).waitFor();
    for (let i = 0; i < 5; i++) {
      await enterBirthDate(page, '1', '1', '1990');
      await page.waitForFunction(() => !document.querySelector('button[type=submit]')?.disabled);
    }
    await page.getByText(/This link is locked after 5 wrong dates of birth/).waitFor();
    assert.deepEqual(page.problems, []);
    await context.close();
  }

  // 3. A fresh link and the right date of birth: the certificate with its QR code.
  sent = Date.now();
  const doc = await issue('E2E-2', '+84913000002', '001088000002');
  const link = await smsLink('+84913000002', sent);
  const { context, page } = await phonePage(browser);
  await page.goto(`${hb.base}${link}`);
  await enterBirthDate(page, '15', '9', '1988');
  await page.locator('article.certificate').waitFor();
  const shown = await page.locator('article.certificate').innerText();
  assert.match(shown, /Thu Ha Pham|Pham Thu Ha/);
  assert.match(shown, /Bach Mai Hospital/);
  await page.waitForFunction(() => document.querySelector('.certificate__qr img')?.naturalWidth > 0);

  // 4. This browser keeps access... until 7 days have passed on the server's clock.
  await page.reload();
  await page.locator('article.certificate').waitFor();
  const moved = await fetch(`${hb.base}/api/test/clock`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ advanceSeconds: 7 * 24 * 3600 + 60 }),
  });
  assert.equal(moved.status, 200);
  // The clinic's system lives on the server's new time too: a fresh token for it.
  const serverNow = Math.floor(Date.parse((await moved.json()).now) / 1000);
  token = await hb.token(client, 'system/*.cruds', serverNow);
  await page.reload();
  await page.getByRole('group', { name: 'Date of birth' }).waitFor();
  assert.equal(await page.locator('article.certificate').count(), 0, 'relocked after 7 days');
  assert.deepEqual(page.problems, []);
  await context.close();

  // 5. The employer checks the card at /verify: valid, from Bach Mai Hospital.
  const valid = await verifyInBrowser(doc.card.qr);
  assert.equal(valid.outcome, 'valid', valid.text);
  assert.match(valid.text, /Bach Mai Hospital/);

  // 6. The clinic revokes it; /verify now says revoked.
  const revoked = await fetch(`${hb.base}/api/v1/documents/E2E-2/revoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'issued in error' }),
  });
  assert.equal(revoked.status, 200, await revoked.clone().text());
  const after = await verifyInBrowser(doc.card.qr);
  assert.equal(after.outcome, 'revoked', after.text);
});
