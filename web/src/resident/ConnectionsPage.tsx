// /connections: which facilities may see the records other facilities hold (the resident's
// consent). What sharing means comes first, in plain words; then one switch per facility, saved
// at once (PUT /api/v1/me/connections/<code>), flipping back if the server says no.
import { useCallback, useEffect, useId, useState } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError } from '../lib/api';
import { getConnections, setConnection, type Connection } from '../lib/me';
import { Notice, refusalText, useRefusal } from './common';

type State = { step: 'loading' } | { step: 'failed'; text: string } | { step: 'ready'; list: Connection[] };

export function ConnectionsPage() {
  const { t } = useI18n();
  const base = useId();
  const [state, setState] = useState<State>({ step: 'loading' });
  const [pending, setPending] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const refusal = useRefusal();

  const load = useCallback(() => {
    setState({ step: 'loading' });
    let live = true;
    getConnections().then((res) => {
      if (!live) return;
      if (res.ok) setState({ step: 'ready', list: res.value });
      else {
        const r = refusal(res.problem);
        if (r) setState({ step: 'failed', text: refusalText(r, t) });
      }
    }, (e: unknown) => {
      if (!(e instanceof NetworkError)) throw e;
      if (live) setState({ step: 'failed', text: t('app.networkError') });
    });
    return () => {
      live = false;
    };
  }, [refusal, t]);
  useEffect(load, [load]);

  const toggle = async (c: Connection, shared: boolean) => {
    setPending(c.code);
    setNotice(null);
    const set = (value: boolean) =>
      setState((s) => (s.step === 'ready' ? { ...s, list: s.list.map((x) => (x.code === c.code ? { ...x, shared: value } : x)) } : s));
    set(shared);
    try {
      const res = await setConnection(c.code, shared);
      if (res.ok) {
        setNotice({ text: t(shared ? 'connections.savedOn' : 'connections.savedOff', { facility: c.name }), error: false });
      } else {
        set(!shared);
        const r = refusal(res.problem);
        if (r) setNotice({ text: refusalText(r, t), error: true });
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      set(!shared);
      setNotice({ text: t('resident.saveFailed'), error: true });
    } finally {
      setPending(null);
    }
  };

  return (
    <>
      <PageHeading title={t('connections.title')}>{t('connections.title')}</PageHeading>
      <p>{t('connections.intro')}</p>
      <section className="card" aria-labelledby={`${base}-what`}>
        <h2 id={`${base}-what`}>{t('connections.what')}</h2>
        <ul>
          <li>{t('connections.what1')}</li>
          <li>{t('connections.what2')}</li>
          <li>{t('connections.what3')}</li>
          <li>{t('connections.what4')}</li>
        </ul>
      </section>
      <Notice text={notice?.text ?? null} error={notice?.error} />
      {state.step === 'loading' && <p role="status">{t('app.loading')}</p>}
      {state.step === 'failed' && (
        <>
          <p className="message message--error" role="alert">{state.text}</p>
          <button type="button" className="button button--secondary" onClick={load}>{t('app.retry')}</button>
        </>
      )}
      {state.step === 'ready' && (state.list.length === 0 ? <p>{t('connections.empty')}</p> : (
        <ul className="connections">
          {state.list.map((c) => {
            const inputId = `${base}-${c.code}`;
            return (
              <li key={c.code} className="connection card">
                <h2 className="connection__name">{c.name}</h2>
                {c.holdsRecords && <p className="hint">{t('connections.holds')}</p>}
                <div className="toggle">
                  <input
                    id={inputId} type="checkbox" role="switch" checked={c.shared} disabled={pending === c.code}
                    onChange={(e) => void toggle(c, e.target.checked)}
                  />
                  <label htmlFor={inputId}>{t('connections.share', { facility: c.name })}</label>
                </div>
                <p className={c.shared ? 'connection__state connection__state--on' : 'connection__state'}>
                  <span aria-hidden="true">{c.shared ? '● ' : '○ '}</span>{t(c.shared ? 'connections.on' : 'connections.off')}
                </p>
              </li>
            );
          })}
        </ul>
      ))}
    </>
  );
}
