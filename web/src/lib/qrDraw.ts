// Drawing QR codes in the browser, for links the server does not draw itself (the SMART Health
// Link). The encoder (qrcode) loads on first use, so only people who open that section fetch it.
type Encoder = typeof import('qrcode');

let loader: Promise<Encoder> | undefined;
function encoder(): Promise<Encoder> {
  loader ??= import('qrcode').catch((e: unknown) => {
    loader = undefined; // a failed download is tried again next time
    throw e;
  });
  return loader;
}

// The QR code of `text` as SVG markup, in byte mode at error correction level M (what SMART
// Health Links ask for), with the 4-module quiet zone. Draw it as an <img>, never as markup.
export async function qrSvg(text: string): Promise<string> {
  const qr = await encoder();
  return qr.toString([{ data: new TextEncoder().encode(text), mode: 'byte' }], { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}
