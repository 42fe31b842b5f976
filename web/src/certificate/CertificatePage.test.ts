import { describe, expect, test } from 'vitest';
import type { Problem } from '../lib/api';
import { next } from './CertificatePage';

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
