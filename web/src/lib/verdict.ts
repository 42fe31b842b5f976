// The answer of POST /api/v1/verify, and what the page shows of it: the verdict, a sentence for
// the reason code, and the certificate's content read from the card's FHIR bundle (the server's
// card_bundle: the Patient, the DocumentReference, and for the other kinds than leave their
// Observations, Immunization or ServiceRequest; a discharge summary's text is the
// DocumentReference's attachment). A card is minified as SMART Health Cards require: its codings
// lose their display and its concepts their text, so a test or a vaccine is mostly known by its
// code ("LOINC 2345-7", "CVX 08").
import { hasKey, type Params } from '../i18n/translate';
import type { MessageKey } from '../i18n/en';
import { codeWithSystem, type Details, type LabResult } from './details';
import { observationResult } from './fhirView';

export type Outcome = 'valid' | 'invalid' | 'revoked' | 'superseded';

// One thing the verifier found: an error makes the card invalid, a warning does not.
export interface Finding {
  reason: string;
  message: string;
}

export interface VerifyAnswer {
  outcome: Outcome;
  reason?: string;
  message?: string;
  errors?: Finding[];
  warnings?: Finding[];
  issuer?: { iss: string; name?: string };
  document?: { kind: string; status: string; issued: string; transparencyLogIndex?: number };
  fhirBundle?: unknown;
}

function isFinding(x: unknown): x is Finding {
  if (typeof x !== 'object' || x === null) return false;
  const f = x as { reason?: unknown; message?: unknown };
  return typeof f.reason === 'string' && typeof f.message === 'string';
}

// What else the verifier found, beside the verdict's own reason: the errors other than it (an
// invalid card can fail more than one check) and every warning. Anything not shaped as a finding is
// left out rather than shown half.
export function otherFindings(answer: VerifyAnswer): { errors: Finding[]; warnings: Finding[] } {
  const list = (x: unknown): Finding[] => (Array.isArray(x) ? x.filter(isFinding) : []);
  return {
    errors: list(answer.errors).filter((f) => f.reason !== answer.reason),
    warnings: list(answer.warnings),
  };
}

export function isVerifyAnswer(x: unknown): x is VerifyAnswer {
  if (typeof x !== 'object' || x === null) return false;
  const o = (x as { outcome?: unknown }).outcome;
  return o === 'valid' || o === 'invalid' || o === 'revoked' || o === 'superseded';
}

type T = (key: MessageKey, params?: Params) => string;

// A friendly sentence for a snake_case reason code; unknown codes still say which code it was.
export function reasonSentence(code: string, t: T): string {
  const key = `reason.${code}`;
  return hasKey(key) ? t(key) : t('reason.unknown', { code });
}

export function kindLabel(kind: string | undefined, fallback: string | undefined, t: T): string | undefined {
  if (kind) {
    const key = `kind.${kind}`;
    if (hasKey(key)) return t(key);
  }
  return fallback ?? kind;
}

export interface CardContent {
  patientName?: string;
  birthDate?: string;
  kind?: string;
  label?: string;
  leaveFrom?: string;
  leaveTo?: string;
  doctor?: string;
  facility?: string;
  issued?: string;
  // What a document of the other kinds says: lab results, a vaccination, a referral, a discharge
  // summary (its admission and discharge dates here, not as leave).
  details?: Details;
}

type Json = Record<string, unknown>;
const obj = (x: unknown): Json | undefined => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Json) : undefined);
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : undefined);

// "Given Family" from a FHIR HumanName (text wins when present).
export function humanName(name: unknown): string | undefined {
  const n = obj(name);
  if (!n) return undefined;
  const text = str(n.text);
  if (text) return text;
  const parts = [...arr(n.given).map(str), str(n.family)].filter((p): p is string => !!p);
  return parts.length ? parts.join(' ') : undefined;
}

// Base64 (the attachment's data) as UTF-8 text; undefined when it is not.
function decodeText(data: string | undefined): string | undefined {
  if (!data) return undefined;
  try {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

// A CodeableConcept's words when the card kept any, else its first code.
function conceptWords(x: unknown): string | undefined {
  const c = obj(x);
  return str(c?.text) ?? arr(c?.coding).map((k) => str(obj(k)?.display)).find((d) => d !== undefined);
}
const firstCoding = (x: unknown) => obj(arr(obj(x)?.coding).find((c) => str(obj(c)?.code)));

// An Observation as a row of the results: named by its code's words, else by the code itself
// (which the page shows as "Result" with the code beside it).
function labResultOf(o: Json): LabResult | undefined {
  const named = conceptWords(o.code);
  const coding = firstCoding(o.code);
  const r = observationResult(o, named ?? '');
  if (!r || (!named && !coding)) return undefined;
  if (!named && coding) {
    r.code = str(coding.code);
    const system = str(coding.system);
    if (system) r.system = system;
  }
  const effective = str(o.effectiveDateTime);
  if (effective) r.effective = effective;
  return r;
}

// The content of the kinds other than leave, from the resources the card carries beside the
// DocumentReference; undefined when the card holds none this page can show.
function detailsOf(kind: string | undefined, resources: Json[], doc: Json | undefined): Details | undefined {
  const of = (type: string) => resources.filter((r) => r.resourceType === type);
  const results = of('Observation').map(labResultOf).filter((r) => r !== undefined);
  if (results.length > 0) return { family: 'lab', results };
  const imm = of('Immunization')[0];
  if (imm) {
    const coding = firstCoding(imm.vaccineCode);
    const vaccine = conceptWords(imm.vaccineCode) ?? (coding && codeWithSystem(str(coding.code)!, str(coding.system)));
    if (vaccine) {
      const dose = obj(arr(imm.protocolApplied)[0])?.doseNumberPositiveInt;
      return {
        family: 'vaccination', vaccine, date: str(imm.occurrenceDateTime), lotNumber: str(imm.lotNumber),
        doseNumber: typeof dose === 'number' && Number.isInteger(dose) ? dose : undefined,
      };
    }
  }
  const referral = of('ServiceRequest')[0];
  if (referral) {
    const to = arr(referral.performer).map((p) => str(obj(p)?.display)).find((p) => p !== undefined);
    const reason = arr(referral.note).map((n) => str(obj(n)?.text)).find((n) => n !== undefined) ??
      arr(referral.reasonCode).map(conceptWords).find((n) => n !== undefined);
    if (to && reason) return { family: 'referral', to, reason, priority: str(referral.priority) };
  }
  if (kind === 'discharge-summary' && doc) {
    const summary = decodeText(str(obj(obj(arr(doc.content)[0])?.attachment)?.data));
    const period = obj(obj(doc.context)?.period);
    if (summary) return { family: 'discharge', from: str(period?.start), to: str(period?.end), summary };
  }
  return undefined;
}

// Reads the card's bundle: the Patient, the DocumentReference and the kind's content, wherever
// they are in it. Anything missing or of the wrong shape is simply left out: the bundle comes
// from a card, and a card the server calls invalid may hold anything.
export function summarizeBundle(bundle: unknown): CardContent {
  const out: CardContent = {};
  const resources = arr(obj(bundle)?.entry).map((e) => obj(obj(e)?.resource)).filter((r): r is Json => !!r);
  const patient = resources.find((r) => r.resourceType === 'Patient');
  const doc = resources.find((r) => r.resourceType === 'DocumentReference');
  if (patient) {
    out.patientName = humanName(arr(patient.name)[0]);
    out.birthDate = str(patient.birthDate);
  }
  if (doc) {
    out.kind = str(obj(arr(obj(doc.type)?.coding)[0])?.code);
    out.label = str(obj(obj(arr(doc.content)[0])?.attachment)?.title) ?? str(obj(doc.type)?.text);
    // A leave certificate's period is the leave; a discharge summary's is the hospital stay.
    if (out.kind !== 'discharge-summary') {
      const period = obj(obj(doc.context)?.period);
      out.leaveFrom = str(period?.start);
      out.leaveTo = str(period?.end);
    }
    out.doctor = str(obj(arr(doc.author)[0])?.display);
    out.facility = str(obj(doc.custodian)?.display);
    out.issued = str(doc.date);
  }
  const details = detailsOf(out.kind, resources, doc);
  if (details) out.details = details;
  return out;
}

// Whether the verdict vouches for the card's issuer: a valid card was signed by it, and a revoked
// or replaced one was too (it was withdrawn since). Any other verdict proves nothing about who
// made the card, so its issuer is only a claim.
export const trustsIssuer = (outcome: Outcome) => outcome === 'valid' || outcome === 'revoked' || outcome === 'superseded';

export const verdictKeys: Record<Outcome, { title: MessageKey; help: MessageKey; icon: string }> = {
  valid: { title: 'verdict.valid', help: 'verdict.valid.help', icon: '✓' },
  invalid: { title: 'verdict.invalid', help: 'verdict.invalid.help', icon: '✗' },
  revoked: { title: 'verdict.revoked', help: 'verdict.revoked.help', icon: '⊘' },
  superseded: { title: 'verdict.superseded', help: 'verdict.superseded.help', icon: '↻' },
};

// Pasted text: trim the blank lines and spaces that copying adds (the server would refuse them
// as trailing characters, which is no help to a person who pasted a good card).
export function cleanCardText(text: string): string {
  return text.trim();
}
