import { describe, expect, test } from 'vitest';
import { cleanCardText, humanName, isVerifyAnswer, kindLabel, reasonSentence, summarizeBundle } from './verdict';
import { translate } from '../i18n/translate';
import { safeLinkPath, svgDataUrl } from './api';

const en = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('en', k, p);
const vi = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('vi', k, p);

// Every code of src/documents/reason.cpp (reason_name) that a verdict can carry.
const serverReasons = `trailing_characters unsupported_input malformed_file wrong_file_extension multiple_credentials
  bad_qr_header malformed_numeric bad_chunk_header missing_chunk chunk_too_small jws_too_long malformed_jws
  missing_header_field unsupported_algorithm der_signature bad_signature not_deflated zlib_not_raw_deflate
  inflate_failed utf8_bom malformed_payload bad_issuer_url unknown_issuer unknown_kid kid_mismatch x5c_malformed
  x5c_key_mismatch x5c_san_mismatch x5c_not_valid_at_nbf x5c_untrusted missing_claim
  nbf_milliseconds exp_milliseconds not_yet_valid expired exp_before_nbf vc_type_missing vc_type_unknown
  vc_type_inconsistent bad_fhir_version fhir_invalid fhir_empty_value fhir_not_minified fhir_bad_meta
  fhir_bad_reference fhir_status_not_completed revoked crl_outdated not_in_transparency_log`.split(/\s+/);

describe('reason sentences', () => {
  test('every server reason code has its own sentence in both languages', () => {
    for (const code of serverReasons) {
      expect(reasonSentence(code, en), code).not.toBe(en('reason.unknown', { code }));
      expect(reasonSentence(code, vi), code).not.toBe(vi('reason.unknown', { code }));
    }
    expect(new Set(serverReasons.map((c) => reasonSentence(c, en))).size).toBe(serverReasons.length);
  });

  test('a code we do not know still names the code', () => {
    expect(reasonSentence('quantum_flux', en)).toBe('The card could not be verified (code: quantum_flux).');
    expect(reasonSentence('quantum_flux', vi)).toBe('Không xác minh được thẻ (mã: quantum_flux).');
  });

  test('the tampering reason says what happened', () => {
    expect(reasonSentence('bad_signature', en)).toMatch(/changed after it was issued/);
  });
});

test('kind labels come from the catalog, else the card, else the code', () => {
  expect(kindLabel('time-chit', 'x', vi)).toBe('Giấy xác nhận thời gian khám');
  expect(kindLabel('mc-outpatient', undefined, en)).toBe('Medical certificate: outpatient sick leave');
  expect(kindLabel('new-kind', 'From the card', en)).toBe('From the card');
  expect(kindLabel('new-kind', undefined, en)).toBe('new-kind');
});

const bundle = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    { fullUrl: 'resource:0', resource: { resourceType: 'Patient', name: [{ family: 'Nguyen', given: ['Van', 'An'] }], birthDate: '1985-03-27' } },
    {
      fullUrl: 'resource:1',
      resource: {
        resourceType: 'DocumentReference',
        type: { coding: [{ system: 'urn:healthbook:document-kind', code: 'mc-outpatient' }] },
        date: '2026-11-20T01:02:03Z',
        author: [{ display: 'Dr Tran Thi B' }],
        custodian: { display: 'Hoan Kiem District Health Centre' },
        context: { period: { start: '2026-11-20', end: '2026-11-22' } },
        content: [{ attachment: { contentType: 'text/plain', title: 'Medical certificate: outpatient sick leave' } }],
      },
    },
  ],
};

describe('summarizeBundle', () => {
  test('reads the patient and the document reference', () => {
    expect(summarizeBundle(bundle)).toEqual({
      patientName: 'Van An Nguyen',
      birthDate: '1985-03-27',
      kind: 'mc-outpatient',
      label: 'Medical certificate: outpatient sick leave',
      leaveFrom: '2026-11-20',
      leaveTo: '2026-11-22',
      doctor: 'Dr Tran Thi B',
      facility: 'Hoan Kiem District Health Centre',
      issued: '2026-11-20T01:02:03Z',
    });
  });

  test('finds resources in any order', () => {
    const swapped = { ...bundle, entry: [...bundle.entry].reverse() };
    expect(summarizeBundle(swapped).patientName).toBe('Van An Nguyen');
  });

  test('survives anything a card might hold', () => {
    for (const junk of [null, 3, 'x', [], {}, { entry: 'no' }, { entry: [null, { resource: 5 }, { resource: { resourceType: 'Patient', name: 'x' } }] }]) {
      expect(() => summarizeBundle(junk)).not.toThrow();
    }
    expect(summarizeBundle({ entry: [{ resource: { resourceType: 'Patient', name: [{ given: [7], family: '' }] } }] })).toEqual({
      patientName: undefined,
      birthDate: undefined,
    });
  });

  test('humanName prefers text', () => {
    expect(humanName({ text: 'Ms A', family: 'B' })).toBe('Ms A');
    expect(humanName({ family: 'Lee' })).toBe('Lee');
  });
});

test('isVerifyAnswer accepts the four outcomes only', () => {
  for (const outcome of ['valid', 'invalid', 'revoked', 'superseded']) expect(isVerifyAnswer({ outcome })).toBe(true);
  for (const x of [null, {}, { outcome: 'ok' }, 'valid']) expect(isVerifyAnswer(x)).toBe(false);
});

test('pasted text loses the blank space around it', () => {
  expect(cleanCardText('\n  shc:/5676\r\n')).toBe('shc:/5676');
});

describe('safety of server-provided values', () => {
  test('the QR SVG becomes an image URL, with nothing that could end the attribute', () => {
    const url = svgDataUrl('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>"\'</svg>');
    expect(url.startsWith('data:image/svg+xml;charset=utf-8,')).toBe(true);
    expect(url).not.toMatch(/[<>"' ]/);
  });

  test('only a same-site certificate path becomes a link', () => {
    expect(safeLinkPath('/c/AbC_-123')).toBe('/c/AbC_-123');
    expect(safeLinkPath('/c/AbC_-123?latest')).toBe('/c/AbC_-123?latest');
    for (const bad of ['javascript:alert(1)', 'https://evil.example/c/x', '//evil.example/c/x', '/c/../admin', '/c/x y', '/c/x?next=//evil', undefined]) {
      expect(safeLinkPath(bad), String(bad)).toBeUndefined();
    }
  });
});
