// /verify in Chromium against the real server: a genuine card (pasted, and uploaded as a picture
// of its QR code) is valid and shows its content; a tampered one is invalid with a reason; the
// page passes axe-core and runs under the strict Content-Security-Policy at phone width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { Healthbook, launch, phonePage, issuer, shcOf, seriousViolations } from './harness.mjs';

let hb;
let browser;
let card;

before(async () => {
  hb = await Healthbook.start();
  const issue = await issuer(hb);
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
  assert.match(text, /Van An Nguyen/);
  assert.match(text, /27 March 1985/);
  assert.match(text, /Medical certificate: outpatient sick leave/);
  assert.match(text, /20 November 2026 to 22 November 2026 \(3 days\)/);
  assert.match(text, /Dr Tran Thi Binh/);
  assert.match(text, /Hoan Kiem District Health Centre/);
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
  assert.doesNotMatch(text, /Van An Nguyen/, 'an invalid card’s claims are not shown as facts');
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
  assert.match(await verdict.innerText(), /Van An Nguyen/);
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
  const video = join(mkdtempSync(join(tmpdir(), 'hb-cam-')), 'qr.y4m');
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
  }
});
