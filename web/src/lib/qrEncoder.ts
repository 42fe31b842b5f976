// The QR encoder, in its own chunk: loaded by qrDraw.ts on first use.
import QRCode from 'qrcode';

// A SMART Health Card's "shc:/<digits>": the prefix in byte mode, the digits in numeric mode, at
// error correction level L (the card spec's rule, which keeps a version 22 card in one code), with
// the 4-module quiet zone.
export function encodeShcSvg(text: string): Promise<string> {
  const digits = text.slice('shc:/'.length);
  if (!text.startsWith('shc:/') || !/^[0-9]+$/.test(digits)) return Promise.reject(new Error('not a health card QR text'));
  return QRCode.toString([{ data: new TextEncoder().encode('shc:/'), mode: 'byte' }, { data: digits, mode: 'numeric' }], { type: 'svg', errorCorrectionLevel: 'L', margin: 4 });
}

// Byte mode at error correction level M (what SMART Health Links ask for), with the 4-module
// quiet zone.
export function encodeSvg(text: string): Promise<string> {
  return QRCode.toString([{ data: new TextEncoder().encode(text), mode: 'byte' }], { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}
