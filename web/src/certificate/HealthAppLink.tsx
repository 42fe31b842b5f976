// "Open in another health app": the document's SMART Health Link, as text to copy into an app and
// as a QR code for an app to scan. The QR encoder loads only when this section comes near the
// screen, so people who just show their certificate never download it.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { useI18n } from '../i18n/context';
import type { MessageKey } from '../i18n/en';
import { svgDataUrl } from '../lib/api';
import { shlinkPayload } from '../lib/details';
import { qrSvg } from '../lib/qrDraw';

type Qr = { state: 'waiting' } | { state: 'ready'; svg: string } | { state: 'failed' };

// Calls `onNear` once the element is within a screen of the viewport (at once without
// IntersectionObserver).
function useWhenNear(onNear: () => void) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof IntersectionObserver === 'undefined') {
      onNear();
      return;
    }
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        io.disconnect();
        onNear();
      }
    }, { rootMargin: '100% 0px' });
    io.observe(el);
    return () => io.disconnect();
  }, [onNear]);
  return ref;
}

// `link` as the server sends it: "shlink:/…", or behind a viewer URL ("https://…#shlink:/…").
export function HealthAppLink({ link }: { link: string }) {
  const { t } = useI18n();
  const ids = { heading: useId(), text: useId(), help: useId() };
  const [qr, setQr] = useState<Qr>({ state: 'waiting' });
  const [notice, setNotice] = useState<{ key: MessageKey; error: boolean } | null>(null);
  const payload = shlinkPayload(link);
  const [near, setNear] = useState(false);
  const ref = useWhenNear(useCallback(() => setNear(true), []));

  useEffect(() => {
    if (!near || !payload) return;
    let live = true;
    setQr({ state: 'waiting' });
    // The whole link, viewer URL and all: a phone's camera opens this page, a health app reads
    // the shlink:/ part.
    qrSvg(link).then(
      (svg) => live && setQr({ state: 'ready', svg }),
      () => live && setQr({ state: 'failed' }),
    );
    return () => {
      live = false;
    };
  }, [near, link, payload]);

  if (!payload) return null;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(payload);
      setNotice({ key: 'shl.copied', error: false });
    } catch {
      setNotice({ key: 'shl.copyFailed', error: true });
    }
  };

  return (
    <section ref={ref} className="shl card" aria-labelledby={ids.heading}>
      <h2 id={ids.heading}>{t('shl.title')}</h2>
      <p>{t('shl.intro')}</p>
      <p className="hint">{t('shl.warning')}</p>
      <div className="shl__body">
        <figure className="shl__qr" aria-busy={qr.state === 'waiting'}>
          {qr.state === 'ready' && <img src={svgDataUrl(qr.svg)} alt={t('shl.qr')} width="240" height="240" />}
          {qr.state === 'waiting' && <p className="hint">{t('shl.qrLoading')}</p>}
          {qr.state === 'failed' && <p className="message message--error">{t('shl.qrFailed')}</p>}
        </figure>
        <div className="shl__text">
          <label htmlFor={ids.text}>{t('shl.label')}</label>
          <textarea
            id={ids.text}
            readOnly
            rows={4}
            spellCheck={false}
            autoCapitalize="off"
            value={payload}
            onFocus={(e) => e.currentTarget.select()}
          />
          <div className="actions">
            <button type="button" className="button button--secondary" onClick={() => void copy()}>{t('shl.copy')}</button>
          </div>
          <p role="status" className={notice?.error ? 'message message--error' : notice ? 'message message--ok' : 'message--empty'}>
            {notice ? t(notice.key) : ''}
          </p>
        </div>
      </div>
    </section>
  );
}
