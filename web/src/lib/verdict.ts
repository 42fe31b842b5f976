// The answer of POST /api/v1/verify, and what the page shows of it: the verdict, a sentence for
// the reason code, and the certificate's content read from the card's FHIR bundle.
import { hasKey, type Params } from '../i18n/translate';
import type { MessageKey } from '../i18n/en';

export type Outcome = 'valid' | 'invalid' | 'revoked' | 'superseded';

export interface VerifyAnswer {
  outcome: Outcome;
  reason?: string;
  message?: string;
  issuer?: { iss: string; name?: string };
  document?: { kind: string; status: string; issued: string; transparencyLogIndex?: number; supersededBy?: string };
  fhirBundle?: unknown;
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

// Reads the card's bundle: the Patient and the DocumentReference, wherever they are in it.
// Anything missing or of the wrong shape is simply left out: the bundle comes from a card,
// and a card the server calls invalid may hold anything.
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
    const period = obj(obj(doc.context)?.period);
    out.leaveFrom = str(period?.start);
    out.leaveTo = str(period?.end);
    out.doctor = str(obj(arr(doc.author)[0])?.display);
    out.facility = str(obj(doc.custodian)?.display);
    out.issued = str(doc.date);
  }
  return out;
}

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
