// The health book's timeline benchmark (scripts/bench step 10): one resident with HB_BOOK_RECORDS
// records (default 5,000) from a facility, then GET /api/v1/me/timeline one request at a time
// on one keep-alive connection, and the latency percentiles.
//
// Environment: HB_BASE (server URL), HB_TOKEN (a facility access token with system/*.cruds),
// HB_DATA (the server's data folder: the sign-up SMS code is read from its notify-sms.jsonl),
// HB_BOOK_RECORDS (5000), HB_BOOK_N (2000 requests per query), HB_BOOK_BUNDLE (250).
// Prints one "RESULT key=value ..." line per query, as hb_load does, and a "COOKIE" line with the
// resident's session cookie for wrk.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const base = process.env.HB_BASE;
const token = process.env.HB_TOKEN;
const data = process.env.HB_DATA;
const records = Number(process.env.HB_BOOK_RECORDS ?? 5000);
const n = Number(process.env.HB_BOOK_N ?? 2000);
const bundleSize = Number(process.env.HB_BOOK_BUNDLE ?? 250);
if (!base || !token || !data) {
  console.error('timeline.mjs: HB_BASE, HB_TOKEN and HB_DATA are required');
  process.exit(2);
}

const nationalId = '079299000001';
const birthDate = '1980-02-03';
const phone = '+84909990001';

async function must(res, what) {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

async function fhir(method, path, body) {
  const res = await fetch(base + '/fhir' + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await must(res, `${method} ${path}`)).json();
}

// A mix like a real book: mostly results, then visits, medications, conditions and the rest.
function record(i, pid) {
  const subject = { reference: `Patient/${pid}` };
  const day = new Date(Date.UTC(2010, 0, 1) + i * 3600 * 1000 * 17).toISOString();
  switch (i % 10) {
    case 0: case 1: case 2: case 3: case 4:
      return {
        resourceType: 'Observation', status: 'final', subject, effectiveDateTime: day,
        code: { coding: [{ system: 'http://loinc.org', code: '718-7' }], text: 'Haemoglobin' },
        valueQuantity: { value: 10 + (i % 70) / 10, unit: 'g/dL' },
        referenceRange: [{ low: { value: 12 }, high: { value: 16 } }],
      };
    case 5:
      return {
        resourceType: 'Encounter', status: 'finished', subject, period: { start: day },
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        type: [{ text: 'Outpatient visit' }],
      };
    case 6:
      return {
        resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, authoredOn: day,
        medicationCodeableConcept: { text: 'Ferrous sulfate 325 mg' },
        dosageInstruction: [{ text: 'one tablet a day' }],
      };
    case 7:
      return {
        resourceType: 'Condition', subject, recordedDate: day, code: { text: 'Iron deficiency anaemia' },
      };
    case 8:
      return {
        resourceType: 'Immunization', status: 'completed', patient: subject, occurrenceDateTime: day,
        vaccineCode: { text: 'Influenza vaccine' },
      };
    default:
      return {
        resourceType: 'Procedure', status: 'completed', subject, performedDateTime: day,
        code: { text: 'Blood draw' },
      };
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  const patient = await fhir('POST', '/Patient', {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:2.16.704.1.1.1', value: nationalId }],
    name: [{ family: 'Bench', given: ['Resident'] }],
    birthDate,
    telecom: [{ system: 'phone', value: phone, use: 'mobile' }],
  });
  const pid = patient.id;
  const t0 = performance.now();
  for (let first = 0; first < records; first += bundleSize) {
    const entry = [];
    for (let i = first; i < Math.min(records, first + bundleSize); i++) {
      const resource = record(i, pid);
      entry.push({ resource, request: { method: 'POST', url: resource.resourceType } });
    }
    await fhir('POST', '', { resourceType: 'Bundle', type: 'transaction', entry });
  }
  const loadSeconds = (performance.now() - t0) / 1000;

  // Sign up: the code comes from the development SMS sink.
  const headers = { 'Content-Type': 'application/json', 'X-Healthbook-CSRF': '1' };
  const start = await (await must(await fetch(base + '/api/v1/account/signup/start', {
    method: 'POST', headers, body: JSON.stringify({ nationalId, birthDate }),
  }), 'signup/start')).json();
  let code;
  for (let i = 0; i < 400 && !code; i++) {
    let text = '';
    try { text = readFileSync(`${data}/notify-sms.jsonl`, 'utf8'); } catch { /* not yet */ }
    for (const line of text.split('\n')) {
      if (!line) continue;
      const m = JSON.parse(line);
      const found = m.to === phone && /code: ([0-9]{6})\./.exec(m.text);
      if (found) code = found[1];
    }
    if (!code) await new Promise((r) => setTimeout(r, 25));
  }
  if (!code) throw new Error('no sign-up SMS code in the sink');
  const done = await must(await fetch(base + '/api/v1/account/signup/verify', {
    method: 'POST', headers,
    body: JSON.stringify({ challenge: start.challenge, code, password: 'bench password 42' }),
  }), 'signup/verify');
  const cookie = done.headers.get('set-cookie').split(';')[0];
  console.log(`loaded ${records} records for one resident in ${loadSeconds.toFixed(1)} s`);
  console.log(`COOKIE ${cookie}`);

  const queries = [
    ['first_page', ''],
    ['results_only', '?kind=result'],
    ['one_year', '?from=2012-01-01&to=2012-12-31'],
    ['page_20', null],  // the 20th page of 50, through the cursors
  ];
  // The cursor of page 20, found once.
  let cursor = null;
  for (let p = 1; p < 20; p++) {
    const j = await (await fetch(base + '/api/v1/me/timeline' + (cursor ? `?cursor=${cursor}` : ''),
      { headers: { Cookie: cookie } })).json();
    cursor = j.next;
  }
  queries[3][1] = `?cursor=${cursor}`;

  for (const [name, query] of queries) {
    const times = [];
    let entries = 0;
    for (let i = 0; i < n + 50; i++) {
      const t = performance.now();
      const res = await fetch(base + '/api/v1/me/timeline' + query, { headers: { Cookie: cookie } });
      const body = await res.json();
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`timeline${query}: HTTP ${res.status} ${JSON.stringify(body)}`);
      entries = body.entries.length;
      if (i >= 50) times.push(ms);  // the first 50 warm up
    }
    times.sort((a, b) => a - b);
    const f = (v) => v.toFixed(2);
    console.log(`timeline${query}: ${n} requests, ${entries} entries each: p50 ${f(percentile(times, 50))} ms, ` +
      `p99 ${f(percentile(times, 99))} ms, max ${f(times[times.length - 1])} ms`);
    console.log(`RESULT query=${name} n=${n} entries=${entries} p50_ms=${f(percentile(times, 50))} ` +
      `p99_ms=${f(percentile(times, 99))} max_ms=${f(times[times.length - 1])}`);
  }
}

main().catch((e) => {
  console.error(String(e.stack ?? e));
  process.exit(1);
});
