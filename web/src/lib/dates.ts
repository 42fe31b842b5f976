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

// Dates and times are laid out here, per language, rather than left to Intl's defaults, which in
// Vietnamese read "lúc 11:59 GMT+7 22 tháng 11, 2026". Vietnamese writes "11:59, 22/11/2026";
// English keeps the month's name, "22 November 2026 at 11:59". Intl still works out the fields in
// the right zone, the English month names and the zone's short name.
const vietnamese = (locale: string) => /^vi\b/i.test(locale);

interface Fields {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number; // 0-23
  minute: number;
}

function fieldsOf(date: Date, timeZone?: string): Fields {
  const parts = new Intl.DateTimeFormat('en-GB', {
    year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23',
    ...(timeZone ? { timeZone } : {}),
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute') };
}

// The wall clock `offset` minutes east of UTC (done by hand: Intl takes "+07:00" as a zone only
// in the newest engines).
function fieldsAt(date: Date, offset: number): Fields {
  const d = new Date(date.getTime() + offset * 60_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() };
}

// Minutes east of UTC of `timeZone` (the viewer's when absent) at that instant.
function offsetIn(date: Date, timeZone?: string): number {
  const f = fieldsOf(date, timeZone);
  const wall = new Date(0);
  wall.setUTCFullYear(f.year, f.month - 1, f.day);
  wall.setUTCHours(f.hour, f.minute);
  return Math.round((wall.getTime() - Math.floor(date.getTime() / 60_000) * 60_000) / 60_000);
}

// "GMT+7", "UTC": the zone as the viewer's language names it.
function zoneName(date: Date, locale: string, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat(locale, { timeZoneName: 'short', ...(timeZone ? { timeZone } : {}) }).formatToParts(date);
  return parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
}

// Minutes east of UTC that a date-time was written with ("…T08:00:00+07:00" is 420, "…Z" is 0);
// undefined for a plain date or a date-time without an offset.
export function offsetOf(iso: string): number | undefined {
  const m = /T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|([+-])(\d{2}):(\d{2}))$/.exec(iso);
  if (!m) return undefined;
  if (!m[1]) return 0;
  const minutes = +m[2]! * 60 + +m[3]!;
  return m[1] === '-' ? -minutes : minutes;
}

// An offset as ISO 8601 writes it after "UTC": "UTC+07:00", "UTC-05:00", "UTC+05:45"; "UTC" for 0.
export function offsetName(offset: number): string {
  if (offset === 0) return 'UTC';
  const a = Math.abs(offset);
  return `UTC${offset < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

function dayText(f: Fields, locale: string): string {
  if (vietnamese(locale)) return `${pad(f.day)}/${pad(f.month)}/${pad(f.year, 4)}`;
  const month = new Intl.DateTimeFormat(locale, { month: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2000, f.month - 1, 1)));
  return `${f.day} ${month} ${f.year}`;
}

const timeText = (f: Fields) => `${pad(f.hour)}:${pad(f.minute)}`;

// A calendar date ("2026-11-20") is the same day everywhere: "20 November 2026", "20/11/2026".
export function formatDate(iso: string, locale: string): string {
  const m = dateOnly.exec(iso);
  if (!m) return iso;
  return dayText({ year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: 0, minute: 0 }, locale);
}

// An instant's wall clock and the zone's name, in a fixed offset when one is given, else in
// `timeZone` (the viewer's zone when absent). A fixed offset is named as the viewer names their
// own zone ("GMT+7") when it is also theirs at that instant, else by itself ("UTC+07:00"): a time
// that is not the reader's own says so.
function clockOf(iso: string, locale: string, timeZone?: string, offset?: number): { f: Fields; zone: string } | undefined {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return undefined;
  if (offset === undefined) return { f: fieldsOf(date, timeZone), zone: zoneName(date, locale, timeZone) };
  const zone = offset === offsetIn(date, timeZone) ? zoneName(date, locale, timeZone) : offsetName(offset);
  return { f: fieldsAt(date, offset), zone };
}

function dateTimeText({ f, zone }: { f: Fields; zone: string }, locale: string): string {
  if (vietnamese(locale)) return `${timeText(f)}, ${dayText(f, locale)}${zone ? ` (${zone})` : ''}`;
  return `${dayText(f, locale)} at ${timeText(f)}${zone ? ` ${zone}` : ''}`;
}

// An instant ("2026-11-20T01:02:03Z", or with an offset) with the zone's name: "20 November 2026
// at 08:02 GMT+7", "08:02, 20/11/2026 (GMT+7)". Shown `offset` minutes east of UTC when given (the
// clinic's, for a document's own times), else in `timeZone`, the viewer's zone unless one is given.
export function formatDateTime(iso: string, locale: string, timeZone?: string, offset?: number): string {
  if (isDateOnly(iso)) return formatDate(iso, locale);
  const clock = clockOf(iso, locale, timeZone, offset);
  return clock ? dateTimeText(clock, locale) : iso;
}

// A date-time as it was written, in its own offset: "2026-12-14T08:00:00+07:00" is 08:00 on 14
// December wherever it is read ("UTC+07:00" when that is not the viewer's offset). One without
// an offset is an instant in the viewer's zone; a plain date, that day.
export function formatAsWritten(iso: string, locale: string, timeZone?: string): string {
  return formatDateTime(iso, locale, timeZone, offsetOf(iso));
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

// The leave period as one phrase: dates with a day count, or a time chit's hours as the clinic
// wrote them, in its own offset (an employer abroad reads the clinic's hours, not their own):
// "14 December 2026 from 08:00 to 11:30 UTC+07:00", the day and zone once when both ends share them.
export function describeLeave(
  from: string, to: string, locale: string, t: (key: MessageKey, params?: Record<string, string | number>) => string,
  timeZone?: string,
): string {
  const days = leaveDays(from, to);
  if (days === 1) return t('doc.leaveOneDay', { from: formatDate(from, locale) });
  if (days !== null) return t('doc.leaveDays', { from: formatDate(from, locale), to: formatDate(to, locale), days });
  const a = clockOf(from, locale, timeZone, offsetOf(from));
  const b = clockOf(to, locale, timeZone, offsetOf(to));
  if (a && b && a.zone === b.zone && dayText(a.f, locale) === dayText(b.f, locale)) {
    return t('doc.leaveHours', { date: dayText(a.f, locale), from: timeText(a.f), to: timeText(b.f), zone: a.zone });
  }
  return t('doc.leaveRange', { from: formatAsWritten(from, locale, timeZone), to: formatAsWritten(to, locale, timeZone) });
}

// When a locked link opens again: the time to show, rounded up to the minute (shown as HH:MM, an
// earlier minute would be refused again), and whole minutes to wait (at least 1).
export function retryAt(now: Date, retryAfterSeconds: number): { at: Date; minutes: number } {
  const seconds = Math.max(0, Math.ceil(retryAfterSeconds));
  const at = Math.ceil((now.getTime() + seconds * 1000) / 60_000) * 60_000;
  return { at: new Date(at), minutes: Math.max(1, Math.ceil(seconds / 60)) };
}

// "14:05": both languages write a time of day on the 24-hour clock.
export function formatTime(date: Date, timeZone?: string): string {
  return timeText(fieldsOf(date, timeZone));
}
