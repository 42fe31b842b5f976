// A verifiable document as people read it: the status banner (withdrawn, or replaced with a link to
// the newer one), the heading, the facts, its QR code (or "shared by link only") and the details
// of its kind. The certificate link page and the patient's own document page both show it;
// `children` (their own controls) follow inside the same article. The QR code is drawn here from
// the card's "shc:/" text (the encoder loads on first use); the server sends no picture.
import { useEffect, useId, useState, type ReactNode } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { svgDataUrl, type DocumentView } from '../lib/api';
import { describeLeave, formatDateTime } from '../lib/dates';
import { clinicOffset, readDetails } from '../lib/details';
import { shcQrSvg } from '../lib/qrDraw';
import { kindLabel } from '../lib/verdict';
import { periodKey, wordedKey } from '../lib/wording';
import { Link } from '../router';
import { DetailSections, detailRows } from './Details';

interface Props {
  view: DocumentView;
  // The diagnosis row's text, or null for no row (each page has its own rule for showing it).
  diagnosis: string | null;
  // Where the replacing document is shown, for a superseded one (null: nowhere to link).
  newerHref?: string | null;
  children?: ReactNode;
}

export function DocumentCard({ view, diagnosis, newerHref, children }: Props) {
  const { t, locale } = useI18n();
  const heading = useId();
  const title = kindLabel(view.kind, view.label, t) ?? view.label;
  const details = readDetails(view.kind, view.details);
  const [qr, setQr] = useState<{ state: 'waiting' } | { state: 'ready'; svg: string } | { state: 'failed' }>({ state: 'waiting' });
  useEffect(() => {
    if (!view.qr) return;
    let live = true;
    setQr({ state: 'waiting' });
    shcQrSvg(view.qr).then(
      (svg) => live && setQr({ state: 'ready', svg }),
      () => live && setQr({ state: 'failed' }),
    );
    return () => {
      live = false;
    };
  }, [view.qr]);
  const rows: [string, string][] = [
    [t('doc.patient'), view.patient.name],
    [t('doc.id'), view.patient.maskedId],
    ...(view.leave ? [[t(periodKey(view.kind)), describeLeave(view.leave.from, view.leave.to, locale, t)] as [string, string]] : []),
    ...(details ? detailRows(details, locale, t) : []),
    [t('doc.facility'), view.facility.code ? `${view.facility.name} (${view.facility.code})` : view.facility.name],
    [t('doc.doctor'), view.doctor],
    [t('doc.issued'), formatDateTime(view.issued, locale, undefined, clinicOffset(view.leave?.from, details))],
    ...(diagnosis !== null ? [[t('doc.diagnosis'), diagnosis] as [string, string]] : []),
  ];
  return (
    <article className={`certificate certificate--${view.status}`} aria-labelledby={heading}>
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
            {newerHref && <p><Link href={newerHref}>{t(wordedKey('cert.supersededLink', view.kind))}</Link></p>}
          </div>
        </div>
      )}
      <div id={heading}>
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
        {view.qr ? (
          <figure className="certificate__qr" aria-busy={qr.state === 'waiting'}>
            {qr.state === 'ready' && <img src={svgDataUrl(qr.svg)} alt={t('cert.qr')} width="240" height="240" />}
            {qr.state === 'waiting' && <p className="certificate__qr-wait hint">{t('shl.qrLoading')}</p>}
            {qr.state === 'failed' && <p className="message message--error">{t('shl.qrFailed')}</p>}
            <figcaption>{t('cert.qrHelp', { url: `${window.location.host}/verify` })}</figcaption>
          </figure>
        ) : (
          <p className="certificate__linkonly hint">{t('cert.linkOnly')}</p>
        )}
      </div>
      {details && <DetailSections details={details} />}
      {children}
    </article>
  );
}
