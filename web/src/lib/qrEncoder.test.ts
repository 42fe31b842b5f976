import { expect, test } from 'vitest';
import { encodeShcSvg } from './qrEncoder';

// The modules across the drawn code, quiet zone included, from the SVG's viewBox.
const sizeOf = (svg: string) => Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);

test('a health card is drawn in numeric mode at level L: 1,700 digits stay within version 22', async () => {
  const digits = Array.from({ length: 1706 }, (_, i) => String((i * 7 + 3) % 10)).join('');
  const svg = await encodeShcSvg(`shc:/${digits}`);
  expect(svg).toContain('<svg');
  // Version 22 is 105 modules; with the 4-module quiet zone on each side, 113. Byte mode would
  // need a version in the thirties for the same text.
  expect(sizeOf(svg)).toBeLessThanOrEqual(113);
});

test('anything but shc:/ and digits is refused', async () => {
  await expect(encodeShcSvg('shc:/12a4')).rejects.toThrow();
  await expect(encodeShcSvg('https://example.org')).rejects.toThrow();
});
