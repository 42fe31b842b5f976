import { useEffect, useRef, type ReactNode } from 'react';
import { useI18n } from '../i18n/context';

let firstPage = true;

// The page's <h1>; also the document title. After an in-app navigation it takes the focus, so
// screen reader users hear where they arrived (the first page load needs no help).
export function PageHeading({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const { t } = useI18n();
  useEffect(() => {
    document.title = `${title} – ${t('app.name')}`;
  }, [title, t]);
  useEffect(() => {
    if (firstPage) firstPage = false;
    else ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

