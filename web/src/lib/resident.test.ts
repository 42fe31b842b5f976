import { describe, expect, test } from 'vitest';
import { checkPassword, classify, cleanCode, isInAppPath, isSixDigits, loginPath, oidcErrorKey, passwordOk } from './resident';

describe('classify', () => {
  test('session refusals send the person to log in; wrong codes and credentials do not', () => {
    expect(classify({ status: 401, title: 'session-expired' })).toEqual({ kind: 'session', expired: true });
    expect(classify({ status: 401, title: 'not-signed-in' })).toEqual({ kind: 'session', expired: false });
    expect(classify({ status: 401, title: 'second-factor-required' })).toEqual({ kind: 'session', expired: false });
    expect(classify({ status: 401, title: 'wrong-code', remainingAttempts: 3 })).toEqual({ kind: 'wrong', remaining: 3 });
    expect(classify({ status: 401, title: 'wrong-credentials' })).toEqual({ kind: 'wrong' });
    expect(classify({ status: 401, title: 'start-again' })).toEqual({ kind: 'startAgain' });
  });
  test('429 carries Retry-After (60 s when missing); 422 its field errors', () => {
    expect(classify({ status: 429, retryAfter: 900 })).toEqual({ kind: 'throttled', retryAfter: 900 });
    expect(classify({ status: 429 })).toEqual({ kind: 'throttled', retryAfter: 60 });
    expect(classify({ status: 429, title: 'locked', retryAfter: 900 })).toEqual({ kind: 'throttled', retryAfter: 900 });
    expect(classify({ status: 422, detail: 'too weak', errors: [{ path: 'password', message: 'at least 10 characters' }] }))
      .toEqual({ kind: 'invalid', fields: [{ path: 'password', message: 'at least 10 characters' }], detail: 'too weak' });
    expect(classify({ status: 410 })).toEqual({ kind: 'startAgain' });
    expect(classify({ status: 409 })).toEqual({ kind: 'conflict' });
    expect(classify({ status: 403 })).toEqual({ kind: 'forbidden' });
    expect(classify({ status: 503 })).toEqual({ kind: 'other', status: 503 });
  });
  test('a 429 titled busy is another attempt being checked at that moment, not a wait', () => {
    expect(classify({ status: 429, title: 'busy', retryAfter: 1 })).toEqual({ kind: 'busy' });
    expect(classify({ status: 429, title: 'busy' })).toEqual({ kind: 'busy' });
    // Only a 429 says busy.
    expect(classify({ status: 401, title: 'busy' })).toEqual({ kind: 'wrong' });
  });
});

describe('passwords follow the server rules', () => {
  test('length in characters, at least two kinds, not the national id', () => {
    expect(checkPassword('short1A')).toMatchObject({ length: false, mix: true });
    expect(passwordOk(checkPassword('correct horse 42'))).toBe(true);
    expect(checkPassword('abcdefghijkl').mix).toBe(false);
    expect(checkPassword('ABCDEFGHIJ12').mix).toBe(true);
    // Non-ASCII letters count as "other" and as one character each.
    expect(checkPassword('mậtkhẩuđẹp')).toMatchObject({ length: true, mix: true });
    expect(checkPassword('xx079201001234yy', '079201001234').notId).toBe(false);
    expect(checkPassword('xx079201001234yy', '').notId).toBe(true);
    expect(checkPassword('a1'.repeat(129)).maxBytes).toBe(false);
  });
});

describe('codes and paths', () => {
  test('a typed code loses spaces and hyphens', () => {
    expect(cleanCode(' 123 456 ')).toBe('123456');
    expect(cleanCode('123-456')).toBe('123456');
    expect(isSixDigits('123456')).toBe(true);
    expect(isSixDigits('12345a')).toBe(false);
  });
  test('only same-site paths come back after login', () => {
    expect(loginPath(true, '/book?kind=result')).toBe('/login?expired=1&next=%2Fbook%3Fkind%3Dresult');
    expect(loginPath(false, '/account')).toBe('/login?next=%2Faccount');
    expect(loginPath(true, '/login')).toBe('/login?expired=1');
    expect(loginPath(false, '/reset')).toBe('/login');
    expect(isInAppPath('//evil.example/x')).toBe(false);
    expect(isInAppPath('javascript:alert(1)')).toBe(false);
    expect(isInAppPath('https://evil.example')).toBe(false);
    expect(isInAppPath('/\\evil.example')).toBe(false);
    expect(isInAppPath('/book/Observation/a1')).toBe(true);
  });
});

describe('eID login errors', () => {
  test('the server\'s two error codes have messages; anything else shows none', () => {
    expect(oidcErrorKey('oidc-no-record')).toBe('login.eidNoRecord');
    expect(oidcErrorKey('oidc-failed')).toBe('login.eidFailed');
    expect(oidcErrorKey(null)).toBeNull();
    expect(oidcErrorKey('<script>')).toBeNull();
  });
});
