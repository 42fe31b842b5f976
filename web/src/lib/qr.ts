// Reading QR codes from pictures and camera frames. jsQR and the SMART Health Card QR checks
// (qrReader.ts) load on first use, so people who only open a certificate link never download them.
import type { QrCheck } from '../verify/qrImageCheck';

type Reader = typeof import('./qrReader');

let loader: Promise<Reader> | undefined;
function reader(): Promise<Reader> {
  loader ??= import('./qrReader');
  return loader;
}

// A camera frame: null when it shows no QR code, else the SMART Health Card QR check of the code.
export async function readFrame(image: ImageData): Promise<QrCheck | null> {
  return (await reader()).readFrame(image);
}

// Phone photos are large; a QR code stays readable at this size and jsQR stays quick.
const maxSide = 1600;

export function drawScaled(source: CanvasImageSource, width: number, height: number, canvas: HTMLCanvasElement): ImageData {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas');
  // A white background, so transparent PNGs decode as dark-on-light.
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

export class UnreadableImage extends Error {}

// A picture file to the check of the first QR code in it (no_qr_found when there is none).
export async function readImageFile(file: Blob): Promise<QrCheck> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new UnreadableImage();
  }
  try {
    const canvas = document.createElement('canvas');
    const image = drawScaled(bitmap, bitmap.width, bitmap.height, canvas);
    return (await reader()).readPicture(image, maxSide);
  } finally {
    bitmap.close();
  }
}
