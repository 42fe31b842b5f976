import { describe, expect, test } from 'vitest';
import type { MessageKey } from '../i18n/en';
import { translate, type Params } from '../i18n/translate';
import type { Problem } from '../lib/api';
import { next, waitWords } from './CertificatePage';

const refused = (problem: Problem) => ({ ok: false as const, problem });

describe('what the certificate page shows after an answer', () => {
  test('a busy answer keeps the date-of-birth form up, saying so', () => {
    expect(next(refused({ status: 429, title: 'busy', retryAfter: 1 }), true)).toEqual({ step: 'locked', refused: 'busy' });
  });
  test('a wrong date keeps the form up with the tries left', () => {
    expect(next(refused({ status: 401, remainingAttempts: 3 }), true)).toEqual({ step: 'locked', refused: 'wrong', remaining: 3 });
    // Opening the link before any date is given is no refusal to show.
    expect(next(refused({ status: 401, remainingAttempts: 5 }), false)).toMatchObject({ step: 'locked', refused: undefined });
  });
  test('a lock still shows the wait', () => {
    const state = next(refused({ status: 429, title: 'locked', retryAfter: 3600 }), true);
    expect(state).toMatchObject({ step: 'throttled', minutes: 60 });
    expect(next(refused({ status: 429 }), true)).toMatchObject({ step: 'throttled', minutes: 1 });
  });
});

describe('the words for a wait', () => {
  const en = (key: MessageKey, params?: Params) => translate('en', key, params);
  const vi = (key: MessageKey, params?: Params) => translate('vi', key, params);
  const at = new Date('2026-11-20T07:05:00Z');
  test('true of both waits the server sends: this link\'s lock, and the network address\'s limit', () => {
    // The link's own lock (an hour) and the address's (two minutes) come as the same 429.
    for (const body of [{ retryAfter: 3600, detail: 'Too many wrong answers. Try again later.' },
      { retryAfter: 120, detail: 'Too many wrong answers from this network. Try again later.' }]) {
      const state = next(refused({ status: 429, title: 'locked', ...body }), true);
      if (state.step !== 'throttled') throw new Error(state.step);
      const words = waitWords(state, en);
      expect(words).not.toMatch(/link is locked/);
      expect(words).toMatch(/^Too many wrong dates of birth have been entered, for this link or from your network\. Try again at \d\d:\d\d/);
    }
    expect(waitWords({ at, minutes: 60 }, en, 'Asia/Ho_Chi_Minh')).toBe(
      'Too many wrong dates of birth have been entered, for this link or from your network. Try again at 14:05 (in about 60 minutes).');
    expect(waitWords({ at, minutes: 2 }, vi, 'Asia/Ho_Chi_Minh')).toBe(
      'Đã nhập sai ngày sinh quá nhiều lần, cho đường liên kết này hoặc từ mạng của bạn. Hãy thử lại lúc 14:05 (khoảng 2 phút nữa).');
  });
  test('the server\'s limit picks the words: this link\'s lock, or the network\'s', () => {
    const link = next(refused({ status: 429, title: 'locked', retryAfter: 3600, limit: 'link' }), true);
    const network = next(refused({ status: 429, title: 'locked', retryAfter: 120, limit: 'address' }), true);
    if (link.step !== 'throttled' || network.step !== 'throttled') throw new Error('not a wait');
    expect(waitWords(link, en)).toMatch(/^This link is locked after 5 wrong dates of birth\. Try again at \d\d:\d\d \(in about 60 minutes\)\.$/);
    expect(waitWords(network, en)).toMatch(/^Too many wrong dates of birth have been entered from your network\. Try again at \d\d:\d\d \(in about 2 minutes\)\.$/);
    expect(waitWords(network, en)).not.toMatch(/link/);
    expect(waitWords({ at, minutes: 1, limit: 'link' }, vi, 'Asia/Ho_Chi_Minh')).toBe(
      'Đường liên kết này đã bị khóa sau 5 lần nhập sai ngày sinh. Hãy thử lại lúc 14:05 (khoảng 1 phút nữa).');
  });
  test('one minute is one minute', () => {
    expect(waitWords({ at, minutes: 1 }, en, 'Asia/Ho_Chi_Minh')).toMatch(/\(in about 1 minute\)\.$/);
  });
});
