// First load of the resident app under Chromium's "Slow 4G" network emulation: a fresh browser
// context (empty cache, no service worker yet) opens a page of the app served by the real
// server, and we time from navigation to its <h1> being visible (the first meaningful content).
//
//   HB_BINARY=build/release/healthbook node bench/web_first_load.mjs [/login /signup /s ...]
//
// Slow 4G as Chrome DevTools defines it: 562.5 ms round trip, 1.44 Mbit/s down, 675 kbit/s up.
// Needs web/dist (`make web`). Prints one line per page: median and worst of 5 loads.
import { chromium } from 'playwright-core';
import { Healthbook } from '../tests/browser/harness.mjs';

const pages = process.argv.slice(2).length ? process.argv.slice(2) : ['/login', '/signup', '/book', '/s', '/verify'];
const runs = 5;
const hb = await Healthbook.start();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  for (const path of pages) {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false, latency: 562.5, downloadThroughput: (1.44e6 / 8), uploadThroughput: (675e3 / 8),
      });
      const start = Date.now();
      await page.goto(`${hb.base}${path}`, { waitUntil: 'commit' });
      await page.locator('h1').first().waitFor({ state: 'visible' });
      times.push(Date.now() - start);
      await context.close();
    }
    times.sort((a, b) => a - b);
    console.log(`${path}\tmedian ${times[Math.floor(runs / 2)]} ms\tworst ${times.at(-1)} ms`);
  }
} finally {
  await browser.close();
  await hb.stop();
}
