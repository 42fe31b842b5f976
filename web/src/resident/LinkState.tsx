// The state of a document's links in words ("Your link is locked until 14:30 after wrong dates of
// birth") and, when wrong birth dates locked them, the patient's way back in: "Open my link again".
import { useState } from 'react';
import { useI18n } from '../i18n/context';
import type { MessageKey } from '../i18n/en';
import { NetworkError } from '../lib/api';
import { formatTime } from '../lib/dates';
import { canReopen, linkWords, reopenLinks, type LinkState } from '../lib/documents';
import { Notice, refusalText, useRefusal } from './common';

interface Props {
  documentId: string;
  links: LinkState;
  onLinks: (links: LinkState) => void;
}

export function LinkStatus({ documentId, links, onLinks }: Props) {
  const { t } = useI18n();
  const refusal = useRefusal();
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const words = linkWords(links);
  const locked = canReopen(links);

  const reopen = async () => {
    setBusy(true);
    setNotice(null);
    try {
      const res = await reopenLinks(documentId);
      if (res.ok) {
        onLinks(res.value.links);
        setNotice({ text: t('docs.reopened'), error: false });
      } else {
        const r = refusal(res.problem);
        if (r) setNotice({ text: r.kind === 'notFound' ? refusalText(r, t) : t('docs.reopenFailed'), error: true });
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setNotice({ text: t('app.networkError'), error: true });
    } finally {
      setBusy(false);
    }
  };

  const text = words === 'lockedUntil' && links.state === 'locked' && links.lockedUntil
    ? t('docs.link.lockedUntil', { time: formatTime(new Date(links.lockedUntil)) })
    : t(`docs.link.${words === 'lockedUntil' ? 'locked' : words}` as MessageKey);
  return (
    <div className="doc-links">
      <p className={locked ? 'doc-links__state doc-links__state--locked' : 'doc-links__state'}>
        {text}
      </p>
      {locked && (
        <button type="button" className="button button--secondary" disabled={busy} onClick={() => void reopen()}>
          {busy ? t('docs.reopening') : t('docs.reopen')}
        </button>
      )}
      <Notice text={notice?.text ?? null} error={notice?.error} />
    </div>
  );
}
