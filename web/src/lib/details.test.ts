import { describe, expect, test } from 'vitest';
import { clinicOffset, formatNumber, rangeOf, readDetails, resultCode, shlinkPayload, valueOf } from './details';

// The details objects as src/documents/request.cpp builds them.
describe('readDetails', () => {
  test('lab results: numbers with unit, range and flag; text results; the sample date', () => {
    const d = readDetails('lab-result', {
      results: [
        { name: 'Glucose', effective: '2026-11-19', value: 7.9, unit: 'mmol/L', low: 3.9, high: 6.4, flag: 'H' },
        { name: 'HIV antibody', effective: '2026-11-19T08:00:00+07:00', value: 'Negative' },
      ],
    });
    expect(d).toEqual({
      family: 'lab',
      results: [
        { name: 'Glucose', effective: '2026-11-19', value: 7.9, unit: 'mmol/L', low: 3.9, high: 6.4, flag: 'H' },
        { name: 'HIV antibody', effective: '2026-11-19T08:00:00+07:00', value: 'Negative' },
      ],
    });
  });

  test('lab results: members of the wrong shape are left out, and results without a name dropped', () => {
    const d = readDetails('lab-result', {
      results: [{ name: 'Potassium', value: '4.1', low: 'x', high: null, flag: 'Z', unit: 5 }, { value: 3 }, 'junk', null],
    });
    expect(d).toEqual({ family: 'lab', results: [{ name: 'Potassium', value: '4.1' }] });
    expect(readDetails('lab-result', { results: [] })).toBeUndefined();
    expect(readDetails('lab-result', { results: 'Glucose' })).toBeUndefined();
  });

  test('a result the clinic named only by its code: the server sends the code as the name', () => {
    const d = readDetails('lab-result', { results: [{ name: '2345-7', value: 5.4, unit: 'mmol/L' }, { name: 'GLU-X', value: 1 }] });
    expect(d).toEqual({
      family: 'lab',
      results: [{ name: '', code: '2345-7', system: 'http://loinc.org', value: 5.4, unit: 'mmol/L' }, { name: 'GLU-X', value: 1 }],
    });
    expect(resultCode({ name: '', code: '2345-7', system: 'http://loinc.org' })).toBe('LOINC 2345-7');
    expect(resultCode({ name: '', code: '44054006', system: 'http://snomed.info/sct' })).toBe('SNOMED CT 44054006');
    expect(resultCode({ name: '', code: 'K-12', system: 'urn:lab:local' })).toBe('K-12');
    expect(resultCode({ name: 'Glucose', code: '2345-7' })).toBeUndefined();
  });

  test('a vaccination, with and without dose and lot', () => {
    expect(readDetails('vaccination', { vaccine: 'Hepatitis B', date: '2026-10-01', doseNumber: 2, lotNumber: 'HB-2291' }))
      .toEqual({ family: 'vaccination', vaccine: 'Hepatitis B', date: '2026-10-01', doseNumber: 2, lotNumber: 'HB-2291' });
    expect(readDetails('vaccination', { vaccine: 'MMR', date: '2026-10-01', doseNumber: 1.5 }))
      .toEqual({ family: 'vaccination', vaccine: 'MMR', date: '2026-10-01', doseNumber: undefined, lotNumber: undefined });
    expect(readDetails('vaccination', { date: '2026-10-01' })).toBeUndefined();
  });

  test('a referral and a discharge summary', () => {
    expect(readDetails('referral', { to: 'Cardiology, Bach Mai Hospital', reason: 'Chest pain on effort', priority: 'urgent' }))
      .toEqual({ family: 'referral', to: 'Cardiology, Bach Mai Hospital', reason: 'Chest pain on effort', priority: 'urgent' });
    expect(readDetails('referral', { to: 'Cardiology' })).toBeUndefined();
    expect(readDetails('discharge-summary', { admission: { from: '2026-11-01', to: '2026-11-05' }, summary: 'Recovered.\nFollow-up in 2 weeks.' }))
      .toEqual({ family: 'discharge', from: '2026-11-01', to: '2026-11-05', summary: 'Recovered.\nFollow-up in 2 weeks.' });
    expect(readDetails('discharge-summary', { admission: 'yesterday', summary: 'Recovered.' }))
      .toEqual({ family: 'discharge', from: undefined, to: undefined, summary: 'Recovered.' });
  });

  test('leave certificates and unknown kinds have none', () => {
    expect(readDetails('mc-outpatient', { vaccine: 'x' })).toBeUndefined();
    expect(readDetails('lab-result', undefined)).toBeUndefined();
    expect(readDetails('lab-result', [{ name: 'x' }])).toBeUndefined();
  });
});

describe('numbers and ranges', () => {
  test('numbers keep every digit the clinic wrote, with the locale’s decimal sign and no grouping', () => {
    expect(formatNumber(13.25, 'en-GB')).toBe('13.25');
    expect(formatNumber(13.25, 'vi-VN')).toBe('13,25');
    expect(formatNumber(12000, 'en-GB')).toBe('12000');
    expect(formatNumber(0.1, 'en-GB')).toBe('0.1');
  });

  test('the value with its unit; a text result as it is', () => {
    expect(valueOf({ name: 'Glucose', value: 7.9, unit: 'mmol/L' }, 'en-GB')).toBe('7.9 mmol/L');
    expect(valueOf({ name: 'Glucose', value: 7.9 }, 'vi-VN')).toBe('7,9');
    expect(valueOf({ name: 'HIV', value: 'Negative', unit: 'x' }, 'en-GB')).toBe('Negative');
    expect(valueOf({ name: 'HIV' }, 'en-GB')).toBe('');
  });

  test('the reference range: both bounds, one bound, or none', () => {
    expect(rangeOf({ name: 'g', unit: 'mmol/L', low: 3.9, high: 6.4 }, 'en-GB')).toEqual({ kind: 'between', low: '3.9', high: '6.4 mmol/L' });
    expect(rangeOf({ name: 'g', low: 60 }, 'en-GB')).toEqual({ kind: 'atLeast', low: '60' });
    expect(rangeOf({ name: 'g', unit: 'mg/dL', high: 200 }, 'en-GB')).toEqual({ kind: 'atMost', high: '200 mg/dL' });
    expect(rangeOf({ name: 'g', unit: 'mg/dL' }, 'en-GB')).toBeUndefined();
  });
});

describe('shlinkPayload', () => {
  const payload = 'shlink:/eyJ1cmwiOiJodHRwOi8vMTI3LjAuMC4xL3NobC9hYmMiLCJrZXkiOiJrIn0';
  test('the shlink:/ part, bare or behind a viewer URL', () => {
    expect(shlinkPayload(payload)).toBe(payload);
    expect(shlinkPayload(`https://hb.example/c/abc#${payload}`)).toBe(payload);
  });
  test('anything else is not offered', () => {
    expect(shlinkPayload(undefined)).toBeUndefined();
    expect(shlinkPayload('')).toBeUndefined();
    expect(shlinkPayload('https://hb.example/c/abc')).toBeUndefined();
    expect(shlinkPayload(`https://hb.example/c/abc?${payload}`)).toBeUndefined();
    expect(shlinkPayload(`${payload} `)).toBeUndefined();
    expect(shlinkPayload('shlink:/')).toBeUndefined();
    expect(shlinkPayload('shlink:/abc<script>')).toBeUndefined();
  });
});

test('the clinic\'s offset comes from the document\'s own date-times, when it has any', () => {
  // A time chit's hours.
  expect(clinicOffset('2026-12-14T08:00:00+07:00', undefined)).toBe(420);
  // Leave in plain dates: none (the page shows the issue time in the viewer's zone).
  expect(clinicOffset('2026-11-20', undefined)).toBeUndefined();
  // Lab results: the first sample taken at a time.
  const lab = readDetails('lab-result', {
    results: [
      { name: 'Glucose', effective: '2026-11-19', value: 7.9 },
      { name: 'HIV antibody', effective: '2026-11-19T08:00:00-05:00', value: 'Negative' },
    ],
  });
  expect(clinicOffset(undefined, lab)).toBe(-300);
  expect(clinicOffset(undefined, readDetails('referral', { to: 'Cardiology', reason: 'Chest pain' }))).toBeUndefined();
});
