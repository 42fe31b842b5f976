// The resident's health book end to end (issue 4), in Chromium against the real server: two
// facilities send records about one person through /fhir; the person signs up with the SMS code
// from the development sink and sees both facilities' records in one timeline (an out-of-range
// result flagged, the facility filter and the search narrowing it); the consent switch on the
// connections page decides what the second facility's clinician system reads of the first one's
// records (checked on /fhir with that facility's own token); a share made on the shares page opens
// in the /s viewer of a fresh browser with its passcode and stops opening once revoked; the access
// log tells the share's opening, the clinician's reads and an emergency read in words, in English
// and Vietnamese. axe-core runs on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Healthbook, launch, phonePage, expectNoSeriousViolations, smsReader } from './harness.mjs';

let hb;
let sms; // the development SMS sink's codes (harness smsReader)
let browser;
let resident; // { context, page }: the resident's signed-in browser
const tokens = {};
const ids = {}; // the records sent, by name
let patientId;

const password = 'correct horse 42';
const mai = { nationalId: '079201001234', birthDate: '1990-04-12', phone: '+84901234567', family: 'Nguyen', given: 'Thi Mai' };
const bachMai = { code: '01001', name: 'Bach Mai Hospital' };
const choRay = { code: '79002', name: 'Cho Ray Hospital' };

before(async () => {
  hb = await Healthbook.start({
    // A cheap Argon2id cost: these tests are about the pages, not the hash.
    HEALTHBOOK_ACCOUNTS_PASSWORD_OPS_LIMIT: '1',
    HEALTHBOOK_ACCOUNTS_PASSWORD_MEMORY_KIB: '8',
  });
  sms = smsReader(hb);
  for (const f of [bachMai, choRay]) {
    await hb.addFacility(f.code, f.name, 'public-hospital');
    tokens[f.code] = await hb.token(await hb.addClient(f.code));
  }
  // Each facility registers the person (the second one is matched to the same Patient).
  for (const f of [bachMai, choRay]) {
    const p = await fhir(f, 'POST', '/fhir/Patient', {
      resourceType: 'Patient',
      identifier: [{ system: 'urn:oid:2.16.704.1.1.1', value: mai.nationalId }],
      name: [{ family: mai.family, given: [mai.given] }],
      birthDate: mai.birthDate,
      telecom: [{ system: 'phone', value: mai.phone, use: 'mobile' }],
    });
    assert.ok(p.status === 201 || p.status === 200, JSON.stringify(p.body));
    if (patientId) assert.equal(p.body.id, patientId, 'both facilities know the same person');
    patientId = p.body.id;
  }
  const subject = { reference: `Patient/${patientId}` };
  const send = async (f, name, resource) => {
    const r = await fhir(f, 'POST', `/fhir/${resource.resourceType}`, resource);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ids[name] = `${resource.resourceType}/${r.body.id}`;
  };
  // Bach Mai: a visit, a low haemoglobin (11.2 g/dL, range 12–16) and a diagnosis.
  await send(bachMai, 'visit', {
    resourceType: 'Encounter', status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    type: [{ text: 'Haematology outpatient visit' }], subject, period: { start: '2026-11-20T08:00:00+07:00' },
  });
  await send(bachMai, 'haemoglobin', {
    resourceType: 'Observation', status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '718-7' }], text: 'Haemoglobin' }, subject,
    effectiveDateTime: '2026-11-20T09:30:00+07:00',
    valueQuantity: { value: 11.2, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
    referenceRange: [{ low: { value: 12, unit: 'g/dL' }, high: { value: 16, unit: 'g/dL' } }],
  });
  await send(bachMai, 'anaemia', {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { text: 'Iron deficiency anaemia' }, subject, onsetDateTime: '2026-11-20',
  });
  // Cho Ray: a glucose within its range and a vaccination.
  await send(choRay, 'glucose', {
    resourceType: 'Observation', status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }], text: 'Fasting glucose' }, subject,
    effectiveDateTime: '2026-10-02T07:15:00+07:00',
    valueQuantity: { value: 5.2, unit: 'mmol/L' },
    referenceRange: [{ low: { value: 3.9, unit: 'mmol/L' }, high: { value: 6.1, unit: 'mmol/L' } }],
  });
  await send(choRay, 'vaccine', {
    resourceType: 'Immunization', status: 'completed',
    vaccineCode: { text: 'Hepatitis B vaccine' }, patient: subject, occurrenceDateTime: '2026-09-15',
  });
  browser = await launch();
});

after(async () => {
  await resident?.context.close();
  await browser?.close();
  await hb?.stop();
});

async function fhir(facility, method, path, body) {
  const res = await fetch(`${hb.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[facility.code]}`, ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// The entries of the book as shown: title, facility line, value line.
async function entries(page) {
  return page.locator('li.entry').evaluateAll((items) => items.map((li) => ({
    title: li.querySelector('.entry__title')?.textContent ?? '',
    meta: li.querySelector('.entry__meta')?.textContent ?? '',
    value: li.querySelector('.entry__value')?.textContent ?? '',
  })));
}

const allTitles = ['Haematology outpatient visit', 'Haemoglobin', 'Iron deficiency anaemia', 'Fasting glucose', 'Hepatitis B vaccine'];

test('the timeline shows the records of both facilities; an out-of-range result is flagged; filter and search narrow it', async () => {
  resident = await phonePage(browser);
  const { page } = resident;
  await page.goto(`${hb.base}/signup`);
  await page.getByRole('heading', { level: 1, name: 'Create your Healthbook account' }).waitFor();
  await page.getByLabel('National ID number').fill(mai.nationalId);
  await page.getByLabel('Day').fill('12');
  await page.getByLabel('Month').fill('4');
  await page.getByLabel('Year').fill('1990');
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.getByLabel('Code from the SMS').fill(await sms.newest(mai.phone));
  await page.getByLabel('Choose a password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${hb.base}/book`);
  await page.getByRole('heading', { level: 1, name: 'Your health book' }).waitFor();

  await page.getByRole('status').getByText('5 records shown').waitFor();
  const shown = await entries(page);
  assert.deepEqual(shown.map((e) => e.title).sort(), [...allTitles].sort());
  // Newest first: the Bach Mai day (20 November) before Cho Ray's results and vaccine.
  assert.deepEqual(shown.map((e) => e.title).slice(3), ['Fasting glucose', 'Hepatitis B vaccine']);
  const at = Object.fromEntries(shown.map((e) => [e.title, e.meta]));
  for (const t of ['Haematology outpatient visit', 'Haemoglobin', 'Iron deficiency anaemia']) assert.match(at[t], /^at Bach Mai Hospital/);
  for (const t of ['Fasting glucose', 'Hepatitis B vaccine']) assert.match(at[t], /^at Cho Ray Hospital/);

  // The low haemoglobin says so in words (and a symbol), with its unit and range; the glucose
  // within its range has no flag.
  const hb1 = page.locator('li.entry', { has: page.getByRole('link', { name: 'Haemoglobin', exact: true }) });
  assert.match(await hb1.getAttribute('class'), /entry--out/);
  assert.match(await hb1.locator('.entry__value').innerText(), /Result: 11\.2 g\/dL/);
  assert.equal((await hb1.locator('.flag').innerText()).replace('▼', '').trim(), 'Low');
  assert.match(await hb1.locator('.entry__value').innerText(), /Reference range: 12 to 16/);
  const glucose = page.locator('li.entry', { has: page.getByRole('link', { name: 'Fasting glucose' }) });
  assert.match(await glucose.locator('.entry__value').innerText(), /Result: 5\.2 mmol\/L/);
  assert.equal(await glucose.locator('.flag').count(), 0);
  await expectNoSeriousViolations(page, 'the health book');

  // Filter by facility: Cho Ray's two records only, and the address keeps the filter.
  await page.locator('summary', { hasText: 'Filter' }).click();
  await page.getByLabel('Facility').selectOption({ label: choRay.name });
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/\/book\?.*facility=79002/);
  await page.getByRole('status').getByText('2 records shown').waitFor();
  assert.deepEqual((await entries(page)).map((e) => e.title), ['Fasting glucose', 'Hepatitis B vaccine']);
  await expectNoSeriousViolations(page, 'the health book filtered by facility');

  // Clear, then search (any case) finds the one record that says "haemoglobin".
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByRole('status').getByText('5 records shown').waitFor();
  await page.getByLabel('Search your records').fill('HAEMOGLOBIN');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(/\/book\?.*q=HAEMOGLOBIN/);
  await page.getByRole('status').getByText('1 record shown').waitFor();
  assert.deepEqual((await entries(page)).map((e) => e.title), ['Haemoglobin']);

  // The record opens on its own page.
  await page.getByRole('link', { name: 'Haemoglobin', exact: true }).click();
  await page.waitForURL(`${hb.base}/book/${ids.haemoglobin}`);
  await page.getByRole('heading', { level: 1, name: 'Haemoglobin' }).waitFor();
  await page.getByText('11.2 g/dL').first().waitFor();
  await expectNoSeriousViolations(page, 'a record page');
  assert.deepEqual(page.problems, []);
});

test('consent on the connections page decides what the other facility reads', async () => {
  const { page } = resident;
  const readByChoRay = () => fhir(choRay, 'GET', `/fhir/${ids.haemoglobin}`);
  const searchByChoRay = async () => {
    const r = await fhir(choRay, 'GET', `/fhir/Observation?patient=${patientId}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
  };
  // Before: Cho Ray sees only its own records.
  assert.equal((await readByChoRay()).status, 404);
  assert.deepEqual(await searchByChoRay(), [ids.glucose]);

  await page.goto(`${hb.base}/connections`);
  await page.getByRole('heading', { level: 1, name: 'Connected facilities' }).waitFor();
  const choRaySwitch = page.getByRole('switch', { name: `Let ${choRay.name} see records from other facilities` });
  const bachMaiSwitch = page.getByRole('switch', { name: `Let ${bachMai.name} see records from other facilities` });
  assert.equal(await choRaySwitch.isChecked(), false);
  assert.equal(await bachMaiSwitch.isChecked(), false);
  await expectNoSeriousViolations(page, 'the connections page');

  await choRaySwitch.check();
  await page.getByText(`${choRay.name} can now see records from other facilities.`).waitFor();
  const read = await readByChoRay();
  assert.equal(read.status, 200, JSON.stringify(read.body));
  assert.equal(read.body.valueQuantity.value, 11.2);
  assert.deepEqual(await searchByChoRay(), [ids.glucose, ids.haemoglobin].sort());
  // Sharing is read-only: Cho Ray may not change Bach Mai's record.
  const changed = await fhir(choRay, 'PUT', `/fhir/${ids.haemoglobin}`, { ...read.body, status: 'amended' });
  assert.equal(changed.status, 403, JSON.stringify(changed.body));
  // The choice survives a reload (it is the server's).
  await page.reload();
  await choRaySwitch.waitFor();
  assert.equal(await choRaySwitch.isChecked(), true);
  await expectNoSeriousViolations(page, 'the connections page with sharing on');

  // Withdrawn: the next request is refused again.
  await choRaySwitch.uncheck();
  await page.getByText(`${choRay.name} now sees only its own records.`).waitFor();
  assert.equal((await readByChoRay()).status, 404);
  assert.deepEqual(await searchByChoRay(), [ids.glucose]);
  assert.deepEqual(page.problems, []);
});

test('a share with a passcode opens in a fresh browser, and stops once revoked', async () => {
  const { page } = resident;
  await page.goto(`${hb.base}/shares`);
  await page.getByRole('heading', { level: 1, name: 'Share records' }).waitFor();
  const haemoglobin = page.getByRole('checkbox', { name: /^Haemoglobin/ });
  await haemoglobin.waitFor();
  await expectNoSeriousViolations(page, 'the shares page');

  // The form's own check first: a passcode the server would refuse.
  await haemoglobin.check();
  await page.getByLabel('Label').fill('For Dr Lan');
  await page.getByLabel('Protect with a passcode').check();
  await page.getByLabel('Passcode', { exact: true }).fill('lotus');
  await page.getByRole('button', { name: 'Create link' }).click();
  await page.locator('.error-summary').getByText('Enter a passcode of 6 to 64 characters, or turn the passcode off.').waitFor();
  await page.getByLabel('Passcode', { exact: true }).fill('lotus-2718');
  await page.getByRole('button', { name: 'Create link' }).click();

  // The link, shown this once, with its QR code.
  await page.getByText('Your link is ready.', { exact: false }).waitFor();
  await page.getByText('it is shown only this once').waitFor();
  const link = await page.getByLabel('Link', { exact: true }).inputValue();
  assert.match(link, new RegExp(`^${hb.base}/s#shlink:/[A-Za-z0-9_-]+$`));
  await page.getByRole('img', { name: 'QR code of the link “For Dr Lan”' }).waitFor();
  const listed = page.locator('li.share', { has: page.getByRole('heading', { name: 'For Dr Lan' }) });
  await listed.getByText('Active').waitFor();
  await listed.getByText('Not opened yet.').waitFor();
  await expectNoSeriousViolations(page, 'the shares page with a new link');

  // A recipient without an account, in a browser that never saw the resident.
  {
    const fresh = await phonePage(browser, { locale: 'en-GB' });
    await fresh.page.goto(link);
    await fresh.page.getByRole('heading', { level: 1, name: 'Shared health records' }).waitFor();
    await fresh.page.getByText('Shared as: For Dr Lan').waitFor();
    await expectNoSeriousViolations(fresh.page, 'the share viewer');
    await fresh.page.getByLabel('Your name').fill('Dr Lan, eye clinic');
    await fresh.page.getByLabel('Passcode').fill('lotus-0000');
    await fresh.page.getByRole('button', { name: 'Open' }).click();
    await fresh.page.getByText('That passcode is not right.').waitFor();
    await fresh.page.getByLabel('Passcode').fill('lotus-2718');
    await fresh.page.getByRole('button', { name: 'Open' }).click();
    // Decrypted in the page: the one record chosen, by its name, with its value.
    await fresh.page.getByRole('heading', { level: 3, name: 'Haemoglobin' }).waitFor();
    await fresh.page.getByText('11.2 g/dL').first().waitFor();
    assert.equal(await fresh.page.getByText('Fasting glucose').count(), 0, 'only the chosen record is shared');
    await expectNoSeriousViolations(fresh.page, 'the opened share');
    assert.deepEqual(fresh.page.problems, []);
    await fresh.context.close();
  }

  // The resident sees who opened it, then revokes it.
  await page.reload();
  await listed.getByText(/by Dr Lan, eye clinic$/).waitFor();
  await listed.getByRole('button', { name: 'Revoke: For Dr Lan' }).click();
  await listed.getByText('Revoke the link “For Dr Lan”?', { exact: false }).waitFor();
  await expectNoSeriousViolations(page, 'the revoke confirmation');
  await listed.getByRole('button', { name: 'Yes, revoke it' }).click();
  await page.getByText('The link “For Dr Lan” is revoked.').waitFor();
  await listed.getByText('Revoked').waitFor();
  assert.equal(await listed.getByRole('button', { name: 'Revoke: For Dr Lan' }).count(), 0);

  // The same link, in another fresh browser: it no longer opens.
  {
    const fresh = await phonePage(browser, { locale: 'en-GB' });
    await fresh.page.goto(link);
    await fresh.page.getByLabel('Your name').fill('Dr Lan, eye clinic');
    await fresh.page.getByLabel('Passcode').fill('lotus-2718');
    await fresh.page.getByRole('button', { name: 'Open' }).click();
    await fresh.page.getByText('This link no longer works: it expired, was revoked, or was already used.').waitFor();
    assert.equal(await fresh.page.getByRole('heading', { name: 'Haemoglobin' }).count(), 0);
    await expectNoSeriousViolations(fresh.page, 'the share viewer of a revoked link');
    assert.deepEqual(fresh.page.problems, []);
    await fresh.context.close();
  }
  assert.deepEqual(page.problems, []);
});

test('the access log tells the share opening and the clinician reads in words, in English and Vietnamese', async () => {
  const { page } = resident;
  // An emergency read by Cho Ray (without consent, with a reason): it stands out in the log.
  const emergency = await fetch(`${hb.base}/fhir/${ids.haemoglobin}`, {
    headers: { authorization: `Bearer ${tokens[choRay.code]}`, 'x-healthbook-break-glass': 'unconscious on arrival' },
  });
  assert.equal(emergency.status, 200, await emergency.text());
  await page.goto(`${hb.base}/access-log`);
  await page.getByRole('heading', { level: 1, name: 'Access log' }).waitFor();
  const sentences = page.locator('.access__sentence');
  await sentences.first().waitFor();
  const said = await sentences.allInnerTexts();
  assert.ok(said.includes('Someone with your link (Dr Lan, eye clinic) opened Observation (1 record).'), said.join('\n'));
  assert.ok(said.includes(`${choRay.name} viewed Observation (1 record).`), said.join('\n'));
  assert.ok(said.includes(`${choRay.name} searched Observation (2 records).`), said.join('\n'));
  // The reasons, in words: the share's label, and treatment for the facility.
  const opened = page.locator('li.access', { hasText: 'Someone with your link (Dr Lan, eye clinic) opened' });
  assert.match(await opened.innerText(), /Reason: the share “For Dr Lan”/);
  // (The emergency read below is also logged as a plain read beside its own event: the oldest
  // one is the read under consent.)
  const clinician = page.locator('li.access', { hasText: `${choRay.name} viewed Observation (1 record).` }).last();
  assert.match(await clinician.innerText(), /Reason: treatment/);
  // The emergency read: flagged in words, with its reason.
  const urgent = page.locator('li.access--emergency');
  assert.equal(await urgent.count(), 1);
  assert.equal(await urgent.locator('.access__sentence').innerText(), `${choRay.name} used emergency access to open Observation (1 record).`);
  assert.match(await urgent.innerText(), /Emergency access/);
  assert.match(await urgent.innerText(), /Reason: emergency: unconscious on arrival/);
  // The resident's own actions.
  assert.ok(said.includes('You created your account.'), said.join('\n'));
  assert.ok(said.some((s) => /^You shared Observation \(1 record\)\.$/.test(s)), said.join('\n'));
  await expectNoSeriousViolations(page, 'the access log');

  // The same log in Vietnamese.
  await page.getByRole('navigation', { name: 'Language' }).getByRole('button', { name: 'Tiếng Việt' }).click();
  await page.getByRole('heading', { level: 1, name: 'Nhật ký truy cập' }).waitFor();
  // The page loads the log again in the new language: wait for its sentences, not only the heading.
  await page.locator('.access__sentence', { hasText: 'Bạn đã tạo tài khoản.' }).first().waitFor();
  const vi = await page.locator('.access__sentence').allInnerTexts();
  assert.ok(vi.includes('Người có liên kết của bạn (Dr Lan, eye clinic) đã mở Observation (1 hồ sơ).'), vi.join('\n'));
  assert.ok(vi.includes(`${choRay.name} đã xem Observation (1 hồ sơ).`), vi.join('\n'));
  assert.ok(vi.includes('Bạn đã tạo tài khoản.'), vi.join('\n'));
  assert.match(await page.locator('li.access--emergency').innerText(), /Truy cập khẩn cấp/);
  const openedVi = page.locator('li.access', { hasText: 'Người có liên kết của bạn (Dr Lan, eye clinic) đã mở' });
  assert.match(await openedVi.innerText(), /Lý do: liên kết chia sẻ “For Dr Lan”/);
  assert.match(await page.locator('li.access--emergency').innerText(), /Lý do: khẩn cấp: unconscious on arrival/);
  await expectNoSeriousViolations(page, 'the access log in Vietnamese');
  await page.getByRole('navigation', { name: 'Ngôn ngữ' }).getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { level: 1, name: 'Access log' }).waitFor();
  assert.deepEqual(page.problems, []);
});
