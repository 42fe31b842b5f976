import { expect, test } from 'vitest';
import { routeOf } from './router';

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
