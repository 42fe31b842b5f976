// A SMART Health Card as the file a health app imports. SMART Health Cards, "Via File Download":
// a `.smart-health-card` file of type application/smart-health-card holding
// {"verifiableCredential": [JWS]}. The page has the card's "shc:/" text (what its QR code
// draws); the JWS is in it, two digits a character.

// The JWS of an unchunked "shc:/<digits>": each pair of digits is a character's code less 45
// (00 is "-", 77 is "z"). Undefined for anything else (a chunked card, stray characters).
export function jwsFromShc(text: string): string | undefined {
  if (!text.startsWith('shc:/')) return undefined;
  const digits = text.slice('shc:/'.length);
  if (digits.length === 0 || digits.length % 2 !== 0 || !/^[0-9]+$/.test(digits)) return undefined;
  let jws = '';
  for (let i = 0; i < digits.length; i += 2) {
    const n = Number(digits.slice(i, i + 2));
    if (n > 77) return undefined;
    jws += String.fromCharCode(n + 45);
  }
  return jws;
}

export const healthCardFileType = 'application/smart-health-card';

// The file's text, as the spec gives it.
export function healthCardFileText(jws: string): string {
  return JSON.stringify({ verifiableCredential: [jws] });
}

// A file name that says what it is and keeps the spec's extension: "mc-outpatient-2026-11-20".
export function healthCardFileName(kind: string, issued: string): string {
  const safe = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const name = [safe(kind), safe(issued.slice(0, 10))].filter(Boolean).join('-');
  return `${name || 'health-card'}.smart-health-card`;
}

// Saves the card as a file through the browser's download.
export function downloadHealthCard(jws: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([healthCardFileText(jws)], { type: healthCardFileType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
