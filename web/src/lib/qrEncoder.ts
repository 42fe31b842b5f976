// The QR encoder, in its own chunk: loaded by qrDraw.ts on first use.
import QRCode from 'qrcode';

// Byte mode at error correction level M (what SMART Health Links ask for), with the 4-module
// quiet zone.
export function encodeSvg(text: string): Promise<string> {
  return QRCode.toString([{ data: new TextEncoder().encode(text), mode: 'byte' }], { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}
