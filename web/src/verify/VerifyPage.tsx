// /verify: give a card by camera, picture or text; the server checks it; the verdict shows.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import { PageHeading } from '../components/PageHeading';
import { NetworkError, verifyCard, type Problem } from '../lib/api';
import { readImageFile, UnreadableImage } from '../lib/qr';
import { cleanCardText, type VerifyAnswer } from '../lib/verdict';
import type { QrProblem } from './qrImageCheck';
import { QrProblems } from './QrProblems';
import { Scanner } from './Scanner';
import { Verdict } from './Verdict';
import type { MessageKey } from '../i18n/en';

type State =
  | { step: 'idle' }
  | { step: 'checking' }
  | { step: 'done'; answer: VerifyAnswer }
  | { step: 'failed'; key: MessageKey; problem?: Problem };

export function VerifyPage() {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ step: 'idle' });
  const [text, setText] = useState('');
  const [inputError, setInputError] = useState<MessageKey | null>(null);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const ids = { paste: useId(), pasteHelp: useId(), pasteError: useId(), upload: useId(), uploadError: useId() };
  const [uploadError, setUploadError] = useState<MessageKey | null>(null);
  const [uploadRefused, setUploadRefused] = useState<QrProblem[] | null>(null);

  useEffect(() => {
    if (state.step === 'done' || state.step === 'failed') resultHeading.current?.focus();
  }, [state]);

  const check = async (card: string) => {
    setState({ step: 'checking' });
    try {
      const res = await verifyCard(cleanCardText(card));
      if (res.ok) setState({ step: 'done', answer: res.value });
      else setState({ step: 'failed', key: 'app.serverError', problem: res.problem });
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setState({ step: 'failed', key: 'app.networkError' });
    }
  };

  const onPaste = (e: FormEvent) => {
    e.preventDefault();
    if (!cleanCardText(text)) {
      setInputError('verify.paste.empty');
      return;
    }
    setInputError(null);
    void check(text);
  };

  const onFile = async (file: File | undefined) => {
    setUploadError(null);
    setUploadRefused(null);
    if (!file) return;
    // A .smart-health-card file (JSON) goes to the server as it is; anything else is a picture.
    if (/\.smart-health-card$/i.test(file.name) || file.type === 'application/smart-health-card' || file.type === 'application/json') {
      void check(await file.text());
      return;
    }
    try {
      // The SMART Health Card rules for the QR code itself are checked here, on what jsQR read;
      // a code that breaks them is refused with the reason and never sent.
      const qr = await readImageFile(file);
      if (qr.ok && qr.text) void check(qr.text);
      else setUploadRefused(qr.problems);
    } catch (e) {
      if (!(e instanceof UnreadableImage)) throw e;
      setUploadError('verify.upload.unreadable');
    }
  };

  return (
    <>
      <PageHeading title={t('verify.title')}>{t('verify.title')}</PageHeading>
      <p className="lead">{t('verify.intro')}</p>

      <div className="ways">
        <section className="card" aria-labelledby="scan-title">
          <h2 id="scan-title">{t('verify.scan.title')}</h2>
          <Scanner onCode={(code) => void check(code)} />
        </section>

        <section className="card" aria-labelledby="upload-title">
          <h2 id="upload-title">{t('verify.upload.title')}</h2>
          <label htmlFor={ids.upload}>{t('verify.upload.label')}</label>
          <input
            id={ids.upload}
            className="file-input"
            type="file"
            accept="image/*,.smart-health-card,application/smart-health-card"
            aria-describedby={uploadError || uploadRefused ? ids.uploadError : undefined}
            aria-invalid={uploadError || uploadRefused ? true : undefined}
            onChange={(e) => {
              void onFile(e.target.files?.[0]);
              e.target.value = ''; // the same file again still triggers a change
            }}
          />
          {uploadError && (
            <p id={ids.uploadError} className="message message--error" role="alert">{t(uploadError)}</p>
          )}
          {uploadRefused && <QrProblems id={ids.uploadError} problems={uploadRefused} />}
        </section>

        <section className="card" aria-labelledby="paste-title">
          <h2 id="paste-title">{t('verify.paste.title')}</h2>
          <form onSubmit={onPaste} noValidate>
            <label htmlFor={ids.paste}>{t('verify.paste.label')}</label>
            <p id={ids.pasteHelp} className="hint">{t('verify.paste.help')}</p>
            {inputError && <p id={ids.pasteError} className="message message--error" role="alert">{t(inputError)}</p>}
            <textarea
              id={ids.paste}
              name="card"
              rows={4}
              spellCheck={false}
              autoCapitalize="off"
              autoCorrect="off"
              aria-describedby={inputError ? `${ids.pasteError} ${ids.pasteHelp}` : ids.pasteHelp}
              aria-invalid={inputError ? true : undefined}
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
            <button type="submit" className="button" disabled={state.step === 'checking'}>
              {t('verify.paste.submit')}
            </button>
          </form>
        </section>
      </div>

      <div className="result" aria-busy={state.step === 'checking'}>
        {state.step === 'checking' && <p role="status" className="checking">{t('verify.checking')}</p>}
        {state.step === 'done' && <Verdict answer={state.answer} headingRef={resultHeading} />}
        {state.step === 'failed' && (
          <section className="verdict verdict--error" aria-labelledby="verify-failed">
            <h2 id="verify-failed" ref={resultHeading} tabIndex={-1}>{t('verify.result')}</h2>
            <p>{t(state.key, { status: state.problem?.status ?? 0 })}</p>
            {state.problem?.detail && <p className="technical">{state.problem.detail}</p>}
          </section>
        )}
      </div>
    </>
  );
}
