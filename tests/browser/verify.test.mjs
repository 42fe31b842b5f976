// /verify in Chromium against the real server: a genuine card (pasted, and uploaded as a picture
// of its QR code) is valid and shows its content, for lab results, a vaccination, a referral and a
// discharge summary too; a tampered one is invalid with a reason, and its issuer only a claim; the
// page passes axe-core and runs under the strict Content-Security-Policy at phone width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { Healthbook, launch, phonePage, issuer, shcOf, seriousViolations } from './harness.mjs';

let hb;
let browser;
let card;
let issue;

before(async () => {
  hb = await Healthbook.start();
  issue = await issuer(hb);
  ({ answer: { card } } = await issue());
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hb?.stop();
});

async function openVerify(query = '') {
  const { context, page } = await phonePage(browser);
  await page.goto(`${hb.base}/verify${query}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  return { context, page };
}

async function paste(page, text, button = 'Check') {
  await page.getByLabel(/^Card text|^Nội dung thẻ/).fill(text);
  await page.getByRole('button', { name: button, exact: true }).click();
  const verdict = page.locator('[data-outcome]');
  await verdict.waitFor();
  return verdict;
}

function assertClean(page) {
  assert.deepEqual(page.problems, [], 'no CSP violations or uncaught errors');
}

test('a pasted genuine card is valid and shows what it says', async () => {
  const { context, page } = await openVerify();
  const verdict = await paste(page, card.qr);
  assert.equal(await verdict.getAttribute('data-outcome'), 'valid');
  const text = await verdict.innerText();
  assert.match(text, /Valid/);
  assert.match(text, /Nguyen Van An/);
  assert.match(text, /27 March 1985/);
  assert.match(text, /Medical certificate: outpatient sick leave/);
  assert.match(text, /20 November 2026 to 22 November 2026 \(3 days\)/);
  assert.match(text, /Dr Tran Thi Binh/);
  assert.match(text, /Issued by\s+Hoan Kiem District Health Centre/);
  // The verdict takes the focus, so a screen reader announces it.
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'verdict-title');
  // Nothing sticks out sideways on a 360 px phone.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scrolling');
  assertClean(page);
  await context.close();
});

test('a card with a tampered signature is invalid, with the reason in words', async () => {
  const [header, payload, signature] = card.jws.split('.');
  const i = Math.floor(signature.length / 2);
  const tampered = `${header}.${payload}.${signature.slice(0, i)}${signature[i] === 'A' ? 'B' : 'A'}${signature.slice(i + 1)}`;
  const { context, page } = await openVerify();
  const verdict = await paste(page, shcOf(tampered));
  assert.equal(await verdict.getAttribute('data-outcome'), 'invalid');
  const text = await verdict.innerText();
  assert.match(text, /Not valid/);
  assert.match(text, /Reason: The signature does not match/);
  assert.match(text, /bad_signature/);
  assert.doesNotMatch(text, /Nguyen Van An/, 'an invalid card’s claims are not shown as facts');
  // Nor is the facility it names presented as its issuer: only the issuer URL it claims.
  assert.doesNotMatch(text, /Issued by|Hoan Kiem District Health Centre/);
  assert.match(text, /Claims to be from\s+https?:\/\/\S+\/issuers\/01015/);
  assertClean(page);
  await context.close();
});

// The rows of the verdict's facts as "label: value", and the results table's rows.
async function facts(verdict) {
  return verdict.locator('.facts__row').evaluateAll((rows) =>
    rows.map((r) => `${r.querySelector('dt').innerText.trim()}: ${r.querySelector('dd').innerText.replace(/\s+/g, ' ').trim()}`));
}

test('each kind shows what it says: lab results, a vaccination, a referral, a discharge summary', async () => {
  const kinds = { leave: undefined, doctor: { name: 'Dr Tran Thi Binh' } };
  const loinc = (code, display) => ({ system: 'http://loinc.org', code, ...(display ? { display } : {}) });
  const lab = await issue({
    ...kinds, kind: 'lab-result', results: [
      { code: loinc('2345-7', 'Glucose'), effective: '2026-11-19', value: 7.9, unit: 'mmol/L', low: 3.9, high: 6.4 },
      { code: loinc('7917-8', 'HIV antibody'), effective: '2026-11-19', text: 'Negative' },
      { code: loinc('2160-0'), effective: '2026-11-19', value: 88, unit: 'umol/L', low: 62, high: 106 },
    ],
  });
  const vaccination = await issue({
    ...kinds, kind: 'vaccination', vaccine: { system: 'http://hl7.org/fhir/sid/cvx', code: '08', display: 'Hepatitis B (paediatric)' },
    date: '2026-11-18', lotNumber: 'HB-2026-77', doseNumber: 2,
  });
  const referral = await issue({
    ...kinds, kind: 'referral', referral: { to: 'Cardiology, Bach Mai Hospital', reason: 'Chest pain on exertion', priority: 'urgent' },
  });
  const discharge = await issue({
    ...kinds, kind: 'discharge-summary', admission: { from: '2026-11-10', to: '2026-11-17' },
    summary: 'Admitted with community-acquired pneumonia; treated with antibiotics. Home, walking unaided.',
  });
  const { context, page } = await openVerify();

  let verdict = await paste(page, lab.answer.card.qr);
  assert.equal(await verdict.getAttribute('data-outcome'), 'valid');
  assert.ok((await facts(verdict)).includes('Document: Laboratory results'));
  const table = verdict.getByRole('region', { name: 'Results' }).getByRole('table');
  const rows = await table.locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.children].map((c) => c.innerText.replace(/\s+/g, ' ').trim())));
  // A card carries codes, not names (SMART Health Cards drop Coding.display): each test by its code.
  assert.deepEqual(rows, [
    ['Result LOINC 2345-7 Sample taken 19 November 2026', '7.9 mmol/L ▲ High', '3.9 to 6.4 mmol/L'],
    ['Result LOINC 7917-8 Sample taken 19 November 2026', 'Negative', ''],
    ['Result LOINC 2160-0 Sample taken 19 November 2026', '88 umol/L', '62 to 106 umol/L'],
  ]);
  assert.deepEqual(await seriousViolations(page), [], 'lab results');

  verdict = await paste(page, vaccination.answer.card.qr);
  for (const row of ['Vaccine: CVX 08', 'Date given: 18 November 2026', 'Dose number: 2', 'Lot number: HB-2026-77']) {
    assert.ok((await facts(verdict)).includes(row), row);
  }

  verdict = await paste(page, referral.answer.card.qr);
  for (const row of ['Referred to: Cardiology, Bach Mai Hospital', 'Priority: Urgent', 'Reason for referral: Chest pain on exertion']) {
    assert.ok((await facts(verdict)).includes(row), row);
  }

  verdict = await paste(page, discharge.answer.card.qr);
  const shown = await facts(verdict);
  for (const row of ['Document: Discharge summary', 'Admitted: 10 November 2026', 'Discharged: 17 November 2026']) {
    assert.ok(shown.includes(row), row);
  }
  assert.ok(!shown.some((r) => r.startsWith('Leave:')), 'a hospital stay is not leave');
  await verdict.getByRole('region', { name: 'Summary' }).getByText('Admitted with community-acquired pneumonia', { exact: false }).waitFor();
  assert.deepEqual(await seriousViolations(page), [], 'discharge summary');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scrolling');
  assertClean(page);
  await context.close();
});

test('the compact JWS, pasted with surrounding blank lines, is valid too', async () => {
  const { context, page } = await openVerify();
  const verdict = await paste(page, `\n  ${card.jws}\n\n`);
  assert.equal(await verdict.getAttribute('data-outcome'), 'valid');
  await context.close();
});

test('an uploaded picture of the QR code is valid', async () => {
  const digits = card.qr.slice('shc:/'.length);
  const png = await QRCode.toBuffer(
    [{ data: 'shc:/', mode: 'byte' }, { data: digits, mode: 'numeric' }],
    { errorCorrectionLevel: 'L', margin: 4, scale: 4 },
  );
  const { context, page } = await openVerify();
  await page.getByLabel(/Picture of the QR code/).setInputFiles({ name: 'certificate.png', mimeType: 'image/png', buffer: png });
  const verdict = page.locator('[data-outcome]');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute('data-outcome'), 'valid');
  assert.match(await verdict.innerText(), /Nguyen Van An/);
  assertClean(page);
  await context.close();
});

test('a picture without a QR code says so', async () => {
  const blank = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==', 'base64');
  const { context, page } = await openVerify();
  await page.getByLabel(/Picture of the QR code/).setInputFiles({ name: 'blank.png', mimeType: 'image/png', buffer: blank });
  await page.getByText('We found no QR code in this picture').waitFor();
  await context.close();
});

test('in Vietnamese (?lang=vi) and through the switcher', async () => {
  const { context, page } = await openVerify('?lang=vi');
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Kiểm tra giấy chứng nhận y tế');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
  const verdict = await paste(page, card.qr, 'Kiểm tra');
  assert.match(await verdict.innerText(), /Hợp lệ/);
  await page.getByRole('button', { name: 'English' }).click();
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Check a health certificate');
  assert.match(page.url(), /lang=en/);
  await context.close();
});

test('/verify has no serious or critical accessibility violations (axe-core)', async () => {
  const { context, page } = await openVerify();
  assert.deepEqual(await seriousViolations(page), [], 'empty form');
  await paste(page, card.qr);
  assert.deepEqual(await seriousViolations(page), [], 'with a valid verdict');
  await paste(page, 'shc:/12');
  assert.deepEqual(await seriousViolations(page), [], 'with an invalid verdict');
  await context.close();
});

test('the page is served with the strict policy', async () => {
  const res = await fetch(`${hb.base}/verify`);
  assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
});

// A Y4M video (what Chromium's fake camera plays) of the card's QR code, drawn module by module.
function qrVideo(text) {
  const qr = QRCode.create([{ data: 'shc:/', mode: 'byte' }, { data: text.slice(5), mode: 'numeric' }], { errorCorrectionLevel: 'L' });
  const { size, data } = qr.modules;
  const width = 640;
  const height = 480;
  const scale = Math.floor((height - 40) / (size + 8));
  const left = Math.floor((width - size * scale) / 2);
  const top = Math.floor((height - size * scale) / 2);
  const y = Buffer.alloc(width * height, 235);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      if (!data[r * size + c]) continue;
      for (let dy = 0; dy < scale; dy++) y.fill(16, (top + r * scale + dy) * width + left + c * scale, (top + r * scale + dy) * width + left + (c + 1) * scale);
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma]);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F5:1 Ip A1:1 C420jpeg\n`), frame, frame]);
}

test('scanning with the camera asks for it only on Start, then reads the QR code', async () => {
  const videoDir = mkdtempSync(join(tmpdir(), 'hb-cam-'));
  const video = join(videoDir, 'qr.y4m');
  writeFileSync(video, qrVideo(card.qr));
  const camBrowser = await launch([
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`,
  ]);
  try {
    const { context, page } = await phonePage(camBrowser);
    await context.grantPermissions(['camera'], { origin: hb.base });
    await context.addInitScript(() => {
      window.__cameraAsked = 0;
      const md = navigator.mediaDevices;
      const original = md.getUserMedia.bind(md);
      md.getUserMedia = (constraints) => {
        window.__cameraAsked += 1;
        return original(constraints);
      };
    });
    await page.goto(`${hb.base}/verify`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.equal(await page.evaluate(() => window.__cameraAsked), 0, 'no camera before Start');
    await page.getByRole('button', { name: 'Start scanning' }).click();
    const verdict = page.locator('[data-outcome]');
    await verdict.waitFor({ timeout: 20000 });
    assert.equal(await verdict.getAttribute('data-outcome'), 'valid');
    assert.equal(await page.evaluate(() => window.__cameraAsked), 1);
    // The camera is released once the code is read.
    assert.equal(await page.evaluate(() => document.querySelector('video')?.srcObject ?? null), null);
    assertClean(page);
    await context.close();
  } finally {
    await camBrowser.close();
    rmSync(videoDir, { recursive: true, force: true });
  }
});
