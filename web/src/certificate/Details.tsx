// What a document says beyond who and who issued it: a vaccination, a referral, a hospital stay
// as rows of the certificate's facts; lab results as a table and a discharge summary as text,
// each under its own heading.
import { useId } from 'react';
import { useI18n } from '../i18n/context';
import type { MessageKey } from '../i18n/en';
import { formatAsWritten, formatDate } from '../lib/dates';
import { rangeOf, resultCode, valueOf, type Details, type LabResult } from '../lib/details';

type T = (key: MessageKey, params?: Record<string, string | number>) => string;

const priorities = ['routine', 'urgent', 'asap', 'stat'] as const;

// The rows this document adds to the facts list (label, value).
export function detailRows(d: Details, locale: string, t: T): [string, string][] {
  switch (d.family) {
    case 'vaccination': {
      const rows: [string, string][] = [[t('doc.vaccine'), d.vaccine]];
      if (d.date) rows.push([t('doc.vaccineDate'), formatDate(d.date, locale)]);
      if (d.doseNumber !== undefined) rows.push([t('doc.dose'), String(d.doseNumber)]);
      if (d.lotNumber) rows.push([t('doc.lot'), d.lotNumber]);
      return rows;
    }
    case 'referral': {
      const rows: [string, string][] = [[t('doc.referredTo'), d.to]];
      const p = priorities.find((x) => x === d.priority);
      if (p) rows.push([t('doc.priority'), t(`doc.priority.${p}`)]);
      else if (d.priority) rows.push([t('doc.priority'), d.priority]);
      rows.push([t('doc.referralReason'), d.reason]);
      return rows;
    }
    case 'discharge': {
      const rows: [string, string][] = [];
      if (d.from) rows.push([t('doc.admitted'), formatDate(d.from, locale)]);
      if (d.to) rows.push([t('doc.discharged'), formatDate(d.to, locale)]);
      return rows;
    }
    case 'lab':
      return [];
  }
}

function Range({ r }: { r: LabResult }) {
  const { t, locale } = useI18n();
  const range = rangeOf(r, locale);
  if (!range) return null;
  if (range.kind === 'between') return <>{t('lab.rangeBetween', { low: range.low, high: range.high })}</>;
  if (range.kind === 'atLeast') return <>{t('lab.rangeAtLeast', { low: range.low })}</>;
  return <>{t('lab.rangeAtMost', { high: range.high })}</>;
}

// The sections' headings: h2 on a document's page, h3 under the verify page's verdict (h2).
type Level = 2 | 3;

function Heading({ level, id, children }: { level: Level; id: string; children: string }) {
  return level === 3 ? <h3 id={id}>{children}</h3> : <h2 id={id}>{children}</h2>;
}

function LabResults({ results, level }: { results: LabResult[]; level: Level }) {
  const { t, locale } = useI18n();
  const heading = useId();
  const anyRange = results.some((r) => r.flag !== undefined);
  return (
    <section className="results" aria-labelledby={heading}>
      <Heading level={level} id={heading}>{t('doc.results')}</Heading>
      <table className="results__table">
        <thead>
          <tr>
            <th scope="col">{t('lab.test')}</th>
            <th scope="col">{t('lab.result')}</th>
            <th scope="col">{t('lab.range')}</th>
          </tr>
        </thead>
        <tbody>
          {results.map((r, i) => {
            const out = r.flag === 'H' || r.flag === 'L';
            return (
              <tr key={i} className={out ? 'results__row results__row--out' : 'results__row'} data-flag={r.flag}>
                <th scope="row">
                  {r.name || t('lab.result')}
                  {!r.name && r.code && <span className="facts__sub">{resultCode(r)}</span>}
                  {r.effective && (
                    <span className="facts__sub">{t('lab.taken', { date: formatAsWritten(r.effective, locale) })}</span>
                  )}
                </th>
                <td>
                  <span className="results__value">{valueOf(r, locale)}</span>
                  {out && ' '}
                  {out && (
                    <strong className="flag">
                      <span aria-hidden="true">{r.flag === 'H' ? '▲ ' : '▼ '}</span>
                      {t(r.flag === 'H' ? 'lab.high' : 'lab.low')}
                    </strong>
                  )}
                </td>
                <td><Range r={r} /></td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {anyRange && <p className="hint">{t('lab.flagHelp')}</p>}
    </section>
  );
}

function Summary({ text, level }: { text: string; level: Level }) {
  const { t } = useI18n();
  const heading = useId();
  return (
    <section className="summary" aria-labelledby={heading}>
      <Heading level={level} id={heading}>{t('doc.summary')}</Heading>
      <p className="summary__text">{text}</p>
    </section>
  );
}

// The parts of a document that need more room than a row of facts.
export function DetailSections({ details, level = 2 }: { details: Details; level?: Level }) {
  if (details.family === 'lab') return <LabResults results={details.results} level={level} />;
  if (details.family === 'discharge') return <Summary text={details.summary} level={level} />;
  return null;
}
