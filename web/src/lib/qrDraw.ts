// Drawing QR codes in the browser: the SMART Health Link, and a document's health card (the
// server sends its "shc:/" text, not a picture). The encoder (qrEncoder.ts, with the qrcode package) loads on first use, so only people
// who come to that section fetch it.
type Encoder = typeof import('./qrEncoder');

let loader: Promise<Encoder> | undefined;
function encoder(): Promise<Encoder> {
  loader ??= import('./qrEncoder').catch((e: unknown) => {
    loader = undefined; // a failed download is tried again next time
    throw e;
  });
  return loader;
}

// The QR code of `text` as SVG markup. Draw it as an <img>, never as markup.
export async function qrSvg(text: string): Promise<string> {
  return (await encoder()).encodeSvg(text);
}

// The QR code of a SMART Health Card's "shc:/..." text, as SVG markup (draw it as an <img>).
export async function shcQrSvg(text: string): Promise<string> {
  return (await encoder()).encodeShcSvg(text);
}
