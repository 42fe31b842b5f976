/// <reference types="vitest/config" />
// Builds the single-page app that `healthbook serve` hands out from web/dist: base "/", hashed
// asset names (cacheable for a year), no inline scripts or styles, so the page runs under a strict
// Content-Security-Policy. The production index.html also carries that policy as a <meta> tag
// (the server adds the header too); the dev server needs inline scripts for hot reload, so it
// gets none.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Whether this Node.js gives JSON.parse's revivers the source text of each value.
function jsonParseHasSource(): boolean {
  let seen = false;
  JSON.parse('1.0', (_key: string, value: unknown, context?: { source?: string }) => {
    seen = context?.source === '1.0';
    return value;
  });
  return seen;
}

export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // data: for the certificate's QR code (an SVG the page wraps in an <img>); blob: for uploads.
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

function cspMeta(): Plugin {
  return {
    name: 'healthbook-csp-meta',
    apply: 'build',
    transformIndexHtml: (html) =>
      html.replace(
        '<meta charset="utf-8">',
        `<meta charset="utf-8">\n    <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy}">`,
      ),
  };
}

// The service worker (src/sw-template.js) with the app shell's files: index.html, every emitted
// script and style, the manifest and icons; its version is a hash of their names, so a new build
// replaces the old cache. Written as dist/sw.js (served from /, so its scope is the whole app).
export const publicShell = ['/favicon.svg', '/manifest.webmanifest', '/icon-192.png', '/icon-512.png', '/icon-maskable-512.png'];

function serviceWorker(): Plugin {
  return {
    name: 'healthbook-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const emitted = Object.keys(bundle)
        .filter((f) => /\.(js|css)$/.test(f))
        .map((f) => `/${f}`)
        .sort();
      const shell = ['/index.html', ...publicShell, ...emitted];
      const version = createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 16);
      const source = readFileSync(new URL('./src/sw-template.js', import.meta.url), 'utf8')
        .replace('__SHELL__', JSON.stringify(shell))
        .replace('__VERSION__', JSON.stringify(version));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

// A gzip twin ("<name>.gz") of every text file in dist: `healthbook serve` sends it to clients
// that accept gzip (src/http/static_files.cpp), so phones download a third of the bytes.
function precompress(): Plugin {
  let outDir = 'dist';
  return {
    name: 'healthbook-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) walk(path);
          else if (/\.(js|css|html|svg|webmanifest)$/.test(entry.name)) writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
        }
      };
      walk(outDir);
    },
  };
}

export default defineConfig({
  base: '/',
  plugins: [react(), cspMeta(), serviceWorker(), precompress()],
  // Preact's React-compatible layer instead of React itself in the built app: the same component
  // code and hooks, about 55 KiB less to download (gzipped), which is most of the first load on a
  // slow phone network. Types still come from @types/react; the browser tests run the real build.
  resolve: {
    alias: [
      { find: /^react$/, replacement: 'preact/compat' },
      { find: /^react-dom$/, replacement: 'preact/compat' },
      { find: /^react-dom\/client$/, replacement: 'preact/compat/client' },
      { find: /^react\/jsx-runtime$/, replacement: 'preact/jsx-runtime' },
      { find: /^react\/jsx-dev-runtime$/, replacement: 'preact/jsx-runtime' },
    ],
  },
  build: {
    target: 'es2020',
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    // The preload helper would otherwise be a tiny separate chunk; keep requests few.
    modulePreload: { polyfill: false },
  },
  server: {
    // `npm run dev` against a running `make run` (http://localhost:8080 by default).
    proxy: Object.fromEntries(
      // With the trailing slash: "/log" alone would also catch the app's own /login.
      ['/api/', '/issuers/', '/log/', '/shl/'].map((p) => [p, process.env.HEALTHBOOK_URL ?? 'http://localhost:8080']),
    ),
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    // JSON.parse's source text for revivers (src/lib/json.ts), as in the browsers we support;
    // Node.js 20 has it behind this flag, later versions without it.
    execArgv: jsonParseHasSource() ? [] : ['--harmony-json-parse-with-source'],
  },
});
