// /signup: prove who you are (national id + date of birth → a code by SMS to the phone a clinic
// registered), then the code and a password (its rules shown as you type). The server answers
// the first step the same whether or not anything matched, and so does this page.
import { useId, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError } from '../lib/api';
import { localToday, parseDob, type DobField } from '../lib/dates';
import { checkPassword, cleanCode, finishSignup, isSixDigits, passwordOk, startSignup } from '../lib/resident';
import { Link, navigate } from '../router';
import { ErrorSummary, describedBy, refusalText, useRefusal, type FieldError } from './common';
import { PasswordRules } from './PasswordRules';

type Step = { step: 'identify' } | { step: 'verify'; challenge: string };

export function SignupPage() {
  const { t } = useI18n();
  const base = useId();
  const id = (f: string) => `${base}-${f}`;
  const [step, setStep] = useState<Step>({ step: 'identify' });
  const [nationalId, setNationalId] = useState('');
  const [dob, setDob] = useState<Record<DobField, string>>({ day: '', month: '', year: '' });
  const [code, setCode] = useState('');
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
      const res = await startSignup(nationalId.trim(), parsed.iso);
      if (res.ok) {
        setStep({ step: 'verify', challenge: res.value.challenge });
        setMessage({ text: t('signup.sent'), error: false });
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
    if (!passwordOk(checkPassword(password, nationalId))) errs.push({ field: id('password'), text: t('error.passwordWeak') });
    setErrors(errs);
    setMessage(null);
    if (errs.length) return;
    void run(async () => {
      const res = await finishSignup(step.challenge, c, password);
      if (res.ok) {
        navigate('/book');
        return;
      }
      const r = refusal(res.problem);
      if (!r) return;
      if (r.kind === 'wrong') {
        setMessage({
          text: [t('signup.wrongCode'), r.remaining !== undefined ? t('signup.remaining', { n: r.remaining }) : ''].filter(Boolean).join(' '),
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
      <PageHeading title={t('signup.title')}>{t('signup.title')}</PageHeading>
      <p>{t('signup.intro')}</p>
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
          <h2>{t('signup.step1')}</h2>
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
          <h2>{t('signup.step2')}</h2>
          <div className="field">
            <label htmlFor={id('code')}>{t('signup.codeLabel')}</label>
            <p id={`${id('code')}-hint`} className="hint">{t('resident.codeHint')}</p>
            <input
              id={id('code')} type="text" inputMode="numeric" autoComplete="one-time-code" maxLength={9} className="input--code"
              aria-invalid={fieldError('code') ? true : undefined} aria-describedby={describedBy(id('code'), true, false)}
              value={code} onChange={(e) => setCode(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={id('password')}>{t('signup.passwordLabel')}</label>
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
            <button type="submit" className="button" disabled={busy}>{busy ? t('signup.creating') : t('signup.create')}</button>
            <button type="button" className="button button--secondary" onClick={restart}>{t('signup.startAgain')}</button>
          </div>
        </form>
      )}
      <p className="aside-link">
        {t('signup.haveAccount')} <Link href="/login">{t('nav.login')}</Link>
      </p>
    </>
  );
}
