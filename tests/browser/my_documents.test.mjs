// The resident's own documents (/documents, /documents/<id>) in Chromium against the real server:
// a clinic issues a medical certificate through the facility API, its patient signs up (the SMS
// code from the development sink) and finds it in their list and the document page with its QR
// code; five wrong birth dates lock the link, the list says so in words and "Open my link again"
// lets the right birth date in; "Make a new link" gives a link that opens with the birth date in
// another browser; the patient's choice to show the diagnosis on their links (made on the document
// page, seen through a link); axe-core on both pages and the phone-sized layout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Healthbook, launch, phonePage, linkPathOf, expectNoSeriousViolations, fitsThePhone, smsReader, signUpInBrowser,
} from './harness.mjs';

let hb;
let sms; // the development SMS sink's codes (harness smsReader)
let browser;
let client;

const password = 'correct horse 42';
const lan = { nationalId: '079190004321', family: 'Pham', given: 'Thi Lan', birthDate: '1990-04-12', phone: '+84903334455' };

before(async () => {
  hb = await Healthbook.start({
    // A cheap Argon2id cost: these tests are about the pages, not the hash.
    HEALTHBOOK_ACCOUNTS_PASSWORD_OPS_LIMIT: '1',
    HEALTHBOOK_ACCOUNTS_PASSWORD_MEMORY_KIB: '8',
  });
  sms = smsReader(hb);
  await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
  client = await hb.addClient('01001');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hb?.stop();
});

// The clinic's system issues a document for Lan (or `who`); returns the answer and its /c/<token> path.
async function issue(body, who = lan) {
  const token = await hb.token(client, 'system/*.cruds');
  const res = await fetch(`${hb.base}/api/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      kind: 'mc-outpatient', patient: who,
      doctor: { name: 'Dr Le Van An', registration: 'HN-23456' },
      leave: { from: '2026-11-20', to: '2026-11-22' },
      ...body,
    }),
  });
  const answer = await res.json();
  assert.equal(res.status, 201, JSON.stringify(answer));
  return { answer, path: await linkPathOf(hb, answer, who.phone) };
}

async function unlock(path, birthDate) {
  const res = await fetch(`${hb.base}/api/v1/links/${path.slice(3)}/unlock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ birthDate }),
  });
  return res.status;
}

// Opens a document link in a browser that has never seen it and gives Lan's date of birth.
async function opensWithTheBirthDate(path) {
  const { context, page } = await phonePage(browser);
  await page.goto(`${hb.base}${path}`);
  await page.getByLabel('Day').fill('12');
  await page.getByLabel('Month').fill('4');
  await page.getByLabel('Year').fill('1990');
  await page.getByRole('button', { name: /^Show/ }).click();
  await page.locator('article.certificate').waitFor();
  assert.ok(await page.getByText('Pham Thi Lan').first().isVisible());
  await context.close();
}

test('the patient finds their certificate, reopens its locked link and makes a new one', async () => {
  const older = await issue({ documentId: 'MC-DOCS-1', leave: { from: '2026-11-02', to: '2026-11-03' } });
  const { answer, path } = await issue({
    documentId: 'MC-DOCS-2', diagnosis: { text: 'Acute bronchitis', code: 'J20.9', system: 'http://hl7.org/fhir/sid/icd-10' },
  });
  assert.notEqual(older.path, path);
  const id = answer.id;

  const { context, page } = await phonePage(browser);
  await signUpInBrowser(hb, page, lan, password, sms);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Documents' }).click();
  await page.waitForURL(`${hb.base}/documents`);
  await page.getByRole('heading', { level: 1, name: 'Your documents' }).waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Documents' }).getAttribute('aria-current'), 'page');
  const items = page.locator('ol.documents > li');
  await items.first().waitFor();
  assert.equal(await items.count(), 2);
  // Newest first: both are outpatient certificates; the one issued second leads.
  assert.equal(await items.first().getByRole('link').getAttribute('href'), `/documents/${id}`);
  const first = items.first();
  assert.ok(await first.getByText('Medical certificate: outpatient sick leave').isVisible());
  assert.ok(await first.getByText('Issued by Bach Mai Hospital').isVisible());
  assert.ok(await first.getByText('Status: valid').isVisible());
  assert.ok(await first.getByText('Your link opens with your date of birth.').isVisible());
  assert.equal(await first.getByRole('button', { name: 'Open my link again' }).count(), 0, 'nothing to reopen');
  await expectNoSeriousViolations(page, 'the documents list');
  await fitsThePhone(page, 'the documents list');

  // The document page: the facts, the patient's own diagnosis and the QR code.
  await first.getByRole('link', { name: 'Medical certificate: outpatient sick leave' }).click();
  await page.waitForURL(`${hb.base}/documents/${id}`);
  await page.getByRole('heading', { level: 1, name: 'Medical certificate: outpatient sick leave' }).waitFor();
  assert.ok(await page.getByText('Acute bronchitis (J20.9)').isVisible());
  assert.ok(await page.getByText('Dr Le Van An').isVisible());
  const qr = page.getByRole('img', { name: /QR code of this document/ });
  await qr.waitFor();
  assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml/);
  await page.waitForFunction(() => document.querySelector('.certificate__qr img')?.naturalWidth > 0);
  assert.ok(await qr.isVisible());
  await expectNoSeriousViolations(page, 'the document page');
  await fitsThePhone(page, 'the document page');

  // Five wrong birth dates lock the link for an hour; the list says so.
  const wrong = [];
  for (let i = 0; i < 5; i++) wrong.push(await unlock(path, '1990-04-13'));
  assert.deepEqual(wrong, [401, 401, 401, 401, 429], 'the fifth wrong date locks the link');
  assert.equal(await unlock(path, lan.birthDate), 429, 'locked, even for the right date');
  await page.getByRole('link', { name: 'All your documents' }).click();
  await page.waitForURL(`${hb.base}/documents`);
  const locked = items.first();
  await locked.getByText(/^Your link is locked until \d{1,2}:\d{2} after wrong dates of birth\.$/).waitFor();
  assert.ok(await items.nth(1).getByText('Your link opens with your date of birth.').isVisible(), 'the other document is untouched');
  await expectNoSeriousViolations(page, 'the documents list with a locked link');
  await locked.getByRole('button', { name: 'Open my link again' }).click();
  await locked.getByRole('status').getByText('Your link works again. It opens with your date of birth.').waitFor();
  await locked.getByText('Your link opens with your date of birth.', { exact: true }).waitFor();
  assert.equal(await locked.getByRole('button', { name: 'Open my link again' }).count(), 0);
  await opensWithTheBirthDate(path);

  // A new link, e.g. for the employer: shown to copy, and it opens with the birth date elsewhere.
  await locked.getByRole('link').first().click();
  await page.getByRole('heading', { level: 2, name: 'Links to this document' }).waitFor();
  await page.getByRole('button', { name: 'Make a new link' }).click();
  await page.getByText('Your new link is ready. It opens with your date of birth.').waitFor();
  const link = await page.getByLabel('Your new link').inputValue();
  const fresh = new URL(link).pathname;
  assert.match(fresh, /^\/c\/[A-Za-z0-9_-]{43,}$/);
  assert.notEqual(fresh, path);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hb.base });
  await page.getByRole('button', { name: 'Copy link' }).click();
  await page.getByText('Link copied.', { exact: false }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
  await expectNoSeriousViolations(page, 'the document page with a new link');
  await fitsThePhone(page, 'the document page with a new link');
  await opensWithTheBirthDate(fresh);

  // A deep link reaches the page too (the server serves the app for /documents/...).
  await page.goto(`${hb.base}/documents/${id}?lang=vi`);
  await page.getByRole('heading', { level: 2, name: 'Đường dẫn tới giấy này' }).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});

// What a browser that has never seen the link shows in the diagnosis row once the birth date is in.
async function diagnosisThroughLink(path, birthDate) {
  const [year, month, day] = birthDate.split('-');
  const { context, page } = await phonePage(browser);
  await page.goto(`${hb.base}${path}`);
  await page.getByLabel('Day').fill(String(Number(day)));
  await page.getByLabel('Month').fill(String(Number(month)));
  await page.getByLabel('Year').fill(year);
  await page.getByRole('button', { name: /^Show/ }).click();
  await page.locator('article.certificate').waitFor();
  const row = page.locator('.facts__row').filter({ has: page.locator('dt', { hasText: /^Diagnosis$/ }) });
  const text = await row.locator('dd').innerText();
  assert.equal(await page.getByRole('switch').count(), 0, 'the link page has no diagnosis switch');
  await context.close();
  return text;
}

// Needs the server's POST /api/v1/me/documents/<id>/preferences and the view's "showDiagnosis".
test('the patient chooses on their document page whether their links show the diagnosis', async () => {
  const minh = { nationalId: '079190004322', family: 'Vo', given: 'Van Minh', birthDate: '1988-09-30', phone: '+84903334466' };
  const { answer, path } = await issue({
    documentId: 'MC-DIAG-1', diagnosis: { text: 'Acute bronchitis', code: 'J20.9', system: 'http://hl7.org/fhir/sid/icd-10' },
  }, minh);
  const plain = await issue({ documentId: 'MC-DIAG-2' }, minh);
  assert.equal(await diagnosisThroughLink(path, minh.birthDate), 'Not shown', 'hidden until the patient chooses');

  const { context, page } = await phonePage(browser);
  await signUpInBrowser(hb, page, minh, password, sms);
  await page.goto(`${hb.base}/documents/${answer.id}`);
  await page.getByRole('heading', { level: 2, name: 'Links to this document' }).waitFor();
  assert.ok(await page.getByText('Acute bronchitis (J20.9)').isVisible(), 'the patient always sees their own diagnosis');
  const toggle = page.getByRole('switch', { name: 'Show the diagnosis to people I send the link to' });
  assert.equal(await toggle.isChecked(), false);
  await page.getByText('Anyone who has a link to this document and your date of birth then sees your diagnosis', { exact: false }).waitFor();
  await expectNoSeriousViolations(page, 'the document page with the diagnosis switch');
  await fitsThePhone(page, 'the document page with the diagnosis switch');

  await toggle.check();
  await page.getByText('Saved. Your links now show the diagnosis.').waitFor();
  assert.equal(await toggle.isChecked(), true);
  assert.equal(await diagnosisThroughLink(path, minh.birthDate), 'Acute bronchitis (J20.9)');
  // The choice is the server's, not the page's: a reload keeps it.
  await page.reload();
  await toggle.waitFor();
  assert.equal(await toggle.isChecked(), true);

  await toggle.uncheck();
  await page.getByText('Saved. Your links no longer show the diagnosis.').waitFor();
  assert.equal(await diagnosisThroughLink(path, minh.birthDate), 'Not shown');

  // A document without a diagnosis has nothing to choose.
  await page.goto(`${hb.base}/documents/${plain.answer.id}`);
  await page.getByRole('heading', { level: 2, name: 'Links to this document' }).waitFor();
  assert.equal(await page.getByRole('switch').count(), 0);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('the document pages ask for a login first', async () => {
  const { context, page } = await phonePage(browser);
  await page.goto(`${hb.base}/documents`);
  await page.waitForURL(/\/login\?next=%2Fdocuments$/);
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await context.close();
});
