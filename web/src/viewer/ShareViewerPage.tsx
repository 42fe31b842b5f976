// /s#shlink:/...: a SMART Health Link opened by someone without an account. The payload (in the
// fragment, never sent to the server) names the manifest URL and the key; the recipient types
// their name (the sharer sees it in the share's accesses) and the passcode when the link has one;
// the files are decrypted here with WebCrypto and shown readably.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import type { MessageKey } from '../i18n/en';
import type { Params } from '../i18n/translate';
import { PageHeading } from '../components/PageHeading';
import { ResourceFacts } from '../components/ResourceDetails';
import { isBusy } from '../lib/api';
import { formatDate, formatDateTime, formatTime } from '../lib/dates';
import { bundleResources, describeResource, patientOf } from '../lib/fhirView';
import {
  cardBundle, isExpired, needsPasscode, openFile, parseShlink, requestManifest, type ManifestAnswer, type OpenedFile,
  type ShlinkPayload,
} from '../lib/shlink';
import { Link } from '../router';
import { ErrorSummary, type FieldError } from '../resident/common';

type State =
  | { step: 'ask'; message?: string }
  | { step: 'opening' }
  | { step: 'gone' }
  | { step: 'open'; files: OpenedFile[] };

// Words for a refused manifest request, shown above the form for another go (an unknown or ended
// link, 404 or 410, has its own screen instead).
export function refusedText(
  answer: Extract<ManifestAnswer, { ok: false }>,
  t: (key: MessageKey, params?: Params) => string,
  now = new Date(),
): string {
  if (answer.status === 401) {
    const more = answer.remainingAttempts !== undefined ? ` ${t('viewer.remaining', { n: answer.remainingAttempts })}` : '';
    return `${t('viewer.wrongPasscode')}${more}`;
  }
  // Another passcode for this share was being checked at that moment: not a lock, try again now.
  if (isBusy(answer)) return t('viewer.busy');
  if (answer.status === 429) {
    return t('viewer.locked', { time: formatTime(new Date(now.getTime() + (answer.retryAfter ?? 60) * 1000)) });
  }
  return t('app.serverError', { status: answer.status });
}

export function ShareViewerPage() {
  const { t } = useI18n();
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const update = () => setHash(window.location.hash);
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  const parsed = parseShlink(decodeURIComponent(hash.replace(/^#/, '')));
  const title = t('viewer.title');
  return (
    <>
      <PageHeading title={title}>{title}</PageHeading>
      {!parsed.ok ? (
        <p className="message message--error" role="alert">{t(parsed.error === 'missing' ? 'viewer.missing' : 'viewer.malformed')}</p>
      ) : isExpired(parsed.payload, new Date()) ? (
        <p className="message message--error" role="alert">{t('viewer.expired')}</p>
      ) : (
        <Viewer key={hash} payload={parsed.payload} />
      )}
    </>
  );
}

function Viewer({ payload }: { payload: ShlinkPayload }) {
  const { t, locale } = useI18n();
  const base = useId();
  const [recipient, setRecipient] = useState('');
  const [passcode, setPasscode] = useState('');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [state, setState] = useState<State>({ step: 'ask' });
  const wantPasscode = needsPasscode(payload);
  const resultHeading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (state.step === 'open') resultHeading.current?.focus();
  }, [state.step]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: FieldError[] = [];
    if (!recipient.trim()) errs.push({ field: `${base}-name`, text: t('viewer.recipientMissing') });
    if (wantPasscode && !passcode) errs.push({ field: `${base}-pass`, text: t('viewer.passcodeMissing') });
    setErrors(errs);
    if (errs.length) return;
    setState({ step: 'opening' });
    void (async () => {
      try {
        const answer = await requestManifest(payload, recipient.trim(), wantPasscode ? passcode : undefined);
        if (!answer.ok) {
          setState(answer.status === 404 || answer.status === 410 ? { step: 'gone' } : { step: 'ask', message: refusedText(answer, t) });
          return;
        }
        const files = await Promise.all(answer.files.map((f) => openFile(f, payload.key)));
        setState({ step: 'open', files });
      } catch {
        setState({ step: 'ask', message: t('viewer.failed') });
      }
    })();
  };

  if (state.step === 'gone') return <p className="message message--error" role="alert">{t('viewer.gone')}</p>;
  if (state.step === 'open') {
    return (
      <section aria-labelledby={`${base}-records`}>
        <h2 id={`${base}-records`} ref={resultHeading} tabIndex={-1}>{payload.label ?? t('viewer.title')}</h2>
        {state.files.map((f, i) => <OpenedFileView key={i} file={f} />)}
      </section>
    );
  }

  return (
    <>
      <p>{t('viewer.intro')}</p>
      {payload.label && <p><strong>{t('viewer.sharedAs', { label: payload.label })}</strong></p>}
      {payload.exp !== undefined && <p className="hint">{t('viewer.expires', { time: formatDateTime(new Date(payload.exp * 1000).toISOString(), locale) })}</p>}
      <ErrorSummary errors={errors} />
      {state.step === 'ask' && state.message && <p className="message message--error" role="alert">{state.message}</p>}
      <form className="card form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${base}-name`}>{t('viewer.recipient')}</label>
          <p id={`${base}-name-hint`} className="hint">{t('viewer.recipientHint')}</p>
          <input id={`${base}-name`} type="text" autoComplete="name" value={recipient} aria-describedby={`${base}-name-hint`}
            aria-invalid={errors.some((x) => x.field === `${base}-name`) || undefined} onChange={(e) => setRecipient(e.target.value)} />
        </div>
        {wantPasscode && (
          <div className="field">
            <label htmlFor={`${base}-pass`}>{t('viewer.passcode')}</label>
            <p id={`${base}-pass-hint`} className="hint">{t('viewer.passcodeHint')}</p>
            <input id={`${base}-pass`} type="password" autoComplete="off" value={passcode} aria-describedby={`${base}-pass-hint`}
              aria-invalid={errors.some((x) => x.field === `${base}-pass`) || undefined} onChange={(e) => setPasscode(e.target.value)} />
          </div>
        )}
        <button type="submit" className="button" disabled={state.step === 'opening'}>
          {state.step === 'opening' ? t('viewer.opening') : t('viewer.open')}
        </button>
      </form>
    </>
  );
}

function Resources({ bundle }: { bundle: unknown }) {
  const { t, locale } = useI18n();
  const resources = bundleResources(bundle);
  const patient = patientOf(resources);
  return (
    <>
      {patient?.name && <h3>{t('viewer.patient', { name: patient.name })}</h3>}
      {patient?.birthDate && <p>{t('viewer.born', { date: formatDate(patient.birthDate, locale) })}</p>}
      {resources.filter((r) => r.resourceType !== 'Patient').map((r, i) => {
        const view = describeResource(r);
        if (!view) return null;
        return (
          <article key={i} className="card shared-record">
            <h3>{view.title ?? view.type}</h3>
            <ResourceFacts view={view} />
          </article>
        );
      })}
    </>
  );
}

function OpenedFileView({ file }: { file: OpenedFile }) {
  const { t } = useI18n();
  if (file.type === 'fhir') return <Resources bundle={file.resource} />;
  if (file.type === 'unknown') return <p className="hint">{t('viewer.unknownFile', { type: file.contentType })}</p>;
  return (
    <>
      {file.cards.map((c, i) => (
        <section key={i} className="card health-card">
          <h3>{t('viewer.card')}</h3>
          {typeof c.claims.iss === 'string' && <p className="hint">{t('viewer.cardIssuer', { issuer: c.claims.iss })}</p>}
          <Resources bundle={cardBundle(c.claims)} />
          <p><Link href="/verify">{t('viewer.cardCheck')}</Link></p>
        </section>
      ))}
    </>
  );
}
