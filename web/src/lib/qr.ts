// Reading QR codes from pictures and camera frames with jsQR. jsQR is loaded on first use, so
// people who only open a certificate link never download it.
type JsQr = typeof import('jsqr').default;

let loader: Promise<JsQr> | undefined;
function jsqr(): Promise<JsQr> {
  loader ??= import('jsqr').then((m) => m.default);
  return loader;
}

export async function decodeImageData(image: ImageData, thorough: boolean): Promise<string | null> {
  const decode = await jsqr();
  const found = decode(image.data, image.width, image.height, {
    inversionAttempts: thorough ? 'attemptBoth' : 'dontInvert',
  });
  return found?.data || null;
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

// A picture file to the text of the first QR code in it (null when there is none).
export async function decodeImageFile(file: Blob): Promise<string | null> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new UnreadableImage();
  }
  try {
    const canvas = document.createElement('canvas');
    return await decodeImageData(drawScaled(bitmap, bitmap.width, bitmap.height, canvas), true);
  } finally {
    bitmap.close();
  }
}
