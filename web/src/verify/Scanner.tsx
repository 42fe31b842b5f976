// Camera scanning: asks for the camera only when the user presses Start, reads video frames a few
// times a second, and hands the first QR code it sees to onCode. Frames never leave the device.
import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../i18n/context';
import { drawScaled, readFrame } from '../lib/qr';
import type { QrProblem } from './qrImageCheck';
import { QrProblems } from './QrProblems';

type State = 'idle' | 'starting' | 'scanning' | 'denied' | 'unavailable';

export function Scanner({ onCode }: { onCode: (text: string) => void }) {
  const { t } = useI18n();
  const [state, setState] = useState<State>('idle');
  const [refused, setRefused] = useState<QrProblem[] | null>(null);
  const video = useRef<HTMLVideoElement>(null);
  const stream = useRef<MediaStream | null>(null);
  const timer = useRef<number | undefined>(undefined);

  const stop = () => {
    window.clearTimeout(timer.current);
    stream.current?.getTracks().forEach((track) => track.stop());
    stream.current = null;
    if (video.current) video.current.srcObject = null;
  };
  useEffect(() => stop, []);

  const start = async () => {
    if (!navigator.mediaDevices?.getUserMedia) {
      setState('unavailable');
      return;
    }
    setState('starting');
    setRefused(null);
    try {
      stream.current = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'environment' },
        audio: false,
      });
    } catch (e) {
      const name = e instanceof DOMException ? e.name : '';
      setState(name === 'NotAllowedError' || name === 'SecurityError' ? 'denied' : 'unavailable');
      return;
    }
    setState('scanning');
    const v = video.current!;
    v.srcObject = stream.current;
    await v.play().catch(() => undefined);
    const canvas = document.createElement('canvas');
    const tick = async () => {
      if (!stream.current) return;
      if (v.readyState >= v.HAVE_CURRENT_DATA && v.videoWidth > 0) {
        const qr = await readFrame(drawScaled(v, v.videoWidth, v.videoHeight, canvas));
        if (qr && stream.current) {
          // A code that breaks the SMART Health Card QR rules is refused with the reason; the
          // same code would be read again on every frame, so scanning stops either way.
          stop();
          setState('idle');
          if (qr.ok && qr.text) onCode(qr.text);
          else setRefused(qr.problems);
          return;
        }
      }
      timer.current = window.setTimeout(tick, 200);
    };
    void tick();
  };

  const scanning = state === 'scanning' || state === 'starting';
  return (
    <div className="scanner">
      <p className="hint">{t('verify.scan.help')}</p>
      <div className={scanning ? 'scanner__view' : 'scanner__view scanner__view--hidden'}>
        <video ref={video} muted playsInline aria-label={t('verify.scan.video')} />
      </div>
      {scanning ? (
        <>
          <p role="status">{t('verify.scan.looking')}</p>
          <button type="button" className="button button--secondary" onClick={() => { stop(); setState('idle'); }}>
            {t('verify.scan.stop')}
          </button>
        </>
      ) : (
        <button type="button" className="button" onClick={() => void start()}>
          {t('verify.scan.start')}
        </button>
      )}
      {refused && <QrProblems problems={refused} />}
      {state === 'denied' && <p className="message message--error" role="alert">{t('verify.scan.denied')}</p>}
      {state === 'unavailable' && <p className="message message--error" role="alert">{t('verify.scan.unavailable')}</p>}
    </div>
  );
}
