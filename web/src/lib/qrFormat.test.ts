import { describe, expect, test } from 'vitest';
import { decodeFormatWord, formatModules } from './qrFormat';

describe('format information', () => {
  // ISO/IEC 18004 annex C: level M, mask 101 is 100000011001110 once masked.
  const isoExample = 0b100000011001110;

  test("the standard's worked example decodes to level M, mask 5", () => {
    expect(decodeFormatWord(isoExample)).toEqual({ level: 'M', mask: 5, errors: 0 });
  });

  test('up to three wrong bits are corrected, four are not trusted', () => {
    expect(decodeFormatWord(isoExample ^ 0b1)).toEqual({ level: 'M', mask: 5, errors: 1 });
    expect(decodeFormatWord(isoExample ^ 0b100000000010001)).toEqual({ level: 'M', mask: 5, errors: 3 });
    // Valid words are at least 7 bits apart: 4 wrong bits land 3 bits from another word or nowhere
    // near one, never back on the word they came from.
    const r = decodeFormatWord(isoExample ^ 0b110000000010001);
    expect(r === null || (r.errors === 3 && !(r.level === 'M' && r.mask === 5))).toBe(true);
  });

  test('each copy is 15 modules beside the finders, clear of the timing patterns', () => {
    for (const size of [21, 105]) {
      const [first, second] = formatModules(size);
      expect(first).toHaveLength(15);
      expect(second).toHaveLength(15);
      for (const [x, y] of [...first, ...second]) {
        expect(x === 6 || y === 6).toBe(false);
        expect(x === 8 || y === 8).toBe(true);
      }
      expect(second).not.toContainEqual([8, size - 8]); // the always-dark module
    }
  });
});
