// /access-log: every access to the resident's data as a sentence ("Bach Mai Hospital viewed your
// Observation (1 record)."), newest first, with the reason when one was given; emergency access
// stands out in words, not colour alone, and so does a refused attempt. The server's words (who,
// action, reason, the records counted) are said in the page's language (lib/me.ts). "Show older"
// follows the server's cursor.
import { useCallback, useEffect, useState } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError } from '../lib/api';
import { formatDateTime } from '../lib/dates';
import { accessSentence, getAccessLog, isEmergency, reasonOf, recordCounts, type AccessEvent } from '../lib/me';
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
    if (!parts.withWhat) return t('log.sentenceAlone', { who, action: t(parts.action) });
    const counts = recordCounts(e.what);
    const what = counts === null ? e.what
      : counts.length === 0 ? t('log.what.account')
        : counts.map((c) => t(c.n === 1 ? 'log.what.one' : 'log.what.many', { type: c.type, n: c.n })).join(', ');
    return t('log.sentence', { who, action: t(parts.action), what });
  };
  const reason = (e: AccessEvent) => {
    const r = reasonOf(e.why);
    return typeof r === 'string' ? r : t(r.key, r.values);
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
                <li key={`${e.time}-${i}`} className={isEmergency(e) ? 'access access--emergency' : 'access'}>
                  <p className="access__time"><time dateTime={e.time}>{formatDateTime(e.time, locale)}</time></p>
                  {isEmergency(e) && <p><strong className="flag">{t('log.emergency')}</strong></p>}
                  {e.refused && <p><strong className="flag">{t('log.refused')}</strong></p>}
                  <p className="access__sentence">{sentence(e)}</p>
                  {e.why && e.who.kind !== 'resident' && <p className="hint">{t('log.why', { why: reason(e) })}</p>}
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
