import { describe, expect, test } from 'vitest';
import { cleanCardText, humanName, isVerifyAnswer, kindLabel, otherFindings, reasonSentence, summarizeBundle, trustsIssuer } from './verdict';
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

describe('otherFindings', () => {
  test('lists every warning, and the errors other than the verdict\'s own reason', () => {
    const f = otherFindings({
      outcome: 'invalid',
      reason: 'bad_signature',
      errors: [
        { reason: 'bad_signature', message: 'the signature does not verify' },
        { reason: 'not_in_transparency_log', message: 'not in the log' },
      ],
      warnings: [{ reason: 'vc_type_unknown', message: 'unknown type' }],
    });
    expect(f.errors.map((e) => e.reason)).toEqual(['not_in_transparency_log']);
    expect(f.warnings.map((w) => w.reason)).toEqual(['vc_type_unknown']);
  });
  test('a valid card with a warning keeps it', () => {
    const f = otherFindings({ outcome: 'valid', warnings: [{ reason: 'crl_outdated', message: 'stale list' }] });
    expect(f.warnings).toHaveLength(1);
    expect(f.errors).toHaveLength(0);
  });
  test('drops entries that are not findings instead of showing them half', () => {
    const answer = JSON.parse('{"outcome":"valid","warnings":[{"reason":1},"x",null,{"reason":"a","message":"b"}],"errors":"no"}');
    const f = otherFindings(answer);
    expect(f.warnings).toEqual([{ reason: 'a', message: 'b' }]);
    expect(f.errors).toEqual([]);
  });
});

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

// Cards as the server's card_bundle builds them (src/services/documents.cpp), one per kind beyond
// leave: the Patient, the DocumentReference, then the kind's resources (src/documents/request.cpp).
const patient0 = { fullUrl: 'resource:0', resource: { resourceType: 'Patient', name: [{ family: 'Nguyen', given: ['Van An'] }], birthDate: '1985-03-27' } };
const docref = (kind: string, extra: Record<string, unknown> = {}) => ({
  fullUrl: 'resource:1',
  resource: {
    resourceType: 'DocumentReference', status: 'current',
    type: { coding: [{ system: 'urn:healthbook:document-kind', code: kind }] },
    subject: { reference: 'resource:0' }, date: '2026-11-20T01:02:03Z',
    author: [{ display: 'Dr Tran Thi Binh' }], custodian: { display: 'Bach Mai Hospital' },
    content: [{ attachment: { contentType: 'text/plain', title: 'x' } }],
    ...extra,
  },
});
const card = (kind: string, resources: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({
  resourceType: 'Bundle', type: 'collection',
  entry: [patient0, docref(kind, extra), ...resources.map((resource, i) => ({ fullUrl: `resource:${i + 2}`, resource }))],
});
const loinc = 'http://loinc.org';
const observation = (code: Record<string, string>, value: Record<string, unknown>) => ({
  resourceType: 'Observation', status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
  code: { coding: [code] }, effectiveDateTime: '2026-11-19', subject: { reference: 'resource:0' }, ...value,
});
const range = (unit: string, low?: number, high?: number, flag = 'N') => ({
  referenceRange: [{ ...(low !== undefined ? { low: { value: low, unit } } : {}), ...(high !== undefined ? { high: { value: high, unit } } : {}) }],
  interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: flag }] }],
});

describe('summarizeBundle: the content of each kind', () => {
  test('lab results: each with its value, unit, range and flag; a result without a name keeps its code', () => {
    const c = summarizeBundle(card('lab-result', [
      observation({ system: loinc, code: '2345-7', display: 'Glucose' }, { valueQuantity: { value: 7.9, unit: 'mmol/L' }, ...range('mmol/L', 3.9, 6.4, 'H') }),
      observation({ system: loinc, code: '2823-3', display: 'Potassium' }, { valueQuantity: { value: 3.1, unit: 'mmol/L' }, ...range('mmol/L', 3.5, undefined, 'L') }),
      observation({ system: loinc, code: '7917-8', display: 'HIV antibody' }, { valueString: 'Negative' }),
      observation({ system: loinc, code: '718-7' }, { valueQuantity: { value: 135, unit: 'g/L' } }),
    ]));
    expect(c.kind).toBe('lab-result');
    expect(c.leaveFrom).toBeUndefined();
    expect(c.details).toEqual({
      family: 'lab',
      results: [
        { name: 'Glucose', effective: '2026-11-19', value: 7.9, unit: 'mmol/L', low: 3.9, high: 6.4, flag: 'H' },
        { name: 'Potassium', effective: '2026-11-19', value: 3.1, unit: 'mmol/L', low: 3.5, flag: 'L' },
        { name: 'HIV antibody', effective: '2026-11-19', value: 'Negative' },
        { name: '', code: '718-7', system: loinc, effective: '2026-11-19', value: 135, unit: 'g/L' },
      ],
    });
  });

  test('a vaccination: vaccine, date, lot and dose', () => {
    const c = summarizeBundle(card('vaccination', [{
      resourceType: 'Immunization', status: 'completed',
      vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '08', display: 'Hepatitis B (paediatric)' }] },
      occurrenceDateTime: '2026-11-18', lotNumber: 'HB-2026-77', protocolApplied: [{ doseNumberPositiveInt: 2 }],
      patient: { reference: 'resource:0' }, performer: [{ actor: { display: 'Bach Mai Hospital' } }],
    }]));
    expect(c.details).toEqual({ family: 'vaccination', vaccine: 'Hepatitis B (paediatric)', date: '2026-11-18', lotNumber: 'HB-2026-77', doseNumber: 2 });
  });

  test('a minified card (codings without display, as SMART Health Cards sends them): the codes, with their system', () => {
    const lab = summarizeBundle(card('lab-result', [
      observation({ system: loinc, code: '2345-7' }, { valueQuantity: { value: 7.9, unit: 'mmol/L' }, ...range('mmol/L', 3.9, 6.4, 'H') }),
    ]));
    expect(lab.details).toEqual({
      family: 'lab', results: [{ name: '', code: '2345-7', system: loinc, effective: '2026-11-19', value: 7.9, unit: 'mmol/L', low: 3.9, high: 6.4, flag: 'H' }],
    });
    const vaccination = summarizeBundle(card('vaccination', [{
      resourceType: 'Immunization', status: 'completed', vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '08' }] },
      occurrenceDateTime: '2026-11-18', patient: { reference: 'resource:0' },
    }]));
    expect(vaccination.details).toEqual({ family: 'vaccination', vaccine: 'CVX 08', date: '2026-11-18', lotNumber: undefined, doseNumber: undefined });
  });

  test('a referral: to whom, why and how soon', () => {
    const c = summarizeBundle(card('referral', [{
      resourceType: 'ServiceRequest', status: 'active', intent: 'order', priority: 'urgent',
      code: { coding: [{ system: 'urn:healthbook:document-kind', code: 'referral' }] },
      performer: [{ display: 'Cardiology, Bach Mai Hospital' }], note: [{ text: 'Chest pain on exertion' }],
      subject: { reference: 'resource:0' }, authoredOn: '2026-11-20T01:02:03Z', requester: { display: 'Dr Tran Thi Binh' },
    }]));
    expect(c.details).toEqual({ family: 'referral', to: 'Cardiology, Bach Mai Hospital', reason: 'Chest pain on exertion', priority: 'urgent' });
  });

  test('a discharge summary: admission and discharge dates (not leave) and the summary text', () => {
    const text = 'Admitted with pneumonia. Treated with antibiotics; discharged home, đi lại được.';
    const data = btoa(String.fromCharCode(...new TextEncoder().encode(text)));
    const c = summarizeBundle(card('discharge-summary', [], {
      context: { period: { start: '2026-11-10', end: '2026-11-17' } },
      content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data } }],
    }));
    expect(c.leaveFrom).toBeUndefined();
    expect(c.leaveTo).toBeUndefined();
    expect(c.details).toEqual({ family: 'discharge', from: '2026-11-10', to: '2026-11-17', summary: text });
  });

  test('a leave certificate has no details, and broken content is left out', () => {
    expect(summarizeBundle(bundle).details).toBeUndefined();
    expect(summarizeBundle(card('lab-result', [observation({ system: loinc, code: '' }, { valueQuantity: { value: 1 } })])).details).toBeUndefined();
    expect(summarizeBundle(card('vaccination', [{ resourceType: 'Immunization', vaccineCode: 'x' }])).details).toBeUndefined();
    expect(summarizeBundle(card('referral', [{ resourceType: 'ServiceRequest', performer: [{ display: 'A' }] }])).details).toBeUndefined();
    expect(summarizeBundle(card('discharge-summary', [], { content: [{ attachment: { data: '%%%' } }] })).details).toBeUndefined();
  });
});

test('only a valid, revoked or replaced card vouches for its issuer', () => {
  expect(['valid', 'revoked', 'superseded', 'invalid'].map((o) => trustsIssuer(o as Parameters<typeof trustsIssuer>[0])))
    .toEqual([true, true, true, false]);
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
