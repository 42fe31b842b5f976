// /carers: the people the resident lets act for them (a carer: view the records, manage the
// shares) until a date, and a way to end that at once. Always about the signed-in person
// themself, whoever they are acting for (docs/proxies.md).
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import type { MessageKey } from '../i18n/en';
import { PageHeading } from '../components/PageHeading';
import { NetworkError } from '../lib/api';
import { formatDate, formatDateTime } from '../lib/dates';
import { carerRights, getCarers, grantCarer, maxEndDate, revokeCarer, type Carer, type Right } from '../lib/proxies';
import { ErrorSummary, Notice, refusalText, useRefusal, type FieldError } from './common';

export function CarersPage() {
  const { t, locale } = useI18n();
  const base = useId();
  const id = (s: string) => `${base}-${s}`.replace(/:/g, '');
  const refusal = useRefusal();
  const [carers, setCarers] = useState<Carer[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [nationalId, setNationalId] = useState('');
  const [rights, setRights] = useState<Right[]>(['view-records']);
  const [endsAt, setEndsAt] = useState('');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);
  const [busy, setBusy] = useState('');
  const [confirming, setConfirming] = useState<string | null>(null);
  const today = new Date().toISOString().slice(0, 10);

  const load = useCallback(async () => {
    try {
      const res = await getCarers();
      if (res.ok) {
        setCarers(res.value);
        setFailed(null);
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
    void load();
  }, [load]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found: FieldError[] = [];
    if (!nationalId.trim()) found.push({ field: id('nid'), text: t('carers.nationalIdMissing') });
    if (rights.length === 0) found.push({ field: id('right-view-records'), text: t('carers.rightsMissing') });
    if (!endsAt) found.push({ field: id('ends'), text: t('carers.endsMissing') });
    setErrors(found);
    if (found.length) return;
    setBusy('grant');
    setNotice(null);
    try {
      const res = await grantCarer(nationalId.trim(), rights, endsAt);
      if (res.ok) {
        setNotice({ text: t('carers.granted', { name: res.value.name || nationalId.trim() }) });
        setNationalId('');
        await load();
      } else {
        const r = refusal(res.problem);
        if (r?.kind === 'invalid' && r.fields.length) {
          setErrors(r.fields.map((f) => ({
            field: f.path === 'nationalId' ? id('nid') : f.path === 'endsAt' ? id('ends') : id('right-view-records'),
            text: f.path === 'nationalId' && res.problem.status === 422 ? t('carers.noAccount') : f.message,
          })));
        } else if (r) {
          setNotice({ text: refusalText(r, t), error: true });
        }
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      setNotice({ text: t('app.networkError'), error: true });
    }
    setBusy('');
  };

  const revoke = async (c: Carer) => {
    setBusy(c.id);
    try {
      const res = await revokeCarer(c.id);
      if (res.ok) {
        setNotice({ text: t('carers.revoked', { name: c.name }) });
        setConfirming(null);
        await load();
      } else {
        const r = refusal(res.problem);
        if (r) setNotice({ text: refusalText(r, t), error: true });
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      setNotice({ text: t('app.networkError'), error: true });
    }
    setBusy('');
  };

  const rightName = (r: string) => (carerRights.includes(r as Right) ? t(`carers.right.${r}` as MessageKey) : r);

  return (
    <>
      <PageHeading title={t('carers.title')}>{t('carers.title')}</PageHeading>
      <p>{t('carers.intro')}</p>
      <ErrorSummary errors={errors} />
      <form noValidate onSubmit={(e) => void submit(e)} aria-labelledby={id('new')}>
        <h2 id={id('new')}>{t('carers.new')}</h2>
        <div className="field">
          <label htmlFor={id('nid')}>{t('carers.nationalId')}</label>
          <p id={`${id('nid')}-hint`} className="hint">{t('carers.nationalIdHint')}</p>
          <input id={id('nid')} type="text" inputMode="numeric" autoComplete="off" value={nationalId}
            aria-describedby={`${id('nid')}-hint`} aria-invalid={errors.some((x) => x.field === id('nid')) || undefined}
            onChange={(e) => setNationalId(e.target.value)} />
        </div>
        <fieldset>
          <legend>{t('carers.rights')}</legend>
          {carerRights.map((r) => (
            <div className="toggle" key={r}>
              <input id={id(`right-${r}`)} type="checkbox" checked={rights.includes(r)}
                onChange={(e) => setRights(e.target.checked ? [...rights, r] : rights.filter((x) => x !== r))} />
              <label htmlFor={id(`right-${r}`)}>{rightName(r)}</label>
            </div>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={id('ends')}>{t('carers.endsAt')}</label>
          <p id={`${id('ends')}-hint`} className="hint">{t('carers.endsAtHint')}</p>
          <input id={id('ends')} type="date" min={today} max={maxEndDate(new Date())} value={endsAt}
            aria-describedby={`${id('ends')}-hint`} aria-invalid={errors.some((x) => x.field === id('ends')) || undefined}
            onChange={(e) => setEndsAt(e.target.value)} />
        </div>
        <button type="submit" className="button" disabled={busy !== ''}>{busy === 'grant' ? t('carers.granting') : t('carers.grant')}</button>
      </form>

      <Notice text={notice?.text ?? null} error={notice?.error} />

      <section aria-labelledby={id('list')}>
        <h2 id={id('list')}>{t('carers.list')}</h2>
        {failed && <p className="message message--error" role="alert">{failed}</p>}
        {carers === null && !failed && <p role="status">{t('app.loading')}</p>}
        {carers?.length === 0 && <p>{t('carers.none')}</p>}
        {carers && carers.length > 0 && (
          <ul className="shares">
            {carers.map((c) => (
              <li key={c.id} className={`share card share--${c.status}`}>
                <h3 className="share__label">{c.name || t('carers.unnamed')}</h3>
                <p>
                  <strong className={`status-tag status-tag--${c.status === 'active' ? 'active' : 'revoked'}`}>{t(`carers.status.${c.status}` as MessageKey)}</strong>{' '}
                  {t('carers.until', { date: formatDate(c.endsAt.slice(0, 10), locale) })}
                </p>
                <p className="hint">{c.rights.map(rightName).join(' · ')}</p>
                {c.status === 'active' && (confirming === c.id ? (
                  <div className="confirm" role="group" aria-labelledby={`${id('confirm')}-${c.id}`}>
                    <p id={`${id('confirm')}-${c.id}`}>{t('carers.revokeConfirm', { name: c.name })}</p>
                    <div className="actions">
                      <button type="button" className="button button--danger" disabled={busy !== ''} onClick={() => void revoke(c)}>{t('carers.revokeYes')}</button>
                      <button type="button" className="button button--secondary" onClick={() => setConfirming(null)}>{t('carers.revokeNo')}</button>
                    </div>
                  </div>
                ) : (
                  <button type="button" className="button button--secondary" onClick={() => setConfirming(c.id)}
                    aria-label={`${t('carers.revoke')}: ${c.name}`}>{t('carers.revoke')}</button>
                ))}
                {c.created && <p className="hint">{t('carers.since', { time: formatDateTime(c.created, locale) })}</p>}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
