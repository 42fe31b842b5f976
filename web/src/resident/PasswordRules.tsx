// The password rules (the server's, docs/accounts.md), each marked met or not as the person
// types: in words and a symbol, not colour alone.
import { useI18n } from '../i18n/context';
import type { MessageKey } from '../i18n/en';
import type { PasswordCheck } from '../lib/resident';

export function PasswordRules({ id, check }: { id: string; check: PasswordCheck }) {
  const { t } = useI18n();
  const rules: [MessageKey, boolean][] = [
    ['signup.rule.length', check.length],
    ['signup.rule.mix', check.mix],
    ['signup.rule.notId', check.notId],
  ];
  return (
    <div id={id} className="rules">
      <p className="rules__title">{t('signup.rules')}</p>
      <ul>
        {rules.map(([key, met]) => (
          <li key={key} className={met ? 'rules__item rules__item--met' : 'rules__item'}>
            <span aria-hidden="true" className="rules__mark">{met ? '✓' : '•'}</span> {t(key)}
            <span className="visually-hidden"> ({t(met ? 'signup.rule.met' : 'signup.rule.notMet')})</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
