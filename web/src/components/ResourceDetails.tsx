// One FHIR resource as readable facts (lib/fhirView.ts): the measured value with its range and
// High/Low flag, then status, dates, who and where, then notes. Used by the record page and the
// share viewer.
import { useI18n } from '../i18n/context';
import { formatDateTime } from '../lib/dates';
import { rangeOf, valueOf } from '../lib/details';
import type { ResourceView } from '../lib/fhirView';

export function ResourceFacts({ view }: { view: ResourceView }) {
  const { t, locale } = useI18n();
  const r = view.result;
  const out = r?.flag === 'H' || r?.flag === 'L';
  const range = r ? rangeOf(r, locale) : undefined;
  return (
    <>
      <dl className="facts">
        {r && (
          <div className="facts__row">
            <dt>{t('lab.result')}</dt>
            <dd>
              <span className="results__value">{valueOf(r, locale)}</span>
              {out && ' '}
              {out && (
                <strong className="flag">
                  <span aria-hidden="true">{r.flag === 'H' ? '▲ ' : '▼ '}</span>
                  {t(r.flag === 'H' ? 'lab.high' : 'lab.low')}
                </strong>
              )}
            </dd>
          </div>
        )}
        {range && (
          <div className="facts__row">
            <dt>{t('lab.range')}</dt>
            <dd>
              {range.kind === 'between' ? t('lab.rangeBetween', { low: range.low, high: range.high })
                : range.kind === 'atLeast' ? t('lab.rangeAtLeast', { low: range.low }) : t('lab.rangeAtMost', { high: range.high })}
            </dd>
          </div>
        )}
        {view.rows.map((row) => (
          <div key={row.label} className="facts__row">
            <dt>{t(row.label)}</dt>
            <dd>{row.kind === 'date' ? formatDateTime(row.text, locale) : row.text}</dd>
          </div>
        ))}
      </dl>
      {view.notes.length > 0 && (
        <>
          <h3>{t('record.notes')}</h3>
          {view.notes.map((n, i) => <p key={i} className="summary__text">{n}</p>)}
        </>
      )}
    </>
  );
}
