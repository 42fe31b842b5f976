// /c/<token>: the document link a patient gets by SMS, in Chromium against the real server.
//
// Documents are issued through the facility API; the server's test clock (testing.clock_control)
// moves past the hourly lock. Covered: the date-of-birth form's own checks; remaining attempts and
// the hourly lock; twenty wrong answers in a row turning the link off; the certificate with its
// QR code, copy link, print, the diagnosis not shown (the patient chooses on their own document
// page, not here) and printing at phone width; a time chit's hours, a sample's time and leave
// dates read in New York and on Kiritimati as the clinic wrote them; revoked and replaced
// documents; a document too large for a QR code (link only); the details of lab results, a
// vaccination and a referral; the SMART Health Link offered to other health apps, read back from
// its QR code and opened as a health app would; Vietnamese.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import * as jose from 'jose';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { Healthbook, issuer, launch, phonePage, linkPathOf, seriousViolations } from './harness.mjs';

let hb;
let browser;
let client;
let clockAhead = 0; // seconds the server's clock is ahead of ours, once moved

before(async () => {
  hb = await Healthbook.start({ HEALTHBOOK_TESTING_CLOCK_CONTROL: '1' });
  await hb.addFacility('01015', 'Hoan Kiem District Health Centre', 'health-centre');
  client = await hb.addClient('01015');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hb?.stop();
});

// The clinic's system, on the server's time (its access token's expiry is judged by that clock).
async function facility(path, body) {
  const token = await hb.token(client, 'system/*.cruds', Math.floor(Date.now() / 1000) + clockAhead);
  const res = await fetch(`${hb.base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    // '#dec:3.10' sends the number 3.10 as written, trailing zero and all (JSON.stringify would
    // send 3.1): a clinic's decimal keeps its precision.
    body: JSON.stringify(body).replace(/"#dec:(-?[0-9.]+)"/g, '$1'),
  });
  const answer = await res.json();
  return { status: res.status, answer };
}

let issued = 0;
const patient = (n, over = {}) => ({
  nationalId: `0010850${String(n).padStart(5, '0')}`, family: 'Nguyen', given: 'Van An', birthDate: '1985-03-27',
  phone: `+849120${String(n).padStart(5, '0')}`, ...over,
});

// Issues a document (an outpatient certificate unless `body` says otherwise); returns its
// documentId, the issue answer and the /c/<token> path of its link.
async function issue(body = {}) {
  issued += 1;
  const documentId = `LINK-${issued}`;
  const { status, answer } = await facility('/api/v1/documents', {
    documentId, kind: 'mc-outpatient', patient: patient(issued),
    doctor: { name: 'Dr Tran Thi Binh', registration: 'HN-12345' },
    ...(body.kind && body.kind !== 'mc-outpatient' ? {} : { leave: { from: '2026-11-20', to: '2026-11-22' } }),
    ...body,
  });
  assert.equal(status, 201, JSON.stringify(answer));
  return { documentId, answer, path: await linkPathOf(hb, answer) };
}

async function moveClock(seconds) {
  const res = await fetch(`${hb.base}/api/test/clock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: seconds }),
  });
  assert.equal(res.status, 200, 'the server runs with testing.clock_control');
  clockAhead = Math.round(Date.parse((await res.json()).now) / 1000 - Date.now() / 1000);
}

async function dob(page, day, month, year, labels = ['Day', 'Month', 'Year', 'Show document']) {
  await page.getByLabel(labels[0]).fill(day);
  await page.getByLabel(labels[1]).fill(month);
  await page.getByLabel(labels[2]).fill(year);
  await page.getByRole('button', { name: labels[3] }).click();
}

// A wrong date of birth, and the server's answer to it on the page.
async function wrongDob(page) {
  await dob(page, '1', '1', '1990');
  await page.waitForFunction(() => !document.querySelector('button[type=submit]')?.disabled);
}

// `options`: the browser context's, e.g. { timezoneId } for a reader in another zone.
async function openLink(path, query = '', options = {}) {
  const { context, page } = await phonePage(browser, options);
  await page.goto(`${hb.base}${path}${query}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  return { context, page };
}

// Opens the link and gives the right date of birth (27 March 1985 unless told otherwise).
async function openDocument(path, birth = ['27', '3', '1985'], options = {}) {
  const { context, page } = await openLink(path, '', options);
  await dob(page, ...birth);
  await page.locator('article.certificate').waitFor();
  return { context, page };
}

// The text of the QR code drawn by the <img> at `selector`: the image redrawn large on a canvas,
// read back as PNG and decoded by jsQR, as a phone's camera would.
async function qrText(page, selector) {
  await page.waitForFunction((s) => document.querySelector(s)?.naturalWidth > 0, selector);
  const png = await page.evaluate(async (s) => {
    const img = new Image();
    img.src = document.querySelector(s).src;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 800;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, 800, 800);
    ctx.drawImage(img, 0, 0, 800, 800);
    return canvas.toDataURL('image/png');
  }, selector);
  const { data, width, height } = PNG.sync.read(Buffer.from(png.split(',')[1], 'base64'));
  return jsQR(new Uint8ClampedArray(data), width, height)?.data;
}

// What the page got from the server for this link (the browser holds the unlock cookie).
async function viewOf(page, path) {
  return page.evaluate(async (p) => (await fetch(`/api/v1/links/${p.slice(3)}`)).json(), path);
}

// A health app given the SMART Health Link: decodes it, asks for the manifest with the passcode
// the page tells people to type, and decrypts the file with the link's key.
async function openAsHealthApp(shlink, passcode) {
  const payload = JSON.parse(Buffer.from(shlink.split('shlink:/')[1], 'base64url').toString('utf8'));
  assert.equal(payload.flag, 'P', 'the link asks for a passcode');
  const res = await fetch(payload.url, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ recipient: 'Example health app', passcode }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const [file] = (await res.json()).files;
  const { plaintext } = await jose.compactDecrypt(file.embedded, Buffer.from(payload.key, 'base64url'));
  const content = JSON.parse(new TextDecoder().decode(plaintext));
  // The media type decides; HL7 STU1 adds the FHIR version as a parameter.
  if (file.contentType.split(';')[0].trim() === 'application/fhir+json') return { contentType: file.contentType, bundle: content };
  const jws = content.verifiableCredential[0];
  const claims = JSON.parse(inflateRawSync(Buffer.from(jws.split('.')[1], 'base64url')).toString('utf8'));
  return { contentType: file.contentType, bundle: claims.vc.credentialSubject.fhirBundle };
}

// The SMART Health Link section: the text to copy is the shlink:/ part of what the server sent,
// the QR code holds all of it, and the copy button copies the text.
async function checkHealthAppLink(page, context, path) {
  const view = await viewOf(page, path);
  assert.match(view.shlink, /#shlink:\/[A-Za-z0-9_-]+$/);
  const payload = view.shlink.slice(view.shlink.indexOf('shlink:/'));
  const section = page.getByRole('region', { name: 'Open in another health app' });
  await section.scrollIntoViewIfNeeded();
  assert.equal(await section.getByLabel('SMART Health Link').inputValue(), payload);
  assert.equal(await qrText(page, '.shl__qr img'), view.shlink);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hb.base });
  await section.getByRole('button', { name: 'Copy health app link' }).click();
  await section.getByText('Copied. Paste it into the health app.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), payload);
  return view.shlink;
}

test('the date-of-birth form names the field to fix before asking the server', async () => {
  const { path } = await issue();
  const { context, page } = await openLink(path);
  await page.getByRole('group', { name: 'Date of birth' }).waitFor();
  const asked = [];
  page.on('request', (r) => r.url().includes('/unlock') && asked.push(r.url()));
  await dob(page, '31', '2', '1985');
  await page.getByText('This date does not exist. Check the day and month.').waitFor();
  assert.equal(await page.getByLabel('Day').getAttribute('aria-invalid'), 'true');
  await dob(page, '', '13', '85');
  const summary = await page.locator('.error-summary').innerText();
  assert.match(summary, /Enter the day\./);
  assert.match(summary, /The month must be a number from 1 to 12\./);
  assert.match(summary, /The year must have 4 digits/);
  assert.deepEqual(asked, [], 'no attempt spent on a date that cannot be right');
  assert.deepEqual(await seriousViolations(page), []);
  await context.close();
});

test('wrong dates of birth count down the attempts, then lock the link for an hour', async () => {
  const { path } = await issue();
  const { context, page } = await openLink(path);
  await page.getByRole('group', { name: 'Date of birth' }).waitFor();
  for (const left of ['4 attempts left', '3 attempts left', '2 attempts left', '1 attempt left']) {
    await wrongDob(page);
    await page.getByText('That date of birth does not match this link.').waitFor();
    await page.getByText(`${left} before this link is locked.`).waitFor();
  }
  await wrongDob(page);
  const locked = page.getByText(/This link is locked after 5 wrong dates of birth/);
  await locked.waitFor();
  assert.match(await locked.innerText(), /Try again at \d\d:\d\d \(in about 60 minutes\)\.$/);
  // Even the right date of birth is refused while locked.
  const res = await page.evaluate(async (p) => (await fetch(`/api/v1/links/${p.slice(3)}/unlock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ birthDate: '1985-03-27' }),
  })).status, path);
  assert.equal(res, 429);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('twenty wrong answers in a row, across the hourly locks, turn the link off', async () => {
  const { path } = await issue();
  const { context, page } = await openLink(path);
  for (let round = 1; round <= 4; round++) {
    await page.getByRole('group', { name: 'Date of birth' }).waitFor();
    for (let i = 0; i < 4; i++) await wrongDob(page);
    // Before the last answer of the last round: one attempt left in all (20 in a row).
    if (round === 4) await page.getByText('1 attempt left before this link is locked.').waitFor();
    await wrongDob(page);
    if (round === 4) break;
    await page.getByText(/This link is locked after 5 wrong dates of birth/).waitFor();
    await moveClock(3601);
    await page.getByRole('button', { name: 'Try again' }).click();
  }
  await page.getByText('This link was turned off after too many wrong dates of birth.').waitFor();
  await page.reload();
  await page.getByText('This link was turned off after too many wrong dates of birth.').waitFor();
  assert.equal(await page.getByRole('group', { name: 'Date of birth' }).count(), 0);
  // The way back: the issuing clinic can only turn this link back on, so nobody is sent to it for
  // a new one; the patient can do both from their documents, and whoever they sent it to asks them.
  const main = await page.locator('main').innerText();
  assert.doesNotMatch(main, /for a new link/);
  assert.match(main, /Sign in to Healthbook and open it under “Your documents”: there you can turn this link back on or make a new one\./);
  assert.match(main, /If someone sent you this link, ask them to turn it back on or to send you a new one\./);
  assert.deepEqual(await seriousViolations(page), []);
  await page.goto(`${hb.base}${path}?lang=vi`);
  await page.getByText('Đường liên kết này đã bị tắt do nhập sai ngày sinh quá nhiều lần.').waitFor();
  assert.equal(await page.getByRole('link', { name: 'Giấy tờ của bạn' }).getAttribute('href'), '/documents');
  await page.goto(`${hb.base}${path}`);
  await page.getByRole('link', { name: 'Your documents' }).click();
  // Not signed in: the sign-in page, which comes back to the documents afterwards.
  await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === '/documents');
  // Turned off means off, right date of birth or not.
  const res = await page.evaluate(async (p) => (await fetch(`/api/v1/links/${p.slice(3)}/unlock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ birthDate: '1985-03-27' }),
  })).status, path);
  assert.equal(res, 410);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('wrong answers from one network across links stop it for a while: the page does not call that a lock of this link', async () => {
  // A server of its own: this address's count is not the other tests' to spend.
  const other = await Healthbook.start();
  try {
    const issueThere = await issuer(other);
    const paths = [];
    for (let n = 0; n < 7; n++) {
      const phone = `+8491300000${n}`;
      const { answer } = await issueThere({ patient: patient(800 + n, { phone }) });
      paths.push(await linkPathOf(other, answer, phone));
    }
    // Five wrong answers for each of six links (each link's own limit), thirty from this address.
    for (const path of paths.slice(0, 6)) {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${other.base}/api/v1/links/${path.slice(3)}/unlock`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ birthDate: '1990-01-01' }),
        });
        assert.ok([401, 429].includes(res.status), `wrong answer ${i + 1}: ${res.status}`);
      }
    }
    const { context, page } = await phonePage(browser);
    await page.goto(`${other.base}${paths[6]}`);
    await page.getByRole('group', { name: 'Date of birth' }).waitFor();
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/unlock')),
      dob(page, '1', '1', '1990'),
    ]);
    assert.equal(answer.status(), 429);
    assert.equal((await answer.json()).limit, 'address', 'the address\'s limit, not the link\'s lock');
    const wait = page.getByRole('alert');
    await wait.getByText(/Too many wrong dates of birth/).waitFor();
    const words = await wait.innerText();
    assert.doesNotMatch(words, /link/);
    assert.match(words, /entered from your network\. Try again at \d\d:\d\d \(in about 2 minutes\)\./);
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(page.problems, []);
    await context.close();
  } finally {
    await other.stop();
  }
});

test('the right date of birth shows the certificate, its QR code, copy link and print; the diagnosis is not shown', async () => {
  const { path, answer } = await issue({ patient: patient(900, { family: 'Tran', given: 'Thi Mai', birthDate: '1990-07-04' }), diagnosis: { text: 'Influenza', code: 'J11' } });
  const { context, page } = await openLink(path);
  await page.getByRole('group', { name: 'Date of birth' }).waitFor();
  // The server does not say what the link holds before the date of birth: neutral words.
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Your health document');
  await page.getByText('To see this document, enter the date of birth', { exact: false }).waitFor();
  assert.deepEqual(await seriousViolations(page), [], 'date-of-birth form');
  await dob(page, '4', '7', '1990');
  await page.locator('article.certificate').waitFor();
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Medical certificate: outpatient sick leave');
  const text = await page.locator('article.certificate').innerText();
  for (const want of ['Tran Thi Mai', '0*******0900', '20 November 2026 to 22 November 2026 (3 days)',
    'Hoan Kiem District Health Centre (01015)', 'Dr Tran Thi Binh']) {
    assert.ok(text.includes(want), `shows ${want}`);
  }
  assert.match(text, /Issued\s+\d{1,2} \w+ 20\d\d at \d\d:\d\d GMT\+7/);
  // Whoever opened the link may be an employer it was forwarded to: nothing about the diagnosis
  // but that it is not shown, and no switch to show it; the patient is told where they choose.
  assert.doesNotMatch(text, /Influenza|J11/, 'the diagnosis is hidden unless the patient shows it');
  const diagnosisRow = page.locator('.facts__row').filter({ has: page.locator('dt', { hasText: /^Diagnosis$/ }) });
  assert.equal(await diagnosisRow.locator('dd').innerText(), 'Not shown');
  assert.equal(await page.getByRole('switch').count(), 0, 'no diagnosis switch on the link page');
  assert.equal(await page.getByRole('checkbox').count(), 0);
  await page.getByText('You can choose to show your diagnosis here: sign in to Healthbook', { exact: false }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Your documents' }).getAttribute('href'), '/documents');
  // The QR code: the server's SVG drawn as an image (never markup), holding the card.
  const qr = page.getByRole('img', { name: /QR code of this document/ });
  assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml/);
  assert.equal(await page.locator('svg').count(), 0, 'no server markup in the page');
  assert.match(await qrText(page, '.certificate__qr img'), /^shc:\/\d+$/);
  assert.deepEqual(await seriousViolations(page), [], 'certificate');
  // The card as a file a health app imports (SMART Health Cards, "Via File Download"): the
  // spec's name and content, the very card the facility was given.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Save the card file' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^mc-outpatient-20\d\d-\d\d-\d\d\.smart-health-card$/);
  assert.deepEqual(JSON.parse(await readFile(await download.path(), 'utf8')), { verifiableCredential: [answer.card.jws] });

  // Nor can the browser that unlocked the link choose through the API (the server's 403 for
  // everyone: the choice is the signed-in patient's, POST /api/v1/me/documents/<id>/preferences).
  const refused = await page.evaluate(async (p) => {
    const res = await fetch(`/api/v1/links/${p.slice(3)}/preferences`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ showDiagnosis: true }),
    });
    return { status: res.status, type: res.headers.get('content-type') };
  }, path);
  assert.equal(refused.status, 403);
  assert.match(refused.type, /^application\/problem\+json/);
  await page.reload();
  await page.locator('article.certificate').waitFor();
  assert.doesNotMatch(await page.locator('article.certificate').innerText(), /Influenza/);
  assert.equal(await page.evaluate(() => document.cookie), '', 'the unlock cookie is HttpOnly');

  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hb.base });
  await page.getByRole('button', { name: 'Copy link' }).click();
  await page.getByText('Link copied.', { exact: false }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${hb.base}${path}`);

  // Print: only the certificate and its QR code; no controls, no health app link.
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.getByRole('button', { name: 'Print' }).isVisible(), false);
  assert.equal(await page.locator('.site-header').isVisible(), false);
  assert.equal(await page.locator('.shl').isVisible(), false);
  assert.ok(await page.locator('.certificate__qr img').isVisible());
  await page.emulateMedia({ media: 'screen' });
  assert.deepEqual(page.problems, []);
  await context.close();
});

// An instant as a clinic at UTC+07:00 reads it: "14 December 2026 at 11:35".
function atPlus7(iso) {
  const d = new Date(Date.parse(iso) + 7 * 3600_000);
  const month = d.toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' });
  const hhmm = d.toISOString().slice(11, 16);
  return `${d.getUTCDate()} ${month} ${d.getUTCFullYear()} at ${hhmm}`;
}

test('an employer abroad reads the clinic\'s own days and hours: a time chit, a sample time, leave dates', async () => {
  const chit = await issue({ kind: 'time-chit', leave: { from: '2026-12-14T08:00:00+07:00', to: '2026-12-14T11:30:00+07:00' } });
  const lab = await issue({
    kind: 'lab-result',
    results: [{ code: { system: 'http://loinc.org', code: '2345-7', display: 'Glucose' }, effective: '2026-11-19T08:15:00+07:00', value: 5.1, unit: 'mmol/L' }],
  });
  const leave = await issue();
  for (const timezoneId of ['America/New_York', 'Pacific/Kiritimati']) {
    // A time chit: the hours of the visit (not leave) as the clinic wrote them, on its day, the
    // offset named because it is not the reader's; the issue time in the same offset, so the page
    // reads in one zone.
    let { context, page } = await openDocument(chit.path, undefined, { timezoneId });
    let facts = await page.locator('.facts--certificate').innerText();
    assert.match(facts, /Time at the clinic\s+14 December 2026 from 08:00 to 11:30 UTC\+07:00\n/, `${timezoneId}: ${facts}`);
    const { issued } = await viewOf(page, chit.path);
    assert.ok(facts.includes(`Issued\n${atPlus7(issued)} UTC+07:00`), `${timezoneId}: ${facts}`);
    await context.close();

    ({ context, page } = await openDocument(lab.path, undefined, { timezoneId }));
    const taken = await page.getByRole('region', { name: 'Results' }).locator('tbody th').innerText();
    assert.match(taken, /Sample taken 19 November 2026 at 08:15 UTC\+07:00/, `${timezoneId}: ${taken}`);
    await context.close();

    // Leave in plain dates: the same days everywhere; the issue time, an instant with no clinic
    // offset to go by, in the reader's own zone, named.
    ({ context, page } = await openDocument(leave.path, undefined, { timezoneId }));
    facts = await page.locator('.facts--certificate').innerText();
    assert.match(facts, /Leave\s+20 November 2026 to 22 November 2026 \(3 days\)/, `${timezoneId}: ${facts}`);
    assert.match(facts, timezoneId === 'America/New_York' ? /Issued\s+.* at \d\d:\d\d GMT-5\n/ : /Issued\s+.* at \d\d:\d\d GMT\+14\n/);
    assert.deepEqual(page.problems, []);
    await context.close();
  }
  // At home the clinic's offset is the reader's own, named as usual.
  const { context, page } = await openDocument(chit.path);
  assert.match(await page.locator('.facts--certificate').innerText(), /Time at the clinic\s+14 December 2026 from 08:00 to 11:30 GMT\+7\n/);
  await context.close();
});

test('printing works from a 320 px phone to A4: values keep their width, the QR code beside them when there is room', async () => {
  const { path } = await issue({ patient: patient(901, { family: 'Nguyen', given: 'Thi Thanh Huong' }) });
  const { context, page } = await openDocument(path);
  await page.waitForFunction(() => document.querySelector('.certificate__qr img')?.naturalWidth > 0);
  await page.emulateMedia({ media: 'print' });
  const layout = () => page.evaluate(() => {
    const rows = [...document.querySelectorAll('.facts--certificate .facts__row')];
    const patientName = rows.find((r) => r.querySelector('dt').innerText.trim() === 'Patient').querySelector('dd');
    const qr = document.querySelector('.certificate__qr img').getBoundingClientRect();
    const facts = document.querySelector('.facts--certificate').getBoundingClientRect();
    return {
      name: patientName.getBoundingClientRect().width,
      narrowest: Math.min(...rows.map((r) => r.querySelector('dd').getBoundingClientRect().width)),
      qrBeside: qr.left >= facts.right,
      qrWidth: qr.width,
      scrollWidth: document.documentElement.scrollWidth,
    };
  });
  // 794 px: A4's width; 375 and 320: phones printing the window as it is.
  for (const width of [375, 320, 794]) {
    await page.setViewportSize({ width, height: 740 });
    const l = await layout();
    assert.ok(l.name > 100, `${width} px: the patient's name is ${l.name} px wide`);
    assert.ok(l.narrowest > 100, `${width} px: every value is over 100 px wide (narrowest ${l.narrowest})`);
    assert.ok(l.scrollWidth <= width, `${width} px: nothing sticks out sideways`);
    assert.ok(l.qrWidth > 150, `${width} px: the QR code is ${l.qrWidth} px, large enough to scan from paper`);
    assert.equal(l.qrBeside, width > 640, `${width} px: the QR code ${width > 640 ? 'beside' : 'under'} the facts`);
  }
  await page.emulateMedia({ media: 'screen' });
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('a revoked certificate says so, without the facility\'s reason, and is not offered to other apps', async () => {
  const { documentId, path } = await issue();
  const revoked = await facility(`/api/v1/documents/${documentId}/revoke`, { reason: 'issued in error' });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.answer));
  const { context, page } = await openDocument(path);
  await page.getByText('This certificate has been revoked', { exact: false }).waitFor();
  assert.equal(await page.getByText('issued in error', { exact: false }).count(), 0,
    'the reason may speak of the patient\'s health: only the patient reads it, signed in');
  assert.equal(await page.locator('.shl').count(), 0);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('a revoked vaccination record says so in its own words', async () => {
  const { documentId, path } = await issue({
    kind: 'vaccination', vaccine: { system: 'http://hl7.org/fhir/sid/cvx', code: '08', display: 'Hepatitis B (paediatric)' },
    date: '2026-10-01', doseNumber: 1,
  });
  const revoked = await facility(`/api/v1/documents/${documentId}/revoke`, { reason: 'wrong patient' });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.answer));
  const { context, page } = await openDocument(path);
  await page.getByText('This vaccination record has been revoked by the facility that issued it.', { exact: false }).waitFor();
  assert.doesNotMatch(await page.locator('.status-banner').innerText(), /certificate/i);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('a replaced certificate says so and opens the newer one through the same link', async () => {
  const first = await issue();
  await issue({ patient: patient(issued), replaces: first.documentId, leave: { from: '2026-11-20', to: '2026-11-25' } });
  const { context, page } = await openDocument(first.path);
  await page.getByText('This certificate has been replaced by a newer one.').waitFor();
  assert.match(await page.locator('article.certificate').innerText(), /20 November 2026 to 22 November 2026 \(3 days\)/);
  const link = page.getByRole('link', { name: 'Open the newer certificate' });
  assert.equal(await link.getAttribute('href'), `${first.path}?latest`);
  await link.click();
  await page.getByText('20 November 2026 to 25 November 2026 (6 days)').waitFor();
  assert.equal(await page.getByText('This certificate has been replaced').count(), 0);
  await page.goBack();
  await page.getByText('This certificate has been replaced by a newer one.').waitFor();
  assert.match(await page.locator('article.certificate').innerText(), /\(3 days\)/);
  assert.deepEqual(page.problems, []);
  await context.close();
});

// Text that deflate cannot shrink much, so the card cannot fit one QR code.
function incompressible(length) {
  let x = 12345;
  let s = '';
  const words = 'abcdefghijklmnopqrstuvwxyz0123456789';
  while (s.length < length) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += (s.length % 9 === 8) ? ' ' : words[x % words.length];
  }
  return s;
}

test('a discharge summary too large for a QR code goes by link only: dates, summary and the health app link', async () => {
  const summary = `Admitted with community-acquired pneumonia.\nTreated and recovered.\n${incompressible(3900)}`;
  const { answer, path } = await issue({
    kind: 'discharge-summary', admission: { from: '2026-11-01', to: '2026-11-05' }, summary,
  });
  assert.equal(answer.card, null, 'the server issued no card for it');
  const { context, page } = await openDocument(path);
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Discharge summary');
  await page.getByText('This document is too large for a QR code.', { exact: false }).waitFor();
  assert.equal(await page.locator('.certificate__qr').count(), 0);
  const facts = await page.locator('.facts').innerText();
  assert.match(facts, /Admitted\s+1 November 2026/);
  assert.match(facts, /Discharged\s+5 November 2026/);
  const shown = page.getByRole('region', { name: 'Summary' });
  assert.equal(await shown.locator('p').innerText(), summary);

  // Its SMART Health Link still works: a small QR code, and the FHIR document behind it.
  const shlink = await checkHealthAppLink(page, context, path);
  const { contentType, bundle } = await openAsHealthApp(shlink, '27/03/1985');
  assert.equal(contentType, 'application/fhir+json;fhirVersion=4.0.1');
  const docref = bundle.entry.map((e) => e.resource).find((r) => r.resourceType === 'DocumentReference');
  assert.equal(Buffer.from(docref.content[0].attachment.data, 'base64').toString('utf8'), summary);
  assert.deepEqual(await seriousViolations(page), []);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('lab results: each test with its value (as precise as measured), unit and reference range, those out of range flagged, one without a name by its code', async () => {
  const loinc = (code, display) => ({ system: 'http://loinc.org', code, display });
  const { path } = await issue({
    kind: 'lab-result',
    results: [
      { code: loinc('2345-7', 'Glucose'), effective: '2026-11-19', value: 7.9, unit: 'mmol/L', low: 3.9, high: 6.4 },
      { code: loinc('718-7', 'Haemoglobin'), effective: '2026-11-19', value: 135, unit: 'g/L', low: 130, high: 170 },
      // Measured to two places: 3.10, not 3.1 (FHIR decimals keep their trailing zeros).
      { code: loinc('2823-3', 'Potassium'), effective: '2026-11-19', value: '#dec:3.10', unit: 'mmol/L', low: '#dec:3.50' },
      { code: loinc('7917-8', 'HIV antibody'), effective: '2026-11-19', text: 'Negative' },
      // No display: "Result" and the code, not the bare code as if it were a name.
      { code: { system: 'http://loinc.org', code: '2160-0' }, effective: '2026-11-19', value: 88, unit: 'umol/L', low: 62, high: 106 },
    ],
  });
  const { context, page } = await openDocument(path);
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Laboratory results');
  const table = page.getByRole('region', { name: 'Results' }).getByRole('table');
  assert.deepEqual(await table.locator('thead th').allInnerTexts(), ['Test', 'Result', 'Reference range']);
  const rows = await table.locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.children].map((c) => c.innerText.replace(/\s+/g, ' ').trim())));
  assert.deepEqual(rows, [
    ['Glucose Sample taken 19 November 2026', '7.9 mmol/L ▲ High', '3.9 to 6.4 mmol/L'],
    ['Haemoglobin Sample taken 19 November 2026', '135 g/L', '130 to 170 g/L'],
    ['Potassium Sample taken 19 November 2026', '3.10 mmol/L ▼ Low', '3.50 mmol/L or more'],
    ['HIV antibody Sample taken 19 November 2026', 'Negative', ''],
    ['Result LOINC 2160-0 Sample taken 19 November 2026', '88 umol/L', '62 to 106 umol/L'],
  ]);
  await page.getByText('Results outside the reference range are marked High or Low.', { exact: false }).waitFor();
  // Flags are words, not only colour; the arrows are decoration.
  assert.equal(await table.locator('.flag [aria-hidden="true"]').count(), 2);
  await checkHealthAppLink(page, context, path);
  assert.deepEqual(await seriousViolations(page), []);
  await page.emulateMedia({ media: 'print' });
  assert.ok(await table.isVisible(), 'the results print');
  assert.equal(await page.locator('.shl').isVisible(), false, 'the health app link does not');
  await page.emulateMedia({ media: 'screen' });
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('a vaccination: vaccine, date, dose and lot; a health app opens it from the QR code with the date of birth', async () => {
  const { path } = await issue({
    kind: 'vaccination', vaccine: { system: 'http://hl7.org/fhir/sid/cvx', code: '08', display: 'Hepatitis B (paediatric)' },
    date: '2026-10-01', doseNumber: 2, lotNumber: 'HB-2291',
  });
  const { context, page } = await openDocument(path);
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Vaccination record');
  const facts = await page.locator('.facts').innerText();
  for (const row of [/Vaccine\s+Hepatitis B \(paediatric\)/, /Date given\s+1 October 2026/, /Dose number\s+2/, /Lot number\s+HB-2291/]) {
    assert.match(facts, row);
  }
  // It fits a card: the certificate's own QR code is there too.
  assert.match(await qrText(page, '.certificate__qr img'), /^shc:\/\d+$/);
  const shlink = await checkHealthAppLink(page, context, path);
  // The passcode as the page tells people to type it.
  const { contentType, bundle } = await openAsHealthApp(shlink, '27/03/1985');
  assert.equal(contentType, 'application/smart-health-card');
  const imm = bundle.entry.map((e) => e.resource).find((r) => r.resourceType === 'Immunization');
  assert.equal(imm.lotNumber, 'HB-2291');
  assert.equal(imm.occurrenceDateTime, '2026-10-01');
  assert.deepEqual(await seriousViolations(page), []);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('in Vietnamese: the form, and a referral with its details and the health app link', async () => {
  const { path } = await issue({
    kind: 'referral', referral: { to: 'Khoa Tim mạch, Bệnh viện Bạch Mai', reason: 'Đau ngực khi gắng sức', priority: 'urgent' },
  });
  const { context, page } = await openLink(path, '?lang=vi');
  await page.getByRole('group', { name: 'Ngày sinh' }).waitFor();
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Tài liệu y tế của bạn');
  await dob(page, '27', '3', '1985', ['Ngày', 'Tháng', 'Năm', 'Xem tài liệu']);
  await page.locator('article.certificate').waitFor();
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Giấy chuyển tuyến');
  const facts = await page.locator('.facts').innerText();
  assert.match(facts, /Chuyển đến\s+Khoa Tim mạch, Bệnh viện Bạch Mai/);
  assert.match(facts, /Mức độ ưu tiên\s+Khẩn/);
  assert.match(facts, /Lý do chuyển tuyến\s+Đau ngực khi gắng sức/);
  // The issue time as Vietnamese writes it: time, then day/month/year, then the zone.
  assert.match(facts, /Ngày cấp\s+\d\d:\d\d, \d\d\/\d\d\/20\d\d \(GMT\+7\)/);
  const section = page.getByRole('region', { name: 'Mở bằng ứng dụng sức khỏe khác' });
  await section.scrollIntoViewIfNeeded();
  await section.getByRole('img', { name: /Mã QR của SMART Health Link/ }).waitFor();
  assert.match(await section.getByLabel('Đường liên kết SMART Health Link').inputValue(), /^shlink:\//);
  assert.deepEqual(page.problems, []);
  await context.close();
});
