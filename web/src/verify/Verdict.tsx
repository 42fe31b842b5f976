// One verdict: a large banner (icon, word and colour, so colour is never the only signal), why a
// card was refused, who issued it, and what it says: the facts, then the kind's content (lab
// results, vaccination, referral, discharge summary) as the document's own page shows it.
import type { Ref } from 'react';
import { useI18n } from '../i18n/context';
import { describeLeave, formatDate, formatDateTime } from '../lib/dates';
import { kindLabel, otherFindings, reasonSentence, summarizeBundle, trustsIssuer, verdictKeys, type VerifyAnswer } from '../lib/verdict';
import { DetailSections, detailRows } from '../certificate/Details';
import { clinicOffset } from '../lib/details';
import { periodKey } from '../lib/wording';

export function Verdict({ answer, headingRef }: { answer: VerifyAnswer; headingRef: Ref<HTMLHeadingElement> }) {
  const { t, locale } = useI18n();
  const keys = verdictKeys[answer.outcome];
  // What an invalid card says proves nothing, so it is not shown as if it were a certificate.
  const trusted = trustsIssuer(answer.outcome);
  const findings = otherFindings(answer);
  const content = answer.fhirBundle && trusted ? summarizeBundle(answer.fhirBundle) : {};
  const label = trusted ? kindLabel(content.kind ?? answer.document?.kind, content.label, t) : undefined;
  const issued = trusted ? content.issued ?? answer.document?.issued : undefined;
  const rows: [string, string | undefined][] = [
    [t('doc.patient'), content.patientName],
    [t('doc.birthDate'), content.birthDate && formatDate(content.birthDate, locale)],
    [t('doc.kind'), label],
    [t(periodKey(content.kind ?? answer.document?.kind)), content.leaveFrom && content.leaveTo ? describeLeave(content.leaveFrom, content.leaveTo, locale, t) : undefined],
    ...(content.details ? detailRows(content.details, locale, t) : []),
    [t('doc.doctor'), content.doctor],
    [t('doc.facility'), content.facility],
    [t('doc.issued'), issued && formatDateTime(issued, locale, undefined, clinicOffset(content.leaveFrom, content.details))],
  ];
  const shown = rows.filter((r): r is [string, string] => !!r[1]);

  return (
    <section className={`verdict verdict--${answer.outcome}`} aria-labelledby="verdict-title" data-outcome={answer.outcome}>
      <div className="verdict__banner">
        <span className="verdict__icon" aria-hidden="true">{keys.icon}</span>
        <h2 id="verdict-title" ref={headingRef} tabIndex={-1} className="verdict__title">
          <span className="visually-hidden">{t('verify.result')}: </span>
          {t(keys.title)}
        </h2>
      </div>
      <p className="verdict__help">{t(keys.help)}</p>
      {answer.reason && answer.outcome !== 'valid' && (
        <p>
          <strong>{t('verdict.reason')}:</strong> {reasonSentence(answer.reason, t)}
        </p>
      )}
      {answer.message && (
        <p className="technical">
          {t('verdict.details')}: {answer.message}
          {answer.reason && <> (<code>{answer.reason}</code>)</>}
        </p>
      )}
      {findings.errors.length > 0 && (
        <div className="verdict__findings">
          <h3>{t('verdict.otherErrors')}</h3>
          <ul>
            {findings.errors.map((f, i) => (
              <li key={`e${i}`}>
                {reasonSentence(f.reason, t)} <code>{f.reason}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {findings.warnings.length > 0 && (
        <div className="verdict__findings" data-testid="verdict-warnings">
          <h3>{t('verdict.warnings')}</h3>
          <ul>
            {findings.warnings.map((f, i) => (
              <li key={`w${i}`}>
                {reasonSentence(f.reason, t)} <code>{f.reason}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {answer.issuer && trusted && (
        <dl className="facts">
          <div className="facts__row">
            <dt>{t('verdict.issuer')}</dt>
            <dd>
              {answer.issuer.name ?? answer.issuer.iss}
              {answer.issuer.name && <span className="facts__sub">{answer.issuer.iss}</span>}
            </dd>
          </div>
          {answer.document?.transparencyLogIndex !== undefined && (
            <div className="facts__row">
              <dt>{t('verdict.logIndex')}</dt>
              <dd>#{answer.document.transparencyLogIndex}</dd>
            </div>
          )}
        </dl>
      )}
      {/* An invalid card's issuer is only what the card claims: never its name from our directory,
          which would read as if that facility had issued it. */}
      {answer.issuer && !trusted && (
        <dl className="facts">
          <div className="facts__row">
            <dt>{t('verdict.claimedIssuer')}</dt>
            <dd><code>{answer.issuer.iss}</code></dd>
          </div>
        </dl>
      )}
      {shown.length > 0 && (
        <>
          <h3>{t('verdict.content')}</h3>
          <dl className="facts">
            {shown.map(([k, v]) => (
              <div key={k} className="facts__row">
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
          {content.details && <DetailSections details={content.details} level={3} />}
        </>
      )}
    </section>
  );
}
