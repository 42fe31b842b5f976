// The unlocked document: who, what leave (or the vaccination, referral, lab results, hospital
// stay), who issued it, its QR code, and the patient's controls (show the diagnosis or not, print,
// copy the link); then the same document as a SMART Health Link for other health apps. Prints on
// one page (lab results and long summaries may need more).
import { useId, useState } from 'react';
import { useI18n } from '../i18n/context';
import { NetworkError, safeLinkPath, setLinkPreferences, type DocumentView } from '../lib/api';
import { Link } from '../router';
import type { MessageKey } from '../i18n/en';
import { DocumentCard } from './DocumentCard';
import { HealthAppLink } from './HealthAppLink';

interface Props {
  token: string;
  view: DocumentView;
  onView: (view: DocumentView) => void;
}

export function Certificate({ token, view, onView }: Props) {
  const { t } = useI18n();
  // The switch follows the click at once; the server's answer then confirms it (or it flips back).
  const [pending, setPending] = useState<boolean | null>(null);
  const saving = pending !== null;
  const [notice, setNotice] = useState<{ key: MessageKey; error: boolean } | null>(null);
  const ids = { toggle: useId(), toggleHelp: useId() };
  const newer = safeLinkPath(view.supersededBy);

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

  const d = view.diagnosis;
  const diagnosis = view.showDiagnosis ? (d ? (d.code ? `${d.text} (${d.code})` : d.text) : t('cert.diagnosis.none')) : null;

  return (
    <DocumentCard view={view} diagnosis={diagnosis} newerHref={newer}>
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
    </DocumentCard>
  );
}
