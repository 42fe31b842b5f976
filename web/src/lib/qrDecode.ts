// Finding a QR code in pixels with a QR decoder (jsQR, handed in, so this module stays pure and
// jsQR stays lazily loaded). Some pictures that jsQR misses at their own size decode once resized:
// JPEG re-encoding or odd scaling leaves modules of uneven width, which resampling evens out. The
// SMART dev tools keep two such pictures (…-scaled-23.jpg, …-scaled-85.jpg) as valid cards that
// need it, and retry at scales 0.5 to 2.0 with nearest-neighbour sampling; so do we.
import type { QRCode } from 'jsqr';
import { readEcLevel, type EcLevel } from './qrFormat';

export interface Pixels {
  data: Uint8ClampedArray; // RGBA
  width: number;
  height: number;
}

export type Decoder = (data: Uint8ClampedArray, width: number, height: number, options?: { inversionAttempts?: 'dontInvert' | 'attemptBoth' }) => QRCode | null;

// Nearest-neighbour resampling of RGBA pixels by `scale`.
export function resample(image: Pixels, scale: number): Pixels {
  const width = Math.max(1, Math.floor(image.width * scale));
  const height = Math.max(1, Math.floor(image.height * scale));
  const bytes = image.data.byteOffset % 4 ? image.data.slice() : image.data; // Uint32Array needs alignment
  const src = new Uint32Array(bytes.buffer, bytes.byteOffset, image.width * image.height);
  const out = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = Math.min(image.height - 1, Math.floor(y / scale)) * image.width;
    for (let x = 0; x < width; x++) out[y * width + x] = src[row + Math.min(image.width - 1, Math.floor(x / scale))]!;
  }
  return { data: new Uint8ClampedArray(out.buffer), width, height };
}

// Tenths: 0.5, 0.6, ... 2.0 (1.0 is the first attempt, at the picture's own size).
const retryScales = Array.from({ length: 16 }, (_, i) => (5 + i) / 10).filter((s) => s !== 1);

// What was found, with its error-correction level read from the very picture it was found in
// (null when the format information could not be read; see qrFormat.ts).
export type FoundQr = QRCode & { ecLevel: EcLevel | null };

export function decodePixels(decode: Decoder, image: Pixels, options: { thorough: boolean; maxSide?: number }): FoundQr | null {
  const inversionAttempts = options.thorough ? 'attemptBoth' : 'dontInvert';
  const withLevel = (code: QRCode, from: Pixels): FoundQr => ({ ...code, ecLevel: readEcLevel(from, code) });
  const found = decode(image.data, image.width, image.height, { inversionAttempts });
  if (found) return withLevel(found, image);
  if (!options.thorough) return null;
  const maxSide = options.maxSide ?? 1600;
  for (const scale of retryScales) {
    if (Math.max(image.width, image.height) * scale > maxSide) continue;
    const scaled = resample(image, scale);
    const again = decode(scaled.data, scaled.width, scaled.height, { inversionAttempts });
    if (again) return withLevel(again, scaled);
  }
  return null;
}
