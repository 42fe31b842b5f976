// The resident's app in Chromium against the real server: sign-up with the SMS code from the
// development sink, login with the SMS second factor, enrolling an authenticator app (its code
// worked out here from the key the page shows, on the server's clock) and logging in with it,
// the session ending while idle, signing out here and everywhere, a forgotten password reset from
// the login page, the share viewer opening a
// passcode-protected SMART Health Link, the phone-sized layout, the service worker's cache
// holding no API answers, and axe-core on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Healthbook, launch, phonePage, linkPathOf, expectNoSeriousViolations, fitsThePhone, fillBirthDate, smsReader } from './harness.mjs';

let hb;
let sms; // the development SMS sink's codes (harness smsReader)
let browser;
let client;
let clockAhead = 0; // seconds the server's clock is ahead of ours, once moved

const password = 'correct horse 42';
const mai = { nationalId: '079201001234', birthDate: '1990-04-12', phone: '+84901234567', family: 'Nguyen', given: 'Thi Mai' };
const binh = { nationalId: '079201005678', birthDate: '1985-01-30', phone: '+84907654321', family: 'Tran', given: 'Van Binh' };

before(async () => {
  hb = await Healthbook.start({
    HEALTHBOOK_TESTING_CLOCK_CONTROL: '1',
    // A cheap Argon2id cost: these tests are about the pages, not the hash.
    HEALTHBOOK_ACCOUNTS_PASSWORD_OPS_LIMIT: '1',
    HEALTHBOOK_ACCOUNTS_PASSWORD_MEMORY_KIB: '8',
  });
  sms = smsReader(hb);
  await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
  client = await hb.addClient('01001');
  for (const p of [mai, binh]) await registerPatient(p);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hb?.stop();
});

async function facilityToken() {
  return hb.token(client, 'system/*.cruds', Math.floor(Date.now() / 1000) + clockAhead);
}

async function registerPatient(p) {
  const res = await fetch(`${hb.base}/fhir/Patient`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await facilityToken()}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({
      resourceType: 'Patient',
      identifier: [{ system: 'urn:oid:2.16.704.1.1.1', value: p.nationalId }],
      name: [{ family: p.family, given: [p.given] }],
      birthDate: p.birthDate,
      telecom: [{ system: 'phone', value: p.phone, use: 'mobile' }],
    }),
  });
  assert.equal(res.status, 201, await res.text());
}

async function moveClock(seconds) {
  const res = await fetch(`${hb.base}/api/test/clock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: seconds }),
  });
  assert.equal(res.status, 200, 'the server runs with testing.clock_control');
  clockAhead = Math.round(Date.parse((await res.json()).now) / 1000 - Date.now() / 1000);
}

// RFC 6238 (SHA-1, 30 s, 6 digits) from a base32 key, at the server's time.
function totp(base32, atSeconds = Date.now() / 1000 + clockAhead) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atSeconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function signUp(page, p) {
  await page.goto(`${hb.base}/signup`);
  await page.getByRole('heading', { level: 1, name: 'Create your Healthbook account' }).waitFor();
  await page.getByLabel('National ID number').fill(p.nationalId);
  await fillBirthDate(page, p.birthDate);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.getByLabel('Code from the SMS').waitFor();
}

async function logIn(page, p) {
  await page.goto(`${hb.base}/login`);
  await page.getByLabel('National ID number').fill(p.nationalId);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { level: 1, name: 'Confirm it is you' }).waitFor();
}

test('sign up with the SMS code; the password rules show as you type', async () => {
  const { context, page } = await phonePage(browser);
  await page.goto(`${hb.base}/signup`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await expectNoSeriousViolations(page, 'the sign-up page');
  await fitsThePhone(page, 'the sign-up page');

  // The form's own checks name each field.
  await page.getByRole('button', { name: 'Send me a code' }).click();
  const summary = page.locator('.error-summary');
  await summary.getByText('Enter your national ID number.').waitFor();
  assert.ok(await summary.getByText('Enter the day.').isVisible());

  await signUp(page, mai);
  assert.match(await page.locator('.message--ok').innerText(), /we sent a 6-digit code by SMS/);
  const rules = page.locator('.rules');
  assert.equal(await rules.locator('.rules__item--met').count(), 1, 'only "not your national id" holds for an empty password');
  await page.getByLabel('Choose a password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await summary.getByText('Choose a password that meets every rule below.').waitFor();
  await expectNoSeriousViolations(page, 'the sign-up code step with errors');

  // A wrong code: the server counts the tries.
  await page.getByLabel('Code from the SMS').fill('000000');
  await page.getByLabel('Choose a password').fill(password);
  assert.equal(await rules.locator('.rules__item--met').count(), 3);
  const code = await sms.next(mai.phone);
  if (code !== '000000') {
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('That is not the code we sent. 4 tries left for this code.').waitFor();
  }
  await page.getByLabel('Code from the SMS').fill(code);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${hb.base}/book`);
  await page.getByRole('heading', { level: 1, name: 'Your health book' }).waitFor();
  // The resident navigation, with this page marked as the current one.
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await nav.getByRole('link', { name: 'Health book' }).getAttribute('aria-current'), 'page');
  // Loaded: the count of records, or (until the timeline API is there) why not.
  await page.locator('main p.hint[role=status], main p[role=alert]').first().waitFor();
  await expectNoSeriousViolations(page, 'the health book');
  await fitsThePhone(page, 'the health book');

  // The account page shows the linked person.
  await nav.getByRole('link', { name: 'Account' }).click();
  await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
  await page.getByText('Nguyen Thi Mai').waitFor();
  assert.ok(await page.getByText('12 April 1990').isVisible());
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('log in with the SMS code; a wrong code counts down; the page asks for another SMS', async () => {
  const { context, page } = await phonePage(browser);
  await page.goto(`${hb.base}/login`);
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await expectNoSeriousViolations(page, 'the login page');
  await fitsThePhone(page, 'the login page');

  await page.getByLabel('National ID number').fill(mai.nationalId);
  await page.getByLabel('Password').fill('not the password 1');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByText('The national ID number or the password is wrong.').waitFor();

  await logIn(page, mai);
  await page.getByText('We sent a code by SMS to your phone.').first().waitFor();
  await expectNoSeriousViolations(page, 'the second-factor step');
  const first = await sms.next(mai.phone);
  await page.getByLabel('Code').fill(first === '111111' ? '222222' : '111111');
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  // Tries left before the account locks: the wrong password above counts too (5 in 15 minutes).
  await page.getByText('That code is not right. 3 tries left.').waitFor();

  // Another SMS replaces the first code.
  await page.getByRole('button', { name: 'Send me a code by SMS' }).click();
  const second = await sms.next(mai.phone);
  await page.getByLabel('Code').fill(second);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.waitForURL(`${hb.base}/book`);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('enrol an authenticator app, log in with it, sign out; the session ends when idle', async () => {
  const { context, page } = await phonePage(browser);
  await logIn(page, mai);
  await page.getByLabel('Code').fill(await sms.next(mai.phone));
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.waitForURL(`${hb.base}/book`);
  await page.goto(`${hb.base}/account`);
  await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
  await expectNoSeriousViolations(page, 'the account page');
  await fitsThePhone(page, 'the account page');

  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  const qr = page.getByRole('img', { name: 'QR code to add Healthbook to an authenticator app' });
  await qr.waitFor();
  assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml/);
  const secret = (await page.getByTestId('totp-secret').innerText()).replace(/\s/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/, '160 bits in base32');
  await expectNoSeriousViolations(page, 'the authenticator enrolment');
  await page.getByLabel('Code', { exact: true }).fill(totp(secret) === '123456' ? '654321' : '123456');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('That code is not right. Check that the time on your phone is correct').waitFor();
  await page.getByLabel('Code', { exact: true }).fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('Done. Next time you log in you can use a code from your authenticator app.').waitFor();
  await page.getByText('An authenticator app is set up for your account.').waitFor();

  // Sign out from the header.
  await page.getByRole('banner').getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(/\/login\?signedOut=1$/);
  await page.getByText('You are signed out.').waitFor();
  // The account page now sends you to log in, and back afterwards.
  await page.goto(`${hb.base}/account`);
  await page.waitForURL(/\/login\?next=%2Faccount$/);
  await page.getByText('Log in to see your health book.').waitFor();

  // With an authenticator, no SMS is sent unasked; a code of the next 30-second step logs in
  // (the enrolment's own code works once only; the server's clock moves two steps on).
  await moveClock(60);
  await page.getByLabel('National ID number').fill(mai.nationalId);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByText('Enter the 6-digit code from your authenticator app, or ask for a code by SMS.').waitFor();
  await page.getByLabel('Code').fill(totp(secret));
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.waitForURL(`${hb.base}/account`);
  await page.getByText('Nguyen Thi Mai').waitFor();
  // The page has asked for everything it shows (the notification choices come last): a request
  // still on its way when the clock moves would find the session ended and clear its cookie.
  await page.getByLabel('By SMS to my phone').waitFor();

  // Idle for 31 minutes: the next request finds the session gone, and the page says so.
  await moveClock(31 * 60);
  await page.reload();
  await page.waitForURL(/\/login\?expired=1&next=%2Faccount$/);
  await page.getByText('Your session ended, so we signed you out. Log in again to continue.').waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('sign out everywhere ends the sessions on other devices', async () => {
  const devices = [];
  for (let i = 0; i < 2; i++) {
    const d = await phonePage(browser);
    await signedInAs(d.page, binh, i === 0);
    devices.push(d);
  }
  const [phone, laptop] = devices;
  await laptop.page.goto(`${hb.base}/account`);
  await laptop.page.getByText('Tran Van Binh').waitFor();
  await phone.page.goto(`${hb.base}/account`);
  await phone.page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await phone.page.getByText('You are signed out on every device.').waitFor();
  await laptop.page.reload();
  await laptop.page.waitForURL(/\/login\?next=%2Faccount$/);
  for (const d of devices) await d.context.close();
});

async function signedInAs(page, p, first) {
  if (first) {
    await signUp(page, p);
    await page.getByLabel('Code from the SMS').fill(await sms.next(p.phone));
    await page.getByLabel('Choose a password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
  } else {
    await logIn(page, p);
    await page.getByLabel('Code').fill(await sms.next(p.phone));
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
  }
  await page.waitForURL(`${hb.base}/book`);
}

test('Vietnamese: the login page and the resident navigation', async () => {
  const { context, page } = await phonePage(browser, { locale: 'vi-VN' });
  await page.goto(`${hb.base}/login`);
  await page.getByRole('heading', { level: 1, name: 'Đăng nhập' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await expectNoSeriousViolations(page, 'the login page after switching language');
  await context.close();
});

test('the share viewer opens a passcode-protected SMART Health Link for someone without an account', async () => {
  // A document link's SMART Health Link (passcode: the birth date), opened in /s.
  const res = await fetch(`${hb.base}/api/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await facilityToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      documentId: 'VIEWER-1', kind: 'mc-outpatient',
      patient: { nationalId: mai.nationalId, family: mai.family, given: mai.given, birthDate: mai.birthDate, phone: mai.phone },
      doctor: { name: 'Dr Tran Thi Binh' }, leave: { from: '2026-11-20', to: '2026-11-22' },
    }),
  });
  const issued = await res.json();
  assert.equal(res.status, 201, JSON.stringify(issued));
  const path = await linkPathOf(hb, issued, mai.phone);
  const unlocked = await fetch(`${hb.base}/api/v1/links/${path.slice(3)}/unlock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ birthDate: mai.birthDate }),
  });
  const view = await unlocked.json();
  const payload = view.shlink.slice(view.shlink.indexOf('shlink:/'));

  const { context, page } = await phonePage(browser);
  await page.goto(`${hb.base}/s#${payload}`);
  await page.getByRole('heading', { level: 1, name: 'Shared health records' }).waitFor();
  await expectNoSeriousViolations(page, 'the share viewer');
  await fitsThePhone(page, 'the share viewer');
  await page.getByRole('button', { name: 'Open' }).click();
  await page.locator('.error-summary').getByText('Enter your name.').waitFor();
  await page.getByLabel('Your name').fill('Dr Lan, eye clinic');
  await page.getByLabel('Passcode').fill('1900-01-01');
  await page.getByRole('button', { name: 'Open' }).click();
  // The SMART Health Link's count: the tries left before the link is disabled (20 in all).
  await page.getByText('That passcode is not right. 19 tries left before the link stops working.').waitFor();
  await page.getByLabel('Passcode').fill(mai.birthDate);
  await page.getByRole('button', { name: 'Open' }).click();
  // Decrypted in the page: the health card's bundle, readably.
  await page.getByRole('heading', { name: 'Verifiable health card' }).waitFor();
  await page.getByText('Records of Nguyen Thi Mai').waitFor();
  await expectNoSeriousViolations(page, 'the opened share');

  // A link without its payload, and a damaged one.
  await page.goto(`${hb.base}/s`);
  await page.getByText('the link is incomplete').waitFor();
  await page.goto(`${hb.base}/s#shlink:/AAAA`);
  await page.getByText('This link is damaged.').waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('installable: manifest, icons, and a service worker whose cache holds the shell only', async () => {
  const manifest = await (await fetch(`${hb.base}/manifest.webmanifest`)).json();
  assert.equal(manifest.start_url, '/book');
  assert.equal(manifest.display, 'standalone');
  for (const icon of manifest.icons) {
    const r = await fetch(`${hb.base}${icon.src}`);
    assert.equal(r.status, 200, icon.src);
    assert.equal(r.headers.get('content-type'), icon.type);
  }
  const { context, page } = await phonePage(browser);
  await signedInAs(page, { ...binh }, false);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Your health book' }).waitFor();
  await page.goto(`${hb.base}/account`);
  await page.getByText('Tran Van Binh').waitFor();
  const cached = await page.evaluate(async () => {
    const urls = [];
    for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
    return urls;
  });
  assert.ok(cached.includes('/index.html'), JSON.stringify(cached));
  assert.ok(cached.some((u) => u.startsWith('/assets/')));
  assert.deepEqual(cached.filter((u) => !/^\/(index\.html|assets\/|favicon\.svg|manifest\.webmanifest|icon-)/.test(u)), [],
    'nothing but the app shell is cached');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('a forgotten password: from the login page, the SMS code and a new password sign you in', async () => {
  const { context, page } = await phonePage(browser);
  await page.goto(`${hb.base}/login`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.waitForURL(`${hb.base}/reset`);
  await page.getByRole('heading', { level: 1, name: 'Set a new password' }).waitFor();
  await expectNoSeriousViolations(page, 'the password reset page');
  await fitsThePhone(page, 'the password reset page');
  await page.getByLabel('National ID number').fill(binh.nationalId);
  await fillBirthDate(page, binh.birthDate);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.getByText('If these details match an account, we sent a 6-digit code').waitFor();
  await page.getByLabel('Code from the SMS').fill(await sms.next(binh.phone));
  const renewed = 'a new horse 77';
  await page.getByLabel('Choose a new password').fill(renewed);
  await expectNoSeriousViolations(page, 'the password reset, second step');
  await page.getByRole('button', { name: 'Save the password and log in' }).click();
  await page.waitForURL(`${hb.base}/book`);
  // The new password is the one that works now.
  const tryLogin = (pw) => fetch(`${hb.base}/api/v1/account/login`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-healthbook-csrf': '1' },
    body: JSON.stringify({ nationalId: binh.nationalId, password: pw }),
  }).then((r) => r.status);
  assert.equal(await tryLogin(password), 401);
  assert.equal(await tryLogin(renewed), 200);
  assert.deepEqual(page.problems, []);
  await context.close();
});
