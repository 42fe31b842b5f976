import { expect, test } from 'vitest';
import { isResidentRoute, routeOf } from './router';

test('routes', () => {
  expect(routeOf('/verify')).toEqual({ name: 'verify' });
  expect(routeOf('/')).toEqual({ name: 'verify' });
  expect(routeOf('/c/AbCdEf0123456789_-xyz')).toEqual({ name: 'certificate', token: 'AbCdEf0123456789_-xyz', latest: false });
  expect(routeOf('/c/AbCdEf0123456789_-xyz', '?latest&lang=vi')).toEqual({ name: 'certificate', token: 'AbCdEf0123456789_-xyz', latest: true });
  expect(routeOf('/c/short')).toEqual({ name: 'notFound' });
  expect(routeOf('/c/has%20space')).toEqual({ name: 'notFound' });
  expect(routeOf('/c/a/b')).toEqual({ name: 'notFound' });
  expect(routeOf('/elsewhere')).toEqual({ name: 'notFound' });
});

test('resident routes', () => {
  expect(routeOf('/login')).toEqual({ name: 'login' });
  expect(routeOf('/signup/')).toEqual({ name: 'signup' });
  expect(routeOf('/reset')).toEqual({ name: 'reset' });
  expect(routeOf('/account')).toEqual({ name: 'account' });
  expect(routeOf('/book')).toEqual({ name: 'book' });
  expect(routeOf('/book/Observation/abc-1.2')).toEqual({ name: 'record', type: 'Observation', id: 'abc-1.2' });
  expect(routeOf('/book/observation/abc')).toEqual({ name: 'notFound' });
  expect(routeOf('/book/Observation/a%2Fb')).toEqual({ name: 'notFound' });
  expect(routeOf('/book/Observation')).toEqual({ name: 'notFound' });
  expect(routeOf('/documents')).toEqual({ name: 'documents' });
  expect(routeOf('/documents/')).toEqual({ name: 'documents' });
  expect(routeOf('/documents/MC-2026.001')).toEqual({ name: 'document', id: 'MC-2026.001' });
  expect(routeOf('/documents/a%2Fb')).toEqual({ name: 'notFound' });
  expect(routeOf('/documents/a/b')).toEqual({ name: 'notFound' });
  expect(routeOf('/documentsx')).toEqual({ name: 'notFound' });
  expect(isResidentRoute(routeOf('/documents/MC-1'))).toBe(true);
  expect(routeOf('/connections')).toEqual({ name: 'connections' });
  expect(routeOf('/shares')).toEqual({ name: 'shares' });
  expect(routeOf('/access-log')).toEqual({ name: 'accessLog' });
  expect(routeOf('/carers')).toEqual({ name: 'carers' });
  expect(routeOf('/s')).toEqual({ name: 'shareViewer' });
  expect(routeOf('/bookmarks')).toEqual({ name: 'notFound' });
  expect(isResidentRoute(routeOf('/book/Condition/x1'))).toBe(true);
  expect(isResidentRoute(routeOf('/login'))).toBe(false);
  expect(isResidentRoute(routeOf('/s'))).toBe(false);
});
