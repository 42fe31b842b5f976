// The FHIR API as an independent client sees it: fhir-kit-client drives the server, and every
// resource the server returns must pass the npm `fhir` package's R4 validator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'fhir-kit-client';
import { Fhir } from 'fhir';
import { Healthbook } from './harness.mjs';

const validator = new Fhir();
let hb;
let client;
let returned = [];
let bearer;

function keep(resource) {
  if (resource && resource.resourceType) returned.push(resource);
  return resource;
}

before(async () => {
  hb = await Healthbook.start();
  await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
  const c = await hb.addClient('01001');
  const token = await hb.token(c);
  client = new Client({ baseUrl: `${hb.base}/fhir`, customHeaders: { Authorization: `Bearer ${token}` } });
  bearer = token;
});

after(async () => {
  await hb?.stop();
});

const patient = {
  resourceType: 'Patient',
  identifier: [{ system: 'urn:oid:2.16.704.1.1.1', value: '001099012345' }],
  name: [{ family: 'Nguyễn', given: ['Thị', 'Hương'] }],
  gender: 'female',
  birthDate: '1992-07-15',
};

test('capability statement', async () => {
  const cs = keep(await client.capabilityStatement());
  assert.equal(cs.resourceType, 'CapabilityStatement');
  assert.equal(cs.fhirVersion, '4.0.1');
});

test('create, read, update, search, history, delete', async () => {
  const created = keep(await client.create({ resourceType: 'Patient', body: patient }));
  assert.ok(created.id);
  assert.equal(created.name[0].family, 'Nguyễn');
  const read = keep(await client.read({ resourceType: 'Patient', id: created.id }));
  assert.equal(read.birthDate, '1992-07-15');
  const updated = keep(await client.update({ resourceType: 'Patient', id: created.id, body: { ...read, gender: 'other' } }));
  assert.equal(updated.meta.versionId, '2');
  const obs = keep(await client.create({
    resourceType: 'Observation',
    body: {
      resourceType: 'Observation', status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
      subject: { reference: `Patient/${created.id}` },
      effectiveDateTime: '2026-11-20T09:30:00+07:00',
      valueQuantity: { value: 52.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    },
  }));
  const found = keep(await client.search({ resourceType: 'Observation', searchParams: { patient: created.id, code: 'http://loinc.org|29463-7' } }));
  assert.equal(found.entry.length, 1);
  assert.equal(found.entry[0].resource.id, obs.id);
  const byName = keep(await client.search({ resourceType: 'Patient', searchParams: { family: 'nguy' } }));
  assert.equal(byName.entry?.length, 1);
  const history = keep(await client.history({ resourceType: 'Patient', id: created.id }));
  assert.equal(history.entry.length, 2);
  await client.delete({ resourceType: 'Observation', id: obs.id });
  await assert.rejects(client.read({ resourceType: 'Observation', id: obs.id }), (err) => err.response?.status === 410);
});

test('transaction bundle with placeholder references', async () => {
  const bundle = {
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:0b4f1d1e-1111-4111-8111-000000000001',
        resource: { ...patient, identifier: [{ system: 'urn:oid:2.16.704.1.1.1', value: '001099099999' }] },
        request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Condition', subject: { reference: 'urn:uuid:0b4f1d1e-1111-4111-8111-000000000001' },
          code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006' }] } },
        request: { method: 'POST', url: 'Condition' } },
    ],
  };
  const resp = keep(await client.transaction({ body: bundle }));
  assert.equal(resp.type, 'transaction-response');
  assert.equal(resp.entry.length, 2);
  for (const e of resp.entry) assert.match(e.response.status, /^201/);
});

test('audit events and _include searches are valid FHIR too', async () => {
  const events = keep(await client.search({ resourceType: 'AuditEvent', searchParams: { _count: 5 } }));
  assert.ok(events.entry.length >= 1);
  for (const e of events.entry) keep(e.resource);
  const withPatient = keep(await client.search({ resourceType: 'Condition', searchParams: { _include: 'Condition:subject' } }));
  assert.ok(withPatient.entry.some((e) => e.search.mode === 'include'));
});

test('errors are OperationOutcomes', async () => {
  await assert.rejects(
    client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', birthDate: 'yesterday' } }),
    (err) => {
      keep(err.response?.data);
      return err.response?.status === 422 && err.response.data.resourceType === 'OperationOutcome';
    },
  );
});

test('decimals keep their precision: 5.40 comes back as 5.40, not 5.4', async () => {
  const p = keep(await client.create({ resourceType: 'Patient', body: patient }));
  // Raw bytes: a JavaScript client would turn 5.40 into 5.4 on its own, so send and read text.
  const body = '{"resourceType":"Observation","status":"final","code":{"text":"potassium"},' +
    `"subject":{"reference":"Patient/${p.id}"},"valueQuantity":{"value":5.40,"unit":"mmol/L"},` +
    '"referenceRange":[{"low":{"value":3.50},"high":{"value":5.10}}]}';
  const headers = { authorization: `Bearer ${bearer}`, 'content-type': 'application/fhir+json' };
  const created = await fetch(`${hb.base}/fhir/Observation`, { method: 'POST', headers, body });
  assert.equal(created.status, 201, await created.clone().text());
  const id = (await created.json()).id;
  const text = await (await fetch(`${hb.base}/fhir/Observation/${id}`, { headers })).text();
  assert.match(text, /"value":5\.40[,}]/);
  assert.match(text, /"value":3\.50[,}]/);
  assert.match(text, /"value":5\.10[,}]/);
  keep(JSON.parse(text));
});

test('every returned resource passes the R4 validator of the npm fhir package', () => {
  // The validator is live: it rejects a resource with a wrong element type.
  const broken = validator.validate({ resourceType: 'Patient', gender: 'female', birthDate: 17 });
  assert.equal(broken.valid, false);
  assert.ok(returned.length >= 8);
  for (const r of returned) {
    const result = validator.validate(r);
    const errors = result.messages.filter((m) => m.severity === 'error');
    assert.deepEqual(errors, [], `${r.resourceType} ${JSON.stringify(errors)}`);
  }
});
