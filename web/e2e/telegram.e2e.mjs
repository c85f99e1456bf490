// Inside Telegram (an emulated client): theme from themeParams, MainButton and BackButton
// driven through the SDK, a startapp deep link, haptics on add to cart.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { browser, openInTelegram, phone, SHOTS, telegramCalls, telegramEvent, THEMES } from './harness.mjs';

let b;
before(async () => {
  b = await browser();
});
after(async () => {
  await b?.close();
});

test('startapp=product_<id> opens the product, MainButton adds it, BackButton goes home', async () => {
  const { page } = await phone(b, { colorScheme: 'dark' });
  await openInTelegram(page, { user: 9100 + Math.floor(Math.random() * 800), theme: 'dark', startParam: 'product_demo-0001' });
  await page.locator('.product h1').waitFor();
  assert.equal(new URL(page.url()).pathname, '/product/demo-0001');
  // Telegram's theme reaches the page as CSS variables.
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--tg-theme-bg-color').trim());
  assert.equal(bg, THEMES.dark.bg_color);
  // No in-page stand-ins inside Telegram: the client's buttons are used.
  assert.equal(await page.getByTestId('main-button').count(), 0);
  assert.equal(await page.getByTestId('back').count(), 0);
  await page.waitForFunction(() => window.__tg.some((e) => e.type === 'web_app_setup_main_button' && e.data?.is_visible));
  const mainCalls = await telegramCalls(page, 'web_app_setup_main_button');
  const shown = mainCalls.filter((c) => c.is_visible).at(-1);
  assert.match(shown.text, /В корзину · .*₽/);
  const back = await telegramCalls(page, 'web_app_setup_back_button');
  assert.equal(back.at(-1).is_visible, true);
  await page.screenshot({ path: `${SHOTS}product-dark.png` });

  await telegramEvent(page, 'main_button_pressed');
  await page.getByText('Добавлено в корзину').waitFor();
  const haptics = await telegramCalls(page, 'web_app_trigger_haptic_feedback');
  assert.ok(haptics.some((h) => h.type === 'impact'), 'haptic feedback on add to cart');
  await page.waitForFunction(() =>
    window.__tg.filter((e) => e.type === 'web_app_setup_main_button').at(-1)?.data?.text === 'Перейти в корзину',
  );

  await telegramEvent(page, 'back_button_pressed');
  await page.waitForURL((u) => u.pathname === '/');
  await page.getByTestId('grid').locator('.card').first().waitFor();
  const backAfter = await telegramCalls(page, 'web_app_setup_back_button');
  assert.equal(backAfter.at(-1).is_visible, false, 'no Back on the home screen');
  await page.screenshot({ path: `${SHOTS}home-dark.png` });
});

test('checkout asks Telegram to confirm closing', async () => {
  const { page } = await phone(b);
  await openInTelegram(page, { user: 9950 + Math.floor(Math.random() * 40), startParam: 'product_demo-0002' });
  await page.locator('.product h1').waitFor();
  await page.waitForFunction(() => window.__tg.some((e) => e.type === 'web_app_setup_main_button' && e.data?.is_visible));
  await telegramEvent(page, 'main_button_pressed');
  await page.getByText('Добавлено в корзину').waitFor();
  await telegramEvent(page, 'main_button_pressed'); // to the cart
  await page.getByTestId('cart-line').first().waitFor();
  await page.waitForFunction(() =>
    /Оформить заказ/.test(window.__tg.filter((e) => e.type === 'web_app_setup_main_button').at(-1)?.data?.text ?? ''),
  );
  await telegramEvent(page, 'main_button_pressed'); // to checkout
  await page.locator('input[name=name]').waitFor();
  const closing = await telegramCalls(page, 'web_app_setup_closing_behavior');
  assert.equal(closing.at(-1).need_confirmation, true);
});
