// The page frame (skip link, header with the language switcher, main, footer) and the routes.
import { useI18n } from './i18n/context';
import { languages, languageNames } from './i18n/translate';
import { Link, routeOf, useLocation } from './router';
import { VerifyPage } from './verify/VerifyPage';
import { CertificatePage } from './certificate/CertificatePage';
import { PageHeading } from './components/PageHeading';

export function App() {
  const { pathname, search } = useLocation();
  const route = routeOf(pathname, search);
  return (
    <>
      <Header />
      <main id="main" tabIndex={-1}>
        {route.name === 'verify' && <VerifyPage />}
        {route.name === 'certificate' && (
          <CertificatePage key={`${route.token}${route.latest}`} token={route.token} latest={route.latest} />
        )}
        {route.name === 'notFound' && <NotFound />}
      </main>
      <Footer />
    </>
  );
}

function Header() {
  const { t, lang, setLang } = useI18n();
  return (
    <header className="site-header">
      <a className="skip-link" href="#main">{t('app.skip')}</a>
      <div className="site-header__inner">
        <Link className="site-header__name" href="/verify">
          <span className="site-header__logo" aria-hidden="true">+</span>
          {t('app.name')}
        </Link>
        <nav className="lang-switch" aria-label={t('app.language')}>
          {languages.map((l) => (
            <button
              key={l}
              type="button"
              lang={l}
              className="lang-switch__button"
              aria-pressed={l === lang}
              onClick={() => setLang(l)}
            >
              {languageNames[l]}
            </button>
          ))}
        </nav>
      </div>
    </header>
  );
}

function Footer() {
  const { t } = useI18n();
  return (
    <footer className="site-footer">
      <p>{t('app.footer')}</p>
    </footer>
  );
}

function NotFound() {
  const { t } = useI18n();
  return (
    <>
      <PageHeading title={t('notFound.title')}>{t('notFound.title')}</PageHeading>
      <p>{t('notFound.body')}</p>
      <p>
        <Link href="/verify">{t('nav.verify')}</Link>
      </p>
    </>
  );
}
