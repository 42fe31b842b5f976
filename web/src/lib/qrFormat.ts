// The error-correction level of a QR code that jsQR has found in a picture.
//
// jsQR reads the level (it needs it to decode) but does not report it, and the SMART Health Card
// QR rules need it: whether a code uses a larger version than its content needs depends on the
// level (a card drawn at level M legitimately needs a larger version than at L). So the level is
// read here from the same picture, from the code's format information (ISO/IEC 18004 7.9): 15
// modules beside the finder patterns, present twice, holding 2 bits of level and 3 of mask under a
// BCH(15,5) code that corrects up to 3 wrong bits.
//
// Module centres are mapped to pixels with the affine map fixed by jsQR's three finder-pattern
// centres, which are at module (3.5, 3.5), (size - 3.5, 3.5) and (3.5, size - 3.5). The format
// modules sit next to those finders, where a photo's perspective changes the map least. When no
// copy decodes within 3 bits, the level is unknown (null) and callers must not guess.
//
// Pure: no DOM, no jsQR import (types only).
import type { QRCode } from 'jsqr';
import type { Pixels } from './qrDecode';

export type EcLevel = 'L' | 'M' | 'Q' | 'H';

// The 2-bit level indicator of the format information (L is 01, M 00, Q 11, H 10).
const levelOfIndicator: readonly EcLevel[] = ['M', 'L', 'H', 'Q'];

// The 32 valid masked format words, by their 5 data bits: data, then the remainder of
// data * x^10 divided by the generator x^10 + x^8 + x^5 + x^4 + x^2 + x + 1 (0x537), masked
// with 0x5412 so that no word is all zeros.
const formatWords: readonly number[] = Array.from({ length: 32 }, (_, data) => {
  let rem = data << 10;
  for (let bit = 14; bit >= 10; bit--) {
    if (rem & (1 << bit)) rem ^= 0x537 << (bit - 10);
  }
  return ((data << 10) | rem) ^ 0x5412;
});

function popcount(n: number): number {
  let c = 0;
  for (let v = n; v; v &= v - 1) c++;
  return c;
}

// The level a 15-bit word read from the picture stands for, with the number of bits that had to
// be corrected; null when the nearest valid word is more than 3 bits away.
export function decodeFormatWord(word: number): { level: EcLevel; mask: number; errors: number } | null {
  let best = -1;
  let bestErrors = 16;
  formatWords.forEach((w, data) => {
    const e = popcount(w ^ word);
    if (e < bestErrors) {
      best = data;
      bestErrors = e;
    }
  });
  if (bestErrors > 3) return null;
  return { level: levelOfIndicator[best >> 3]!, mask: best & 7, errors: bestErrors };
}

// The module coordinates of the two copies, most significant bit first.
export function formatModules(size: number): [Array<[number, number]>, Array<[number, number]>] {
  const first: Array<[number, number]> = [];
  for (let x = 0; x <= 8; x++) if (x !== 6) first.push([x, 8]); // row 8, skipping the timing column
  for (let y = 7; y >= 0; y--) if (y !== 6) first.push([8, y]); // column 8, upwards
  const second: Array<[number, number]> = [];
  for (let y = size - 1; y >= size - 7; y--) second.push([8, y]); // column 8 beside the bottom-left finder
  for (let x = size - 8; x < size; x++) second.push([x, 8]); // beside the top-right finder
  return [first, second];
}

type Location = Pick<QRCode['location'], 'topLeftFinderPattern' | 'topRightFinderPattern' | 'bottomLeftFinderPattern'>;

export function readEcLevel(image: Pixels, code: { version: number; location: Location }): EcLevel | null {
  const size = 17 + 4 * code.version;
  const { topLeftFinderPattern: tl, topRightFinderPattern: tr, bottomLeftFinderPattern: bl } = code.location;
  const span = size - 7;
  const luminance = (mx: number, my: number): number | null => {
    // Module centre (mx + 0.5, my + 0.5), relative to the top-left finder's centre at 3.5.
    const u = (mx + 0.5 - 3.5) / span;
    const v = (my + 0.5 - 3.5) / span;
    const x = Math.round(tl.x + u * (tr.x - tl.x) + v * (bl.x - tl.x));
    const y = Math.round(tl.y + u * (tr.y - tl.y) + v * (bl.y - tl.y));
    if (x < 0 || y < 0 || x >= image.width || y >= image.height) return null;
    const i = (y * image.width + x) * 4;
    return 0.299 * image.data[i]! + 0.587 * image.data[i + 1]! + 0.114 * image.data[i + 2]!;
  };
  // Dark is whatever the finder's centre is (module 3,3) and light its inner ring (module 1,1), so
  // a code printed light on dark reads the same.
  const dark = luminance(3, 3);
  const light = luminance(1, 1);
  if (dark === null || light === null || Math.abs(dark - light) < 32) return null;
  const threshold = (dark + light) / 2;
  const isDark = (l: number) => (dark < light ? l < threshold : l > threshold);

  let best: { level: EcLevel; errors: number } | null = null;
  for (const modules of formatModules(size)) {
    let word = 0;
    let readable = true;
    for (const [mx, my] of modules) {
      const l = luminance(mx, my);
      if (l === null) {
        readable = false;
        break;
      }
      word = (word << 1) | (isDark(l) ? 1 : 0);
    }
    const decoded = readable ? decodeFormatWord(word) : null;
    if (decoded && (!best || decoded.errors < best.errors)) best = decoded;
  }
  return best?.level ?? null;
}
