// Why a QR code was refused before it went to the server (see qrImageCheck.ts).
import { useI18n } from '../i18n/context';
import type { QrProblem } from './qrImageCheck';

export function QrProblems({ id, problems }: { id?: string; problems: QrProblem[] }) {
  const { t } = useI18n();
  const [only] = problems;
  if (problems.length === 1 && only?.code === 'no_qr_found') {
    return <p id={id} className="message message--error" role="alert">{t(only.key)}</p>;
  }
  return (
    <div id={id} className="message message--error" role="alert">
      <p>{t('verify.qr.refused')}</p>
      <ul>
        {problems.map((p) => (
          <li key={p.code} data-code={p.code}>{t(p.key, p.params)}</li>
        ))}
      </ul>
    </div>
  );
}
