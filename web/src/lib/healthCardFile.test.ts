import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { healthCardFileName, healthCardFileText, jwsFromShc } from './healthCardFile';

// The spec's own example 00: its QR text, its JWS and its .smart-health-card file.
const examples = join(__dirname, '../../../tests/data/shc/examples');
const example = (name: string) => readFileSync(join(examples, name), 'utf8').trim();

// The numeric encoding as the SMART Health Cards spec gives it: code - 45, two digits each.
const toShc = (jws: string) => 'shc:/' + [...jws].map((c) => String(c.charCodeAt(0) - 45).padStart(2, '0')).join('');

describe('the .smart-health-card file', () => {
  test('the JWS comes back out of the shc:/ text', () => {
    const jws = 'eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiIsImtpZCI6IjNLZmRnLVh3UC03Z1h5eXd0VWZVQUR3QnVtRE9QS01ReC1pRUxMMTFXOXMifQ.3ZJLb9swEIT_SrC9ypYoJ3WgW-0AfRyKAk17CXygqbXFgA-BpJS4gf57d2m7aIEkp56q24qzH2eGfAYdIzTQpdTHpiyDUa7SUsYn5UcMlhrUHiEkxQ.2o8L-5kzlQ6x-kzH3yGmbKKGFdl0ft5_77LxM0t_dDeUrkKxEvZD3X3mOLXmmeQTjELW6l7jafRXQl7yQXdLIBIFjPkZqwkQ';
    expect(jwsFromShc(toShc(jws))).toBe(jws);
    expect(jwsFromShc(example('example-00-f-qr-code-numeric-value-0.txt'))).toBe(example('example-00-d-jws.txt'));
  });
  test('anything else is refused', () => {
    for (const bad of ['', 'shc:/', 'shc:/1', 'shc:/78', 'shc:/12a4', 'shc:/1/2/5676', 'SHC:/56', 'https://x/56']) {
      expect(jwsFromShc(bad)).toBeUndefined();
    }
  });
  test('the file holds the card as the spec gives it, under a name with its extension', () => {
    expect(JSON.parse(healthCardFileText('a.b.c'))).toEqual({ verifiableCredential: ['a.b.c'] });
    const jws = example('example-00-d-jws.txt');
    expect(JSON.parse(healthCardFileText(jws))).toEqual(JSON.parse(example('example-00-e-file.smart-health-card')));
    expect(healthCardFileName('mc-outpatient', '2026-11-20T09:30:00Z')).toBe('mc-outpatient-2026-11-20.smart-health-card');
    expect(healthCardFileName('../X Y', '')).toBe('x-y.smart-health-card');
    expect(healthCardFileName('', '')).toBe('health-card.smart-health-card');
  });
});
