// /login: national id + password, then the second factor: a code from an authenticator app, or
// one sent by SMS ("send me a code by SMS"). Comes back to the page named by ?next= (only a path
// on this site); ?expired=1 says the session had ended. When the server has the national eID login
// (OpenID Connect), a button starts it: a plain navigation to the server, which comes back to /book
// signed in, or here with ?error=oidc-failed or ?error=oidc-no-record.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError } from '../lib/api';
import {
  cleanCode, isInAppPath, isSixDigits, login, oidcErrorKey, oidcStartPath, oidcStatus, secondFactor, sendLoginSms,
} from '../lib/resident';
import { Link, navigate } from '../router';
import { ErrorSummary, describedBy, refusalText, useRefusal, type FieldError } from './common';

type Step = { step: 'password' } | { step: 'second'; totp: boolean; smsSent: boolean };

export function LoginPage({ search }: { search: string }) {
  const { t } = useI18n();
  const base = useId();
  const id = (f: string) => `${base}-${f}`;
  const query = new URLSearchParams(search);
  const next = query.get('next');
  const [step, setStep] = useState<Step>({ step: 'password' });
  const [nationalId, setNationalId] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const eidError = oidcErrorKey(query.get('error'));
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(
    eidError ? { text: t(eidError), error: true } :
    query.get('expired') === '1' ? { text: t('resident.sessionEnded'), error: true } :
      query.get('signedOut') === 'everywhere' ? { text: t('account.signedOutEverywhere'), error: false } :
      query.has('signedOut') ? { text: t('account.signedOut'), error: false } :
      query.has('next') ? { text: t('resident.signInFirst'), error: false } : null,
  );
  const [busy, setBusy] = useState<'' | 'login' | 'sms' | 'code'>('');
  const [eid, setEid] = useState(false);
  useEffect(() => {
    let live = true;
    // Without an answer (offline, an older server) the button simply stays away.
    oidcStatus().then((r) => { if (live && r.ok) setEid(r.value.enabled); }, () => undefined);
    return () => { live = false; };
  }, []);
  const refusal = useRefusal();

  const run = async (what: 'login' | 'sms' | 'code', work: () => Promise<void>) => {
    setBusy(what);
    try {
      await work();
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setMessage({ text: t('app.networkError'), error: true });
    } finally {
      setBusy('');
    }
  };

  const submitPassword = (e: FormEvent) => {
    e.preventDefault();
    const errs: FieldError[] = [];
    if (!nationalId.trim()) errs.push({ field: id('nid'), text: t('error.nationalIdMissing') });
    if (!password) errs.push({ field: id('password'), text: t('error.passwordMissing') });
    setErrors(errs);
    if (errs.length) return;
    setMessage(null);
    void run('login', async () => {
      const res = await login(nationalId.trim(), password);
      if (res.ok) {
        const sf = res.value.secondFactor;
        setPassword('');
        if (sf.smsLimited === true) {
          // Without an authenticator app there is nothing to enter until a code can be sent again.
          setMessage({ text: t('login.smsLimited'), error: true });
          return;
        }
        setStep({ step: 'second', totp: sf.methods.includes('totp'), smsSent: sf.smsSent });
        if (sf.smsSent) setMessage({ text: t('login.smsSent'), error: false });
        return;
      }
      const r = refusal(res.problem);
      if (!r) return;
      setMessage({ text: r.kind === 'wrong' ? t('login.wrong') : refusalText(r, t), error: true });
    });
  };

  const backToStart = (text: string) => {
    setStep({ step: 'password' });
    setCode('');
    setMessage(text ? { text, error: true } : null);
  };

  const askSms = () => {
    void run('sms', async () => {
      const res = await sendLoginSms();
      if (res.ok) {
        setStep((s) => (s.step === 'second' ? { ...s, smsSent: true } : s));
        setMessage({ text: t('login.smsSent'), error: false });
        return;
      }
      const r = refusal(res.problem);
      if (!r) backToStart(t('login.startAgain'));
      else setMessage({ text: refusalText(r, t), error: true });
    });
  };

  const submitCode = (e: FormEvent) => {
    e.preventDefault();
    const c = cleanCode(code);
    if (!isSixDigits(c)) {
      setErrors([{ field: id('code'), text: t('error.codeFormat') }]);
      return;
    }
    setErrors([]);
    setMessage(null);
    void run('code', async () => {
      const res = await secondFactor(c);
      if (res.ok) {
        navigate(isInAppPath(next) && !/^\/(login|signup|reset)\b/.test(next) ? next : '/book');
        return;
      }
      // A half session that ended (too slow, too many codes) is "start again", not "expired".
      const r = res.problem.status === 401 && res.problem.title !== 'wrong-code' ? null : refusal(res.problem);
      if (!r) {
        backToStart(t('login.startAgain'));
        return;
      }
      if (r.kind === 'wrong') {
        setCode('');
        setMessage({
          text: [t('login.wrongCode'), r.remaining !== undefined ? t('login.remaining', { n: r.remaining }) : ''].filter(Boolean).join(' '),
          error: true,
        });
      } else if (r.kind === 'throttled') {
        backToStart(refusalText(r, t));
      } else {
        setMessage({ text: refusalText(r, t), error: true });
      }
    });
  };

  const fieldError = (f: string) => errors.find((x) => x.field === id(f))?.text;
  const title = step.step === 'password' ? t('login.title') : t('login.secondTitle');

  return (
    <>
      <PageHeading key={step.step} title={title}>{title}</PageHeading>
      <ErrorSummary errors={errors} />
      {message && (
        <p className={message.error ? 'message message--error' : 'message message--ok'} role={message.error ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      {step.step === 'password' ? (
        <form className="card form" onSubmit={submitPassword} noValidate>
          <p>{t('login.intro')}</p>
          <div className="field">
            <label htmlFor={id('nid')}>{t('resident.fieldNationalId')}</label>
            <input
              id={id('nid')} type="text" inputMode="numeric" autoComplete="username" value={nationalId}
              aria-invalid={fieldError('nid') ? true : undefined} onChange={(e) => setNationalId(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={id('password')}>{t('resident.fieldPassword')}</label>
            <input
              id={id('password')} type="password" autoComplete="current-password" value={password}
              aria-invalid={fieldError('password') ? true : undefined} onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <button type="submit" className="button" disabled={busy !== ''}>{busy === 'login' ? t('login.checking') : t('login.submit')}</button>
          <p><Link href="/reset">{t('login.forgot')}</Link></p>
        </form>
      ) : (
        <form className="card form" onSubmit={submitCode} noValidate>
          <p>{step.totp ? t('login.secondIntroTotp') : t('login.secondIntroSms')}</p>
          <div className="field">
            <label htmlFor={id('code')}>{t('resident.fieldCode')}</label>
            <p id={`${id('code')}-hint`} className="hint">{t('resident.codeHint')}</p>
            <input
              id={id('code')} type="text" inputMode="numeric" autoComplete="one-time-code" maxLength={9} className="input--code"
              aria-invalid={fieldError('code') ? true : undefined} aria-describedby={describedBy(id('code'), true, false)}
              value={code} onChange={(e) => setCode(e.target.value)}
            />
          </div>
          <div className="actions">
            <button type="submit" className="button" disabled={busy !== ''}>{busy === 'code' ? t('login.checking') : t('login.verify')}</button>
            <button type="button" className="button button--secondary" disabled={busy !== ''} onClick={askSms}>
              {busy === 'sms' ? t('login.sendingSms') : t('login.sendSms')}
            </button>
          </div>
          <p><button type="button" className="link-button" onClick={() => backToStart('')}>{t('login.back')}</button></p>
        </form>
      )}
      {step.step === 'password' && eid && (
        <div className="card">
          <p>{t('login.eidOr')}</p>
          <a className="button button--secondary" href={oidcStartPath}>{t('login.eid')}</a>
        </div>
      )}
      {step.step === 'password' && (
        <p className="aside-link">
          {t('login.noAccount')} <Link href="/signup">{t('nav.signup')}</Link>
        </p>
      )}
    </>
  );
}
