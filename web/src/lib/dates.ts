// Date handling for certificates: reading a date of birth typed as day/month/year, and showing
// the dates and times the server sends. Pure functions; "today" and time zones are parameters so
// tests do not depend on the machine's clock or zone.
import type { MessageKey } from '../i18n/en';

export type DobField = 'day' | 'month' | 'year';
export interface DobError {
  field: DobField;
  key: MessageKey;
}
export type DobResult = { ok: true; iso: string } | { ok: false; errors: DobError[] };

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

// Today's date as YYYY-MM-DD in the viewer's own zone (for "not in the future").
export function localToday(now: Date = new Date()): string {
  return `${pad(now.getFullYear(), 4)}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

// "27", "3", "1985" -> "1985-03-27". Lists every problem, each on the field to fix.
export function parseDob(day: string, month: string, year: string, today: string): DobResult {
  const errors: DobError[] = [];
  const d = day.trim();
  const m = month.trim();
  const y = year.trim();
  const num = (s: string, max: number) => (/^\d{1,2}$/.test(s) && +s >= 1 && +s <= max ? +s : null);
  const dn = num(d, 31);
  const mn = num(m, 12);
  const yn = /^\d{4}$/.test(y) ? +y : null;
  if (!d) errors.push({ field: 'day', key: 'link.error.dayMissing' });
  else if (dn === null) errors.push({ field: 'day', key: 'link.error.day' });
  if (!m) errors.push({ field: 'month', key: 'link.error.monthMissing' });
  else if (mn === null) errors.push({ field: 'month', key: 'link.error.month' });
  if (!y) errors.push({ field: 'year', key: 'link.error.yearMissing' });
  else if (yn === null || yn < 1800) errors.push({ field: 'year', key: 'link.error.year' });
  if (errors.length > 0 || dn === null || mn === null || yn === null) return { ok: false, errors };
  if (dn > daysInMonth(yn, mn)) return { ok: false, errors: [{ field: 'day', key: 'link.error.notReal' }] };
  const iso = `${pad(yn, 4)}-${pad(mn)}-${pad(dn)}`;
  if (iso > today) return { ok: false, errors: [{ field: 'year', key: 'link.error.future' }] };
  return { ok: true, iso };
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isDateOnly(s: string): boolean {
  return dateOnly.test(s);
}

// A calendar date ("2026-11-20") is the same day everywhere: format it in UTC so no zone shifts it.
export function formatDate(iso: string, locale: string): string {
  const m = dateOnly.exec(iso);
  if (!m) return iso;
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}

// An instant ("2026-11-20T01:02:03Z", or with an offset) in the viewer's zone unless one is given.
export function formatDateTime(iso: string, locale: string, timeZone?: string): string {
  if (isDateOnly(iso)) return formatDate(iso, locale);
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, {
    day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit',
    timeZoneName: 'short', ...(timeZone ? { timeZone } : {}),
  }).format(date);
}

// Calendar days from `from` to `to`, both included ("2026-11-20".."2026-11-22" is 3); null when
// either is not a plain date or the range runs backwards.
export function leaveDays(from: string, to: string): number | null {
  const a = dateOnly.exec(from);
  const b = dateOnly.exec(to);
  if (!a || !b) return null;
  const start = Date.UTC(+a[1]!, +a[2]! - 1, +a[3]!);
  const end = Date.UTC(+b[1]!, +b[2]! - 1, +b[3]!);
  if (end < start) return null;
  return Math.round((end - start) / 86_400_000) + 1;
}

// The leave period as one phrase: dates with a day count, or date-times (time chits) as a range.
export function describeLeave(
  from: string, to: string, locale: string, t: (key: MessageKey, params?: Record<string, string | number>) => string,
  timeZone?: string,
): string {
  const days = leaveDays(from, to);
  if (days === 1) return t('doc.leaveOneDay', { from: formatDate(from, locale) });
  if (days !== null) return t('doc.leaveDays', { from: formatDate(from, locale), to: formatDate(to, locale), days });
  return t('doc.leaveRange', { from: formatDateTime(from, locale, timeZone), to: formatDateTime(to, locale, timeZone) });
}

// When a locked link opens again: the time to show, and whole minutes to wait (at least 1).
export function retryAt(now: Date, retryAfterSeconds: number): { at: Date; minutes: number } {
  const seconds = Math.max(0, Math.ceil(retryAfterSeconds));
  return { at: new Date(now.getTime() + seconds * 1000), minutes: Math.max(1, Math.ceil(seconds / 60)) };
}

export function formatTime(date: Date, locale: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', ...(timeZone ? { timeZone } : {}) }).format(date);
}
