// /access-log: every access to the resident's data as a sentence ("Bach Mai Hospital viewed your
// blood test."), newest first, with the reason when one was given; emergency access stands out
// in words, not colour alone. "Show older" follows the server's cursor.
import { useCallback, useEffect, useState } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError } from '../lib/api';
import { formatDateTime } from '../lib/dates';
import { accessSentence, getAccessLog, type AccessEvent } from '../lib/me';
import { refusalText, useRefusal } from './common';

type State = { step: 'loading' } | { step: 'failed'; text: string } | { step: 'ready'; events: AccessEvent[]; next: string | null; more: boolean };

export function AccessLogPage() {
  const { t, locale } = useI18n();
  const [state, setState] = useState<State>({ step: 'loading' });
  const refusal = useRefusal();

  const fetchPage = useCallback(async (cursor: string | null) => {
    try {
      const res = await getAccessLog(cursor);
      if (res.ok) {
        setState((s) => ({
          step: 'ready',
          events: [...(s.step === 'ready' && cursor ? s.events : []), ...res.value.events],
          next: res.value.next,
          more: false,
        }));
      } else {
        const r = refusal(res.problem);
        if (r) setState({ step: 'failed', text: refusalText(r, t) });
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setState({ step: 'failed', text: t('app.networkError') });
    }
  }, [refusal, t]);

  const load = useCallback(() => {
    setState({ step: 'loading' });
    void fetchPage(null);
  }, [fetchPage]);
  useEffect(load, [load]);

  const sentence = (e: AccessEvent) => {
    const parts = accessSentence(e);
    const who = parts.who ? t(parts.who, { name: e.who.name }) : e.who.name || t('log.who.system');
    return t('log.sentence', { who, action: t(parts.action), what: e.what });
  };

  return (
    <>
      <PageHeading title={t('log.title')}>{t('log.title')}</PageHeading>
      <p>{t('log.intro')}</p>
      {state.step === 'loading' && <p role="status">{t('app.loading')}</p>}
      {state.step === 'failed' && (
        <>
          <p className="message message--error" role="alert">{state.text}</p>
          <button type="button" className="button button--secondary" onClick={load}>{t('app.retry')}</button>
        </>
      )}
      {state.step === 'ready' && (
        <>
          {state.events.length === 0 ? <p>{t('log.empty')}</p> : (
            <ol className="access-log">
              {state.events.map((e, i) => (
                <li key={`${e.time}-${i}`} className={e.action === 'emergency' ? 'access access--emergency' : 'access'}>
                  <p className="access__time"><time dateTime={e.time}>{formatDateTime(e.time, locale)}</time></p>
                  {e.action === 'emergency' && <p><strong className="flag">{t('log.emergency')}</strong></p>}
                  <p className="access__sentence">{sentence(e)}</p>
                  {e.why && <p className="hint">{t('log.why', { why: e.why })}</p>}
                </li>
              ))}
            </ol>
          )}
          {state.next && (
            <button type="button" className="button button--secondary" disabled={state.more}
              onClick={() => {
                setState({ ...state, more: true });
                void fetchPage(state.next);
              }}>
              {state.more ? t('book.loadingMore') : t('log.more')}
            </button>
          )}
        </>
      )}
    </>
  );
}
