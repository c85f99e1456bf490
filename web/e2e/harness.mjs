// Shared setup for the browser tests: Debian's Chromium through playwright-core, a phone
// viewport, and an emulation of the Telegram client for the tests that need one.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const BASE = process.env.VITRINA_URL ?? 'http://127.0.0.1:8080';
export const SHOTS = new URL('./screenshots/', import.meta.url).pathname;

export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** A phone-sized page (390×844, touch) in the given color scheme. */
export async function phone(b, { colorScheme = 'light', locale = 'ru-RU' } = {}) {
  const context = await b.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    colorScheme,
    locale,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

export const THEMES = {
  light: {
    bg_color: '#ffffff',
    text_color: '#000000',
    hint_color: '#999999',
    link_color: '#2481cc',
    button_color: '#2481cc',
    button_text_color: '#ffffff',
    secondary_bg_color: '#efeff3',
  },
  dark: {
    bg_color: '#212d3b',
    text_color: '#ffffff',
    hint_color: '#aaaaaa',
    link_color: '#62bcf9',
    button_color: '#50a8eb',
    button_text_color: '#ffffff',
    secondary_bg_color: '#151e27',
    section_bg_color: '#212d3b',
  },
};

/**
 * Opens the app as Telegram's client would: launch parameters in the URL hash (initData
 * signed by the demo server's dev sign-in, theme, start_param) and a `TelegramWebviewProxy`
 * that records every method the app calls (web_app_setup_main_button, …).
 */
export async function openInTelegram(
  page,
  { user, theme = 'light', startParam, version = '8.0', platform = 'ios', signature = true, botInline = false } = {},
) {
  // Clients before Bot API 8.0 send initData without `signature` (the HMAC still holds).
  const res = await fetch(
    `${BASE}/dev/init-data?id=${user}&first_name=Tg&language_code=ru${signature ? '' : '&signature=false'}`,
  );
  const { init_data: initData } = await res.json();
  await page.addInitScript(() => {
    window.__tg = [];
    window.TelegramWebviewProxy = {
      postEvent(type, data) {
        window.__tg.push({ type, data: data ? JSON.parse(data) : null });
      },
    };
  });
  const hash = new URLSearchParams({
    tgWebAppData: initData,
    tgWebAppVersion: version,
    tgWebAppPlatform: platform,
    tgWebAppThemeParams: JSON.stringify(THEMES[theme]),
    ...(startParam ? { tgWebAppStartParam: startParam } : {}),
    // Telegram passes it when the bot has inline mode on (switchInlineQuery needs it).
    ...(botInline ? { tgWebAppBotInline: '1' } : {}),
  });
  await page.goto(`${BASE}/#${hash.toString()}`);
}

/** What the app has asked Telegram to do, by method. */
export async function telegramCalls(page, type) {
  return page.evaluate((t) => window.__tg.filter((e) => e.type === t).map((e) => e.data), type);
}

/** Delivers an event from the Telegram client to the app (a button press). */
export async function telegramEvent(page, name, payload = null) {
  await page.evaluate(([n, p]) => window.Telegram.WebView.receiveEvent(n, p), [name, payload]);
}

export async function api(user, path, init = {}) {
  const res = await fetch(`${BASE}/dev/init-data?id=${user}`);
  const { authorization } = await res.json();
  const r = await fetch(`${BASE}${path}`, { ...init, headers: { authorization, ...(init.headers ?? {}) } });
  return r.json();
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (WCAG 2 A and AA rules) on the page as it is now and returns the serious and
 * critical violations, each as `rule: target (summary)` lines.
 */
export async function axe(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} (${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 160)})`));
  });
  return result;
}
