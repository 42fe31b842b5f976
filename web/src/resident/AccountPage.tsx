// /account: the person the account is linked to, the ways to confirm a login (enrol an
// authenticator app: its otpauth:// QR code drawn here, then a code from it to confirm),
// notification choices, and signing out here or everywhere.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError, svgDataUrl } from '../lib/api';
import { formatDate, formatDateTime } from '../lib/dates';
import { qrSvg } from '../lib/qrDraw';
import {
  cleanCode, getMe, isSixDigits, logout, logoutEverywhere, totpConfirm, totpSetup, type Me, type TotpSetup,
} from '../lib/resident';
import { Link, navigate } from '../router';
import { ErrorSummary, Notice, describedBy, refusalText, useRefusal, type FieldError } from './common';
import { ChangePasswordSection } from './ChangePasswordSection';
import { NotificationsSection } from './NotificationsSection';

type Enrol = { step: 'idle' } | { step: 'scan'; setup: TotpSetup; qr: string | null } | { step: 'done' };

export function AccountPage() {
  const { t, locale } = useI18n();
  const base = useId();
  const [me, setMe] = useState<Me | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [enrol, setEnrol] = useState<Enrol>({ step: 'idle' });
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState('');
  const refusal = useRefusal();

  const guard = useCallback(async (what: string, work: () => Promise<void>) => {
    setBusy(what);
    try {
      await work();
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setNotice({ text: t('app.networkError'), error: true });
    } finally {
      setBusy('');
    }
  }, [t]);

  const load = useCallback(() => {
    setFailed(null);
    void (async () => {
      try {
        const res = await getMe();
        if (res.ok) setMe(res.value);
        else {
          const r = refusal(res.problem);
          if (r) setFailed(refusalText(r, t));
        }
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        setFailed(t('app.networkError'));
      }
    })();
  }, [refusal, t]);
  useEffect(load, [load]);

  const startEnrol = () => guard('setup', async () => {
    setNotice(null);
    const res = await totpSetup();
    if (!res.ok) {
      const r = refusal(res.problem);
      if (r) setNotice({ text: refusalText(r, t), error: true });
      return;
    }
    setEnrol({ step: 'scan', setup: res.value, qr: null });
    try {
      const svg = await qrSvg(res.value.uri);
      setEnrol((e) => (e.step === 'scan' && e.setup === res.value ? { ...e, qr: svg } : e));
    } catch {
      // the key is shown as text too
    }
  });

  const confirm = (e: FormEvent) => {
    e.preventDefault();
    const c = cleanCode(code);
    if (!isSixDigits(c)) {
      setErrors([{ field: `${base}-totp`, text: t('error.codeFormat') }]);
      return;
    }
    setErrors([]);
    void guard('confirm', async () => {
      const res = await totpConfirm(c);
      if (res.ok) {
        setEnrol({ step: 'done' });
        setCode('');
        setNotice({ text: t('account.totpDone'), error: false });
        load();
        return;
      }
      const r = refusal(res.problem);
      if (!r) return;
      setNotice({ text: r.kind === 'wrong' ? t('account.totpWrong') : refusalText(r, t), error: true });
    });
  };

  const signOut = (everywhere: boolean) => guard(everywhere ? 'everywhere' : 'logout', async () => {
    const res = everywhere ? await logoutEverywhere() : await logout();
    if (res.ok || res.problem.status === 401) {
      navigate(`/login?signedOut=${everywhere ? 'everywhere' : '1'}`);
      return;
    }
    const r = refusal(res.problem);
    if (r) setNotice({ text: refusalText(r, t), error: true });
  });

  if (!me) {
    return (
      <>
        <PageHeading title={t('account.title')}>{t('account.title')}</PageHeading>
        {failed ? (
          <>
            <p className="message message--error" role="alert">{failed}</p>
            <button type="button" className="button button--secondary" onClick={load}>{t('app.retry')}</button>
          </>
        ) : <p role="status">{t('app.loading')}</p>}
      </>
    );
  }

  const hasTotp = me.account.secondFactors.includes('totp');
  const rows: [string, string][] = [
    [t('account.name'), me.patient.name],
    [t('account.birthDate'), formatDate(me.patient.birthDate, locale)],
    [t('account.created'), formatDateTime(me.account.created, locale)],
    [t('account.sessionEnds'), formatDateTime(me.session.expires, locale)],
  ];
  const codeId = `${base}-totp`;

  return (
    <>
      <PageHeading title={t('account.title')}>{t('account.title')}</PageHeading>
      <Notice text={notice?.text ?? null} error={notice?.error} />
      <section className="card" aria-labelledby={`${base}-person`}>
        <h2 id={`${base}-person`}>{t('account.person')}</h2>
        <dl className="facts">
          {rows.map(([k, v]) => (
            <div key={k} className="facts__row"><dt>{k}</dt><dd>{v}</dd></div>
          ))}
        </dl>
      </section>

      <section className="card" aria-labelledby={`${base}-factors`}>
        <h2 id={`${base}-factors`}>{t('account.factors')}</h2>
        <ul className="plain-list">
          {me.account.secondFactors.includes('sms') && <li>{t('account.factor.sms')}</li>}
          {hasTotp && <li>{t('account.factor.totp')}</li>}
        </ul>
        <h3>{t('account.totpTitle')}</h3>
        <p>{t('account.totpIntro')}</p>
        {hasTotp && enrol.step !== 'scan' && <p className="message message--ok">{t('account.totpEnrolled')}</p>}
        {enrol.step === 'scan' ? (
          <form onSubmit={confirm} noValidate className="totp">
            <ErrorSummary errors={errors} />
            <p>{t('account.totpScan')}</p>
            <figure className="totp__qr">
              {enrol.qr ? <img src={svgDataUrl(enrol.qr)} alt={t('account.totpQr')} width="220" height="220" /> : <p className="hint">{t('shl.qrLoading')}</p>}
            </figure>
            <p>
              <span className="totp__keylabel">{t('account.totpKey')}</span>{' '}
              <code className="totp__key" data-testid="totp-secret">{enrol.setup.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
            </p>
            <div className="field">
              <label htmlFor={codeId}>{t('resident.fieldCode')}</label>
              <p id={`${codeId}-hint`} className="hint">{t('resident.codeHint')}</p>
              <input
                id={codeId} type="text" inputMode="numeric" autoComplete="one-time-code" maxLength={9} className="input--code"
                aria-invalid={errors.length ? true : undefined} aria-describedby={describedBy(codeId, true, false)}
                value={code} onChange={(e) => setCode(e.target.value)}
              />
            </div>
            <div className="actions">
              <button type="submit" className="button" disabled={busy !== ''}>{busy === 'confirm' ? t('account.totpConfirming') : t('account.totpConfirm')}</button>
              <button type="button" className="button button--secondary" onClick={() => setEnrol({ step: 'idle' })}>{t('account.totpCancel')}</button>
            </div>
          </form>
        ) : (
          !hasTotp && (
            <button type="button" className="button" disabled={busy !== ''} onClick={() => void startEnrol()}>
              {busy === 'setup' ? t('account.totpStarting') : t('account.totpStart')}
            </button>
          )
        )}
      </section>

      {me.account.hasPassword !== false ? <ChangePasswordSection /> : (
        <section className="card" aria-labelledby={`${base}-nopassword`}>
          <h2 id={`${base}-nopassword`}>{t('account.passwordTitle')}</h2>
          <p>{t('account.noPassword')}</p>
          <p><Link href="/reset">{t('account.setPassword')}</Link></p>
        </section>
      )}

      <NotificationsSection />

      <section className="card" aria-labelledby={`${base}-sessions`}>
        <h2 id={`${base}-sessions`}>{t('account.sessionsTitle')}</h2>
        <div className="actions">
          <button type="button" className="button button--secondary" disabled={busy !== ''} onClick={() => void signOut(false)}>{t('account.logout')}</button>
        </div>
        <p id={`${base}-everywhere`} className="hint">{t('account.logoutEverywhereHelp')}</p>
        <div className="actions">
          <button type="button" className="button button--danger" aria-describedby={`${base}-everywhere`} disabled={busy !== ''} onClick={() => void signOut(true)}>
            {t('account.logoutEverywhere')}
          </button>
        </div>
      </section>
    </>
  );
}
