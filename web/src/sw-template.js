// Healthbook's service worker: it keeps the app shell (index.html, the hashed scripts and styles,
// the icons) so the app opens on a weak connection, and nothing else. API answers, FHIR, links,
// logs and anything with health data go to the network untouched and are never stored.
// The build (vite.config.ts) fills in the shell's file list and a version from their hashes.
const SHELL = __SHELL__;
const CACHE = `healthbook-shell-${__VERSION__}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('healthbook-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Paths whose answers may hold personal or health data: never from the cache.
const NEVER = /^\/(api|fhir|shl|auth|log|issuers|metrics|healthz)(\/|$)/;

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || NEVER.test(url.pathname)) return;
  if (req.mode === 'navigate') {
    // The page itself: the network first (a new version shows at once), the shell when offline.
    event.respondWith(fetch(req).catch(() => caches.match('/index.html').then((r) => r ?? Response.error())));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((r) => r ?? fetch(req)));
  }
});
