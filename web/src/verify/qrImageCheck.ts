// The SMART Health Cards rules for the QR code itself, checked on what jsQR read from a picture,
// before anything goes to the server (https://spec.smarthealth.cards/#encoding-chunks-as-qr-codes):
//
// - exactly two segments: `shc:/` (or `shc:/<i>/<n>/` for a chunked card) in byte mode, then the
//   digits in numeric mode;
// - version 22 at most (105 x 105 modules, so a printed code stays scannable at 40 mm);
// - no larger version than the content needs ("inflated" codes are denser than necessary);
// - a chunked card splits only a JWS that does not fit one code (more than 1195 characters), into
//   chunks of at most 1191 characters that are balanced (each within 0.5% of length / count, as
//   the SMART dev tools check). One picture holds one chunk, so a chunk that is too short to be
//   part of such a split is refused.
//
// "No larger version than needed" depends on the error-correction level: a card drawn at level M
// needs a larger version than at L, legitimately (the spec does not require L). jsQR does not
// report the level, so lib/qrDecode.ts reads it from the picture (lib/qrFormat.ts) and the check
// uses it: the smallest version at the code's own level. When the level is not known (the format
// information did not read), the code is judged at the highest level its version could hold the
// content at, so that only a code inflated whatever its level is refused; assuming L there would
// refuse every valid card drawn at M, Q or H at its smallest version.
//
// The JWS limits (1195 characters for one code, 1191 per chunk) are the spec's thresholds on the
// text and do not depend on the level; version 22 is checked on the code's actual version.
//
// Pure: no DOM, no jsQR import (types only), so it stays out of the main bundle's weight and is
// tested in Node.
import type { QRCode } from 'jsqr';
import type { MessageKey } from '../i18n/en';
import type { EcLevel } from '../lib/qrFormat';

export type { EcLevel };

export type QrProblemCode =
  | 'no_qr_found'
  | 'qr_segments'
  | 'qr_version_too_high'
  | 'qr_inflated_version'
  | 'qr_chunk_too_small'
  | 'qr_chunk_too_large';

export interface QrProblem {
  code: QrProblemCode;
  key: MessageKey;
  params?: Record<string, string | number>;
}

export interface QrCheck {
  ok: boolean;
  text?: string;
  problems: QrProblem[];
}

// What this module reads from a jsQR result, plus the level when it was read from the picture.
export type QrRead = Pick<QRCode, 'data' | 'version' | 'chunks'> & { ecLevel?: EcLevel | null };

export const maxQrVersion = 22;
export const maxSingleJws = 1195; // characters of JWS in one version-22 code at level L
export const maxChunkJws = 1191; // characters of JWS in one chunk of a chunked card
const balanceLeeway = 0.005; // 0.5% of the expected chunk length

// Data codewords of each version (1..40) at each error-correction level (ISO/IEC 18004 table 7).
const dataCodewords: Record<EcLevel, readonly number[]> = {
  L: [19, 34, 55, 80, 108, 136, 156, 194, 232, 274, 324, 370, 428, 461, 523, 589, 647, 721, 795, 861,
    932, 1006, 1094, 1174, 1276, 1370, 1468, 1531, 1631, 1735, 1843, 1955, 2071, 2191, 2306, 2434, 2566, 2702, 2812, 2956],
  M: [16, 28, 44, 64, 86, 108, 124, 154, 182, 216, 254, 290, 334, 365, 415, 453, 507, 563, 627, 669,
    714, 782, 860, 914, 1000, 1062, 1128, 1193, 1267, 1373, 1455, 1541, 1631, 1725, 1812, 1914, 1992, 2102, 2216, 2334],
  Q: [13, 22, 34, 48, 62, 76, 88, 110, 132, 154, 180, 206, 244, 261, 295, 325, 367, 397, 445, 485,
    512, 568, 614, 664, 718, 754, 808, 871, 911, 985, 1033, 1115, 1171, 1231, 1286, 1354, 1426, 1502, 1582, 1666],
  H: [9, 16, 26, 36, 46, 60, 66, 86, 100, 122, 140, 158, 180, 197, 223, 253, 283, 313, 341, 385,
    406, 442, 464, 514, 538, 596, 628, 661, 701, 745, 793, 845, 901, 961, 986, 1054, 1096, 1142, 1222, 1276],
};

export function dataBitsOf(version: number, ec: EcLevel): number {
  return (dataCodewords[ec][version - 1] ?? 0) * 8;
}

// A segment as it costs bits: its mode and how many characters (bytes for byte mode).
export interface Segment {
  mode: 'numeric' | 'alphanumeric' | 'byte' | 'kanji' | 'eci';
  length: number; // characters; for 'eci', the assignment number
}

// Character-count field widths for versions 1-9, 10-26, 27-40.
const countBits: Record<Exclude<Segment['mode'], 'eci'>, [number, number, number]> = {
  numeric: [10, 12, 14],
  alphanumeric: [9, 11, 13],
  byte: [8, 16, 16],
  kanji: [8, 10, 12],
};

export function segmentBits(s: Segment, version: number): number {
  if (s.mode === 'eci') return 4 + (s.length < 128 ? 8 : s.length < 16384 ? 16 : 24);
  const range = version <= 9 ? 0 : version <= 26 ? 1 : 2;
  const n = s.length;
  let data: number;
  switch (s.mode) {
    case 'numeric':
      data = 10 * Math.floor(n / 3) + [0, 4, 7][n % 3]!;
      break;
    case 'alphanumeric':
      data = 11 * Math.floor(n / 2) + 6 * (n % 2);
      break;
    case 'byte':
      data = 8 * n;
      break;
    case 'kanji':
      data = 13 * n;
      break;
  }
  return 4 + countBits[s.mode][range] + data;
}

// The smallest version (1..40) whose data capacity holds these segments, or null if none does.
export function smallestVersion(segments: readonly Segment[], ec: EcLevel = 'L'): number | null {
  for (let v = 1; v <= 40; v++) {
    const bits = segments.reduce((sum, s) => sum + segmentBits(s, v), 0);
    if (bits <= dataBitsOf(v, ec)) return v;
  }
  return null;
}

function segmentsOf(chunks: QrRead['chunks']): Segment[] {
  return chunks.map((c) => {
    if ('assignmentNumber' in c) return { mode: 'eci', length: c.assignmentNumber };
    if ('bytes' in c && (c.type === 'byte' || c.type === 'kanji')) {
      return { mode: c.type, length: c.type === 'kanji' ? c.bytes.length / 2 : c.bytes.length };
    }
    const text = 'text' in c ? c.text : '';
    return { mode: c.type as Segment['mode'], length: c.type === 'byte' ? new TextEncoder().encode(text).length : text.length };
  });
}

function chunkText(c: QrRead['chunks'][number]): string {
  return 'text' in c && typeof c.text === 'string' ? c.text : '';
}

// The shortest chunk (in JWS characters) a balanced split into `count` chunks can have, given that
// splitting is only allowed for a JWS that does not fit one code and that needs this many chunks.
export function smallestAllowedChunk(count: number): number {
  const shortestJws = Math.max(maxSingleJws + 1, maxChunkJws * (count - 1) + 1);
  const expected = Math.floor(shortestJws / count);
  return expected - Math.ceil(expected * balanceLeeway);
}

const isShc = (text: string) => /^shc:\//i.test(text);
const chunkHeader = /^shc:\/([1-9][0-9]*)\/([1-9][0-9]*)\//;

// The level to judge a code of this version by: the one given, else the one read from the
// picture, else the highest level at which this version holds the content (null if none does:
// then the version is too small for the content at any level, which jsQR would not have read).
export function judgingLevel(segments: readonly Segment[], version: number, known?: EcLevel | null): EcLevel | null {
  if (known) return known;
  const bits = segments.reduce((sum, s) => sum + segmentBits(s, version), 0);
  return (['H', 'Q', 'M', 'L'] as const).find((ec) => bits <= dataBitsOf(version, ec)) ?? null;
}

// `ec`: the code's error-correction level when the caller knows it better than the picture did.
export function checkQrImage(result: QrRead | null | undefined, ec?: EcLevel): QrCheck {
  if (!result || !result.data) {
    return { ok: false, problems: [{ code: 'no_qr_found', key: 'verify.qr.no_qr_found' }] };
  }
  const text = result.data;
  // Not a SMART Health Card QR (a link, a pasted JWS...): these rules do not apply; the server
  // says what it is.
  if (!isShc(text)) return { ok: true, text, problems: [] };

  const problems: QrProblem[] = [];
  const { chunks, version } = result;
  const [prefix, digits] = chunks;
  const header = chunkHeader.exec(text);
  const prefixText = header ? header[0] : 'shc:/';
  if (
    chunks.length !== 2 ||
    prefix?.type !== 'byte' ||
    chunkText(prefix) !== prefixText ||
    digits?.type !== 'numeric' ||
    !/^[0-9]+$/.test(chunkText(digits))
  ) {
    problems.push({
      code: 'qr_segments',
      key: 'verify.qr.qr_segments',
      params: { found: chunks.map((c) => c.type).join(' + ') || '-' },
    });
  }

  if (version > maxQrVersion) {
    problems.push({ code: 'qr_version_too_high', key: 'verify.qr.qr_version_too_high', params: { version, max: maxQrVersion } });
  }

  const segments = segmentsOf(chunks);
  const level = judgingLevel(segments, version, ec ?? result.ecLevel);
  const needed = level ? smallestVersion(segments, level) : null;
  if (needed !== null && version > needed) {
    problems.push({ code: 'qr_inflated_version', key: 'verify.qr.qr_inflated_version', params: { version, needed } });
  }

  if (header) {
    const count = Number(header[2]);
    const jwsLength = Math.floor((text.length - header[0].length) / 2);
    if (count > 1) {
      const smallest = smallestAllowedChunk(count);
      if (jwsLength < smallest) {
        problems.push({
          code: 'qr_chunk_too_small',
          key: 'verify.qr.qr_chunk_too_small',
          params: { length: jwsLength, count, min: smallest },
        });
      } else if (jwsLength > maxChunkJws) {
        problems.push({ code: 'qr_chunk_too_large', key: 'verify.qr.qr_chunk_too_large', params: { length: jwsLength, max: maxChunkJws } });
      }
    }
  }

  return problems.length ? { ok: false, text, problems } : { ok: true, text, problems };
}
