// The account page's notification choices: a message on each access to the records, by SMS
// and/or e-mail (GET/PUT /api/v1/me/notifications). Until the server offers them, says so.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import { NetworkError } from '../lib/api';
import { getNotifications, looksLikeEmail, putNotifications, type Notifications } from '../lib/me';
import { ErrorSummary, Notice, refusalText, useRefusal, type FieldError } from './common';

export function NotificationsSection() {
  const { t } = useI18n();
  const base = useId();
  const [value, setValue] = useState<Notifications | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const refusal = useRefusal();

  useEffect(() => {
    let live = true;
    getNotifications().then((res) => {
      if (!live) return;
      if (res.ok) setValue(res.value);
      else if (refusal(res.problem)) setUnavailable(true);
    }, () => live && setUnavailable(true));
    return () => {
      live = false;
    };
  }, [refusal]);

  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!value) return;
    if (value.onAccess.email && !looksLikeEmail(value.email)) {
      setErrors([{ field: `${base}-email`, text: t('notify.emailInvalid') }]);
      return;
    }
    setErrors([]);
    setBusy(true);
    void (async () => {
      try {
        const res = await putNotifications({ ...value, email: value.email.trim() });
        if (res.ok) {
          setValue(res.value);
          setNotice({ text: t('resident.saved'), error: false });
        } else {
          const r = refusal(res.problem);
          if (r) setNotice({ text: r.kind === 'invalid' ? t('notify.emailInvalid') : refusalText(r, t), error: true });
        }
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        setNotice({ text: t('app.networkError'), error: true });
      } finally {
        setBusy(false);
      }
    })();
  };

  return (
    <section className="card" aria-labelledby={`${base}-title`}>
      <h2 id={`${base}-title`}>{t('notify.title')}</h2>
      <p>{t('notify.intro')}</p>
      {unavailable && <p className="hint">{t('notify.unavailable')}</p>}
      {!value && !unavailable && <p role="status">{t('app.loading')}</p>}
      {value && (
        <form onSubmit={save} noValidate>
          <ErrorSummary errors={errors} />
          <div className="toggle">
            <input id={`${base}-sms`} type="checkbox" checked={value.onAccess.sms}
              onChange={(e) => setValue({ ...value, onAccess: { ...value.onAccess, sms: e.target.checked } })} />
            <label htmlFor={`${base}-sms`}>{t('notify.sms')}</label>
          </div>
          <div className="toggle">
            <input id={`${base}-byemail`} type="checkbox" checked={value.onAccess.email}
              onChange={(e) => setValue({ ...value, onAccess: { ...value.onAccess, email: e.target.checked } })} />
            <label htmlFor={`${base}-byemail`}>{t('notify.email')}</label>
          </div>
          {value.onAccess.email && (
            <div className="field">
              <label htmlFor={`${base}-email`}>{t('notify.emailAddress')}</label>
              <input id={`${base}-email`} type="email" autoComplete="email" value={value.email}
                aria-invalid={errors.length ? true : undefined} onChange={(e) => setValue({ ...value, email: e.target.value })} />
            </div>
          )}
          <button type="submit" className="button" disabled={busy}>{busy ? t('notify.saving') : t('notify.save')}</button>
          <Notice text={notice?.text ?? null} error={notice?.error} />
        </form>
      )}
    </section>
  );
}
