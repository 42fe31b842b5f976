// /documents: the verifiable documents facilities issued to the resident (certificates, lab
// results, referrals, discharge summaries, vaccinations), newest first, each with its status in
// words and the state of its links, and the way back into a link wrong birth dates locked.
import { useCallback, useEffect, useState } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError } from '../lib/api';
import { formatDateTime } from '../lib/dates';
import { documentPath, getMyDocuments, type LinkState, type MyDocument } from '../lib/documents';
import { kindLabel } from '../lib/verdict';
import { Link } from '../router';
import { refusalText, useRefusal } from './common';
import { LinkStatus } from './LinkState';

type State = { step: 'loading' } | { step: 'failed'; text: string } | { step: 'ready'; documents: MyDocument[] };

export function DocumentsPage() {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ step: 'loading' });
  const refusal = useRefusal();

  const load = useCallback(() => {
    setState({ step: 'loading' });
    void (async () => {
      try {
        const res = await getMyDocuments();
        if (res.ok) {
          setState({ step: 'ready', documents: res.value });
        } else {
          const r = refusal(res.problem);
          if (r) setState({ step: 'failed', text: refusalText(r, t) });
        }
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        setState({ step: 'failed', text: t('app.networkError') });
      }
    })();
  }, [refusal, t]);
  useEffect(load, [load]);

  const setLinks = (id: string, links: LinkState) =>
    setState((s) => (s.step === 'ready' ? { ...s, documents: s.documents.map((d) => (d.id === id ? { ...d, links } : d)) } : s));

  return (
    <>
      <PageHeading title={t('docs.title')}>{t('docs.title')}</PageHeading>
      <p>{t('docs.intro')}</p>
      {state.step === 'loading' && <p role="status">{t('app.loading')}</p>}
      {state.step === 'failed' && (
        <>
          <p className="message message--error" role="alert">{state.text}</p>
          <button type="button" className="button button--secondary" onClick={load}>{t('app.retry')}</button>
        </>
      )}
      {state.step === 'ready' && (state.documents.length === 0 ? <p>{t('docs.empty')}</p> : (
        <ol className="documents">
          {state.documents.map((d) => (
            <DocumentItem key={d.id} doc={d} onLinks={(links) => setLinks(d.id, links)} />
          ))}
        </ol>
      ))}
    </>
  );
}

function DocumentItem({ doc: d, onLinks }: { doc: MyDocument; onLinks: (links: LinkState) => void }) {
  const { t, locale } = useI18n();
  return (
    <li className={`document card document--${d.status}`}>
      <h2 className="document__title"><Link href={documentPath(d.id)}>{kindLabel(d.kind, d.label, t)}</Link></h2>
      <p className="document__meta">
        {t('docs.issuedBy', { facility: d.facility.name || d.facility.code })}
        {' · '}
        <time dateTime={d.issued}>{t('docs.issuedOn', { date: formatDateTime(d.issued, locale) })}</time>
      </p>
      <p className={d.status === 'active' ? 'document__status' : 'document__status document__status--ended'}>
        {t('docs.status', { status: t(`docs.status.${d.status}`) })}
      </p>
      {d.supersededBy && <p><Link href={documentPath(d.supersededBy)}>{t('docs.newer')}</Link></p>}
      <LinkStatus documentId={d.id} links={d.links} onLinks={onLinks} />
    </li>
  );
}
