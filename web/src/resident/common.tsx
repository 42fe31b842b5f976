// What every resident page shares: turning a refusal into words (or into a trip to the login
// page when the session is gone), the error summary of a form, and the busy/notice line.
import { useCallback, useEffect, useRef, type ReactNode } from 'react';
import { useI18n } from '../i18n/context';
import type { MessageKey } from '../i18n/en';
import type { Problem } from '../lib/api';
import { formatTime, retryAt } from '../lib/dates';
import { classify, loginPath, type Refusal } from '../lib/resident';
import { navigate } from '../router';

type T = (key: MessageKey, params?: Record<string, string | number>) => string;

// Words for a refusal a page has no special wording for.
export function refusalText(r: Refusal, t: T, now = new Date()): string {
  switch (r.kind) {
    case 'throttled': {
      const { at, minutes } = retryAt(now, r.retryAfter);
      // An account's locks in a row grow to a day: past an hour and a half, hours read better
      // than a clock time that may be tomorrow's.
      if (minutes > 90) return t('resident.throttledHours', { hours: Math.round(minutes / 60) });
      return t('resident.throttled', { time: formatTime(at), minutes });
    }
    case 'busy':
      return t('resident.busy');
    case 'forbidden':
      return t('resident.forbidden');
    case 'notFound':
      return t('resident.notFound');
    case 'invalid':
      return r.detail ? t('error.server', { detail: r.detail }) : t('app.serverError', { status: 422 });
    case 'other':
      return t('app.serverError', { status: r.status });
    default:
      return t('app.serverError', { status: 400 });
  }
}

// Classifies a problem; a missing or ended session goes to the login page (which says so) and
// comes back here afterwards. Returns null then, else the refusal for the page to word.
export function useRefusal(): (p: Problem) => Refusal | null {
  return useCallback((p: Problem) => {
    const r = classify(p);
    if (r.kind === 'session') {
      navigate(loginPath(r.expired, window.location.pathname + window.location.search));
      return null;
    }
    return r;
  }, []);
}

export interface FieldError {
  field: string; // the input's id
  text: string;
}

// The list of a form's problems, each linking to its field; takes the focus when it appears.
export function ErrorSummary({ errors }: { errors: FieldError[] }) {
  const { t } = useI18n();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (errors.length) ref.current?.focus();
  }, [errors]);
  if (!errors.length) return null;
  return (
    <div className="error-summary" ref={ref} tabIndex={-1} role="alert">
      <h2>{t('resident.errorSummary')}</h2>
      <ul>
        {errors.map((e) => (
          <li key={e.field + e.text}>
            <a href={`#${e.field}`}>{e.text}</a>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Notice({ text, error }: { text: string | null; error?: boolean }) {
  return (
    <p role={error ? 'alert' : 'status'} className={text ? (error ? 'message message--error' : 'message message--ok') : 'message--empty'}>
      {text ?? ''}
    </p>
  );
}

export function Field({ id, label, hint, error, children }: { id: string; label: string; hint?: string; error?: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && <p id={`${id}-hint`} className="hint">{hint}</p>}
      {error && <p id={`${id}-error`} className="field__error">{error}</p>}
      {children}
    </div>
  );
}

// aria-describedby for an input inside Field.
export const describedBy = (id: string, hint: boolean, error: boolean) =>
  [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
