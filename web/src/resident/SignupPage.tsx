// /signup: prove who you are (national id + date of birth → a code by SMS to the phone a clinic
// registered), then the code and a password (its rules shown as you type). The server answers
// the first step the same whether or not anything matched, and so does this page.
// /reset (purpose "reset"): the same proof for a forgotten password, or a first one for an account
// the national eID made; when the account has an authenticator app, the server asks for its code
// too, and the field appears.
import { useId, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError } from '../lib/api';
import { localToday, parseDob, type DobField } from '../lib/dates';
import { checkPassword, cleanCode, finishReset, finishSignup, isSixDigits, passwordOk, startReset, startSignup } from '../lib/resident';
import { Link, navigate } from '../router';
import { ErrorSummary, describedBy, refusalText, useRefusal, type FieldError } from './common';
import { PasswordRules } from './PasswordRules';
import type { MessageKey } from '../i18n/en';

type Step = { step: 'identify' } | { step: 'verify'; challenge: string };

// The words that differ between the two purposes.
const wordsFor = {
  signup: {
    title: 'signup.title', intro: 'signup.intro', step1: 'signup.step1', step2: 'signup.step2', sent: 'signup.sent',
    password: 'signup.passwordLabel', submit: 'signup.create', submitting: 'signup.creating', aside: 'signup.haveAccount',
  },
  reset: {
    title: 'reset.title', intro: 'reset.intro', step1: 'reset.step1', step2: 'reset.step2', sent: 'reset.sent',
    password: 'reset.passwordLabel', submit: 'reset.submit', submitting: 'reset.submitting', aside: 'reset.remembered',
  },
} satisfies Record<string, Record<string, MessageKey>>;

export function SignupPage({ purpose }: { purpose: 'signup' | 'reset' }) {
  const { t } = useI18n();
  const words = wordsFor[purpose];
  const base = useId();
  const id = (f: string) => `${base}-${f}`;
  const [step, setStep] = useState<Step>({ step: 'identify' });
  const [nationalId, setNationalId] = useState('');
  const [dob, setDob] = useState<Record<DobField, string>>({ day: '', month: '', year: '' });
  const [code, setCode] = useState('');
  const [appCode, setAppCode] = useState('');
  const [needApp, setNeedApp] = useState(false); // the account has an authenticator app (reset)
  const [password, setPassword] = useState('');
  const [show, setShow] = useState(false);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [message, setMessage] = useState<{ text: string; error: boolean; restart?: boolean; login?: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const refusal = useRefusal();

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    try {
      await work();
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setMessage({ text: t('app.networkError'), error: true });
    } finally {
      setBusy(false);
    }
  };

  const identify = (e: FormEvent) => {
    e.preventDefault();
    const errs: FieldError[] = [];
    if (!nationalId.trim()) errs.push({ field: id('nid'), text: t('error.nationalIdMissing') });
    const parsed = parseDob(dob.day, dob.month, dob.year, localToday());
    if (!parsed.ok) errs.push(...parsed.errors.map((x) => ({ field: id(x.field), text: t(x.key) })));
    setErrors(errs);
    setMessage(null);
    if (errs.length || !parsed.ok) return;
    void run(async () => {
      const res = await (purpose === 'reset' ? startReset : startSignup)(nationalId.trim(), parsed.iso);
      if (res.ok) {
        setStep({ step: 'verify', challenge: res.value.challenge });
        setMessage({ text: t(words.sent), error: false });
        return;
      }
      const r = refusal(res.problem);
      if (r) setMessage({ text: refusalText(r, t), error: true });
    });
  };

  const verify = (e: FormEvent) => {
    e.preventDefault();
    if (step.step !== 'verify') return;
    const c = cleanCode(code);
    const errs: FieldError[] = [];
    if (!isSixDigits(c)) errs.push({ field: id('code'), text: t('error.codeFormat') });
    const app = cleanCode(appCode);
    if (needApp && !isSixDigits(app)) errs.push({ field: id('app'), text: t('error.codeFormat') });
    if (!passwordOk(checkPassword(password, nationalId))) errs.push({ field: id('password'), text: t('error.passwordWeak') });
    setErrors(errs);
    setMessage(null);
    if (errs.length) return;
    void run(async () => {
      const res = purpose === 'reset'
        ? await finishReset(step.challenge, c, password, needApp ? app : '')
        : await finishSignup(step.challenge, c, password);
      if (res.ok) {
        navigate('/book');
        return;
      }
      if (res.problem.title === 'authenticator-code-required') {
        setNeedApp(true);
        setMessage({ text: t('reset.appNeeded'), error: false });
        return;
      }
      const r = refusal(res.problem);
      if (!r) return;
      if (r.kind === 'wrong') {
        const wrongApp = res.problem.title === 'wrong-authenticator-code';
        if (wrongApp) setAppCode('');
        setMessage({
          text: [t(wrongApp ? 'reset.wrongApp' : 'signup.wrongCode'), r.remaining !== undefined ? t('signup.remaining', { n: r.remaining }) : ''].filter(Boolean).join(' '),
          error: true,
        });
      } else if (r.kind === 'startAgain') {
        setMessage({ text: t('signup.expired'), error: true, restart: true });
      } else if (r.kind === 'conflict') {
        setMessage({ text: t('signup.exists'), error: true, login: true });
      } else if (r.kind === 'invalid' && r.fields.some((f) => f.path === 'password')) {
        setErrors([{ field: id('password'), text: t('error.passwordWeak') }]);
      } else {
        setMessage({ text: refusalText(r, t), error: true });
      }
    });
  };

  const restart = () => {
    setStep({ step: 'identify' });
    setCode('');
    setAppCode('');
    setNeedApp(false);
    setMessage(null);
    setErrors([]);
  };

  const fieldError = (f: string) => errors.find((x) => x.field === id(f))?.text;
  const dobFields: { f: DobField; label: string; size: number; auto: string }[] = [
    { f: 'day', label: t('link.dob.day'), size: 2, auto: 'bday-day' },
    { f: 'month', label: t('link.dob.month'), size: 2, auto: 'bday-month' },
    { f: 'year', label: t('link.dob.year'), size: 4, auto: 'bday-year' },
  ];

  return (
    <>
      <PageHeading title={t(words.title)}>{t(words.title)}</PageHeading>
      <p>{t(words.intro)}</p>
      <ErrorSummary errors={errors} />
      {message && (
        <div className={message.error ? 'message message--error' : 'message message--ok'} role={message.error ? 'alert' : 'status'}>
          <p>{message.text}</p>
          {message.restart && <p><button type="button" className="button button--secondary" onClick={restart}>{t('signup.startAgain')}</button></p>}
          {message.login && <p><Link href="/login">{t('nav.login')}</Link></p>}
        </div>
      )}
      {step.step === 'identify' ? (
        <form className="card form" onSubmit={identify} noValidate>
          <h2>{t(words.step1)}</h2>
          <div className="field">
            <label htmlFor={id('nid')}>{t('resident.fieldNationalId')}</label>
            <p id={`${id('nid')}-hint`} className="hint">{t('resident.fieldNationalIdHint')}</p>
            <input
              id={id('nid')} type="text" inputMode="numeric" autoComplete="username" value={nationalId}
              aria-invalid={fieldError('nid') ? true : undefined} aria-describedby={describedBy(id('nid'), true, false)}
              onChange={(e) => setNationalId(e.target.value)}
            />
          </div>
          <fieldset className="field" aria-describedby={`${id('dob')}-hint`}>
            <legend>{t('signup.birthDate')}</legend>
            <p id={`${id('dob')}-hint`} className="hint">{t('link.dob.hint')}</p>
            <div className="dob-fields">
              {dobFields.map(({ f, label, size, auto }) => (
                <div key={f} className={`dob-field dob-field--${f}`}>
                  <label htmlFor={id(f)}>{label}</label>
                  <input
                    id={id(f)} type="text" inputMode="numeric" pattern="[0-9]*" autoComplete={auto} maxLength={size} size={size + 1}
                    aria-invalid={fieldError(f) ? true : undefined} value={dob[f]}
                    onChange={(e) => setDob({ ...dob, [f]: e.target.value.replace(/\D/g, '') })}
                  />
                </div>
              ))}
            </div>
          </fieldset>
          <button type="submit" className="button" disabled={busy}>{busy ? t('signup.sending') : t('signup.send')}</button>
          <p className="hint">{t('signup.noPhone')}</p>
        </form>
      ) : (
        <form className="card form" onSubmit={verify} noValidate>
          <h2>{t(words.step2)}</h2>
          <div className="field">
            <label htmlFor={id('code')}>{t('signup.codeLabel')}</label>
            <p id={`${id('code')}-hint`} className="hint">{t('resident.codeHint')}</p>
            <input
              id={id('code')} type="text" inputMode="numeric" autoComplete="one-time-code" maxLength={9} className="input--code"
              aria-invalid={fieldError('code') ? true : undefined} aria-describedby={describedBy(id('code'), true, false)}
              value={code} onChange={(e) => setCode(e.target.value)}
            />
          </div>
          {needApp && (
            <div className="field">
              <label htmlFor={id('app')}>{t('reset.appCode')}</label>
              <input
                id={id('app')} type="text" inputMode="numeric" autoComplete="one-time-code" maxLength={9} className="input--code"
                aria-invalid={fieldError('app') ? true : undefined} value={appCode} onChange={(e) => setAppCode(e.target.value)}
              />
            </div>
          )}
          <div className="field">
            <label htmlFor={id('password')}>{t(words.password)}</label>
            <input
              id={id('password')} type={show ? 'text' : 'password'} autoComplete="new-password" value={password}
              aria-invalid={fieldError('password') ? true : undefined} aria-describedby={`${id('rules')}`}
              onChange={(e) => setPassword(e.target.value)}
            />
            <div className="toggle toggle--small">
              <input id={id('show')} type="checkbox" checked={show} onChange={(e) => setShow(e.target.checked)} />
              <label htmlFor={id('show')}>{t('resident.showPassword')}</label>
            </div>
            <PasswordRules id={id('rules')} check={checkPassword(password, nationalId)} />
          </div>
          <div className="actions">
            <button type="submit" className="button" disabled={busy}>{busy ? t(words.submitting) : t(words.submit)}</button>
            <button type="button" className="button button--secondary" onClick={restart}>{t('signup.startAgain')}</button>
          </div>
        </form>
      )}
      <p className="aside-link">
        {t(words.aside)} <Link href="/login">{t('nav.login')}</Link>
      </p>
    </>
  );
}
