import { describe, expect, test } from 'vitest';
import type { MessageKey } from '../i18n/en';
import { translate, type Params } from '../i18n/translate';
import { formatTime } from '../lib/dates';
import { classify } from '../lib/resident';
import { refusalText } from './common';

const t = (key: MessageKey, params?: Params) => translate('en', key, params);
const now = new Date('2026-11-20T10:00:00Z');

describe('refusalText', () => {
  test('a busy 429 says to try again in a moment, with no time and no lock', () => {
    const text = refusalText(classify({ status: 429, title: 'busy', retryAfter: 1 }), t, now);
    expect(text).toBe(t('resident.busy'));
    expect(text).not.toMatch(/minute|Too many/);
  });
  test('a lock of hours says the hours, not a clock time that may be tomorrow', () => {
    expect(refusalText(classify({ status: 429, title: 'locked', retryAfter: 86400 }), t, now))
      .toBe('Too many attempts. Try again in about 24 hours.');
    expect(refusalText(classify({ status: 429, title: 'locked', retryAfter: 5400 }), t, now))
      .toMatch(/in about 90 minutes/);
  });
  test('any other 429 still names the time to come back', () => {
    const at = new Date('2026-11-20T10:15:00Z');
    expect(refusalText(classify({ status: 429, title: 'locked', retryAfter: 900 }), t, now))
      .toBe(`Too many attempts. Try again at ${formatTime(at)} (in about 15 minutes).`);
  });
});
