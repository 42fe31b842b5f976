import { describe, expect, test } from 'vitest';
import {
  appendPage, dayOf, emptyFilter, filterFromSearch, filterProblem, filterSearch, groupByDay, readTimeline, recordPath, timelinePath,
} from './timeline';

// The documented answer of GET /api/v1/me/timeline, with a few members of the wrong shape.
const fixture = {
  entries: [
    {
      id: 'Observation/hb-1', kind: 'result', date: '2026-11-20T03:15:00Z', title: 'Glucose', summary: 'Fasting',
      status: 'final', facility: { code: '01001', name: 'Bach Mai Hospital' },
      value: { value: 7.8, unit: 'mmol/L', low: 3.9, high: 6.4, flag: 'H' },
    },
    {
      id: 'Observation/hb-2', kind: 'result', date: '2026-11-20T03:15:00Z', title: 'Sodium',
      facility: { code: '01001', name: 'Bach Mai Hospital' }, value: { value: 140, unit: 'mmol/L', low: 135, high: 145, flag: '' },
    },
    {
      id: 'DocumentReference/d1', kind: 'document', date: '2026-11-18', title: 'Medical certificate',
      facility: { code: '79002', name: 'Saigon International Hospital' },
      document: { id: 'MC-1', kind: 'mc-outpatient', link: '/c/AbCdEf0123456789' },
    },
    { id: 'Condition/c1', kind: 'condition', date: '2026-11-18', title: 'Hypertension', facility: { code: '79002', name: 'Saigon International Hospital' } },
    { id: 'Encounter/e1', kind: 'dance', date: '2026-11-01', title: 'Unknown kind', facility: { code: 'x', name: 'y' } },
    { id: 'Encounter/e2', kind: 'visit', date: '2026-11-01', title: 'No facility' },
    { id: 'not an id', kind: 'visit', date: '2026-11-01', title: 'Bad id', facility: { code: 'x', name: 'y' } },
    'junk',
  ],
  next: 'cursor-2',
  facilities: [{ code: '01001', name: 'Bach Mai Hospital' }, { code: 7 }],
  kinds: ['result', 'document', 'condition', 'nonsense'],
};

describe('readTimeline', () => {
  test('keeps well-formed entries, drops the rest', () => {
    const page = readTimeline(fixture)!;
    expect(page.entries.map((e) => e.id)).toEqual(['Observation/hb-1', 'Observation/hb-2', 'DocumentReference/d1', 'Condition/c1']);
    expect(page.next).toBe('cursor-2');
    expect(page.facilities).toEqual([{ code: '01001', name: 'Bach Mai Hospital' }]);
    expect(page.kinds).toEqual(['result', 'document', 'condition']);
  });
  test('a result carries its value, range and flag; an empty flag within a range is normal', () => {
    const [glucose, sodium] = readTimeline(fixture)!.entries;
    expect(glucose!.value).toEqual({ name: 'Glucose', value: 7.8, unit: 'mmol/L', low: 3.9, high: 6.4, flag: 'H' });
    expect(sodium!.value?.flag).toBe('N');
  });
  test('documents keep their link; the last page has next null', () => {
    const page = readTimeline({ ...fixture, next: null })!;
    expect(page.entries[2]!.document).toEqual({ id: 'MC-1', kind: 'mc-outpatient', link: '/c/AbCdEf0123456789' });
    expect(page.next).toBeNull();
    expect(readTimeline({ entries: 'x' })).toBeUndefined();
  });
});

describe('grouping and paging', () => {
  test('entries group by the day in the viewer’s zone, newest first as sent', () => {
    const page = readTimeline(fixture)!;
    const groups = groupByDay(page.entries, 'Asia/Ho_Chi_Minh');
    expect(groups.map((g) => [g.day, g.entries.length])).toEqual([['2026-11-20', 2], ['2026-11-18', 2]]);
    // 23:30 UTC on the 19th is the 20th in Hanoi.
    expect(dayOf('2026-11-19T23:30:00Z', 'Asia/Ho_Chi_Minh')).toBe('2026-11-20');
    expect(dayOf('2026-11-19T23:30:00Z', 'UTC')).toBe('2026-11-19');
    expect(dayOf('2026-11')).toBe('2026-11-01');
  });
  test('a later page leaves out entries already shown', () => {
    const page = readTimeline(fixture)!;
    const merged = appendPage(page.entries.slice(0, 3), page.entries.slice(2));
    expect(merged.map((e) => e.id)).toEqual(['Observation/hb-1', 'Observation/hb-2', 'DocumentReference/d1', 'Condition/c1']);
  });
});

describe('filters', () => {
  test('read from the address, unknown kinds and malformed dates dropped', () => {
    expect(filterFromSearch('?kind=result&facility=01001&from=2026-01-01&to=junk&q=%20glucose%20'))
      .toEqual({ facility: '01001', kind: 'result', from: '2026-01-01', to: '', q: 'glucose' });
    expect(filterFromSearch('?kind=everything')).toEqual(emptyFilter);
  });
  test('written to the address and the API query, with a cursor', () => {
    const f = { ...emptyFilter, kind: 'result', q: 'sugar & salt' };
    expect(filterSearch(f)).toBe('?kind=result&q=sugar+%26+salt');
    expect(filterSearch(emptyFilter)).toBe('');
    expect(timelinePath(f, 'abc/def')).toBe('/api/v1/me/timeline?kind=result&q=sugar+%26+salt&limit=50&cursor=abc%2Fdef');
  });
  test('a backwards range is refused before asking', () => {
    expect(filterProblem({ ...emptyFilter, from: '2026-02-01', to: '2026-01-01' })).toBe('range');
    expect(filterProblem({ ...emptyFilter, from: '2026-01-01', to: '2026-01-01' })).toBeUndefined();
  });
  test('record paths', () => {
    expect(recordPath('Observation/hb-1')).toBe('/book/Observation/hb-1');
  });
});
