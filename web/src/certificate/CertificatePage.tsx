// /c/:token: the link a patient gets by SMS. Locked until someone gives the patient's date of
// birth (the server remembers the unlock in an HttpOnly cookie for 7 days), then the document.
import { useCallback, useEffect, useState } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { getLink, isBusy, NetworkError, unlockLink, type ApiResult, type DocumentView } from '../lib/api';
import { formatTime, retryAt } from '../lib/dates';
import { wordedKey } from '../lib/wording';
import type { MessageKey } from '../i18n/en';
import { Link } from '../router';
import { DobForm, type DobRefusal } from './DobForm';
import { Certificate } from './Certificate';

type T = (key: MessageKey, params?: Record<string, string | number>) => string;

type State =
  | { step: 'loading' }
  | { step: 'locked'; refused?: DobRefusal; remaining?: number }
  | { step: 'throttled'; at: Date; minutes: number; limit?: 'link' | 'address' }
  | { step: 'gone' }
  | { step: 'error'; network: boolean; status: number }
  | { step: 'open'; view: DocumentView };

export function next(res: ApiResult<DocumentView>, afterAttempt: boolean): State {
  if (res.ok) return { step: 'open', view: res.value };
  const p = res.problem;
  if (p.status === 401) return { step: 'locked', remaining: p.remainingAttempts, refused: afterAttempt ? 'wrong' : undefined };
  // Another date of birth for this link was being checked at that moment: nothing is locked or
  // counted, so the form stays (with what was typed) for another go.
  if (isBusy(p)) return { step: 'locked', refused: 'busy' };
  if (p.status === 429) return { step: 'throttled', ...retryAt(new Date(), p.retryAfter ?? 60), ...(p.limit ? { limit: p.limit } : {}) };
  if (p.status === 410) return { step: 'gone' };
  return { step: 'error', network: false, status: p.status };
}

// The words for a wait (a 429 other than "busy"): this link's own lock after wrong dates of birth,
// or a stop for the reader's network address after wrong answers across links, as the server's
// "limit" says; words true of both when it says neither (a server from before it did).
export function waitWords(
  { at, minutes, limit }: { at: Date; minutes: number; limit?: 'link' | 'address' },
  t: T,
  timeZone?: string,
): string {
  const time = formatTime(at, timeZone);
  const one = minutes === 1;
  if (limit === 'link') return one ? t('link.waitLinkOne', { time }) : t('link.waitLink', { time, minutes });
  if (limit === 'address') return one ? t('link.waitNetworkOne', { time }) : t('link.waitNetwork', { time, minutes });
  return one ? t('link.waitOne', { time }) : t('link.wait', { time, minutes });
}

export function CertificatePage({ token, latest }: { token: string; latest: boolean }) {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ step: 'loading' });
  const [busy, setBusy] = useState(false);

  const guard = async (call: () => Promise<ApiResult<DocumentView>>, afterAttempt: boolean) => {
    try {
      setState(next(await call(), afterAttempt));
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setState({ step: 'error', network: true, status: 0 });
    }
  };

  // guard only calls setState, which never changes.
  const load = useCallback(() => {
    setState({ step: 'loading' });
    void guard(() => getLink(token, latest), false);
  }, [token, latest]);
  useEffect(load, [load]);

  const unlock = async (birthDate: string) => {
    setBusy(true);
    await guard(() => unlockLink(token, birthDate), true);
    setBusy(false);
  };

  if (state.step === 'open') {
    return <Certificate token={token} view={state.view} />;
  }

  // Until the date of birth is given the server does not say what kind of document this is (its
  // refusal carries no health data), so these screens use the neutral wording.
  const title = t(wordedKey('link.title'));
  return (
    <>
      <PageHeading title={title}>{title}</PageHeading>
      {state.step === 'loading' && <p role="status">{t('app.loading')}</p>}
      {state.step === 'locked' && (
        <DobForm onSubmit={unlock} busy={busy} refused={state.refused} remaining={state.remaining} />
      )}
      {state.step === 'throttled' && (
        <>
          <p className="message message--error" role="alert">{waitWords(state, t)}</p>
          <button type="button" className="button button--secondary" onClick={load}>{t('app.retry')}</button>
        </>
      )}
      {/* Turned off by wrong dates of birth. The clinic can only turn this same link back on; the
          patient, signed in, can do that too or make new links. Whoever reads this may be the
          patient or someone they sent the link to: each is told what they can do. */}
      {state.step === 'gone' && (
        <>
          <p className="message message--error" role="alert">{t('link.gone')}</p>
          <p>
            {t('link.gone.patient')} <Link href="/documents">{t('link.gone.patientLink')}</Link>
          </p>
          <p>{t('link.gone.other')}</p>
        </>
      )}
      {state.step === 'error' && (
        <>
          <p className="message message--error" role="alert">
            {state.network ? t('app.networkError') : t('app.serverError', { status: state.status })}
          </p>
          <button type="button" className="button button--secondary" onClick={load}>{t('app.retry')}</button>
        </>
      )}
      <p className="aside-link">
        <Link href="/verify">{t('cert.verifyLink')}</Link>
      </p>
    </>
  );
}
