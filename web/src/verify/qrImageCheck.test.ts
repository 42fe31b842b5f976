/// <reference types="node" />
// The SMART Health Card QR rules on real pictures: every image among the spec's negative test
// data (tests/data/shc/negative, from the SMART dev tools) is read with jsQR as the /verify page
// does (lib/qrDecode.ts) and must be refused for the reason its file name gives; codes rendered
// here the way issuers make them (byte 'shc:/' + numeric digits, level L) must pass.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import jsQR from 'jsqr';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import QRCode, { type QRCodeSegment } from 'qrcode';
import { describe, expect, test } from 'vitest';
import { decodePixels, resample, type Pixels } from '../lib/qrDecode';
import { checkQrImage, dataBitsOf, judgingLevel, smallestAllowedChunk, smallestVersion, type EcLevel, type QrProblemCode } from './qrImageCheck';

const shc = join(__dirname, '../../../tests/data/shc');
const negative = join(shc, 'negative');

function readImage(path: string): Pixels {
  const bytes = readFileSync(path);
  const img = path.endsWith('.png') ? PNG.sync.read(bytes) : jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return { data: Uint8ClampedArray.from(img.data), width: img.width, height: img.height };
}

// As an upload on /verify: both polarities, and rescaled retries when the first read fails.
const readQr = (image: Pixels) => decodePixels(jsQR, image, { thorough: true });

// The problem each refused picture must be refused for, by the end of its file name.
const expected: [RegExp, QrProblemCode][] = [
  [/-bad_qr_version\.png$/, 'qr_version_too_high'],
  [/-corrupted\.png$/, 'no_qr_found'],
  [/-qr_chunk_too_small\.png$/, 'qr_chunk_too_small'],
  [/-single_qr_segment\.png$/, 'qr_segments'],
  [/-too_many_qr_segment\.png$/, 'qr_segments'],
  [/-inflated-to-v22\.png$/, 'qr_inflated_version'],
];
// The dev tools keep these two as VALID cards ("valid 00 QR code: requires scaling 23/85" in their
// card tests): JPEGs of example 00's code that jsQR cannot read at their own size, only after
// rescaling. So they test the decoder, not a rule: the page must read them and accept them.
const needsRescaling = /-scaled-(23|85)\.jpg$/;

// Searching a picture with no readable code (the corrupted one) takes jsQR about a second on an
// idle machine and over four when builds share it: the tests that read every picture get longer
// than vitest's 5 s.
const slowRead = 30_000;
const images = readdirSync(negative).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();

describe('the negative test pictures', () => {
  test('all nine are here and each has an expectation', () => {
    expect(images).toHaveLength(9);
    for (const f of images) expect(needsRescaling.test(f) || expected.some(([re]) => re.test(f)), f).toBe(true);
  });

  for (const file of images.filter((f) => !needsRescaling.test(f))) {
    const code = expected.find(([re]) => re.test(file))![1];
    test(`${file} is refused: ${code}`, () => {
      const result = checkQrImage(readQr(readImage(join(negative, file))));
      expect(result.ok).toBe(false);
      expect(result.problems.map((p) => p.code)).toContain(code);
      for (const p of result.problems) expect(p.key).toBe(`verify.qr.${p.code}`);
    }, slowRead);
  }

  for (const file of images.filter((f) => needsRescaling.test(f))) {
    test(`${file} needs rescaling to be read, and is then a valid card QR`, () => {
      const image = readImage(join(negative, file));
      // What makes it a test: the plain read finds nothing...
      expect(jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' })).toBeNull();
      // ...and the page's read (with rescaled retries) finds example 00's card, which passes.
      const found = readQr(image);
      expect(found).not.toBeNull();
      expect(found!.version).toBeLessThanOrEqual(22);
      const result = checkQrImage(found);
      expect(result.problems).toEqual([]);
      expect(result.ok).toBe(true);
      expect(result.text).toMatch(/^shc:\/[0-9]+$/);
    });
  }

  test('the exact reasons for the pictures with several faults', () => {
    const codes = (f: string) => checkQrImage(readQr(readImage(join(negative, f)))).problems.map((p) => p.code).sort();
    // Example 00 drawn at level Q, at the smallest version Q allows for it (24): too high a version, but not
    // inflated for its level (judged as L it would look inflated too; it was, before the level was
    // read from the picture).
    expect(codes('test-example-00-g-qr-code-0-bad_qr_version.png')).toEqual(['qr_version_too_high']);
    expect(readQr(readImage(join(negative, 'test-example-00-g-qr-code-0-bad_qr_version.png')))).toMatchObject({ version: 24, ecLevel: 'Q' });
    expect(codes('test-example-00-g-qr-code-inflated-to-v22.png')).toEqual(['qr_inflated_version']);
    expect(codes('test-example-00-g-qr-code-0-qr_chunk_too_small.png')).toEqual(['qr_chunk_too_small']);
    expect(codes('test-example-00-g-qr-code-1-qr_chunk_too_small.png')).toEqual(['qr_chunk_too_small']);
    expect(codes('test-example-00-g-qr-code-0-too_many_qr_segment.png')).toContain('qr_segments');
    expect(codes('test-example-00-g-qr-code-0-single_qr_segment.png')).toEqual(expect.arrayContaining(['qr_segments', 'qr_version_too_high']));
  });
});

// A QR code drawn the way SMART Health Card issuers make it, as RGBA pixels.
function render(text: string, options: { version?: number; ec?: EcLevel; segments?: 'shc' | 'one' } = {}): Pixels {
  const cut = text.lastIndexOf('/') + 1;
  const bytes = (s: string) => new TextEncoder().encode(s);
  const segments: QRCodeSegment[] = options.segments === 'one'
    ? [{ data: bytes(text), mode: 'byte' }]
    : [{ data: bytes(text.slice(0, cut)), mode: 'byte' }, { data: text.slice(cut), mode: 'numeric' }];
  const qr = QRCode.create(segments, { errorCorrectionLevel: options.ec ?? 'L', ...(options.version ? { version: options.version } : {}) });
  const { size, data: modules } = qr.modules;
  const scale = 4;
  const margin = 4;
  const side = (size + 2 * margin) * scale;
  const data = new Uint8ClampedArray(side * side * 4).fill(255);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const mx = Math.floor(x / scale) - margin;
      const my = Math.floor(y / scale) - margin;
      if (mx >= 0 && my >= 0 && mx < size && my < size && modules[my * size + mx]) data.fill(0, (y * side + x) * 4, (y * side + x) * 4 + 3);
    }
  }
  return { data, width: side, height: side };
}

const exampleText = (name: string) => readFileSync(join(shc, name), 'utf8').trim();

describe('codes made the SMART Health Card way pass', () => {
  for (const n of ['00', '01', '03']) {
    test(`example ${n}, byte 'shc:/' + numeric, level L`, () => {
      const text = exampleText(`examples/example-${n}-f-qr-code-numeric-value-0.txt`);
      const found = readQr(render(text));
      expect(found?.data).toBe(text);
      expect(checkQrImage(found)).toEqual({ ok: true, text, problems: [] });
    });
  }

  test('the chunks of example 02 (three balanced chunks of a long JWS)', () => {
    for (const i of [0, 1, 2]) {
      const text = exampleText(`examples/example-02-f-qr-code-numeric-value-${i}.txt`);
      expect(checkQrImage(readQr(render(text)))).toEqual({ ok: true, text, problems: [] });
    }
  });

  test('a code at level M at its smallest version passes: the level is read from the picture', () => {
    const text = exampleText('examples/example-00-f-qr-code-numeric-value-0.txt');
    const found = readQr(render(text, { ec: 'M' }));
    expect(found?.ecLevel).toBe('M');
    expect(checkQrImage(found)).toEqual({ ok: true, text, problems: [] });
    // Judged as if it were L, its larger version would look inflated.
    expect(checkQrImage(found, 'L').problems.map((p) => p.code)).toEqual(['qr_inflated_version']);
    // At Q and H example 00 needs more than version 22: refused for that, not as inflated.
    for (const ec of ['Q', 'H'] as const) {
      expect(checkQrImage(readQr(render(text, { ec }))).problems.map((p) => p.code), ec).toEqual(['qr_version_too_high']);
    }
  });
});

describe('codes made wrongly are refused', () => {
  const text = exampleText('examples/example-00-f-qr-code-numeric-value-0.txt');

  test('inflated to a larger version than needed', () => {
    const result = checkQrImage(readQr(render(text, { version: 20 })));
    expect(result.problems).toEqual([{ code: 'qr_inflated_version', key: 'verify.qr.qr_inflated_version', params: { version: 20, needed: 18 } }]);
  });

  test('inflated at its own level: a level Q code two versions larger than Q needs', () => {
    const needed = smallestVersion([{ mode: 'byte', length: 5 }, { mode: 'numeric', length: text.length - 5 }], 'Q')!;
    const found = readQr(render(text, { ec: 'Q', version: needed + 2 }));
    expect(found?.ecLevel).toBe('Q');
    expect(checkQrImage(found).problems).toContainEqual(
      { code: 'qr_inflated_version', key: 'verify.qr.qr_inflated_version', params: { version: needed + 2, needed } },
    );
  });

  test('one byte segment for everything', () => {
    expect(checkQrImage(readQr(render(text, { segments: 'one' }))).problems.map((p) => p.code)).toContain('qr_segments');
  });

  test('the seventeen tiny chunks of example 00', () => {
    for (let i = 0; i < 17; i++) {
      const chunk = readFileSync(join(negative, `test-example-00-f-qr-code-numeric-value-${i}-qr_chunk_too_small.txt`), 'utf8').trim();
      const result = checkQrImage(readQr(render(chunk)));
      expect(result.problems.map((p) => p.code), `chunk ${i + 1}`).toEqual(['qr_chunk_too_small']);
    }
  });

  test('no QR code at all', () => {
    expect(checkQrImage(null)).toEqual({ ok: false, problems: [{ code: 'no_qr_found', key: 'verify.qr.no_qr_found' }] });
    const blank: Pixels = { data: new Uint8ClampedArray(200 * 200 * 4).fill(255), width: 200, height: 200 };
    expect(checkQrImage(readQr(blank)).problems.map((p) => p.code)).toEqual(['no_qr_found']);
  });

  test('a QR code that is not a health card is left to the server', () => {
    expect(checkQrImage(readQr(render('https://example.org/', { segments: 'one' })))).toEqual({ ok: true, text: 'https://example.org/', problems: [] });
  });
});

describe('the error-correction level of a picture', () => {
  const text = exampleText('examples/example-00-f-qr-code-numeric-value-0.txt');

  test('is read for every level, at several module sizes, light on dark too', () => {
    for (const ec of ['L', 'M', 'Q', 'H'] as const) {
      const image = render(text, { ec });
      expect(readQr(image)?.ecLevel, ec).toBe(ec);
      expect(readQr(resample(image, 0.75))?.ecLevel, `${ec} at 3 pixels a module`).toBe(ec);
      const inverted = { ...image, data: image.data.map((v, i) => (i % 4 === 3 ? v : 255 - v)) };
      expect(readQr(inverted)?.ecLevel, `${ec} inverted`).toBe(ec);
    }
  });

  test('is read from every negative picture jsQR can read: level L, but Q for bad_qr_version', () => {
    for (const file of images) {
      const found = readQr(readImage(join(negative, file)));
      if (found) expect(found.ecLevel, file).toBe(file.endsWith('-bad_qr_version.png') ? 'Q' : 'L');
    }
  }, slowRead);

  test('unknown, a code is judged at the highest level its version holds the content at', () => {
    const segments = [{ mode: 'byte' as const, length: 5 }, { mode: 'numeric' as const, length: text.length - 5 }];
    const atM = smallestVersion(segments, 'M')!;
    expect(judgingLevel(segments, atM)).toBe('M');
    expect(judgingLevel(segments, atM, 'L')).toBe('L');
    const found = readQr(render(text, { ec: 'M' }))!;
    // Without the level, a smallest-version M code is not called inflated...
    expect(checkQrImage({ ...found, ecLevel: null }).ok).toBe(true);
    // ...but a level L code blown up to version 22 still is, at any level.
    const inflated = readQr(render(text, { version: 22 }))!;
    expect(checkQrImage({ ...inflated, ecLevel: null }).problems.map((p) => p.code)).toEqual(['qr_inflated_version']);
  });
});

describe('capacities and limits', () => {
  test('data capacity of every version and level matches the qrcode package', () => {
    // Its internals (untyped CommonJS), as an independent source for the table.
    const require = createRequire(import.meta.url);
    const utils = require('qrcode/lib/core/utils') as { getSymbolTotalCodewords(v: number): number };
    const ecc = require('qrcode/lib/core/error-correction-code') as { getTotalCodewordsCount(v: number, l: unknown): number };
    const levels = require('qrcode/lib/core/error-correction-level') as Record<EcLevel, unknown>;
    for (const ec of ['L', 'M', 'Q', 'H'] as const) {
      for (let v = 1; v <= 40; v++) {
        expect(dataBitsOf(v, ec), `v${v}-${ec}`).toBe((utils.getSymbolTotalCodewords(v) - ecc.getTotalCodewordsCount(v, levels[ec])) * 8);
      }
    }
  });

  test("the FAQ's limit: a 1195-character JWS fits version 22 at level L, 1196 do not", () => {
    const seg = (jws: number) => [{ mode: 'byte' as const, length: 5 }, { mode: 'numeric' as const, length: 2 * jws }];
    expect(smallestVersion(seg(1195))).toBe(22);
    expect(smallestVersion(seg(1196))).toBe(23);
    expect(smallestVersion(seg(927), 'M')).toBe(22);
    expect(smallestVersion(seg(928), 'M')).toBe(23);
  });

  test('smallest allowed chunk: a split of the shortest JWS that needs it, balanced within 0.5%', () => {
    expect(smallestAllowedChunk(2)).toBe(598 - 3); // 1196 characters in two
    expect(smallestAllowedChunk(3)).toBe(794 - 4); // 2383 characters in three
  });
});
