import { describe, expect, test } from 'vitest';
import type { MessageKey } from '../i18n/en';
import { translate, type Params } from '../i18n/translate';
import { formatTime } from '../lib/dates';
import { refusedText } from './ShareViewerPage';

const t = (key: MessageKey, params?: Params) => translate('en', key, params);
const now = new Date('2026-11-20T10:00:00Z');

describe('a refused manifest request', () => {
  test('busy says another passcode is being checked, not that the link is locked', () => {
    const text = refusedText({ ok: false, status: 429, title: 'busy', retryAfter: 1 }, t, now);
    expect(text).toBe('Another passcode for this link is being checked right now. Try again in a moment.');
  });
  test('a lock names the time to come back', () => {
    expect(refusedText({ ok: false, status: 429, title: 'locked', retryAfter: 3600 }, t, now))
      .toBe(`Too many wrong passcodes. Try again at ${formatTime(new Date('2026-11-20T11:00:00Z'))}.`);
  });
  // A SMART Health Link's remainingAttempts are the tries left before the link is disabled; the
  // hour's lock comes sooner, and is told when it holds (429, above).
  test('a wrong passcode, with the tries left before the link stops working', () => {
    expect(refusedText({ ok: false, status: 401, remainingAttempts: 2 }, t, now))
      .toBe('That passcode is not right. 2 tries left before the link stops working.');
  });
});
