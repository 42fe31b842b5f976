// The unlocked document: who, what leave (or the vaccination, referral, lab results, hospital
// stay), who issued it, its QR code, and the controls (print, copy the link, save the card as a
// .smart-health-card file for a health app, the SMART Health Cards way to download); then the same
// document as a SMART Health Link for other health apps. Prints on one page (lab results and long
// summaries may need more).
//
// Whoever unlocked the link may not be the patient (a link forwarded to an employer opens with the
// same birth date), so the diagnosis is shown or not as the patient chose on their own document
// page (/documents/<id>, signed in); this page only says where that choice is made.
import { useState } from 'react';
import { useI18n } from '../i18n/context';
import { safeLinkPath, type DocumentView } from '../lib/api';
import { linkDiagnosis } from '../lib/documents';
import { downloadHealthCard, healthCardFileName, jwsFromShc } from '../lib/healthCardFile';
import { Link } from '../router';
import type { MessageKey } from '../i18n/en';
import { DocumentCard } from './DocumentCard';
import { HealthAppLink } from './HealthAppLink';

interface Props {
  token: string;
  view: DocumentView;
}

export function Certificate({ token, view }: Props) {
  const { t } = useI18n();
  const [notice, setNotice] = useState<{ key: MessageKey; error: boolean } | null>(null);
  const newer = safeLinkPath(view.supersededBy);
  // Only a card that still holds is one to keep in a health app.
  const jws = view.status === 'active' && view.qr ? jwsFromShc(view.qr) : undefined;

  const copy = async () => {
    const url = `${window.location.origin}/c/${token}`;
    try {
      await navigator.clipboard.writeText(url);
      setNotice({ key: 'cert.copied', error: false });
    } catch {
      setNotice({ key: 'cert.copyFailed', error: true });
    }
  };

  return (
    <DocumentCard view={view} diagnosis={linkDiagnosis(view, t)} newerHref={newer}>
      <section className="certificate__controls card" aria-label={t('cert.actions')}>
        <div className="actions">
          <button type="button" className="button" onClick={() => window.print()}>{t('cert.print')}</button>
          <button type="button" className="button button--secondary" onClick={() => void copy()}>{t('cert.copy')}</button>
          {jws && (
            <button type="button" className="button button--secondary" onClick={() => downloadHealthCard(jws, healthCardFileName(view.kind, view.issued))}>
              {t('cert.download')}
            </button>
          )}
        </div>
        <p role="status" className={notice?.error ? 'message message--error' : notice ? 'message message--ok' : 'message--empty'}>
          {notice ? t(notice.key) : ''}
        </p>
        <p className="hint">
          {t('cert.diagnosis.where')} <Link href="/documents">{t('cert.diagnosis.whereLink')}</Link>
        </p>
        <p className="aside-link">
          <Link href="/verify">{t('cert.verifyLink')}</Link>
        </p>
      </section>
      {/* A withdrawn or replaced document is not one to pass on to another app. */}
      {view.shlink && view.status === 'active' && <HealthAppLink link={view.shlink} />}
    </DocumentCard>
  );
}
