// How soon the SMS of a batch of issuances reach a slow or hanging gateway (docs/notifications.md):
// starts the real binary (HB_BINARY) with its SMS going to a local HTTP gateway that answers each
// request after DELAY ms (200), issues N documents (60) in one POST /api/v1/documents/batch, and
// prints when the SMS reached the gateway after the batch's answer: median, last, and how many
// after the 5 s target. HANG=1: the gateway never answers its first request (the transport's 10 s
// timeout ends it).
//
//   HB_BINARY=build/release/healthbook node bench/sms_gateway.mjs
import { createServer } from 'node:http';
import { Healthbook } from '../tests/node/harness.mjs';

const n = Number(process.env.N ?? 60);
const delay = Number(process.env.DELAY ?? 200);
const hang = process.env.HANG === '1';
const received = [];
let first = true;
const gateway = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (hang && first) {
      first = false;
      return;  // never answered
    }
    setTimeout(() => {
      received.push(Date.now());
      res.writeHead(202).end('{}');
    }, delay);
  });
});
await new Promise((resolve) => gateway.listen(0, '127.0.0.1', resolve));
const hb = await Healthbook.start({
  HEALTHBOOK_SMS_TRANSPORT: 'http',
  HEALTHBOOK_SMS_URL: `http://127.0.0.1:${gateway.address().port}/send`,
});
await hb.addFacility('01001', 'Bach Mai Hospital', 'public-hospital');
const token = await hb.token(await hb.addClient('01001'));
const documents = [];
for (let i = 0; i < n; i++) {
  documents.push({
    documentId: `SMS-BENCH-${i}`, kind: 'mc-outpatient',
    patient: { nationalId: `0012${String(i).padStart(8, '0')}`, family: 'Tran', given: 'Quang',
      birthDate: '1970-01-31', phone: `+849${10000000 + i}` },
    doctor: { name: 'Dr. Ngo' }, leave: { from: '2026-11-21', to: '2026-11-23' },
    diagnosis: { text: 'Lumbago' },
  });
}
const r = await fetch(`${hb.base}/api/v1/documents/batch`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ documents }),
});
const answered = Date.now();
if (r.status !== 200) throw new Error(`the batch: ${r.status} ${await r.text()}`);
const want = hang ? n - 1 : n;
const end = Date.now() + 60000;
while (received.length < want && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
const after = received.map((t) => t - answered).sort((a, b) => a - b);
console.log(`RESULT n=${n} delay_ms=${delay} hang=${hang} at_gateway=${received.length}/${want} ` +
  `median_ms=${after[Math.floor(after.length / 2)]} last_ms=${after[after.length - 1]} ` +
  `after_5s=${after.filter((t) => t > 5000).length}`);
await hb.stop();
gateway.close();
