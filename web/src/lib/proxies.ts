// Proxies (docs/proxies.md): the people the signed-in resident may act for, and the carers they
// gave rights to. Answers are read defensively: anything malformed is dropped, not trusted.
import { anyObject, residentCall } from './resident';

export type Right = 'view-records' | 'manage-shares';
export const carerRights: Right[] = ['view-records', 'manage-shares'];

export interface Person {
  patientId: string;
  name: string;
  kind: 'guardian' | 'carer';
  rights: string[];
  until: string;
}
export interface ActingFor {
  self: { patientId: string; name: string };
  people: Person[];
}

export interface Carer {
  id: string;
  name: string;
  rights: string[];
  created: string;
  endsAt: string;
  status: 'active' | 'ended' | 'revoked';
}

const str = (x: unknown): x is string => typeof x === 'string';
const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter(str) : []);

export function readActingFor(x: unknown): ActingFor | undefined {
  if (!anyObject(x) || !anyObject(x.self) || !str(x.self.patientId) || !Array.isArray(x.people)) return undefined;
  const people: Person[] = [];
  for (const p of x.people) {
    if (!anyObject(p) || !str(p.patientId) || !str(p.name) || (p.kind !== 'guardian' && p.kind !== 'carer')) continue;
    people.push({ patientId: p.patientId, name: p.name, kind: p.kind, rights: strings(p.rights), until: str(p.until) ? p.until : '' });
  }
  return { self: { patientId: x.self.patientId, name: str(x.self.name) ? x.self.name : '' }, people };
}

export function readCarer(x: unknown): Carer | undefined {
  if (!anyObject(x) || !str(x.id) || !str(x.endsAt)) return undefined;
  const status = x.status === 'active' || x.status === 'ended' || x.status === 'revoked' ? x.status : 'ended';
  return {
    id: x.id,
    name: str(x.name) ? x.name : '',
    rights: strings(x.rights),
    created: str(x.created) ? x.created : '',
    endsAt: x.endsAt,
    status,
  };
}

export function readCarers(x: unknown): Carer[] | undefined {
  if (!anyObject(x) || !Array.isArray(x.carers)) return undefined;
  return x.carers.map(readCarer).filter((c): c is Carer => c !== undefined);
}

const isActingFor = (x: unknown): x is Record<string, unknown> => readActingFor(x) !== undefined;
const isCarers = (x: unknown): x is Record<string, unknown> => readCarers(x) !== undefined;
const isCarer = (x: unknown): x is Record<string, unknown> => readCarer(x) !== undefined;

export async function getActingFor() {
  const r = await residentCall('GET', '/api/v1/me/acting-for', undefined, isActingFor);
  return r.ok ? { ok: true as const, value: readActingFor(r.value)! } : r;
}
export async function getCarers() {
  const r = await residentCall('GET', '/api/v1/me/carers', undefined, isCarers);
  return r.ok ? { ok: true as const, value: readCarers(r.value)! } : r;
}
export async function grantCarer(nationalId: string, rights: Right[], endsAt: string) {
  const r = await residentCall('POST', '/api/v1/me/carers', { nationalId, rights, endsAt }, isCarer);
  return r.ok ? { ok: true as const, value: readCarer(r.value)! } : r;
}
export async function revokeCarer(id: string) {
  const r = await residentCall('DELETE', `/api/v1/me/carers/${encodeURIComponent(id)}`, undefined, isCarer);
  return r.ok ? { ok: true as const, value: readCarer(r.value)! } : r;
}

// The latest end date a carer may be given: two years from `today` (YYYY-MM-DD).
export function maxEndDate(today: Date): string {
  const d = new Date(Date.UTC(today.getUTCFullYear() + 2, today.getUTCMonth(), today.getUTCDate()));
  return d.toISOString().slice(0, 10);
}
