import { describe, expect, it } from 'vitest';
import { maxEndDate, readActingFor, readCarers } from './proxies';
import { ownOnly } from './resident';

describe('proxies', () => {
  it('reads whom the resident acts for, dropping malformed people', () => {
    const a = readActingFor({
      self: { patientId: 'p1', name: 'Thi Mai Nguyen' },
      people: [
        { patientId: 'c1', name: 'Minh An Nguyen', kind: 'guardian', rights: ['view-records'], until: '2027-01-01T00:00:00.000Z' },
        { patientId: 'x', name: 'Someone', kind: 'friend' },
        'junk',
      ],
    });
    expect(a?.people.map((p) => p.patientId)).toEqual(['c1']);
    expect(readActingFor({ people: [] })).toBeUndefined();
  });

  it('reads carers with their state', () => {
    const c = readCarers({ carers: [{ id: 'g1', name: 'Van Binh Tran', rights: ['view-records'], endsAt: '2027-01-01T00:00:00.000Z', status: 'revoked' }, { name: 'no id' }] });
    expect(c).toHaveLength(1);
    expect(c?.[0]?.status).toBe('revoked');
  });

  it('never sends the acting-for header to the routes about the signed-in person', () => {
    expect(ownOnly('/api/v1/me/carers')).toBe(true);
    expect(ownOnly('/api/v1/me/carers/abc')).toBe(true);
    expect(ownOnly('/api/v1/me/acting-for')).toBe(true);
    expect(ownOnly('/api/v1/me/timeline')).toBe(false);
    expect(ownOnly('/api/v1/me/carersx')).toBe(false);
  });

  it('allows end dates up to two years ahead', () => {
    expect(maxEndDate(new Date('2026-12-04T10:00:00Z'))).toBe('2028-12-04');
  });
});
