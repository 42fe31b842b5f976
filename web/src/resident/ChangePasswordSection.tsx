// The account page's "Change password" form: the current password, a new one with the rules shown
// as it is typed. The server signs out every other device and texts the registered phone.
import { useId, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import { NetworkError } from '../lib/api';
import { changePassword, checkPassword, passwordOk } from '../lib/resident';
import { ErrorSummary, Field, Notice, describedBy, refusalText, useRefusal, type FieldError } from './common';
import { PasswordRules } from './PasswordRules';

export function ChangePasswordSection() {
  const { t } = useI18n();
  const base = useId();
  const currentId = `${base}-current`;
  const nextId = `${base}-next`;
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const refusal = useRefusal();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: FieldError[] = [];
    if (!current) errs.push({ field: currentId, text: t('password.currentMissing') });
    if (!passwordOk(checkPassword(next))) errs.push({ field: nextId, text: t('error.passwordWeak') });
    setErrors(errs);
    setNotice(null);
    if (errs.length) return;
    setBusy(true);
    void (async () => {
      try {
        const res = await changePassword(current, next);
        if (res.ok) {
          setCurrent('');
          setNext('');
          setNotice({ text: t('password.changed'), error: false });
          return;
        }
        const r = refusal(res.problem);
        if (!r) return;
        if (r.kind === 'wrong') setErrors([{ field: currentId, text: t('password.currentWrong') }]);
        else if (r.kind === 'invalid' && r.fields.some((f) => f.path === 'newPassword' || f.path === 'password')) {
          setErrors([{ field: nextId, text: t('error.passwordWeak') }]);
        } else setNotice({ text: refusalText(r, t), error: true });
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        setNotice({ text: t('app.networkError'), error: true });
      } finally {
        setBusy(false);
      }
    })();
  };

  const errorOf = (f: string) => errors.find((x) => x.field === f)?.text;
  return (
    <section className="card" aria-labelledby={`${base}-title`}>
      <h2 id={`${base}-title`}>{t('password.title')}</h2>
      <p>{t('password.intro')}</p>
      <form onSubmit={submit} noValidate>
        <ErrorSummary errors={errors} />
        <Field id={currentId} label={t('password.current')} error={errorOf(currentId)}>
          <input
            id={currentId} type="password" autoComplete="current-password" value={current}
            aria-invalid={errorOf(currentId) ? true : undefined} aria-describedby={describedBy(currentId, false, !!errorOf(currentId))}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </Field>
        <Field id={nextId} label={t('password.new')} error={errorOf(nextId)}>
          <input
            id={nextId} type="password" autoComplete="new-password" value={next}
            aria-invalid={errorOf(nextId) ? true : undefined}
            aria-describedby={[describedBy(nextId, false, !!errorOf(nextId)), `${nextId}-rules`].filter(Boolean).join(' ')}
            onChange={(e) => setNext(e.target.value)}
          />
        </Field>
        <PasswordRules id={`${nextId}-rules`} check={checkPassword(next)} />
        <div className="actions">
          <button type="submit" className="button" disabled={busy}>{busy ? t('password.changing') : t('password.change')}</button>
        </div>
        <Notice text={notice?.text ?? null} error={notice?.error} />
      </form>
    </section>
  );
}
