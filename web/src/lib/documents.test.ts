import { afterEach, describe, expect, test, vi } from 'vitest';
import { translate } from '../i18n/translate';
import type { DocumentView } from './api';
import {
  canReopen, diagnosisText, documentPath, linkDiagnosis, linkWords, readLinks, readMyDocuments, readNewLink, readView,
  setDiagnosisShown,
} from './documents';

const doc = (over: Record<string, unknown> = {}) => ({
  id: 'MC-1', kind: 'mc-outpatient', label: 'Medical certificate', status: 'active', issued: '2026-11-20T02:00:00Z',
  facility: { code: '01001', name: 'Bach Mai Hospital' }, links: { count: 1, state: 'open' }, ...over,
});

describe('readMyDocuments', () => {
  test('reads the documented shape, newest first', () => {
    const docs = readMyDocuments({ documents: [doc(), doc({ id: 'MC-2', issued: '2026-11-21T02:00:00Z', status: 'superseded', supersededBy: 'MC-3' })] });
    expect(docs?.map((d) => d.id)).toEqual(['MC-2', 'MC-1']);
    expect(docs?.[0]).toMatchObject({ status: 'superseded', supersededBy: 'MC-3', facility: { name: 'Bach Mai Hospital' } });
    expect(docs?.[1]?.links).toEqual({ state: 'open', count: 1 });
  });

  test('leaves out entries of another shape, and is undefined for a body that is not a list', () => {
    const docs = readMyDocuments({ documents: [doc({ status: 'lost' }), doc({ id: 7 }), doc({ links: { state: 'ajar' } }), doc()] });
    expect(docs?.map((d) => d.id)).toEqual(['MC-1']);
    expect(readMyDocuments({ documents: {} })).toBeUndefined();
    expect(readMyDocuments(null)).toBeUndefined();
  });

  test('a replacement id that could not be a path of this site is dropped', () => {
    const docs = readMyDocuments({ documents: [doc({ status: 'superseded', supersededBy: '../../account' })] });
    expect(docs?.[0]?.supersededBy).toBeUndefined();
  });
});

describe('links', () => {
  test('the three states', () => {
    expect(readLinks({ count: 2, state: 'locked', lockedUntil: '2026-11-20T03:00:00Z' })).toEqual({ state: 'locked', count: 2, lockedUntil: '2026-11-20T03:00:00Z' });
    expect(readLinks({ count: 2, state: 'locked', lockedUntil: 'soon' })).toEqual({ state: 'locked', count: 2 });
    expect(readLinks({ count: 1, state: 'disabled' })).toEqual({ state: 'disabled', count: 1 });
    expect(readLinks({ state: 'unknown' })).toBeUndefined();
  });

  test('words for each, and only a locked or disabled link can be reopened', () => {
    expect(linkWords({ state: 'open', count: 0 })).toBe('none');
    expect(linkWords({ state: 'open', count: 1 })).toBe('open');
    expect(linkWords({ state: 'locked', count: 1, lockedUntil: '2026-11-20T03:00:00Z' })).toBe('lockedUntil');
    expect(linkWords({ state: 'locked', count: 1 })).toBe('locked');
    expect(linkWords({ state: 'disabled', count: 1 })).toBe('disabled');
    expect(canReopen({ state: 'open', count: 1 })).toBe(false);
    expect(canReopen({ state: 'locked', count: 1 })).toBe(true);
    expect(canReopen({ state: 'disabled', count: 1 })).toBe(true);
  });
});

test('a new link is taken only when it is a document link', () => {
  expect(readNewLink({ link: 'https://healthbook.example/c/AbCdEf0123456789_-' })).toBe('https://healthbook.example/c/AbCdEf0123456789_-');
  expect(readNewLink({ link: 'http://127.0.0.1:8080/c/AbCdEf0123456789' })).toBe('http://127.0.0.1:8080/c/AbCdEf0123456789');
  expect(readNewLink({ link: 'javascript:alert(1)//c/AbCdEf0123456789' })).toBeUndefined();
  expect(readNewLink({ link: 'https://healthbook.example/account' })).toBeUndefined();
  expect(readNewLink({ link: 'https://healthbook.example/c/AbCdEf0123456789?next=//evil' })).toBeUndefined();
  expect(readNewLink({ link: 'not a url' })).toBeUndefined();
  expect(readNewLink({})).toBeUndefined();
});

test('documentPath', () => {
  expect(documentPath('MC-1')).toBe('/documents/MC-1');
});

describe('the diagnosis', () => {
  const en = (k: Parameters<typeof translate>[1]) => translate('en', k);
  const linkView = (over: Partial<DocumentView>) => ({ ...doc(), patient: { name: 'An', maskedId: '0***5' }, doctor: 'Dr B', qr: '', ...over }) as unknown as DocumentView;

  test('the link page shows it only when the patient chose so, and otherwise never whether there is one', () => {
    expect(linkDiagnosis(linkView({ showDiagnosis: true, diagnosis: { text: 'Influenza', code: 'J11' } }), en)).toBe('Influenza (J11)');
    expect(linkDiagnosis(linkView({ showDiagnosis: true }), en)).toBe('This document has no diagnosis.');
    // Even if a diagnosis came along with showDiagnosis false, the row says only "Not shown".
    expect(linkDiagnosis(linkView({ showDiagnosis: false, diagnosis: { text: 'Influenza' } }), en)).toBe('Not shown');
    expect(linkDiagnosis(linkView({ showDiagnosis: false }), en)).toBe('Not shown');
    expect(diagnosisText({ text: 'Acute bronchitis' })).toBe('Acute bronchitis');
  });

  test("the patient's own view: showDiagnosis is the links' choice (absent: false), the diagnosis is theirs", () => {
    const own = { ...doc(), patient: { name: 'An' }, diagnosis: { text: 'Acute bronchitis', code: 'J20.9', system: 'x' } };
    expect(readView(own)).toMatchObject({ showDiagnosis: false, diagnosis: { text: 'Acute bronchitis', code: 'J20.9' } });
    expect(readView({ ...own, showDiagnosis: true })?.showDiagnosis).toBe(true);
    expect(readView({ ...own, showDiagnosis: 'yes' })?.showDiagnosis).toBe(false);
    expect(readView({ ...own, diagnosis: { code: 'J20.9' } })?.diagnosis).toBeUndefined();
    expect(readView({ ...own, diagnosis: 'J20.9' })?.diagnosis).toBeUndefined();
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  test('the choice is a POST to the document\'s preferences, with the CSRF header, answered with the document', async () => {
    const answer = { ...doc(), patient: { name: 'An' }, showDiagnosis: true, diagnosis: { text: 'Influenza' } };
    const fetch = vi.fn(async () => new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } }));
    vi.stubGlobal('fetch', fetch);
    const res = await setDiagnosisShown('MC 1', true);
    expect(res.ok && res.value.showDiagnosis).toBe(true);
    const [path, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe('/api/v1/me/documents/MC%201/preferences');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
    expect((init.headers as Record<string, string>)['x-healthbook-csrf']).toBe('1');
    expect(JSON.parse(init.body as string)).toEqual({ showDiagnosis: true });
  });

  test('a refusal stays a refusal', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"status":403,"title":"forbidden"}', { status: 403 })));
    const res = await setDiagnosisShown('MC-1', false);
    expect(res.ok ? 0 : res.problem.status).toBe(403);
  });
});
