// /book/<Type>/<id>: one record from the health book (GET /api/v1/me/records/<Type>/<id>), its
// common fields in words, never raw JSON.
import { useCallback, useEffect, useState } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { ResourceFacts } from '../components/ResourceDetails';
import { NetworkError } from '../lib/api';
import { describeResource, type ResourceView } from '../lib/fhirView';
import { getRecord } from '../lib/timeline';
import { Link } from '../router';
import { refusalText, useRefusal } from './common';

type State = { step: 'loading' } | { step: 'failed'; text: string } | { step: 'ready'; view: ResourceView | undefined };

export function RecordPage({ type, id }: { type: string; id: string }) {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ step: 'loading' });
  const refusal = useRefusal();

  const load = useCallback(() => {
    setState({ step: 'loading' });
    let live = true;
    getRecord(type, id).then((res) => {
      if (!live) return;
      if (res.ok) setState({ step: 'ready', view: describeResource(res.value) });
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
  }, [type, id, refusal, t]);
  useEffect(load, [load]);

  const title = state.step === 'ready' && state.view?.title ? state.view.title : t('book.details');
  return (
    <>
      <p className="back-link"><Link href="/book">{t('record.back')}</Link></p>
      <PageHeading key={title} title={title}>{title}</PageHeading>
      {state.step === 'loading' && <p role="status">{t('app.loading')}</p>}
      {state.step === 'failed' && (
        <>
          <p className="message message--error" role="alert">{state.text}</p>
          <button type="button" className="button button--secondary" onClick={load}>{t('app.retry')}</button>
        </>
      )}
      {state.step === 'ready' && (state.view ? <ResourceFacts view={state.view} /> : <p>{t('record.notReadable')}</p>)}
      {state.step === 'ready' && (
        <p className="aside-link"><Link href={`/shares?records=${encodeURIComponent(`${type}/${id}`)}`}>{t('record.share')}</Link></p>
      )}
    </>
  );
}
