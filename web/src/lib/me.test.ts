import { describe, expect, test } from 'vitest';
import {
  accessSentence, checkNewShare, reasonOf, recordCounts, expiryChoices, looksLikeEmail, readAccessLog, readConnections, readNotifications, readShares, shareBody,
} from './me';

describe('connections', () => {
  test('each facility with its consent switch; entries without one are dropped', () => {
    expect(readConnections({
      facilities: [
        { code: '01001', name: 'Bach Mai Hospital', holdsRecords: true, shared: false },
        { code: '79002', name: 'Saigon International Hospital', holdsRecords: false, shared: true },
        { code: '01015', name: 'No switch' },
      ],
    })).toEqual([
      { code: '01001', name: 'Bach Mai Hospital', holdsRecords: true, shared: false },
      { code: '79002', name: 'Saigon International Hospital', holdsRecords: false, shared: true },
    ]);
    expect(readConnections({})).toBeUndefined();
  });
});

const share = {
  id: 'sh-1', label: 'For Dr Lan', shlink: 'shlink:/eyJ1cmwiOiJ4In0', viewerUrl: 'http://127.0.0.1:8080/s#shlink:/eyJ1cmwiOiJ4In0',
  qrSvg: '<svg xmlns="http://www.w3.org/2000/svg"></svg>', expires: '2026-12-01T00:00:00Z', singleUse: true, passcode: true,
  accesses: [{ time: '2026-11-21T08:00:00Z', recipient: 'Dr Lan' }, { time: '2026-11-22T08:00:00Z' }, 'junk'],
  status: 'active',
};

describe('shares', () => {
  test('read with their accesses; an unknown status drops a share; a listed share has no link', () => {
    const listed = { ...share, id: 'sh-3', shlink: null, viewerUrl: null, qrSvg: null, status: 'disabled' };
    const list = readShares({ shares: [share, { ...share, id: 'sh-2', status: 'paused' }, listed] })!;
    expect(list).toHaveLength(2);
    expect(list[1]).toMatchObject({ id: 'sh-3', shlink: '', viewerUrl: '', status: 'disabled' });
    expect(list[1]!.qrSvg).toBeUndefined();
    expect(list[0]).toMatchObject({ id: 'sh-1', singleUse: true, passcode: true, status: 'active' });
    expect(list[0]!.accesses).toEqual([{ time: '2026-11-21T08:00:00Z', recipient: 'Dr Lan' }, { time: '2026-11-22T08:00:00Z', recipient: '' }]);
  });
  test('a QR code that is not an SVG is not kept', () => {
    expect(readShares({ shares: [{ ...share, qrSvg: '<script>x</script>' }] })![0]!.qrSvg).toBeUndefined();
  });
  test('the form is checked before sending', () => {
    const ok = { records: ['Observation/1'], label: 'For Dr Lan', expiresIn: 3600, singleUse: false };
    expect(checkNewShare(ok, false)).toEqual([]);
    expect(checkNewShare({ ...ok, records: [], label: ' ' }, false)).toEqual(['records', 'label']);
    expect(checkNewShare({ ...ok, label: 'x'.repeat(81) }, false)).toEqual(['label']);
    expect(checkNewShare({ ...ok, expiresIn: 5 }, false)).toEqual(['expiry']);
    expect(checkNewShare({ ...ok, passcode: '12' }, true)).toEqual(['passcode']);
    expect(checkNewShare({ ...ok, passcode: '12' }, false)).toEqual([]);
    // The server takes 6 to 64 characters.
    expect(checkNewShare({ ...ok, passcode: '12345' }, true)).toEqual(['passcode']);
    expect(checkNewShare({ ...ok, passcode: '123456' }, true)).toEqual([]);
    expect(checkNewShare({ ...ok, passcode: 'x'.repeat(65) }, true)).toEqual(['passcode']);
  });
  test('the body carries the passcode only when one was asked for', () => {
    const s = { records: ['Observation/1'], label: ' Lan ', expiresIn: 86_400, passcode: '2468', singleUse: true };
    expect(shareBody(s, true)).toEqual({ records: ['Observation/1'], label: 'Lan', expiresIn: 86_400, singleUse: true, passcode: '2468' });
    expect(shareBody(s, false)).not.toHaveProperty('passcode');
  });
  test('expiry runs from an hour to a year', () => {
    expect(expiryChoices[0]!.seconds).toBe(3600);
    expect(expiryChoices.at(-1)!.seconds).toBe(365 * 86_400);
  });
});

describe('access log', () => {
  test('events read defensively, with the cursor', () => {
    const log = readAccessLog({
      events: [
        { time: '2026-11-20T01:00:00Z', who: { kind: 'facility', name: 'Bach Mai Hospital' }, action: 'read', what: 'Observation (1 record)', why: 'treatment' },
        { time: '2026-11-20T02:00:00Z', who: { kind: 'resident', name: 'You' }, action: 'sign-in', what: '', outcome: 'refused' },
        { nope: true },
      ],
      next: 'older',
    })!;
    expect(log.events).toHaveLength(2);
    expect(log.events[0]!.refused).toBe(false);
    expect(log.events[1]!.why).toBe('');
    expect(log.events[1]!.refused).toBe(true);
    expect(log.next).toBe('older');
  });
  test('sentences in the server\'s words: a facility by its name, others in words', () => {
    const e = { time: 't', who: { kind: 'facility', name: 'Bach Mai Hospital' }, action: 'read', what: 'x', why: 'treatment', refused: false };
    expect(accessSentence(e)).toEqual({ who: null, action: 'log.action.read', withWhat: true });
    expect(accessSentence({ ...e, who: { kind: 'share-recipient', name: 'Dr Lan' }, action: 'share-opened', why: 'share For Dr Lan' }))
      .toEqual({ who: 'log.who.share', action: 'log.action.open', withWhat: true });
    expect(accessSentence({ ...e, who: { kind: 'share-recipient', name: 'Someone' }, action: 'read', why: 'document link' }).who).toBe('log.who.documentLink');
    expect(accessSentence({ ...e, who: { kind: 'break-glass', name: 'Cho Ray Hospital' } }))
      .toEqual({ who: null, action: 'log.action.emergency', withWhat: true });
    expect(accessSentence({ ...e, who: { kind: 'resident', name: 'You' }, action: 'sign-up' }))
      .toEqual({ who: 'log.who.resident', action: 'log.action.signUp', withWhat: false });
    expect(accessSentence({ ...e, who: { kind: 'operator', name: 'Healthbook operator' } }).who).toBe('log.who.system');
    expect(accessSentence({ ...e, action: 'teleport' }).action).toBe('log.action.other');
  });
  test('records counted by type, and reasons, are read from the server\'s words', () => {
    expect(recordCounts('Observation (3 records), Patient (1 record)')).toEqual([{ type: 'Observation', n: 3 }, { type: 'Patient', n: 1 }]);
    expect(recordCounts('')).toEqual([]);
    expect(recordCounts('something else')).toBeNull();
    expect(reasonOf('treatment')).toEqual({ key: 'log.reason.treatment', values: {} });
    expect(reasonOf('share For Dr Lan')).toEqual({ key: 'log.reason.share', values: { label: 'For Dr Lan' } });
    expect(reasonOf('emergency: unconscious')).toEqual({ key: 'log.reason.emergency', values: { reason: 'unconscious' } });
    expect(reasonOf('a new reason')).toBe('a new reason');
  });
});

describe('notifications', () => {
  test('read and e-mail checked', () => {
    expect(readNotifications({ onAccess: { sms: true }, email: 'a@b.vn' })).toEqual({ onAccess: { sms: true, email: false }, email: 'a@b.vn' });
    expect(readNotifications({})).toBeUndefined();
    expect(looksLikeEmail('mai@example.vn')).toBe(true);
    expect(looksLikeEmail('mai@example')).toBe(false);
  });
});
