// Browser tests: the real healthbook server (started by tests/node/harness.mjs) serving the built
// web app (web/dist, `make web`), and Debian's Chromium driven by playwright-core.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const webDist = join(root, 'web', 'dist');
if (!existsSync(join(webDist, 'index.html'))) throw new Error('web/dist is missing: run `make web` first');
// The server serves the SPA from server.web_root; name it absolutely, whatever the cwd.
process.env.HEALTHBOOK_SERVER_WEB_ROOT = webDist;

const { Healthbook } = await import('../node/harness.mjs');
export { Healthbook };

export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

export async function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', ...extraArgs],
  });
}

// A phone-sized page that records Content-Security-Policy violations and uncaught errors, so
// every test also proves the app runs under the strict policy.
export async function phonePage(browser, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 1,
    locale: 'en-GB',
    timezoneId: 'Asia/Ho_Chi_Minh',
    ...options,
  });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) page.problems.push(msg.text());
  });
  page.on('pageerror', (err) => page.problems.push(`uncaught: ${err.message}`));
  return { context, page };
}

// One facility and a client allowed to issue; returns a function that issues a certificate.
export async function issuer(hb, code = '01015', name = 'Hoan Kiem District Health Centre') {
  await hb.addFacility(code, name, 'health-centre');
  const client = await hb.addClient(code);
  const token = await hb.token(client);
  let n = 0;
  return async (overrides = {}) => {
    n += 1;
    const body = {
      documentId: `MC-${Date.now()}-${n}`,
      kind: 'mc-outpatient',
      patient: { nationalId: '001085012345', family: 'Nguyen', given: 'Van An', birthDate: '1985-03-27', phone: '+84912345678' },
      doctor: { name: 'Dr Tran Thi Binh', registration: 'HN-12345' },
      leave: { from: '2026-11-20', to: '2026-11-22' },
      ...overrides,
    };
    const res = await fetch(`${hb.base}/api/v1/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await res.json();
    if (res.status !== 201) throw new Error(`issue refused (${res.status}): ${JSON.stringify(answer)}`);
    return { request: body, answer };
  };
}

// The numeric shc:/ form of a compact JWS (SMART Health Cards: each character as two digits).
export function shcOf(jws) {
  return 'shc:/' + [...jws].map((c) => String(c.charCodeAt(0) - 45).padStart(2, '0')).join('');
}

// The /c/<token> path of a certificate's link: from the issue answer if it carries one, else from
// the SMS the server sent (the development SMS sink, <data>/notify-sms.jsonl).
export async function linkPathOf(hb, answer, phone) {
  const direct = JSON.stringify(answer).match(/\/c\/[A-Za-z0-9_-]+/);
  if (direct) return direct[0];
  const sink = join(hb.data, 'notify-sms.jsonl');
  for (let i = 0; i < 50; i++) {
    if (existsSync(sink)) {
      const lines = readFileSync(sink, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const sms = lines.reverse().find((l) => (!phone || l.to === phone) && /\/c\/[A-Za-z0-9_-]+/.test(l.text ?? ''));
      const m = sms?.text.match(/\/c\/[A-Za-z0-9_-]+/);
      if (m && !linkPathOf.seen.has(m[0])) {
        linkPathOf.seen.add(m[0]);
        return m[0];
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no /c/<token> link in the issue answer nor in the SMS sink');
}
linkPathOf.seen = new Set();

export const axeSource = readFileSync(join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

// axe-core's serious and critical violations on the page as it is now (WCAG 2.0/2.1 A and AA).
export async function seriousViolations(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

// Fails the test on any serious or critical axe-core violation of the page at rest.
export async function expectNoSeriousViolations(page, where) {
  // The pointer stays where the last click was: a button under it would be checked halfway through
  // its 0.15 s hover transition (white text on a still-light background). Move it off and let the
  // transition end, so axe sees the page at rest.
  await page.mouse.move(0, 0);
  await page.waitForTimeout(200);
  assert.deepEqual(await seriousViolations(page), [], `axe-core on ${where}`);
}

// Fails the test when the page scrolls sideways on a 360 px phone (phonePage's width).
export async function fitsThePhone(page, where) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `${where} is ${width}px wide on a 360px screen`);
}

// Codes from a running server's development SMS sink (<data>/notify-sms.jsonl), waiting up to 10 s.
// next(phone): the newest code sent to `phone` after the last one this reader returned for it;
// newest(phone): the newest code sent to `phone`, returned before or not.
export function smsReader(hb) {
  const read = new Map(); // phone -> sink lines already looked at
  async function find(phone, fresh) {
    const sink = join(hb.data, 'notify-sms.jsonl');
    for (let i = 0; i < 200; i++) {
      if (existsSync(sink)) {
        const lines = readFileSync(sink, 'utf8').split('\n').filter(Boolean);
        const from = fresh ? (read.get(phone) ?? 0) : 0;
        for (let n = lines.length - 1; n >= from; n--) {
          const sms = JSON.parse(lines[n]);
          const m = sms.to === phone && /code: ([0-9]{6})\./.exec(sms.text ?? '');
          if (m) {
            read.set(phone, n + 1);
            return m[1];
          }
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no SMS code for ${phone}`);
  }
  return { next: (phone) => find(phone, true), newest: (phone) => find(phone, false) };
}

// Fills the page's three date-of-birth fields (Day, Month, Year) from an ISO date.
export async function fillBirthDate(page, iso) {
  const [y, m, d] = iso.split('-');
  await page.getByLabel('Day').fill(String(+d));
  await page.getByLabel('Month').fill(String(+m));
  await page.getByLabel('Year').fill(y);
}

// Signs `person` ({nationalId, birthDate, phone}) up in the browser with `password` and the code
// from `sms` (an smsReader), and waits for the health book.
export async function signUpInBrowser(hb, page, person, password, sms) {
  await page.goto(`${hb.base}/signup`);
  await page.getByLabel('National ID number').fill(person.nationalId);
  await fillBirthDate(page, person.birthDate);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.getByLabel('Code from the SMS').waitFor();
  await page.getByLabel('Code from the SMS').fill(await sms.next(person.phone));
  await page.getByLabel('Choose a password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${hb.base}/book`);
}
