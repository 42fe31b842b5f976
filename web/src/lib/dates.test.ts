import { describe, expect, test } from 'vitest';
import {
  daysInMonth, describeLeave, formatAsWritten, formatDate, formatDateTime, formatTime, leaveDays, localToday, offsetName, offsetOf, parseDob,
  retryAt,
} from './dates';
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
    expect(formatDate('2026-01-01', 'en-GB')).toBe('1 January 2026');
    expect(formatDate('not a date', 'en-GB')).toBe('not a date');
  });

  test('Vietnamese writes a date as day/month/year, with leading zeros', () => {
    expect(formatDate('2026-11-22', 'vi-VN')).toBe('22/11/2026');
    expect(formatDate('2026-01-01', 'vi-VN')).toBe('01/01/2026');
    expect(formatDate('0985-03-07', 'vi-VN')).toBe('07/03/0985');
  });

  test('an instant is shown in the given zone, with the zone named', () => {
    expect(formatDateTime('2026-11-20T01:30:00Z', 'en-GB', 'Asia/Ho_Chi_Minh')).toBe('20 November 2026 at 08:30 GMT+7');
    expect(formatDateTime('2026-11-20T09:00:00+08:00', 'en-GB', 'Asia/Singapore')).toBe('20 November 2026 at 09:00 GMT+8');
    expect(formatDateTime('2026-11-20', 'en-GB')).toBe('20 November 2026');
    expect(formatDateTime('garbage', 'en-GB')).toBe('garbage');
  });

  test('in Vietnamese: the time, then the date, then the zone', () => {
    expect(formatDateTime('2026-11-22T04:59:00Z', 'vi-VN', 'Asia/Ho_Chi_Minh')).toBe('11:59, 22/11/2026 (GMT+7)');
    expect(formatDateTime('2026-11-22T04:59:00Z', 'vi-VN', 'UTC')).toBe('04:59, 22/11/2026 (UTC)');
    expect(formatDateTime('2026-11-22', 'vi-VN')).toBe('22/11/2026');
    expect(formatDateTime('garbage', 'vi-VN')).toBe('garbage');
    // Not Intl's default layout, which puts the time first and the month in words.
    expect(formatDateTime('2026-11-22T04:59:00Z', 'vi-VN', 'Asia/Ho_Chi_Minh')).not.toMatch(/lúc|tháng/);
  });

  test('the zone decides the day and the hour, on a 24-hour clock', () => {
    // 23:30 UTC is already the next day in Viet Nam; midnight is 00, not 24.
    expect(formatDateTime('2026-12-31T23:30:00Z', 'vi-VN', 'Asia/Ho_Chi_Minh')).toBe('06:30, 01/01/2027 (GMT+7)');
    expect(formatDateTime('2026-12-31T17:00:00Z', 'en-GB', 'Asia/Ho_Chi_Minh')).toBe('1 January 2027 at 00:00 GMT+7');
    expect(formatDateTime('2026-07-01T15:05:00Z', 'en-GB', 'Europe/London')).toBe('1 July 2026 at 16:05 BST');
  });

  test('the offset a date-time was written with, and its name', () => {
    expect(offsetOf('2026-12-14T08:00:00+07:00')).toBe(420);
    expect(offsetOf('2026-12-14T08:00-05:30')).toBe(-330);
    expect(offsetOf('2026-12-14T08:00:00.123Z')).toBe(0);
    expect(offsetOf('2026-12-14T08:00:00')).toBeUndefined();
    expect(offsetOf('2026-12-14')).toBeUndefined();
    expect([420, -300, 345, 0].map(offsetName)).toEqual(['UTC+07:00', 'UTC-05:00', 'UTC+05:45', 'UTC']);
  });

  test('an instant in the clinic\'s offset: named by the viewer\'s zone when it is theirs, else by the offset', () => {
    // Issued at 11:35 in Ha Noi, 23:35 the day before in New York.
    expect(formatDateTime('2026-12-14T04:35:00.000Z', 'en-GB', 'America/New_York', 420)).toBe('14 December 2026 at 11:35 UTC+07:00');
    expect(formatDateTime('2026-12-14T04:35:00.000Z', 'en-GB', 'Asia/Ho_Chi_Minh', 420)).toBe('14 December 2026 at 11:35 GMT+7');
    expect(formatDateTime('2026-12-14T04:35:00.000Z', 'vi-VN', 'Pacific/Kiritimati', 420)).toBe('11:35, 14/12/2026 (UTC+07:00)');
    expect(formatDateTime('2026-12-14T04:35:00.000Z', 'en-GB', 'America/New_York')).toBe('13 December 2026 at 23:35 GMT-5');
  });

  test('a date-time as written keeps its own offset; without one it is the viewer\'s', () => {
    expect(formatAsWritten('2026-11-19T08:00:00+07:00', 'en-GB', 'America/New_York')).toBe('19 November 2026 at 08:00 UTC+07:00');
    expect(formatAsWritten('2026-11-19T08:00:00+07:00', 'en-GB', 'Pacific/Kiritimati')).toBe('19 November 2026 at 08:00 UTC+07:00');
    expect(formatAsWritten('2026-11-19', 'en-GB', 'Pacific/Kiritimati')).toBe('19 November 2026');
  });

  test('a time of day is HH:MM in the given zone', () => {
    const at = new Date('2026-11-20T07:05:00Z');
    expect(formatTime(at, 'Asia/Ho_Chi_Minh')).toBe('14:05');
    expect(formatTime(new Date('2026-11-20T17:00:00Z'), 'Asia/Ho_Chi_Minh')).toBe('00:00');
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
    expect(chit).toBe('20 November 2026 from 09:00 to 11:30 GMT+7');
  });

  test('a time chit reads as the clinic wrote it, in any viewer\'s zone, with the offset named when not theirs', () => {
    const t = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('en', k, p);
    const [from, to] = ['2026-12-14T08:00:00+07:00', '2026-12-14T11:30:00+07:00'];
    // Not "13 December 2026 at 20:00 GMT-5" in New York: the clinic's day and hours.
    expect(describeLeave(from, to, 'en-GB', t, 'America/New_York')).toBe('14 December 2026 from 08:00 to 11:30 UTC+07:00');
    expect(describeLeave(from, to, 'en-GB', t, 'Pacific/Kiritimati')).toBe('14 December 2026 from 08:00 to 11:30 UTC+07:00');
    expect(describeLeave(from, to, 'en-GB', t, 'Asia/Ho_Chi_Minh')).toBe('14 December 2026 from 08:00 to 11:30 GMT+7');
    const vi = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('vi', k, p);
    expect(describeLeave(from, to, 'vi-VN', vi, 'America/New_York')).toBe('Từ 08:00 đến 11:30, 14/12/2026 (UTC+07:00)');
    // Across midnight, or ends written in different offsets: each end in full.
    expect(describeLeave('2026-12-14T22:00:00+07:00', '2026-12-15T01:30:00+07:00', 'en-GB', t, 'America/New_York'))
      .toBe('14 December 2026 at 22:00 UTC+07:00 to 15 December 2026 at 01:30 UTC+07:00');
    expect(describeLeave('2026-12-14T09:00:00+07:00', '2026-12-14T10:30:00+08:00', 'en-GB', t, 'Asia/Ho_Chi_Minh'))
      .toBe('14 December 2026 at 09:00 GMT+7 to 14 December 2026 at 10:30 UTC+08:00');
    // UTC itself; in London that is the viewer's own zone in winter, not in summer.
    expect(describeLeave('2026-12-14T08:00:00Z', '2026-12-14T09:00:00Z', 'en-GB', t, 'Asia/Ho_Chi_Minh')).toBe('14 December 2026 from 08:00 to 09:00 UTC');
    expect(describeLeave('2026-12-14T08:00:00Z', '2026-12-14T09:00:00Z', 'en-GB', t, 'Europe/London')).toBe('14 December 2026 from 08:00 to 09:00 GMT');
    expect(describeLeave('2026-07-14T08:00:00Z', '2026-07-14T09:00:00Z', 'en-GB', t, 'Europe/London')).toBe('14 July 2026 from 08:00 to 09:00 UTC');
  });

  test('leave in plain dates is the same days in every zone', () => {
    const t = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('en', k, p);
    for (const zone of ['America/New_York', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Ho_Chi_Minh']) {
      expect(describeLeave('2026-11-20', '2026-11-22', 'en-GB', t, zone)).toBe('20 November 2026 to 22 November 2026 (3 days)');
    }
  });

  test('in Vietnamese', () => {
    const t = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('vi', k, p);
    expect(describeLeave('2026-11-20', '2026-11-22', 'vi-VN', t)).toBe('Từ 20/11/2026 đến 22/11/2026 (3 ngày)');
    expect(describeLeave('2026-11-20', '2026-11-20', 'vi-VN', t)).toBe('20/11/2026 (1 ngày)');
    const chit = describeLeave('2026-11-20T09:00:00+07:00', '2026-11-20T11:30:00+07:00', 'vi-VN', t, 'Asia/Ho_Chi_Minh');
    expect(chit).toBe('Từ 09:00 đến 11:30, 20/11/2026 (GMT+7)');
  });
});

test('retryAt rounds up to whole minutes, never below one', () => {
  const now = new Date('2026-11-20T10:00:00Z');
  expect(retryAt(now, 900)).toEqual({ at: new Date('2026-11-20T10:15:00Z'), minutes: 15 });
  expect(retryAt(now, 61).minutes).toBe(2);
  expect(retryAt(now, 5).minutes).toBe(1);
  expect(retryAt(now, -3)).toEqual({ at: now, minutes: 1 });
  // Shown as HH:MM, so the minute after: at 10:01 the link would still refuse.
  expect(retryAt(new Date('2026-11-20T10:00:30Z'), 60)).toEqual({ at: new Date('2026-11-20T10:02:00Z'), minutes: 1 });
});
