import { describe, expect, test } from 'vitest';
import { readDetails, valueOf, rangeOf } from './details';
import { describeResource } from './fhirView';
import { decimalText, fractionDigits, parseJson } from './json';

describe('parseJson', () => {
  test('parses as JSON.parse does, and keeps the text of numbers JS would print otherwise', () => {
    const text = '{"a":5.40,"b":5.4,"c":[1.0,2],"d":1e2,"e":"5.40","f":{"g":0.10}}';
    const parsed = parseJson(text) as { a: number; c: number[]; f: object };
    expect(parsed).toEqual(JSON.parse(text));
    expect(decimalText(parsed, 'a')).toBe('5.40');
    expect(decimalText(parsed, 'b')).toBeUndefined(); // 5.4 prints as written
    expect(decimalText(parsed.c, '0')).toBe('1.0');
    expect(decimalText(parsed.c, '1')).toBeUndefined();
    expect(decimalText(parsed, 'd')).toBe('1e2');
    expect(decimalText(parsed, 'e')).toBeUndefined(); // a string is a string
    expect(decimalText(parsed.f, 'g')).toBe('0.10');
    expect(decimalText(JSON.parse(text), 'a')).toBeUndefined(); // only what parseJson read
    expect(() => parseJson('{"a":')).toThrow();
  });

  test('fraction digits of a number as written', () => {
    expect(fractionDigits('5.40')).toBe(2);
    expect(fractionDigits('5')).toBeUndefined();
    expect(fractionDigits('1.0e2')).toBeUndefined();
    expect(fractionDigits(undefined)).toBeUndefined();
  });
});

describe('a lab result keeps the precision it was measured to', () => {
  test('in a document\'s details, in English and Vietnamese', () => {
    const view = parseJson('{"results":[{"name":"Potassium","value":5.40,"unit":"mmol/L","low":3.50,"high":5.1}]}');
    const details = readDetails('lab-result', view);
    expect(details?.family).toBe('lab');
    const r = details?.family === 'lab' ? details.results[0]! : undefined;
    expect(r && valueOf(r, 'en-GB')).toBe('5.40 mmol/L');
    expect(r && valueOf(r, 'vi-VN')).toBe('5,40 mmol/L');
    expect(r && rangeOf(r, 'en-GB')).toEqual({ kind: 'between', low: '3.50', high: '5.1 mmol/L' });
  });

  test('in an Observation read from a card or a shared record', () => {
    const obs = parseJson(`{"resourceType":"Observation","status":"final",
      "code":{"text":"Potassium"},"valueQuantity":{"value":5.40,"unit":"mmol/L"},
      "referenceRange":[{"low":{"value":3.50,"unit":"mmol/L"},"high":{"value":5.10,"unit":"mmol/L"}}]}`);
    const view = describeResource(obs)!;
    expect(view.result && valueOf(view.result, 'en-GB')).toBe('5.40 mmol/L');
    expect(view.result && rangeOf(view.result, 'en-GB')).toEqual({ kind: 'between', low: '3.50', high: '5.10 mmol/L' });
  });
});
