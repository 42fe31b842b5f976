// /c/<token>: the certificate link a patient gets by SMS, in Chromium.
//
// Against the real server: wrong dates of birth until the link locks; the right one on a fresh
// link shows the certificate with its QR code; the diagnosis toggle. The server's link API
// (/api/v1/links) is landing in parallel: while it answers 404 these tests skip, saying so, and
// they run as soon as it exists.
//
// Against the API contract, with the answers stubbed inside the browser: the page's handling of
// every answer the contract names (remaining attempts, 429 with retryAfter, 410, revoked and
// superseded documents), which the real server cannot be made to give on demand.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Healthbook, launch, phonePage, issuer, linkPathOf, seriousViolations } from './harness.mjs';

let hb;
let browser;
let issue;
let linkApi = false;

before(async () => {
  hb = await Healthbook.start();
  issue = await issuer(hb);
  browser = await launch();
  const probe = await fetch(`${hb.base}/api/v1/links/AAAAAAAAAAAAAAAAAAAAAA`);
  linkApi = probe.status !== 404;
});

after(async () => {
  await browser?.close();
  await hb?.stop();
});

const noLinkApi = 'the server has no /api/v1/links yet (GET answers 404): the link API is landing in parallel';

async function dob(page, day, month, year) {
  await page.getByLabel('Day').fill(day);
  await page.getByLabel('Month').fill(month);
  await page.getByLabel('Year').fill(year);
  await page.getByRole('button', { name: 'Show certificate' }).click();
}

describe('against the real server', () => {
  test('wrong dates of birth lock the link', async (t) => {
    if (!linkApi) return t.skip(noLinkApi);
    const phone = '+84912000001';
    const { answer } = await issue({ patient: { nationalId: '001085000001', family: 'Nguyen', given: 'Van An', birthDate: '1985-03-27', phone } });
    const path = await linkPathOf(hb, answer, phone);
    const { context, page } = await phonePage(browser);
    await page.goto(`${hb.base}${path}`);
    await page.getByRole('group', { name: 'Date of birth' }).waitFor();
    await dob(page, '1', '1', '1990');
    await page.getByText('That date of birth does not match this link.').waitFor();
    assert.match(await page.getByRole('alert').first().innerText(), /attempts? left/);
    let locked = false;
    for (let i = 0; i < 20 && !locked; i++) {
      if (await page.getByText(/Too many wrong attempts/).isVisible()) locked = true;
      else {
        await dob(page, '2', '1', '1990');
        await page.waitForFunction(() => !document.querySelector('button[type=submit]')?.disabled);
      }
    }
    assert.ok(locked || (await page.getByText(/Too many wrong attempts/).isVisible()), 'locked after repeated wrong dates');
    assert.match(await page.getByText(/Too many wrong attempts/).innerText(), /locked until \d\d:\d\d \(\d+ minutes?\)/);
    // Even the right date of birth is refused while locked.
    const res = await page.evaluate(async (p) => (await fetch(`/api/v1/links/${p.slice(3)}/unlock`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ birthDate: '1985-03-27' }),
    })).status, path);
    assert.equal(res, 429);
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  test('the right date of birth shows the certificate, its QR code and the diagnosis toggle', async (t) => {
    if (!linkApi) return t.skip(noLinkApi);
    const phone = '+84912000002';
    const { answer } = await issue({
      patient: { nationalId: '001085000002', family: 'Tran', given: 'Thi Mai', birthDate: '1990-07-04', phone },
      diagnosis: { text: 'Influenza', code: 'J11' },
    });
    const path = await linkPathOf(hb, answer, phone);
    const { context, page } = await phonePage(browser);
    await page.goto(`${hb.base}${path}`);
    await page.getByRole('group', { name: 'Date of birth' }).waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'date-of-birth form');
    await dob(page, '4', '7', '1990');
    const heading = page.getByRole('heading', { level: 1 });
    await page.locator('article.certificate').waitFor();
    assert.equal(await heading.innerText(), 'Medical certificate: outpatient sick leave');
    const text = await page.locator('article.certificate').innerText();
    assert.match(text, /Thi Mai Tran|Tran Thi Mai/);
    assert.match(text, /20 November 2026 to 22 November 2026 \(3 days\)/);
    assert.match(text, /Hoan Kiem District Health Centre/);
    assert.match(text, /Dr Tran Thi Binh/);
    assert.doesNotMatch(text, /Influenza/, 'the diagnosis is hidden until the patient shows it');
    // The QR code: the server's SVG drawn as an image, under the page's CSP.
    const qr = page.getByRole('img', { name: /QR code of this certificate/ });
    assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml/);
    await page.waitForFunction(() => document.querySelector('.certificate__qr img')?.naturalWidth > 0);
    assert.deepEqual(await seriousViolations(page), [], 'certificate');

    const toggle = page.getByRole('switch', { name: 'Show my diagnosis on this page' });
    assert.equal(await toggle.isChecked(), false);
    await toggle.check();
    await page.getByText(/Influenza/).waitFor();
    // The unlock lasts (an HttpOnly cookie): a reload shows the certificate, diagnosis and all.
    await page.reload();
    await page.locator('article.certificate').waitFor();
    assert.match(await page.locator('article.certificate').innerText(), /Influenza/);
    assert.equal(await page.evaluate(() => document.cookie), '', 'the unlock cookie is HttpOnly');
    await page.getByRole('switch', { name: 'Show my diagnosis on this page' }).uncheck();
    await page.getByText('Saved. The diagnosis is now hidden.').waitFor();
    assert.doesNotMatch(await page.locator('article.certificate').innerText(), /Influenza/);
    assert.deepEqual(page.problems, []);
    await context.close();
  });
});

// --- The contract, stubbed ---------------------------------------------------------------------

const token = 'StubLinkToken_0123456789';
const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 21 21"><rect width="21" height="21" fill="#fff"/><path d="M0 0h7v7H0z"/><script>window.__svgRan = true</script></svg>';

function view(over = {}) {
  return {
    kind: 'mc-outpatient', label: 'Medical certificate: outpatient sick leave', status: 'active',
    patient: { name: 'Nguyen Van An', maskedId: '*********345' },
    leave: { from: '2026-11-20', to: '2026-11-22' },
    facility: { name: 'Hoan Kiem District Health Centre', code: '01015' },
    doctor: 'Dr Tran Thi Binh', issued: '2026-11-20T01:30:00Z',
    qr: 'shc:/56762909', qrSvg: svg, showDiagnosis: false, ...over,
  };
}

// A browser page whose /api/v1/links answers follow the contract, for one link.
async function stubbedPage({ attempts = 3, initial = 'locked', doc = view() } = {}) {
  const { context, page } = await phonePage(browser);
  const state = { remaining: attempts, unlocked: initial === 'open', doc: { ...doc } };
  const problem = (route, status, body, headers = {}) =>
    route.fulfill({ status, headers: { 'content-type': 'application/problem+json', ...headers }, body: JSON.stringify({ status, ...body }) });
  const ok = (route) => route.fulfill({
    status: 200, contentType: 'application/json',
    body: JSON.stringify({ ...state.doc, diagnosis: state.doc.showDiagnosis ? { text: 'Influenza', code: 'J11' } : undefined }),
  });
  await page.route(`**/api/v1/links/${token}**`, async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    if (initial === 'gone') return problem(route, 410, { title: 'gone', detail: 'disabled' });
    if (url.pathname.endsWith('/unlock')) {
      if (state.remaining <= 0) return problem(route, 429, { title: 'locked', retryAfter: 900 }, { 'retry-after': '900' });
      if (JSON.parse(req.postData()).birthDate === '1985-03-27') {
        state.unlocked = true;
        return ok(route);
      }
      state.remaining -= 1;
      if (state.remaining <= 0) return problem(route, 429, { title: 'locked', retryAfter: 900 }, { 'retry-after': '900' });
      return problem(route, 401, { title: 'locked', detail: 'wrong', remainingAttempts: state.remaining });
    }
    if (url.pathname.endsWith('/preferences')) {
      if (!state.unlocked) return problem(route, 401, { title: 'locked', remainingAttempts: state.remaining });
      state.doc.showDiagnosis = JSON.parse(req.postData()).showDiagnosis;
      return ok(route);
    }
    if (!state.unlocked) return problem(route, 401, { title: 'locked', detail: 'locked', remainingAttempts: state.remaining });
    if (url.searchParams.has('latest')) {
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(view({ leave: { from: '2026-11-20', to: '2026-11-25' } })) });
    }
    return ok(route);
  });
  await page.goto(`${hb.base}/c/${token}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  return { context, page };
}

describe('against the API contract (answers stubbed in the browser)', () => {
  test('client-side checks name the field to fix', async () => {
    const { context, page } = await stubbedPage();
    await dob(page, '31', '2', '1985');
    await page.getByText('This date does not exist. Check the day and month.').waitFor();
    assert.equal(await page.getByLabel('Day').getAttribute('aria-invalid'), 'true');
    await dob(page, '', '13', '85');
    const summary = await page.locator('.error-summary').innerText();
    assert.match(summary, /Enter the day\./);
    assert.match(summary, /The month must be a number from 1 to 12\./);
    assert.match(summary, /The year must have 4 digits/);
    assert.deepEqual(await seriousViolations(page), []);
    await context.close();
  });

  test('remaining attempts, then the lock with the time to come back', async () => {
    const { context, page } = await stubbedPage({ attempts: 3 });
    await dob(page, '1', '1', '1990');
    await page.getByText('2 attempts left before this link is locked.').waitFor();
    await dob(page, '1', '1', '1990');
    await page.getByText('1 attempt left before this link is locked.').waitFor();
    await dob(page, '1', '1', '1990');
    const locked = page.getByText(/Too many wrong attempts/);
    await locked.waitFor();
    assert.match(await locked.innerText(), /locked until \d\d:\d\d \(15 minutes\)/);
    await context.close();
  });

  test('a disabled link says so', async () => {
    const { context, page } = await stubbedPage({ initial: 'gone' });
    await page.getByText('This link has been turned off.', { exact: false }).waitFor();
    await context.close();
  });

  test('the certificate: facts, a QR image whose SVG cannot run, print, copy link and the toggle', async () => {
    const { context, page } = await stubbedPage();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hb.base });
    await dob(page, '27', '3', '1985');
    await page.locator('article.certificate').waitFor();
    const text = await page.locator('article.certificate').innerText();
    for (const want of ['Nguyen Van An', '*********345', '20 November 2026 to 22 November 2026 (3 days)',
      'Hoan Kiem District Health Centre (01015)', 'Dr Tran Thi Binh', '20 November 2026 at 08:30 GMT+7']) {
      assert.ok(text.includes(want), `shows ${want}`);
    }
    await page.waitForFunction(() => document.querySelector('.certificate__qr img')?.naturalWidth > 0);
    assert.equal(await page.evaluate(() => window.__svgRan ?? false), false, 'the SVG’s script never runs');
    assert.equal(await page.locator('svg script').count(), 0, 'no server markup in the page');

    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByText('Link copied.', { exact: false }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${hb.base}/c/${token}`);

    await page.getByRole('switch', { name: 'Show my diagnosis on this page' }).check();
    await page.getByText('Influenza (J11)').waitFor();
    await page.getByText('Saved. The diagnosis is now shown on this page.').waitFor();

    // Print: only the certificate and its QR code.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.getByRole('button', { name: 'Print' }).isVisible(), false);
    assert.equal(await page.locator('.site-header').isVisible(), false);
    assert.ok(await page.locator('.certificate__qr img').isVisible());
    await page.emulateMedia({ media: 'screen' });
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  test('revoked and superseded certificates say so, with a link to the newer one', async () => {
    let { context, page } = await stubbedPage({ initial: 'open', doc: view({ status: 'revoked', revokedReason: 'issued in error' }) });
    await page.getByText('This certificate has been revoked', { exact: false }).waitFor();
    await page.getByText('Reason given: issued in error').waitFor();
    await context.close();
    // The server names the replacement as the same link with ?latest.
    ({ context, page } = await stubbedPage({ initial: 'open', doc: view({ status: 'superseded', supersededBy: `/c/${token}?latest` }) }));
    const link = page.getByRole('link', { name: 'Open the newer certificate' });
    assert.equal(await link.getAttribute('href'), `/c/${token}?latest`);
    await link.click();
    await page.getByText('20 November 2026 to 25 November 2026 (6 days)').waitFor();
    assert.equal(await page.getByText('This certificate has been replaced').count(), 0);
    await page.goBack();
    await page.getByText('This certificate has been replaced by a newer one.').waitFor();
    await context.close();
    ({ context, page } = await stubbedPage({ initial: 'open', doc: view({ status: 'superseded', supersededBy: 'javascript:alert(1)' }) }));
    await page.getByText('This certificate has been replaced by a newer one.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Open the newer certificate' }).count(), 0);
    await context.close();
  });

  test('a document too large for a QR code says it goes by link only', async () => {
    const { context, page } = await stubbedPage({ initial: 'open', doc: view({ qrSvg: undefined, qr: '', linkOnly: true }) });
    await page.getByText('This document is too large for a QR code.', { exact: false }).waitFor();
    assert.equal(await page.locator('.certificate__qr').count(), 0);
    await context.close();
  });

  test('in Vietnamese', async () => {
    const { context, page } = await phonePage(browser);
    await page.route(`**/api/v1/links/**`, (route) => route.fulfill({
      status: 401, contentType: 'application/problem+json', body: JSON.stringify({ status: 401, title: 'locked', remainingAttempts: 5 }),
    }));
    await page.goto(`${hb.base}/c/${token}?lang=vi`);
    await page.getByRole('group', { name: 'Ngày sinh' }).waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Giấy chứng nhận y tế của bạn');
    await context.close();
  });
});
