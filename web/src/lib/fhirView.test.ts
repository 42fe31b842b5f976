import { describe, expect, test } from 'vitest';
import { bundleResources, conceptText, describeResource, patientOf } from './fhirView';

const glucose = {
  resourceType: 'Observation', id: 'o1', status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose' }] },
  effectiveDateTime: '2026-11-20T03:15:00Z',
  valueQuantity: { value: 7.8, unit: 'mmol/L' },
  referenceRange: [{ low: { value: 3.9 }, high: { value: 6.4 } }],
  performer: [{ display: 'Bach Mai Hospital' }],
  note: [{ text: 'Fasting sample.' }],
};

describe('describeResource', () => {
  test('an Observation: value, range and a High flag worked out from the range', () => {
    const v = describeResource(glucose)!;
    expect(v.title).toBe('Glucose');
    expect(v.result).toEqual({ name: 'Glucose', value: 7.8, unit: 'mmol/L', low: 3.9, high: 6.4, flag: 'H' });
    expect(v.rows).toContainEqual({ label: 'record.status', text: 'final' });
    expect(v.rows).toContainEqual({ label: 'record.date', text: '2026-11-20T03:15:00Z', kind: 'date' });
    expect(v.rows).toContainEqual({ label: 'record.performer', text: 'Bach Mai Hospital' });
    expect(v.notes).toEqual(['Fasting sample.']);
  });
  test('the interpretation code wins over the arithmetic', () => {
    const v = describeResource({ ...glucose, valueQuantity: { value: 5 }, interpretation: [{ coding: [{ code: 'L' }] }] })!;
    expect(v.result?.flag).toBe('L');
  });
  test('a Condition, a MedicationRequest and an Immunization in words', () => {
    const c = describeResource({
      resourceType: 'Condition', code: { text: 'Hypertension' }, onsetDateTime: '2020-01-01',
      clinicalStatus: { coding: [{ code: 'active' }] }, category: [{ coding: [{ display: 'Problem list item' }] }],
    })!;
    expect(c.title).toBe('Hypertension');
    expect(c.rows).toContainEqual({ label: 'record.clinicalStatus', text: 'active' });
    expect(c.rows).toContainEqual({ label: 'record.category', text: 'Problem list item' });
    const m = describeResource({
      resourceType: 'MedicationRequest', status: 'active', medicationCodeableConcept: { text: 'Amlodipine 5 mg' },
      authoredOn: '2026-11-20', dosageInstruction: [{ text: 'One tablet each morning' }], requester: { display: 'Dr Tran Thi Binh' },
    })!;
    expect(m.title).toBe('Amlodipine 5 mg');
    expect(m.rows).toContainEqual({ label: 'record.dosage', text: 'One tablet each morning' });
    expect(m.rows).toContainEqual({ label: 'record.performer', text: 'Dr Tran Thi Binh' });
    const i = describeResource({
      resourceType: 'Immunization', status: 'completed', vaccineCode: { coding: [{ display: 'Measles' }] },
      occurrenceDateTime: '2026-01-05', lotNumber: 'LOT-9', protocolApplied: [{ doseNumberPositiveInt: 2 }],
    })!;
    expect(i.title).toBe('Measles');
    expect(i.rows).toContainEqual({ label: 'record.lot', text: 'LOT-9' });
    expect(i.rows).toContainEqual({ label: 'record.dose', text: '2' });
  });
  test('not a resource', () => {
    expect(describeResource({ id: 'x' })).toBeUndefined();
    expect(describeResource('Observation')).toBeUndefined();
    expect(conceptText({ coding: [{ code: 'abc' }] })).toBe('abc');
  });
});

describe('bundles', () => {
  test('resources and the patient of a Bundle', () => {
    const bundle = {
      resourceType: 'Bundle', type: 'collection',
      entry: [
        { resource: { resourceType: 'Patient', name: [{ family: 'Nguyen', given: ['Thi', 'Mai'] }], birthDate: '1990-04-12' } },
        { resource: glucose }, { fullUrl: 'x' },
      ],
    };
    const rs = bundleResources(bundle);
    expect(rs.map((r) => r.resourceType)).toEqual(['Patient', 'Observation']);
    expect(patientOf(rs)).toEqual({ name: 'Thi Mai Nguyen', birthDate: '1990-04-12' });
    expect(bundleResources(glucose)).toHaveLength(1);
  });
});
