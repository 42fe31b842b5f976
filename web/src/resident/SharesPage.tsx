// /shares: share chosen records as a SMART Health Link (label, an hour to a year, optional
// passcode, optional single use); the new link with a copy button and its QR code; every share
// with its status and each access (when, who); revoking one after a confirmation.
// ?records=Type/id,Type/id preselects records (a link from the health book).
import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError, svgDataUrl } from '../lib/api';
import { formatDate, formatDateTime } from '../lib/dates';
import { qrSvg } from '../lib/qrDraw';
import { checkNewShare, createShare, expiryChoices, getShares, revokeShare, type Share, type ShareFormError } from '../lib/me';
import { appendPage, dayOf, emptyFilter, getTimeline, recordIdPattern, type TimelineEntry } from '../lib/timeline';
import type { MessageKey } from '../i18n/en';
import { ErrorSummary, Notice, refusalText, useRefusal, type FieldError } from './common';

const errorKeys: Record<ShareFormError, MessageKey> = {
  records: 'shares.error.records', label: 'shares.error.label', passcode: 'shares.error.passcode', expiry: 'shares.error.expiry',
};

export function SharesPage({ search }: { search: string }) {
  const { t, locale } = useI18n();
  const base = useId();
  const id = (f: string) => `${base}-${f}`;
  const preselected = (new URLSearchParams(search).get('records') ?? '').split(',').filter((r) => recordIdPattern.test(r));
  const [records, setRecords] = useState<TimelineEntry[] | null>(null);
  const [recordsNext, setRecordsNext] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string[]>(preselected);
  const [label, setLabel] = useState('');
  const [expiresIn, setExpiresIn] = useState(7 * 86_400);
  const [wantPasscode, setWantPasscode] = useState(false);
  const [passcode, setPasscode] = useState('');
  const [singleUse, setSingleUse] = useState(false);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [created, setCreated] = useState<Share | null>(null);
  const [shares, setShares] = useState<Share[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState('');
  const refusal = useRefusal();
  const createdHeading = useRef<HTMLHeadingElement>(null);

  const loadShares = useCallback(async () => {
    try {
      const res = await getShares();
      if (res.ok) setShares(res.value);
      else {
        const r = refusal(res.problem);
        if (r) setFailed(refusalText(r, t));
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setFailed(t('app.networkError'));
    }
  }, [refusal, t]);

  const loadRecords = useCallback(async (cursor: string | null) => {
    try {
      const res = await getTimeline(emptyFilter, cursor);
      if (res.ok) {
        setRecords((shown) => appendPage(shown ?? [], res.value.entries));
        setRecordsNext(res.value.next);
      } else {
        const r = refusal(res.problem);
        if (r) setFailed(refusalText(r, t));
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setFailed(t('app.networkError'));
    }
  }, [refusal, t]);

  useEffect(() => {
    void loadShares();
    void loadRecords(null);
  }, [loadShares, loadRecords]);

  useEffect(() => {
    if (created) createdHeading.current?.focus();
  }, [created]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const share = { records: chosen, label, expiresIn, passcode, singleUse };
    const problems = checkNewShare(share, wantPasscode);
    const field: Record<ShareFormError, string> = { records: id('records'), label: id('label'), passcode: id('passcode'), expiry: id('expiry') };
    setErrors(problems.map((p) => ({ field: field[p], text: t(errorKeys[p]) })));
    if (problems.length) return;
    setBusy('create');
    setNotice(null);
    void (async () => {
      try {
        const res = await createShare(share, wantPasscode);
        if (res.ok) {
          setCreated(res.value);
          setLabel('');
          setPasscode('');
          setChosen([]);
          void loadShares();
        } else {
          const r = refusal(res.problem);
          if (r) setNotice({ text: refusalText(r, t), error: true });
        }
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        setNotice({ text: t('app.networkError'), error: true });
      } finally {
        setBusy('');
      }
    })();
  };

  const revoke = async (s: Share) => {
    setBusy(`revoke-${s.id}`);
    try {
      const res = await revokeShare(s.id);
      if (res.ok) {
        setConfirming(null);
        setNotice({ text: t('shares.revoked', { label: s.label || t('shares.untitled') }), error: false });
        if (created?.id === s.id) setCreated(null);
        await loadShares();
      } else {
        const r = refusal(res.problem);
        if (r) setNotice({ text: refusalText(r, t), error: true });
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setNotice({ text: t('app.networkError'), error: true });
    } finally {
      setBusy('');
    }
  };

  const fieldError = (f: string) => errors.some((x) => x.field === id(f));
  const toggleRecord = (rid: string, on: boolean) => setChosen((c) => (on ? [...c, rid] : c.filter((x) => x !== rid)));

  return (
    <>
      <PageHeading title={t('shares.title')}>{t('shares.title')}</PageHeading>
      <p>{t('shares.intro')}</p>
      {failed && <p className="message message--error" role="alert">{failed}</p>}

      {created && <CreatedShare share={created} headingRef={createdHeading} />}

      <form className="card form" onSubmit={submit} noValidate aria-labelledby={id('new')}>
        <h2 id={id('new')}>{t('shares.new')}</h2>
        <ErrorSummary errors={errors} />
        <fieldset id={id('records')} className="field records-choice" tabIndex={-1} aria-describedby={`${id('records')}-hint`}
          aria-invalid={fieldError('records') || undefined}>
          <legend>{t('shares.records')}</legend>
          <p id={`${id('records')}-hint`} className="hint">{t('shares.recordsHint')}</p>
          {records === null && !failed && <p role="status">{t('app.loading')}</p>}
          {records?.length === 0 && <p>{t('shares.noRecords')}</p>}
          {records && records.length > 0 && (
            <ul className="plain-list">
              {records.map((r) => (
                <li key={r.id} className="toggle">
                  <input id={`${id('r')}-${r.id.replace(/[^A-Za-z0-9-]/g, '_')}`} type="checkbox" checked={chosen.includes(r.id)}
                    onChange={(e) => toggleRecord(r.id, e.target.checked)} />
                  <label htmlFor={`${id('r')}-${r.id.replace(/[^A-Za-z0-9-]/g, '_')}`}>
                    {r.title}
                    <span className="facts__sub">
                      {t(`kindOf.${r.kind}` as MessageKey)} · {formatDate(dayOf(r.date), locale)} · {r.facility.name}
                    </span>
                  </label>
                </li>
              ))}
            </ul>
          )}
          {recordsNext && (
            <button type="button" className="button button--secondary" onClick={() => void loadRecords(recordsNext)}>{t('book.more')}</button>
          )}
        </fieldset>
        <div className="field">
          <label htmlFor={id('label')}>{t('shares.label')}</label>
          <p id={`${id('label')}-hint`} className="hint">{t('shares.labelHint')}</p>
          <input id={id('label')} type="text" maxLength={80} value={label} aria-describedby={`${id('label')}-hint`}
            aria-invalid={fieldError('label') || undefined} onChange={(e) => setLabel(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={id('expiry')}>{t('shares.expiry')}</label>
          <select id={id('expiry')} value={expiresIn} onChange={(e) => setExpiresIn(Number(e.target.value))}>
            {expiryChoices.map((c) => <option key={c.seconds} value={c.seconds}>{t(c.key)}</option>)}
          </select>
        </div>
        <div className="toggle">
          <input id={id('want')} type="checkbox" checked={wantPasscode} onChange={(e) => setWantPasscode(e.target.checked)} />
          <label htmlFor={id('want')}>{t('shares.passcodeToggle')}</label>
        </div>
        {wantPasscode && (
          <div className="field">
            <label htmlFor={id('passcode')}>{t('shares.passcode')}</label>
            <p id={`${id('passcode')}-hint`} className="hint">{t('shares.passcodeHint')}</p>
            <input id={id('passcode')} type="text" autoComplete="off" value={passcode} aria-describedby={`${id('passcode')}-hint`}
              aria-invalid={fieldError('passcode') || undefined} onChange={(e) => setPasscode(e.target.value)} />
          </div>
        )}
        <div className="toggle">
          <input id={id('once')} type="checkbox" checked={singleUse} onChange={(e) => setSingleUse(e.target.checked)} />
          <label htmlFor={id('once')}>{t('shares.singleUse')}</label>
        </div>
        <button type="submit" className="button" disabled={busy !== ''}>{busy === 'create' ? t('shares.creating') : t('shares.create')}</button>
      </form>

      <Notice text={notice?.text ?? null} error={notice?.error} />

      <section aria-labelledby={id('list')}>
        <h2 id={id('list')}>{t('shares.list')}</h2>
        {shares === null && !failed && <p role="status">{t('app.loading')}</p>}
        {shares?.length === 0 && <p>{t('shares.none')}</p>}
        {shares && shares.length > 0 && (
          <ul className="shares">
            {shares.map((s) => {
              const name = s.label || t('shares.untitled');
              return (
                <li key={s.id} className={`share card share--${s.status}`}>
                  <h3 className="share__label">{name}</h3>
                  <p>
                    <strong className={`status-tag status-tag--${s.status}`}>{t(`shares.status.${s.status}` as MessageKey)}</strong>{' '}
                    {t(s.status === 'expired' ? 'shares.expired' : 'shares.expires', { time: formatDateTime(s.expires, locale) })}
                  </p>
                  {(s.passcode || s.singleUse) && (
                    <p className="hint">{[s.passcode ? t('shares.withPasscode') : '', s.singleUse ? t('shares.once') : ''].filter(Boolean).join(' · ')}</p>
                  )}
                  <h4>{t('shares.accesses')}</h4>
                  {s.accesses.length === 0 ? <p className="hint">{t('shares.noAccesses')}</p> : (
                    <ul className="plain-list">
                      {s.accesses.map((a, i) => (
                        <li key={i}>{t('shares.access', { time: formatDateTime(a.time, locale), recipient: a.recipient || t('shares.unnamed') })}</li>
                      ))}
                    </ul>
                  )}
                  {s.status === 'active' && (confirming === s.id ? (
                    <div className="confirm" role="group" aria-labelledby={`${id('confirm')}-${s.id}`}>
                      <p id={`${id('confirm')}-${s.id}`}>{t('shares.revokeConfirm', { label: name })}</p>
                      <div className="actions">
                        <button type="button" className="button button--danger" disabled={busy !== ''} onClick={() => void revoke(s)}>{t('shares.revokeYes')}</button>
                        <button type="button" className="button button--secondary" onClick={() => setConfirming(null)}>{t('shares.revokeNo')}</button>
                      </div>
                    </div>
                  ) : (
                    <button type="button" className="button button--secondary" onClick={() => setConfirming(s.id)}
                      aria-label={`${t('shares.revoke')}: ${name}`}>{t('shares.revoke')}</button>
                  ))}
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </>
  );
}

// The link just made: the text to send, a copy button and its QR code (the server's, drawn as an
// image; else drawn here).
function CreatedShare({ share, headingRef }: { share: Share; headingRef: React.RefObject<HTMLHeadingElement | null> }) {
  const { t } = useI18n();
  const base = useId();
  const link = share.viewerUrl || share.shlink;
  const [qr, setQr] = useState<string | null>(share.qrSvg ?? null);
  const [copied, setCopied] = useState<{ text: string; error: boolean } | null>(null);
  useEffect(() => {
    if (share.qrSvg) return;
    let live = true;
    qrSvg(link).then((svg) => live && setQr(svg), () => undefined);
    return () => {
      live = false;
    };
  }, [share.qrSvg, link]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied({ text: t('shares.copied'), error: false });
    } catch {
      setCopied({ text: t('shares.copyFailed'), error: true });
    }
  };
  return (
    <section className="card created" aria-labelledby={`${base}-h`}>
      <h2 id={`${base}-h`} ref={headingRef} tabIndex={-1}>{share.label || t('shares.untitled')}</h2>
      <p className="message message--ok">{t('shares.created')}</p>
      <p className="hint">{t('shares.onlyOnce')}</p>
      <div className="shl__body">
        <figure className="shl__qr">
          {qr ? <img src={svgDataUrl(qr)} alt={t('shares.qr', { label: share.label })} width="240" height="240" /> : <p className="hint">{t('shl.qrLoading')}</p>}
        </figure>
        <div className="shl__text">
          <label htmlFor={`${base}-link`}>{t('shares.link')}</label>
          <textarea id={`${base}-link`} readOnly rows={4} spellCheck={false} value={link} onFocus={(e) => e.currentTarget.select()} />
          <div className="actions">
            <button type="button" className="button" onClick={() => void copy()}>{t('shares.copy')}</button>
          </div>
          <Notice text={copied?.text ?? null} error={copied?.error} />
        </div>
      </div>
    </section>
  );
}
