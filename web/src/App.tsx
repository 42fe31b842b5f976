// The page frame (skip link, header with the language switcher, main, footer) and the routes.
// The resident's pages add their navigation and a sign-out button to the header. Every page is in
// the main chunk: over HTTP/1.1 on a slow mobile network each further chunk found only when the
// main one ran cost a round trip (over half a second), more than its bytes; only the QR code
// reader and drawer load on demand.
import { useEffect, useId, useState } from 'react';
import { useI18n } from './i18n/context';
import { languages, languageNames } from './i18n/translate';
import { isResidentRoute, Link, navigate, routeOf, useLocation, type Route } from './router';
import { VerifyPage } from './verify/VerifyPage';
import { CertificatePage } from './certificate/CertificatePage';
import { PageHeading } from './components/PageHeading';
import type { MessageKey } from './i18n/en';
import { SignupPage } from './resident/SignupPage';
import { LoginPage } from './resident/LoginPage';
import { AccountPage } from './resident/AccountPage';
import { BookPage } from './resident/BookPage';
import { RecordPage } from './resident/RecordPage';
import { DocumentsPage } from './resident/DocumentsPage';
import { DocumentPage } from './resident/DocumentPage';
import { ConnectionsPage } from './resident/ConnectionsPage';
import { SharesPage } from './resident/SharesPage';
import { AccessLogPage } from './resident/AccessLogPage';
import { CarersPage } from './resident/CarersPage';
import { ShareViewerPage } from './viewer/ShareViewerPage';

export function App() {
  const { pathname, search } = useLocation();
  const route = routeOf(pathname, search);
  // Switching the person acted for remounts the page, so it loads that person's data.
  const subject = useActingFor();
  return (
    <>
      <Header route={route} />
      <main id="main" tabIndex={-1} key={subject ?? 'self'}>
        {route.name === 'verify' && <VerifyPage />}
        {route.name === 'certificate' && (
          <CertificatePage key={`${route.token}${route.latest}`} token={route.token} latest={route.latest} />
        )}
        {route.name === 'signup' && <SignupPage key="signup" purpose="signup" />}
        {route.name === 'reset' && <SignupPage key="reset" purpose="reset" />}
        {route.name === 'login' && <LoginPage key={search} search={search} />}
        {route.name === 'account' && <AccountPage />}
        {route.name === 'book' && <BookPage search={search} />}
        {route.name === 'record' && <RecordPage key={`${route.type}/${route.id}`} type={route.type} id={route.id} />}
        {route.name === 'documents' && <DocumentsPage />}
        {route.name === 'document' && <DocumentPage key={route.id} id={route.id} />}
        {route.name === 'connections' && <ConnectionsPage />}
        {route.name === 'shares' && <SharesPage search={search} />}
        {route.name === 'accessLog' && <AccessLogPage />}
        {route.name === 'carers' && <CarersPage />}
        {route.name === 'shareViewer' && <ShareViewerPage />}
        {route.name === 'notFound' && <NotFound />}
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
  { href: '/carers', key: 'nav.carers', routes: ['carers'] },
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
          {resident && route.name !== 'carers' && route.name !== 'account' && <PersonSwitcher />}
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
      const { logout, setActingFor } = await import('./lib/resident');
      setActingFor(null);
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

// The person whose data the pages show, as chosen in the switcher (null: the signed-in person).
// The key and event are lib/resident's (actingFor, actingForEvent), named here so the verifier's
// and link pages do not load the resident API module.
function useActingFor(): string | null {
  const read = () => {
    try {
      return window.sessionStorage.getItem('healthbook.actingFor');
    } catch {
      return null;
    }
  };
  const [subject, setSubject] = useState(read);
  useEffect(() => {
    const update = () => setSubject(read());
    window.addEventListener('healthbook:acting-for', update);
    return () => window.removeEventListener('healthbook:acting-for', update);
  }, []);
  return subject;
}

// "Acting for: Me / <child>": shown only to someone who may act for another person (a guardian,
// a carer). The server checks the relation on every request; this only chooses.
function PersonSwitcher() {
  const { t } = useI18n();
  const id = useId().replace(/:/g, '');
  const subject = useActingFor();
  const [people, setPeople] = useState<{ patientId: string; name: string; kind: string }[]>([]);
  const [self, setSelf] = useState('');
  useEffect(() => {
    let live = true;
    void (async () => {
      try {
        const { getActingFor } = await import('./lib/proxies');
        const res = await getActingFor();
        if (!live || !res.ok) return;
        setSelf(res.value.self.patientId);
        setPeople(res.value.people);
        // A relation that ended (a birthday, a revocation) ends the choice too.
        if (subject && !res.value.people.some((p) => p.patientId === subject)) {
          const { setActingFor } = await import('./lib/resident');
          setActingFor(null);
        }
      } catch {
        // no switcher without an answer: the pages stay the signed-in person's
      }
    })();
    return () => {
      live = false;
    };
  }, [subject]);
  if (people.length === 0) return null;
  const choose = async (value: string) => {
    const { setActingFor } = await import('./lib/resident');
    setActingFor(value === self ? null : value);
  };
  return (
    <div className="person-switch">
      <label htmlFor={id}>{t('proxy.actingFor')}</label>
      <select id={id} value={subject ?? self} onChange={(e) => void choose(e.target.value)}>
        <option value={self}>{t('proxy.me')}</option>
        {people.map((p) => (
          <option key={p.patientId} value={p.patientId}>
            {t(p.kind === 'guardian' ? 'proxy.asGuardian' : 'proxy.asCarer', { name: p.name })}
          </option>
        ))}
      </select>
    </div>
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
