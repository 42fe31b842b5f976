import { describe, expect, test } from 'vitest';
import { languages, translate, type Lang } from '../i18n/translate';
import { nounByKind, nounOf, nouns, periodKey, wordedKey, wordedMessages, type Worded } from './wording';

// Every kind the server issues (src/documents/request.cpp).
const kinds = [
  'mc-outpatient', 'mc-hospitalisation', 'mc-maternity', 'time-chit',
  'discharge-summary', 'lab-result', 'vaccination', 'referral',
] as const;

const say = (lang: Lang, message: Worded, kind?: string) => translate(lang, wordedKey(message, kind));
const screen = (lang: Lang, kind?: string) => ({
  title: say(lang, 'link.title', kind),
  submit: say(lang, 'link.dob.submit', kind),
  revoked: say(lang, 'cert.revoked', kind),
  superseded: say(lang, 'cert.superseded', kind),
  newer: say(lang, 'cert.supersededLink', kind),
});

describe('wording per kind of document', () => {
  test('every kind the server issues has its own wording, and nothing else', () => {
    expect(Object.keys(nounByKind).sort()).toEqual([...kinds].sort());
    for (const kind of kinds) expect(nounOf(kind), kind).not.toBe('document');
  });

  test('an unknown or not yet known kind reads "document"', () => {
    expect(nounOf(undefined)).toBe('document');
    expect(nounOf('x-ray')).toBe('document');
    expect(nounOf('toString')).toBe('document');
    expect(screen('en')).toEqual({
      title: 'Your health document',
      submit: 'Show document',
      revoked: 'This document has been revoked by the facility that issued it. It is no longer valid.',
      superseded: 'This document has been replaced by a newer one.',
      newer: 'Open the newer document',
    });
    expect(screen('vi', 'x-ray')).toEqual({
      title: 'Tài liệu y tế của bạn',
      submit: 'Xem tài liệu',
      revoked: 'Tài liệu này đã bị cơ sở cấp thu hồi và không còn hiệu lực.',
      superseded: 'Tài liệu này đã được thay thế bằng một tài liệu mới hơn.',
      newer: 'Mở tài liệu mới',
    });
  });

  test('medical certificates and time chits', () => {
    for (const kind of ['mc-outpatient', 'mc-hospitalisation', 'mc-maternity']) {
      expect(screen('en', kind)).toMatchObject({ title: 'Your medical certificate', submit: 'Show certificate' });
      expect(screen('vi', kind)).toMatchObject({ title: 'Giấy chứng nhận y tế của bạn', submit: 'Xem giấy chứng nhận' });
    }
    expect(screen('en', 'mc-outpatient').revoked).toMatch(/^This certificate has been revoked/);
    expect(screen('en', 'time-chit')).toMatchObject({ title: 'Your time chit', submit: 'Show time chit' });
    expect(screen('vi', 'time-chit').superseded).toBe('Giấy xác nhận này đã được thay thế bằng một giấy mới hơn.');
  });

  test('lab results are plural in English', () => {
    expect(screen('en', 'lab-result')).toEqual({
      title: 'Your laboratory results',
      submit: 'Show results',
      revoked: 'These results have been revoked by the facility that issued them. They are no longer valid.',
      superseded: 'These results have been replaced by newer ones.',
      newer: 'Open the newer results',
    });
    expect(say('en', 'link.dob.intro', 'lab-result')).toBe(
      'To see these results, enter the date of birth of the person they were issued to.');
    expect(screen('vi', 'lab-result')).toMatchObject({ title: 'Kết quả xét nghiệm của bạn', submit: 'Xem kết quả' });
  });

  test('vaccination records, referrals and discharge summaries', () => {
    expect(screen('en', 'vaccination')).toMatchObject({ title: 'Your vaccination record', submit: 'Show record' });
    expect(screen('en', 'referral').revoked).toMatch(/^This referral letter has been revoked/);
    expect(screen('en', 'discharge-summary').newer).toBe('Open the newer summary');
    expect(screen('vi', 'vaccination').revoked).toBe('Hồ sơ tiêm chủng này đã bị cơ sở cấp thu hồi và không còn hiệu lực.');
    expect(screen('vi', 'referral')).toMatchObject({ title: 'Giấy chuyển tuyến của bạn', submit: 'Xem giấy chuyển tuyến' });
    expect(screen('vi', 'discharge-summary')).toMatchObject({ title: 'Giấy ra viện của bạn', submit: 'Xem giấy ra viện' });
  });

  test('no wording for a specific kind says "certificate" unless it is one', () => {
    for (const lang of languages) {
      for (const noun of nouns.filter((n) => n !== 'certificate')) {
        for (const message of wordedMessages) {
          const text = translate(lang, `${message}.${noun}`);
          expect(text, `${lang}: ${message}.${noun}`).not.toMatch(/certificate|giấy chứng nhận/i);
        }
      }
    }
  });

  test('each noun reads differently from the others', () => {
    for (const lang of languages) {
      for (const message of wordedMessages) {
        const texts = nouns.map((noun) => translate(lang, `${message}.${noun}`));
        expect(new Set(texts).size, `${lang}: ${message}`).toBe(nouns.length);
      }
    }
  });
});

test('a time chit\'s period is its hours at the clinic, a certificate\'s its leave', () => {
  expect(translate('en', periodKey('time-chit'))).toBe('Time at the clinic');
  expect(translate('vi', periodKey('time-chit'))).toBe('Thời gian khám');
  for (const kind of ['mc-outpatient', 'mc-hospitalisation', 'mc-maternity', undefined]) expect(periodKey(kind)).toBe('doc.leave');
});
