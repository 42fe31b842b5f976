// A two-route client-side router: enough for /verify and /c/:token without a routing library.
// Paths are matched by routeOf (pure, tested); navigation uses the History API.
import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export type Route =
  | { name: 'verify' }
  | { name: 'certificate'; token: string; latest: boolean }
  | { name: 'notFound' };

export function routeOf(pathname: string, search = ''): Route {
  if (pathname === '/' || pathname === '/verify' || pathname === '/verify/') return { name: 'verify' };
  const m = /^\/c\/([A-Za-z0-9_-]{8,200})\/?$/.exec(pathname);
  if (m) return { name: 'certificate', token: m[1]!, latest: new URLSearchParams(search).has('latest') };
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
