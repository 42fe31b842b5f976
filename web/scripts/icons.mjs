// Draws the app's PNG icons (public/icon-192.png, icon-512.png, icon-maskable-512.png) from the
// same shape as favicon.svg: a white cross on the brand blue. Run by hand when the icon changes
// (`node scripts/icons.mjs`); the PNGs are committed, since phones that install the app want
// PNGs beside the SVG. Uses pngjs (a dev dependency already there for the QR tests).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');
const blue = [0x0b, 0x5c, 0xad];

// `safe`: the share of the square the drawing may use (maskable icons keep to the middle 80 %).
function icon(size, { rounded, safe }) {
  const png = new PNG({ width: size, height: size });
  const unit = (size * safe) / 32; // favicon.svg is drawn on a 32-unit grid
  const origin = (size - 32 * unit) / 2;
  const radius = rounded ? 6 * (size / 32) : 0;
  const inCross = (u, v) => (u >= 13 && u < 19 && v >= 7 && v < 25) || (u >= 7 && u < 25 && v >= 13 && v < 19);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      // Outside the rounded corners: transparent.
      const cx = Math.min(Math.max(x + 0.5, radius), size - radius);
      const cy = Math.min(Math.max(y + 0.5, radius), size - radius);
      const outside = radius > 0 && (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > radius ** 2;
      const u = (x + 0.5 - origin) / unit;
      const v = (y + 0.5 - origin) / unit;
      const white = inCross(u, v);
      png.data[i] = white ? 255 : blue[0];
      png.data[i + 1] = white ? 255 : blue[1];
      png.data[i + 2] = white ? 255 : blue[2];
      png.data[i + 3] = outside ? 0 : 255;
    }
  }
  return PNG.sync.write(png);
}

writeFileSync(join(out, 'icon-192.png'), icon(192, { rounded: true, safe: 1 }));
writeFileSync(join(out, 'icon-512.png'), icon(512, { rounded: true, safe: 1 }));
writeFileSync(join(out, 'icon-maskable-512.png'), icon(512, { rounded: false, safe: 0.8 }));
