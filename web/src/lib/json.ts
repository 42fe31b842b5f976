// JSON with FHIR's decimals as written. A FHIR decimal carries its precision in trailing zeros: a
// potassium of 5.40 mmol/L was measured to two places, 5.4 to one. The server keeps the text it
// was sent, but JSON.parse turns both into the number 5.4. parseJson keeps the source text of each
// number JS would print differently (5.40, 1.0, 1e2), where the browser gives it to a reviver (JSON
// parse source text access: Chromium 114 and later, Node.js 20 behind a flag); decimalText reads
// it back. Elsewhere the numbers print as JS prints them, as before.

type Context = { source?: string };

// holder object -> its keys whose numbers JS would print otherwise -> their source text
const written = new WeakMap<object, Map<string, string>>();

function keep(this: unknown, key: string, value: unknown, context?: Context): unknown {
  if (typeof value === 'number' && typeof context?.source === 'string' && context.source !== String(value) &&
      typeof this === 'object' && this !== null) {
    let keys = written.get(this);
    if (!keys) written.set(this, (keys = new Map()));
    keys.set(key, context.source);
  }
  return value;
}

export function parseJson(text: string): unknown {
  return JSON.parse(text, keep as (this: unknown, key: string, value: unknown) => unknown);
}

// The number at holder[key] as the JSON wrote it, when parseJson kept that; undefined otherwise.
export function decimalText(holder: unknown, key: string): string | undefined {
  if (typeof holder !== 'object' || holder === null) return undefined;
  return written.get(holder)?.get(key);
}

// The digits after the decimal point of a number as written ("5.40" -> 2), for formatting it to
// the same precision; undefined when it has none to keep or is written with an exponent.
export function fractionDigits(written: string | undefined): number | undefined {
  if (written === undefined || /[eE]/.test(written)) return undefined;
  const point = written.indexOf('.');
  return point < 0 ? undefined : written.length - point - 1;
}
