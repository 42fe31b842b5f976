// The page frame (skip link, header with the language switcher, main, footer) and the routes.
// The resident's pages add their navigation and a sign-out button to the header; they, and the
// share viewer, load as separate chunks so the verifier's and link pages stay small.
import { lazy, Suspense, useState } from 'react';
import { useI18n } from './i18n/context';
import { languages, languageNames } from './i18n/translate';
import { isResidentRoute, Link, navigate, routeOf, useLocation, type Route } from './router';
import { VerifyPage } from './verify/VerifyPage';
import { CertificatePage } from './certificate/CertificatePage';
import { PageHeading } from './components/PageHeading';
import type { MessageKey } from './i18n/en';

const SignupPage = lazy(() => import('./resident/SignupPage').then((m) => ({ default: m.SignupPage })));
const LoginPage = lazy(() => import('./resident/LoginPage').then((m) => ({ default: m.LoginPage })));
const AccountPage = lazy(() => import('./resident/AccountPage').then((m) => ({ default: m.AccountPage })));
const BookPage = lazy(() => import('./resident/BookPage').then((m) => ({ default: m.BookPage })));
const RecordPage = lazy(() => import('./resident/RecordPage').then((m) => ({ default: m.RecordPage })));
const DocumentsPage = lazy(() => import('./resident/DocumentsPage').then((m) => ({ default: m.DocumentsPage })));
const DocumentPage = lazy(() => import('./resident/DocumentPage').then((m) => ({ default: m.DocumentPage })));
const ConnectionsPage = lazy(() => import('./resident/ConnectionsPage').then((m) => ({ default: m.ConnectionsPage })));
const SharesPage = lazy(() => import('./resident/SharesPage').then((m) => ({ default: m.SharesPage })));
const AccessLogPage = lazy(() => import('./resident/AccessLogPage').then((m) => ({ default: m.AccessLogPage })));
const ShareViewerPage = lazy(() => import('./viewer/ShareViewerPage').then((m) => ({ default: m.ShareViewerPage })));

export function App() {
  const { pathname, search } = useLocation();
  const route = routeOf(pathname, search);
  const { t } = useI18n();
  return (
    <>
      <Header route={route} />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p role="status">{t('app.loading')}</p>}>
          {route.name === 'verify' && <VerifyPage />}
          {route.name === 'certificate' && (
            <CertificatePage key={`${route.token}${route.latest}`} token={route.token} latest={route.latest} />
          )}
          {route.name === 'signup' && <SignupPage />}
          {route.name === 'login' && <LoginPage key={search} search={search} />}
          {route.name === 'account' && <AccountPage />}
          {route.name === 'book' && <BookPage search={search} />}
          {route.name === 'record' && <RecordPage key={`${route.type}/${route.id}`} type={route.type} id={route.id} />}
          {route.name === 'documents' && <DocumentsPage />}
          {route.name === 'document' && <DocumentPage key={route.id} id={route.id} />}
          {route.name === 'connections' && <ConnectionsPage />}
          {route.name === 'shares' && <SharesPage search={search} />}
          {route.name === 'accessLog' && <AccessLogPage />}
          {route.name === 'shareViewer' && <ShareViewerPage />}
          {route.name === 'notFound' && <NotFound />}
        </Suspense>
      </main>
      <Footer />
    </>
  );
}

const residentNav: { href: string; key: MessageKey; routes: Route['name'][] }[] = [
  { href: '/book', key: 'nav.book', routes: ['book', 'record'] },
  { href: '/documents', key: 'nav.documents', routes: ['documents', 'document'] },
  { href: '/connections', key: 'nav.connections', routes: ['connections'] },
  { href: '/shares', key: 'nav.shares', routes: ['shares'] },
  { href: '/access-log', key: 'nav.accessLog', routes: ['accessLog'] },
  { href: '/account', key: 'nav.account', routes: ['account'] },
];

function Header({ route }: { route: Route }) {
  const { t, lang, setLang } = useI18n();
  const resident = isResidentRoute(route);
  return (
    <header className="site-header">
      <a className="skip-link" href="#main">{t('app.skip')}</a>
      <div className="site-header__inner">
        <Link className="site-header__name" href={resident ? '/book' : '/verify'}>
          <span className="site-header__logo" aria-hidden="true">+</span>
          {t('app.name')}
        </Link>
        <div className="site-header__tools">
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
          {resident && <SignOut />}
        </div>
      </div>
      {resident && (
        <nav className="resident-nav" aria-label={t('nav.main')}>
          <ul>
            {residentNav.map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={item.routes.includes(route.name) ? 'page' : undefined}>{t(item.key)}</Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
    </header>
  );
}

// Ends this session and goes to the login page; a session already gone is signed out too.
function SignOut() {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const signOut = async () => {
    setBusy(true);
    try {
      const { logout } = await import('./lib/resident');
      await logout();
    } catch {
      // the login page is the right place either way
    }
    setBusy(false);
    navigate('/login?signedOut=1');
  };
  return (
    <button type="button" className="sign-out" disabled={busy} onClick={() => void signOut()}>
      {busy ? t('nav.signingOut') : t('nav.signOut')}
    </button>
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
