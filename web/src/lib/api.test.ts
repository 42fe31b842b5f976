import { describe, expect, test } from 'vitest';
import { isBusy, readProblem } from './api';

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json', ...headers } });

describe('readProblem', () => {
  test('a busy answer keeps its title and retryAfter', async () => {
    const p = await readProblem(answer(429, { type: 'about:blank', status: 429, title: 'busy', detail: 'Another answer is being checked.', retryAfter: 1 }));
    expect(p).toEqual({ status: 429, title: 'busy', detail: 'Another answer is being checked.', retryAfter: 1 });
    expect(isBusy(p)).toBe(true);
  });
  test('a lock is not busy; Retry-After stands in for a missing retryAfter', async () => {
    const p = await readProblem(answer(429, { title: 'locked' }, { 'retry-after': '3600' }));
    expect(p).toEqual({ status: 429, title: 'locked', retryAfter: 3600 });
    expect(isBusy(p)).toBe(false);
  });
  test('a title that is not a string, or a body that is not JSON, is left out', async () => {
    expect(await readProblem(answer(429, { title: 7, retryAfter: 60 }))).toEqual({ status: 429, retryAfter: 60 });
    expect(await readProblem(answer(429, 'busy'))).toEqual({ status: 429 });
  });
});

describe('isBusy', () => {
  test('only a 429 titled busy', () => {
    expect(isBusy({ status: 429, title: 'busy' })).toBe(true);
    expect(isBusy({ status: 429, title: 'rate-limited' })).toBe(false);
    expect(isBusy({ status: 429 })).toBe(false);
    expect(isBusy({ status: 401, title: 'busy' })).toBe(false);
  });
});
