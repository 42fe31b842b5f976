// The lazily loaded half of QR reading: jsQR, the rescaled retries and the SMART Health Card QR
// checks travel together in one chunk that only a scan or an upload downloads.
import jsQR from 'jsqr';
import { checkQrImage, type QrCheck } from '../verify/qrImageCheck';
import { decodePixels, type Pixels } from './qrDecode';

// null when no QR code was found in a camera frame (keep scanning); a check otherwise.
export function readFrame(image: Pixels): QrCheck | null {
  const found = decodePixels(jsQR, image, { thorough: false });
  return found ? checkQrImage(found) : null;
}

// A picture: both polarities and rescaled retries, and no_qr_found when nothing reads.
export function readPicture(image: Pixels, maxSide: number): QrCheck {
  return checkQrImage(decodePixels(jsQR, image, { thorough: true, maxSide }));
}
