import { describe, expect, test } from 'vitest';
import { daysInMonth, describeLeave, formatDate, formatDateTime, leaveDays, localToday, parseDob, retryAt } from './dates';
import { translate } from '../i18n/translate';

const today = '2026-11-20';

describe('parseDob', () => {
  test('accepts day, month and year as typed, with or without leading zeros', () => {
    expect(parseDob('27', '3', '1985', today)).toEqual({ ok: true, iso: '1985-03-27' });
    expect(parseDob(' 07 ', '03', '1985', today)).toEqual({ ok: true, iso: '1985-03-07' });
    expect(parseDob('29', '2', '2000', today)).toEqual({ ok: true, iso: '2000-02-29' });
    expect(parseDob('20', '11', '2026', today)).toEqual({ ok: true, iso: '2026-11-20' });
  });

  test('names each missing field', () => {
    const r = parseDob('', '', '', today);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.key)).toEqual(['link.error.dayMissing', 'link.error.monthMissing', 'link.error.yearMissing']);
  });

  test('refuses out-of-range and malformed parts, field by field', () => {
    const r = parseDob('32', '13', '85', today);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([
      { field: 'day', key: 'link.error.day' },
      { field: 'month', key: 'link.error.month' },
      { field: 'year', key: 'link.error.year' },
    ]);
    expect(parseDob('0', '1', '1990', today).ok).toBe(false);
    expect(parseDob('1a', '1', '1990', today).ok).toBe(false);
    expect(parseDob('1', '1', '1799', today).ok).toBe(false);
  });

  test('refuses dates that do not exist', () => {
    expect(parseDob('29', '2', '1900', today)).toEqual({ ok: false, errors: [{ field: 'day', key: 'link.error.notReal' }] });
    expect(parseDob('31', '4', '1990', today)).toEqual({ ok: false, errors: [{ field: 'day', key: 'link.error.notReal' }] });
  });

  test('refuses the future', () => {
    expect(parseDob('21', '11', '2026', today)).toEqual({ ok: false, errors: [{ field: 'year', key: 'link.error.future' }] });
  });
});

test('daysInMonth knows leap years', () => {
  expect([daysInMonth(2024, 2), daysInMonth(2100, 2), daysInMonth(2000, 2), daysInMonth(2026, 12)]).toEqual([29, 28, 29, 31]);
});

test('localToday is the local calendar date', () => {
  expect(localToday(new Date(2026, 0, 5, 23, 59))).toBe('2026-01-05');
});

describe('formatting', () => {
  test('a calendar date is the same day in any zone', () => {
    expect(formatDate('2026-11-20', 'en-GB')).toBe('20 November 2026');
    expect(formatDate('2026-01-01', 'vi-VN')).toMatch(/^1 tháng 1,? 2026$/);
    expect(formatDate('not a date', 'en-GB')).toBe('not a date');
  });

  test('an instant is shown in the given zone', () => {
    expect(formatDateTime('2026-11-20T01:30:00Z', 'en-GB', 'Asia/Ho_Chi_Minh')).toMatch(/^20 November 2026(,| at) 08:30 GMT\+7$/);
    expect(formatDateTime('2026-11-20T09:00:00+08:00', 'en-GB', 'Asia/Singapore')).toMatch(/09:00/);
    expect(formatDateTime('2026-11-20', 'en-GB')).toBe('20 November 2026');
    expect(formatDateTime('garbage', 'en-GB')).toBe('garbage');
  });
});

describe('leave', () => {
  test('counts calendar days with both ends included', () => {
    expect(leaveDays('2026-11-20', '2026-11-20')).toBe(1);
    expect(leaveDays('2026-11-20', '2026-11-22')).toBe(3);
    expect(leaveDays('2026-02-27', '2026-03-02')).toBe(4);
    // across the change to summer time in Europe: still whole days
    expect(leaveDays('2026-03-28', '2026-03-30')).toBe(3);
    expect(leaveDays('2026-11-22', '2026-11-20')).toBeNull();
    expect(leaveDays('2026-11-20T09:00:00+07:00', '2026-11-20T11:00:00+07:00')).toBeNull();
  });

  test('describes date leave with its day count, and time chits as a time range', () => {
    const t = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('en', k, p);
    expect(describeLeave('2026-11-20', '2026-11-22', 'en-GB', t)).toBe('20 November 2026 to 22 November 2026 (3 days)');
    expect(describeLeave('2026-11-20', '2026-11-20', 'en-GB', t)).toBe('20 November 2026 (1 day)');
    const chit = describeLeave('2026-11-20T09:00:00+07:00', '2026-11-20T11:30:00+07:00', 'en-GB', t, 'Asia/Ho_Chi_Minh');
    expect(chit).toMatch(/^20 November 2026.* 09:00 GMT\+7 to 20 November 2026.* 11:30 GMT\+7$/);
  });
});

test('retryAt rounds up to whole minutes, never below one', () => {
  const now = new Date('2026-11-20T10:00:00Z');
  expect(retryAt(now, 900)).toEqual({ at: new Date('2026-11-20T10:15:00Z'), minutes: 15 });
  expect(retryAt(now, 61).minutes).toBe(2);
  expect(retryAt(now, 5).minutes).toBe(1);
  expect(retryAt(now, -3)).toEqual({ at: now, minutes: 1 });
});
