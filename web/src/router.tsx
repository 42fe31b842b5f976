// A small client-side router, without a routing library: the verifier's and link pages (/verify,
// /c/:token), the resident's pages (/book, /documents, /connections, /shares, /access-log, /carers,
// /account, /login, /signup, /reset) and the share viewer (/s#shlink:/...). Every path here is also in the server's
// StaticFiles::is_app_route. Paths are matched by routeOf (pure, tested); navigation uses the
// History API.
import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export type Route =
  | { name: 'verify' }
  | { name: 'certificate'; token: string; latest: boolean }
  | { name: 'signup' }
  | { name: 'reset' }
  | { name: 'login' }
  | { name: 'account' }
  | { name: 'book' }
  | { name: 'record'; type: string; id: string }
  | { name: 'documents' }
  | { name: 'document'; id: string }
  | { name: 'connections' }
  | { name: 'shares' }
  | { name: 'accessLog' }
  | { name: 'carers' }
  | { name: 'shareViewer' }
  | { name: 'notFound' };

// The resident's pages: they show the resident navigation and need a session.
export const residentRoutes = ['account', 'book', 'record', 'documents', 'document', 'connections', 'shares', 'accessLog', 'carers'] as const;
export const isResidentRoute = (r: Route) => (residentRoutes as readonly string[]).includes(r.name);

const plain: Record<string, Route> = {
  '/signup': { name: 'signup' },
  '/reset': { name: 'reset' },
  '/login': { name: 'login' },
  '/account': { name: 'account' },
  '/book': { name: 'book' },
  '/documents': { name: 'documents' },
  '/connections': { name: 'connections' },
  '/shares': { name: 'shares' },
  '/access-log': { name: 'accessLog' },
  '/carers': { name: 'carers' },
  '/s': { name: 'shareViewer' },
};

export function routeOf(pathname: string, search = ''): Route {
  if (pathname === '/' || pathname === '/verify' || pathname === '/verify/') return { name: 'verify' };
  const m = /^\/c\/([A-Za-z0-9_-]{8,200})\/?$/.exec(pathname);
  if (m) return { name: 'certificate', token: m[1]!, latest: new URLSearchParams(search).has('latest') };
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  const known = plain[path];
  if (known) return known;
  const r = /^\/book\/([A-Z][A-Za-z]{1,40})\/([A-Za-z0-9.-]{1,64})$/.exec(path);
  if (r) return { name: 'record', type: r[1]!, id: r[2]! };
  const d = /^\/documents\/([A-Za-z0-9._-]{1,128})$/.exec(path);
  if (d) return { name: 'document', id: d[1]! };
  return { name: 'notFound' };
}

const changeEvent = 'healthbook:navigate';

export function navigate(to: string): void {
  const url = new URL(to, window.location.href);
  // Keep the chosen language across pages.
  const lang = new URLSearchParams(window.location.search).get('lang');
  if (lang && !url.searchParams.has('lang')) url.searchParams.set('lang', lang);
  window.history.pushState(null, '', url);
  window.dispatchEvent(new Event(changeEvent));
}

// The path and query of the current address, following in-app navigation and Back/Forward.
export function useLocation(): { pathname: string; search: string } {
  const read = () => ({ pathname: window.location.pathname, search: window.location.search });
  const [location, setLocation] = useState(read);
  useEffect(() => {
    const update = () => {
      const next = read();
      setLocation((prev) => (prev.pathname === next.pathname && prev.search === next.search ? prev : next));
    };
    window.addEventListener('popstate', update);
    window.addEventListener(changeEvent, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(changeEvent, update);
    };
  }, []);
  return location;
}

// An ordinary link that the router follows in place (new tabs and modified clicks still work).
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const follow = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={follow} {...rest} />;
}
