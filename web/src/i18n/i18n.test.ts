import { describe, expect, test } from 'vitest';
import { en } from './en';
import { catalogs, detectLang, languages, translate } from './translate';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('catalogs', () => {
  for (const lang of languages) {
    test(`${lang} has every English key, non-empty, with the same placeholders`, () => {
      const catalog = catalogs[lang];
      for (const key of Object.keys(en) as (keyof typeof en)[]) {
        expect(catalog[key], `${lang}: ${key}`).toBeTypeOf('string');
        expect(catalog[key].trim(), `${lang}: ${key}`).not.toBe('');
        expect(placeholders(catalog[key]), `${lang}: ${key}`).toEqual(placeholders(en[key]));
      }
      expect(Object.keys(catalog).sort()).toEqual(Object.keys(en).sort());
    });
  }

  test('no message holds markup', () => {
    for (const lang of languages) {
      for (const [key, text] of Object.entries(catalogs[lang])) expect(text, `${lang}: ${key}`).not.toMatch(/[<>]/);
    }
  });

  test('Vietnamese is really translated, not a copy', () => {
    // A message of placeholders and punctuation alone ("{who} {action} {what}.") has no words.
    const words = (s: string) => /\p{L}/u.test(s.replace(/\{\w+\}/g, ''));
    const same = Object.keys(en).filter((k) => catalogs.vi[k as keyof typeof en] === en[k as keyof typeof en] && words(en[k as keyof typeof en]));
    expect(same).toEqual(['app.name']);
  });
});

describe('detectLang', () => {
  test('?lang= wins over storage and the browser', () => {
    expect(detectLang('?lang=vi', 'en', ['en-US'])).toBe('vi');
    expect(detectLang('?x=1&lang=EN', 'vi', ['vi'])).toBe('en');
  });
  test('an unknown ?lang= falls back to storage, then the browser', () => {
    expect(detectLang('?lang=fr', 'vi', ['en'])).toBe('vi');
    expect(detectLang('?lang=fr', null, ['fr-FR', 'vi-VN', 'en'])).toBe('vi');
  });
  test('English when nothing matches', () => {
    expect(detectLang('', null, ['de-DE'])).toBe('en');
    expect(detectLang('', 'xx', [])).toBe('en');
  });
});

describe('translate', () => {
  test('fills in placeholders and leaves unknown ones visible', () => {
    expect(translate('en', 'link.dob.remaining', { n: 3 })).toBe('3 attempts left before this link is locked.');
    expect(translate('vi', 'link.dob.remaining', { n: 2 })).toBe('Còn 2 lần thử trước khi đường liên kết bị khóa.');
    expect(translate('en', 'link.dob.remaining')).toContain('{n}');
  });
  test('a value holding braces is not filled in again', () => {
    expect(translate('en', 'reason.unknown', { code: '{code}' })).toBe('The card could not be verified (code: {code}).');
  });
});
