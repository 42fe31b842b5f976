// How the link page names what it shows: "Your laboratory results", "Show results", "This
// vaccination record has been revoked". Each kind of document has whole sentences of its own in
// every language, rather than a noun dropped into one sentence, so plurals ("these results") and
// Vietnamese classifiers ("giấy", "hồ sơ") read right. Before the date of birth is given the server
// does not say what a link holds (its 401 carries no health data), so those screens say "document".
import type { MessageKey } from '../i18n/en';

// The ways of naming a document; 'document' is the neutral one, for an unknown kind.
export const nouns = ['document', 'certificate', 'timeChit', 'lab', 'vaccination', 'referral', 'discharge'] as const;
export type Noun = (typeof nouns)[number];

// The kinds the server issues (src/documents/request.cpp) and how each is named.
export const nounByKind: Readonly<Record<string, Noun>> = {
  'mc-outpatient': 'certificate',
  'mc-hospitalisation': 'certificate',
  'mc-maternity': 'certificate',
  'time-chit': 'timeChit',
  'lab-result': 'lab',
  vaccination: 'vaccination',
  referral: 'referral',
  'discharge-summary': 'discharge',
};

export function nounOf(kind: string | undefined): Noun {
  return kind !== undefined && Object.prototype.hasOwnProperty.call(nounByKind, kind) ? nounByKind[kind]! : 'document';
}

// The messages worded per kind; each exists as "<message>.<noun>" for every noun.
export const wordedMessages = [
  'link.title', 'link.dob.intro', 'link.dob.submit', 'cert.revoked', 'cert.superseded', 'cert.supersededLink',
] as const;
export type Worded = (typeof wordedMessages)[number];

// The label of a document's period: a certificate's days of leave, or a time chit's hours at the
// clinic (not leave: an employer counts those hours, not days off).
export function periodKey(kind: string | undefined): MessageKey {
  return nounOf(kind) === 'timeChit' ? 'doc.visit' : 'doc.leave';
}

// The key of `message` worded for `kind` (undefined: not known yet).
export function wordedKey(message: Worded, kind?: string): MessageKey {
  return `${message}.${nounOf(kind)}`;
}
