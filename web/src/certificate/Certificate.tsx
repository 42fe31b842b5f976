// The unlocked document: who, what leave (or the vaccination, referral, lab results, hospital
// stay), who issued it, its QR code, and the patient's controls (show the diagnosis or not, print,
// copy the link); then the same document as a SMART Health Link for other health apps. Prints on
// one page (lab results and long summaries may need more).
import { useId, useState } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError, safeLinkPath, setLinkPreferences, svgDataUrl, type DocumentView } from '../lib/api';
import { describeLeave, formatDateTime } from '../lib/dates';
import { readDetails } from '../lib/details';
import { kindLabel } from '../lib/verdict';
import { wordedKey } from '../lib/wording';
import { Link } from '../router';
import type { MessageKey } from '../i18n/en';
import { DetailSections, detailRows } from './Details';
import { HealthAppLink } from './HealthAppLink';

interface Props {
  token: string;
  view: DocumentView;
  onView: (view: DocumentView) => void;
}

export function Certificate({ token, view, onView }: Props) {
  const { t, locale } = useI18n();
  // The switch follows the click at once; the server's answer then confirms it (or it flips back).
  const [pending, setPending] = useState<boolean | null>(null);
  const saving = pending !== null;
  const [notice, setNotice] = useState<{ key: MessageKey; error: boolean } | null>(null);
  const ids = { toggle: useId(), toggleHelp: useId() };
  const title = kindLabel(view.kind, view.label, t) ?? view.label;
  const newer = safeLinkPath(view.supersededBy);
  const details = readDetails(view.kind, view.details);

  const toggle = async (show: boolean) => {
    setPending(show);
    setNotice(null);
    try {
      const res = await setLinkPreferences(token, show);
      if (res.ok) {
        onView(res.value);
        setNotice({ key: res.value.showDiagnosis ? 'cert.diagnosis.saved' : 'cert.diagnosis.removed', error: false });
      } else {
        setNotice({ key: 'cert.diagnosis.failed', error: true });
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setNotice({ key: 'cert.diagnosis.failed', error: true });
    } finally {
      setPending(null);
    }
  };

  const copy = async () => {
    const url = `${window.location.origin}/c/${token}`;
    try {
      await navigator.clipboard.writeText(url);
      setNotice({ key: 'cert.copied', error: false });
    } catch {
      setNotice({ key: 'cert.copyFailed', error: true });
    }
  };

  const rows: [string, string][] = [
    [t('doc.patient'), view.patient.name],
    [t('doc.id'), view.patient.maskedId],
    ...(view.leave ? [[t('doc.leave'), describeLeave(view.leave.from, view.leave.to, locale, t)] as [string, string]] : []),
    ...(details ? detailRows(details, locale, t) : []),
    [t('doc.facility'), view.facility.code ? `${view.facility.name} (${view.facility.code})` : view.facility.name],
    [t('doc.doctor'), view.doctor],
    [t('doc.issued'), formatDateTime(view.issued, locale)],
  ];
  if (view.showDiagnosis) {
    const d = view.diagnosis;
    rows.push([t('doc.diagnosis'), d ? (d.code ? `${d.text} (${d.code})` : d.text) : t('cert.diagnosis.none')]);
  }

  return (
    <article className={`certificate certificate--${view.status}`} aria-labelledby="cert-title">
      {view.status === 'revoked' && (
        <div className="status-banner status-banner--revoked" role="alert">
          <span className="status-banner__icon" aria-hidden="true">⊘</span>
          <div>
            <p><strong>{t(wordedKey('cert.revoked', view.kind))}</strong></p>
            {view.revokedReason && <p>{t('cert.revokedReason', { reason: view.revokedReason })}</p>}
          </div>
        </div>
      )}
      {view.status === 'superseded' && (
        <div className="status-banner status-banner--superseded" role="alert">
          <span className="status-banner__icon" aria-hidden="true">↻</span>
          <div>
            <p><strong>{t(wordedKey('cert.superseded', view.kind))}</strong></p>
            {newer && <p><Link href={newer}>{t(wordedKey('cert.supersededLink', view.kind))}</Link></p>}
          </div>
        </div>
      )}

      <div id="cert-title">
        <PageHeading title={title}>{title}</PageHeading>
      </div>

      <div className="certificate__body">
        <dl className="facts facts--certificate">
          {rows.map(([k, v]) => (
            <div key={k} className="facts__row">
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
        {view.qrSvg ? (
          <figure className="certificate__qr">
            <img src={svgDataUrl(view.qrSvg)} alt={t('cert.qr')} width="240" height="240" />
            <figcaption>{t('cert.qrHelp', { url: `${window.location.host}/verify` })}</figcaption>
          </figure>
        ) : (
          <p className="certificate__linkonly hint">{t('cert.linkOnly')}</p>
        )}
      </div>
      {details && <DetailSections details={details} />}

      <section className="certificate__controls card" aria-label={t('cert.actions')}>
        <div className="toggle">
          <input
            id={ids.toggle}
            type="checkbox"
            role="switch"
            checked={pending ?? view.showDiagnosis}
            disabled={saving}
            aria-describedby={ids.toggleHelp}
            onChange={(e) => void toggle(e.target.checked)}
          />
          <label htmlFor={ids.toggle}>{t('cert.diagnosis.toggle')}</label>
        </div>
        <p id={ids.toggleHelp} className="hint">{t('cert.diagnosis.help')}</p>
        <div className="actions">
          <button type="button" className="button" onClick={() => window.print()}>{t('cert.print')}</button>
          <button type="button" className="button button--secondary" onClick={() => void copy()}>{t('cert.copy')}</button>
        </div>
        <p role="status" className={notice?.error ? 'message message--error' : notice ? 'message message--ok' : 'message--empty'}>
          {notice ? t(notice.key) : ''}
        </p>
        <p className="aside-link">
          <Link href="/verify">{t('cert.verifyLink')}</Link>
        </p>
      </section>
      {/* A withdrawn or replaced document is not one to pass on to another app. */}
      {view.shlink && view.status === 'active' && <HealthAppLink link={view.shlink} />}
    </article>
  );
}
