// /documents/<id>: one of the resident's own documents, laid out as its link page shows it (the
// facts, the kind's details, the QR code anyone can check), with the diagnosis (it is their own),
// the state of its links, whether they show the diagnosis (the patient's choice, made only here:
// whoever opens a link may be someone it was forwarded to), and "Make a new link" for sending it
// on, say to an employer.
import { useCallback, useEffect, useId, useState } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError } from '../lib/api';
import { diagnosisText, documentPath, getMyDocument, newLink, setDiagnosisShown, type LinkState, type MyDocumentView } from '../lib/documents';
import { Link } from '../router';
import { DocumentCard } from '../certificate/DocumentCard';
import { Notice, refusalText, useRefusal } from './common';
import { LinkStatus } from './LinkState';

type State = { step: 'loading' } | { step: 'failed'; text: string } | { step: 'ready'; view: MyDocumentView };

export function DocumentPage({ id }: { id: string }) {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ step: 'loading' });
  const refusal = useRefusal();

  const load = useCallback(() => {
    setState({ step: 'loading' });
    void (async () => {
      try {
        const res = await getMyDocument(id);
        if (res.ok) {
          setState({ step: 'ready', view: res.value });
        } else {
          const r = refusal(res.problem);
          if (r) setState({ step: 'failed', text: refusalText(r, t) });
        }
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        setState({ step: 'failed', text: t('app.networkError') });
      }
    })();
  }, [id, refusal, t]);
  useEffect(load, [load]);

  const back = <p className="aside-link"><Link href="/documents">{t('docs.back')}</Link></p>;
  if (state.step !== 'ready') {
    return (
      <>
        <PageHeading title={t('docs.title')}>{t('docs.title')}</PageHeading>
        {state.step === 'loading' && <p role="status">{t('app.loading')}</p>}
        {state.step === 'failed' && (
          <>
            <p className="message message--error" role="alert">{state.text}</p>
            <button type="button" className="button button--secondary" onClick={load}>{t('app.retry')}</button>
          </>
        )}
        {back}
      </>
    );
  }
  const setLinks = (links: LinkState) => setState({ step: 'ready', view: { ...state.view, links } });
  const setView = (view: MyDocumentView) => setState({ step: 'ready', view });
  return (
    <>
      <Document view={state.view} />
      <Links view={state.view} onLinks={setLinks} onView={setView} />
      {back}
    </>
  );
}

function Document({ view }: { view: MyDocumentView }) {
  return (
    <DocumentCard
      view={view}
      diagnosis={view.diagnosis ? diagnosisText(view.diagnosis) : null}
      newerHref={view.supersededBy ? documentPath(view.supersededBy) : null}
    />
  );
}

type Made = { step: 'idle' } | { step: 'making' } | { step: 'made'; link: string } | { step: 'failed'; text: string };

// "Show the diagnosis to people I send the link to": only for a document that has one. The switch
// follows the click at once; the server's answer then confirms it (or it flips back).
function DiagnosisChoice({ view, onView }: { view: MyDocumentView; onView: (view: MyDocumentView) => void }) {
  const { t } = useI18n();
  const refusal = useRefusal();
  const ids = { toggle: useId(), help: useId() };
  const [pending, setPending] = useState<boolean | null>(null);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);

  const toggle = async (show: boolean) => {
    setPending(show);
    setNotice(null);
    try {
      const res = await setDiagnosisShown(view.id, show);
      if (res.ok) {
        onView(res.value);
        setNotice({ text: t(res.value.showDiagnosis ? 'docs.diagnosis.saved' : 'docs.diagnosis.removed'), error: false });
      } else {
        const r = refusal(res.problem);
        if (r) setNotice({ text: r.kind === 'throttled' || r.kind === 'forbidden' ? refusalText(r, t) : t('resident.saveFailed'), error: true });
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setNotice({ text: t('resident.saveFailed'), error: true });
    } finally {
      setPending(null);
    }
  };

  return (
    <div className="doc-share__diagnosis">
      <div className="toggle">
        <input
          id={ids.toggle}
          type="checkbox"
          role="switch"
          checked={pending ?? view.showDiagnosis}
          disabled={pending !== null}
          aria-describedby={ids.help}
          onChange={(e) => void toggle(e.target.checked)}
        />
        <label htmlFor={ids.toggle}>{t('docs.diagnosis.toggle')}</label>
      </div>
      <p id={ids.help} className="hint">{t('docs.diagnosis.help')}</p>
      <Notice text={notice?.text ?? null} error={notice?.error} />
    </div>
  );
}

interface LinksProps {
  view: MyDocumentView;
  onLinks: (links: LinkState) => void;
  onView: (view: MyDocumentView) => void;
}

function Links({ view, onLinks, onView }: LinksProps) {
  const { t } = useI18n();
  const refusal = useRefusal();
  const ids = { heading: useId(), help: useId(), link: useId() };
  const [made, setMade] = useState<Made>({ step: 'idle' });
  const [copied, setCopied] = useState<{ text: string; error: boolean } | null>(null);

  const make = async () => {
    setMade({ step: 'making' });
    setCopied(null);
    try {
      const res = await newLink(view.id);
      if (res.ok) {
        setMade({ step: 'made', link: res.value });
        onLinks({ ...view.links, count: view.links.count + 1 });
      } else {
        const r = refusal(res.problem);
        if (r) setMade({ step: 'failed', text: r.kind === 'conflict' ? t('docs.tooManyLinks') : t('docs.newLinkFailed') });
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setMade({ step: 'failed', text: t('app.networkError') });
    }
  };

  const copy = async (link: string) => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied({ text: t('cert.copied'), error: false });
    } catch {
      setCopied({ text: t('cert.copyFailed'), error: true });
    }
  };

  return (
    <section className="doc-share card" aria-labelledby={ids.heading}>
      <h2 id={ids.heading}>{t('docs.links')}</h2>
      <LinkStatus documentId={view.id} links={view.links} onLinks={onLinks} />
      {view.diagnosis && <DiagnosisChoice view={view} onView={onView} />}
      <p id={ids.help} className="hint">{t('docs.newLinkHelp')}</p>
      <div className="actions">
        <button type="button" className="button" aria-describedby={ids.help} disabled={made.step === 'making'} onClick={() => void make()}>
          {made.step === 'making' ? t('docs.making') : t('docs.newLink')}
        </button>
      </div>
      <Notice
        text={made.step === 'made' ? t('docs.newLinkMade') : made.step === 'failed' ? made.text : null}
        error={made.step === 'failed'}
      />
      {made.step === 'made' && (
        <div className="doc-share__link">
          <label htmlFor={ids.link}>{t('docs.newLinkLabel')}</label>
          <input id={ids.link} type="text" readOnly spellCheck={false} autoCapitalize="off" value={made.link}
            onFocus={(e) => e.currentTarget.select()} />
          <div className="actions">
            <button type="button" className="button button--secondary" onClick={() => void copy(made.link)}>{t('cert.copy')}</button>
          </div>
          <Notice text={copied?.text ?? null} error={copied?.error} />
        </div>
      )}
    </section>
  );
}
