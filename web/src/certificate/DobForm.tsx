// The date-of-birth form: three numeric fields (day, month, year), as on paper. Easier on phones
// than a date picker that starts at today's date and makes people scroll back decades.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import { localToday, parseDob, type DobError, type DobField } from '../lib/dates';
import { wordedKey } from '../lib/wording';

// What the server said to the last date given: not the patient's ('wrong'), or another date for
// this link was being checked at that moment ('busy': nothing counted, the person just tries again).
export type DobRefusal = 'wrong' | 'busy';

interface Props {
  // The kind of document, when known (not before unlocking): the wording is neutral without it.
  kind?: string;
  onSubmit: (birthDate: string) => void;
  busy: boolean;
  refused?: DobRefusal;
  // Tries left before the link locks, when the server counts them (after a wrong date).
  remaining?: number;
}

export function DobForm({ kind, onSubmit, busy, refused, remaining }: Props) {
  const { t } = useI18n();
  const [values, setValues] = useState<Record<DobField, string>>({ day: '', month: '', year: '' });
  const [errors, setErrors] = useState<DobError[]>([]);
  const [attempt, setAttempt] = useState(0);
  const summary = useRef<HTMLDivElement>(null);
  const base = useId();
  const id = (f: string) => `${base}-${f}`;

  useEffect(() => {
    if (errors.length > 0) summary.current?.focus();
  }, [errors]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = parseDob(values.day, values.month, values.year, localToday());
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors([]);
    setAttempt((n) => n + 1);
    onSubmit(result.iso);
  };

  const fieldError = (f: DobField) => errors.find((e) => e.field === f);
  const describedBy = [id('hint'), errors.length ? id('errors') : '', refused ? id('refused') : ''].filter(Boolean).join(' ');
  const fields: { f: DobField; label: string; size: number; auto: string }[] = [
    { f: 'day', label: t('link.dob.day'), size: 2, auto: 'bday-day' },
    { f: 'month', label: t('link.dob.month'), size: 2, auto: 'bday-month' },
    { f: 'year', label: t('link.dob.year'), size: 4, auto: 'bday-year' },
  ];

  return (
    <form className="dob-form card" onSubmit={submit} noValidate>
      <p>{t(wordedKey('link.dob.intro', kind))}</p>
      {errors.length > 0 && (
        <div className="error-summary" ref={summary} tabIndex={-1} role="alert" aria-labelledby={id('summary')}>
          <h2 id={id('summary')}>{t('link.errorSummary')}</h2>
          <ul id={id('errors')}>
            {errors.map((e) => (
              <li key={e.field + e.key}>
                <a href={`#${id(e.field)}`}>{t(e.key)}</a>
              </li>
            ))}
          </ul>
        </div>
      )}
      {refused && errors.length === 0 && (
        <div id={id('refused')} className="message message--error" role="alert" key={attempt}>
          {refused === 'busy' ? (
            <p>{t('link.dob.busy')}</p>
          ) : (
            <>
              <p>{t('link.dob.wrong')}</p>
              {remaining !== undefined && (
                <p>{remaining === 1 ? t('link.dob.remainingOne') : t('link.dob.remaining', { n: remaining })}</p>
              )}
            </>
          )}
        </div>
      )}
      <fieldset aria-describedby={describedBy}>
        <legend>{t('link.dob.legend')}</legend>
        <p id={id('hint')} className="hint">{t('link.dob.hint')}</p>
        <div className="dob-fields">
          {fields.map(({ f, label, size, auto }) => (
            <div key={f} className={`dob-field dob-field--${f}`}>
              <label htmlFor={id(f)}>{label}</label>
              <input
                id={id(f)}
                name={f}
                type="text"
                inputMode="numeric"
                pattern="[0-9]*"
                autoComplete={auto}
                maxLength={size}
                size={size + 1}
                aria-invalid={fieldError(f) ? true : undefined}
                value={values[f]}
                onChange={(e) => setValues({ ...values, [f]: e.target.value.replace(/\D/g, '') })}
              />
            </div>
          ))}
        </div>
      </fieldset>
      <button type="submit" className="button" disabled={busy}>
        {busy ? t('link.dob.checking') : t(wordedKey('link.dob.submit', kind))}
      </button>
    </form>
  );
}
