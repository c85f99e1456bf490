// Mini App paint time (issue 8): cold opens of a Mini App in Chromium with the Chrome DevTools
// "Fast 3G" network profile and 4× CPU throttling, set over CDP. Per run: First Contentful
// Paint, "painted" (the first screen's main content visible: for vitrina the first product
// card's title in the catalog grid) and the bytes transferred, before "painted" and in total.
// Median and p90 over N runs; the full records and one waterfall per target are written as JSON.
//
// Usage (from web/, or with NODE_PATH=web/node_modules):
//   node bench/paint.mjs --runs 7 --out results.json \
//     --target 'vitrina|http://127.0.0.1:8080/|[data-testid=grid] .card .card-name' \
//     --target 'template|http://127.0.0.1:8081/|a[href="#/init-data"]'
// Each target opens as Telegram's client opens a Mini App: launch parameters in the URL hash
// (initData signed by vitrina's dev sign-in, taken from --init-data-from, default the first
// target's origin) and a recording TelegramWebviewProxy.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.cwd(), 'noop.js'));
const { chromium } = require('playwright-core');

// Chrome DevTools' "Fast 3G" preset (front_end/core/sdk/NetworkManager.ts, Fast3GConditions):
// 1.6 Mbit/s × 0.9 down, 750 kbit/s × 0.9 up, 150 ms × 3.75 latency. CDP takes bytes per second.
export const FAST_3G = {
  offline: false,
  latency: 150 * 3.75, // 562.5 ms
  downloadThroughput: ((1.6 * 1000 * 1000) / 8) * 0.9, // 180 000 B/s = 1.44 Mbit/s
  uploadThroughput: ((750 * 1000) / 8) * 0.9, // 84 375 B/s = 675 kbit/s
  connectionType: 'cellular3g',
};
const CPU_RATE = 4;

const opts = { runs: 7, out: null, targets: [], initDataFrom: null, warmup: 1 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const v = argv[i + 1];
  if (a === '--runs') opts.runs = Number(v), i++;
  else if (a === '--warmup') opts.warmup = Number(v), i++;
  else if (a === '--out') opts.out = v, i++;
  else if (a === '--init-data-from') opts.initDataFrom = v, i++;
  else if (a === '--target') {
    const [name, url, selector] = v.split('|');
    opts.targets.push({ name, url, selector });
    i++;
  } else throw new Error(`unknown argument ${a}`);
}
if (opts.targets.length === 0) throw new Error('give at least one --target name|url|selector');

const THEME = {
  bg_color: '#ffffff',
  text_color: '#000000',
  hint_color: '#999999',
  link_color: '#2481cc',
  button_color: '#2481cc',
  button_text_color: '#ffffff',
  secondary_bg_color: '#efeff3',
};

async function launchHash() {
  const base = opts.initDataFrom ?? new URL(opts.targets[0].url).origin;
  let initData;
  try {
    const res = await fetch(`${base}/dev/init-data?id=4242&first_name=Bench&language_code=ru`);
    ({ init_data: initData } = await res.json());
  } catch {
    // No vitrina to sign it (measuring only a static app): well-formed but unsigned.
    const user = JSON.stringify({ id: 4242, first_name: 'Bench', language_code: 'ru' });
    initData = new URLSearchParams({ user, auth_date: String(Math.floor(Date.now() / 1000)), signature: 'x', hash: '0'.repeat(64) }).toString();
  }
  return new URLSearchParams({
    tgWebAppData: initData,
    tgWebAppVersion: '8.0',
    tgWebAppPlatform: 'ios',
    tgWebAppThemeParams: JSON.stringify(THEME),
  }).toString();
}

// Runs in the page before any of its scripts. FCP from the paint timeline; "painted" from
// Element Timing (the matched element and its descendants get an `elementtiming` attribute
// as soon as they enter the DOM, before their first paint), with a requestAnimationFrame
// check (attached, laid out, non-empty text, inside the viewport) as the fallback.
function probe(selector) {
  const state = { fcp: null, ready: null, readyRaf: null };
  window.__paint = state;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') state.fcp = e.startTime;
  }).observe({ type: 'paint', buffered: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.identifier === 'paint-ready' && state.ready === null) state.ready = e.renderTime || e.loadTime;
    }
  }).observe({ type: 'element', buffered: true });
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return el.textContent.trim() !== '' && r.height > 0 && r.top < innerHeight && r.bottom > 0;
  };
  const mark = () => {
    const el = document.querySelector(selector);
    if (!el || el.hasAttribute('elementtiming')) return;
    for (const n of [el, ...el.querySelectorAll('*')]) n.setAttribute('elementtiming', 'paint-ready');
  };
  new MutationObserver(mark).observe(document, { childList: true, subtree: true, characterData: true });
  const tick = () => {
    const el = document.querySelector(selector);
    if (el && visible(el)) state.readyRaf = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

async function openOnce(browser, target, hash, keepWaterfall) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'ru-RU',
  });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__tg = [];
    window.TelegramWebviewProxy = { postEvent: (type, data) => window.__tg.push({ type, data }) };
  });
  await page.addInitScript(probe, target.selector);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_RATE });

  const reqs = new Map();
  let t0 = null; // CDP monotonic seconds of the navigation request
  cdp.on('Network.requestWillBeSent', (e) => {
    if (t0 === null) t0 = e.timestamp;
    reqs.set(e.requestId, { url: e.request.url, type: e.type, start: e.timestamp, end: null, bytes: 0, status: null });
  });
  cdp.on('Network.responseReceived', (e) => {
    const r = reqs.get(e.requestId);
    if (r) Object.assign(r, { status: e.response.status, headersAt: e.timestamp, encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? null });
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = reqs.get(e.requestId);
    if (r) Object.assign(r, { end: e.timestamp, bytes: e.encodedDataLength });
  });
  cdp.on('Network.loadingFailed', (e) => {
    const r = reqs.get(e.requestId);
    if (r) Object.assign(r, { end: e.timestamp, failed: e.errorText });
  });

  await page.goto(`${target.url}#${hash}`, { waitUntil: 'commit', timeout: 60_000 });
  await page.waitForFunction(() => window.__paint && (window.__paint.ready ?? window.__paint.readyRaf) !== null, null, {
    timeout: 60_000,
    polling: 100,
  });
  await page.waitForTimeout(300); // let the element-timing entry arrive after the rAF check
  // Quiet network for 1.5 s (or 30 s at most): what the first screen downloads in total.
  const quietSince = Date.now();
  for (let last = Date.now(); Date.now() - last < 1500 && Date.now() - quietSince < 30_000; ) {
    await page.waitForTimeout(250);
    if ([...reqs.values()].some((r) => r.end === null)) last = Date.now();
  }
  const m = await page.evaluate(() => ({ ...window.__paint, timeOrigin: performance.timeOrigin }));
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return n ? { requestStart: n.requestStart, responseEnd: n.responseEnd, domContentLoaded: n.domContentLoadedEventEnd } : null;
  });
  await context.close();

  const ready = m.ready ?? m.readyRaf;
  const list = [...reqs.values()].map((r) => ({
    ...r,
    startMs: Math.round((r.start - t0) * 1000),
    endMs: r.end === null ? null : Math.round((r.end - t0) * 1000),
  }));
  const sum = (xs) => xs.reduce((n, r) => n + (r.bytes || 0), 0);
  return {
    fcp: m.fcp,
    painted: ready,
    paintedBy: m.ready !== null ? 'element-timing' : 'raf',
    paintedRaf: m.readyRaf,
    bytesBeforePainted: sum(list.filter((r) => r.endMs !== null && r.endMs <= ready)),
    bytesTotal: sum(list),
    requests: list.length,
    nav,
    waterfall: keepWaterfall ? list.map(({ start, end, ...r }) => r) : undefined,
  };
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { median: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2, p90: q(0.9), min: s[0], max: s[s.length - 1] };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const version = browser.version();
const hash = await launchHash();
const results = { chromium: version, network: FAST_3G, cpuThrottling: CPU_RATE, runs: opts.runs, targets: {} };
try {
  // A warm-up open per target (not counted) so the server side is warm: the numbers are a
  // cold client (empty cache, new context) against a running server, as in production.
  for (const target of opts.targets) for (let i = 0; i < opts.warmup; i++) await openOnce(browser, target, hash, false);
  // Targets take turns run by run, so a busy moment of the machine hits them alike.
  const runs = Object.fromEntries(opts.targets.map((t) => [t.name, []]));
  for (let i = 0; i < opts.runs; i++) {
    for (const target of opts.targets) {
      const r = await openOnce(browser, target, hash, i === 0);
      runs[target.name].push(r);
      console.error(
        `${target.name} #${i + 1}: FCP ${r.fcp?.toFixed(0)} ms, painted ${r.painted?.toFixed(0)} ms (${r.paintedBy}), ` +
          `${(r.bytesBeforePainted / 1024).toFixed(1)} KB before, ${(r.bytesTotal / 1024).toFixed(1)} KB total, ${r.requests} requests`,
      );
    }
  }
  for (const target of opts.targets) {
    const rs = runs[target.name];
    results.targets[target.name] = {
      url: target.url,
      selector: target.selector,
      fcp: stats(rs.map((r) => r.fcp)),
      painted: stats(rs.map((r) => r.painted)),
      bytesBeforePainted: stats(rs.map((r) => r.bytesBeforePainted)),
      bytesTotal: stats(rs.map((r) => r.bytesTotal)),
      runs: rs,
    };
  }
} finally {
  await browser.close();
}

const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
const ms = (x) => `${Math.round(x)} ms`;
console.log(`Chromium ${version}; Fast 3G (562.5 ms, 1.44/0.675 Mbit/s), CPU ×${CPU_RATE}; ${opts.runs} cold runs each`);
console.log('| | FCP median | FCP p90 | painted median | painted p90 | bytes before painted (median) | bytes total (median) |');
console.log('|---|---|---|---|---|---|---|');
for (const [name, t] of Object.entries(results.targets)) {
  console.log(
    `| ${name} | ${ms(t.fcp.median)} | ${ms(t.fcp.p90)} | ${ms(t.painted.median)} | ${ms(t.painted.p90)} | ${kb(t.bytesBeforePainted.median)} | ${kb(t.bytesTotal.median)} |`,
  );
}
if (opts.out) writeFileSync(opts.out, JSON.stringify(results, null, 2));
