// Older Telegram clients: initData without `signature` (before Bot API 8.0), which the Mini
// Apps SDK refuses to parse. The app must still start, sign in with the raw initData, use only
// what the client's version has, and sell.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, browser, openInTelegram, phone, telegramCalls, telegramEvent } from './harness.mjs';

let b;
before(async () => {
  b = await browser();
});
after(async () => {
  await b?.close();
});

/** Waits until Telegram's MainButton says `pattern`. */
async function waitMain(page, pattern) {
  await page.waitForFunction(
    (source) =>
      new RegExp(source).test(window.__tg.filter((e) => e.type === 'web_app_setup_main_button').at(-1)?.data?.text ?? ''),
    pattern.source,
  );
}

test('a 6.9 Android client without signature buys something', async () => {
  const user = 9600 + Math.floor(Math.random() * 300);
  const { page } = await phone(b);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await openInTelegram(page, { user, version: '6.9', platform: 'android', signature: false, startParam: 'product_demo-0003' });
  await page.locator('.product h1').waitFor();
  // Signed in with the raw initData: the server knows this customer.
  await page.waitForFunction(() => window.__tg.some((e) => e.type === 'web_app_setup_main_button' && e.data?.is_visible));
  await telegramEvent(page, 'main_button_pressed');
  await page.getByText('Добавлено в корзину').waitFor();
  await waitMain(page, /^Перейти в корзину$/);
  await telegramEvent(page, 'main_button_pressed');
  await page.getByTestId('cart-line').first().waitFor();
  await waitMain(page, /Оформить заказ/);
  await telegramEvent(page, 'main_button_pressed');
  await page.locator('input[name=name]').waitFor();
  await page.locator('input[name=name]').fill('Пётр');
  await page.locator('input[name=phone]').fill('+7 999 765-43-21');
  const address = page.locator('textarea[name=address]');
  if (await address.count()) await address.fill('Казань, Баумана, 10');
  await waitMain(page, /Подтвердить заказ/);
  await telegramEvent(page, 'main_button_pressed');
  await page.getByText('Заказ оформлен').waitFor();

  const orders = await api(user, '/api/v1/orders');
  assert.equal(orders.length, 1, 'one order on the server');
  assert.equal(orders[0].contact.name, 'Пётр');
  // Nothing the client's version lacks was asked of it (swipe behaviour is 7.7).
  assert.equal((await telegramCalls(page, 'web_app_setup_swipe_behavior')).length, 0);
  assert.ok((await telegramCalls(page, 'web_app_setup_back_button')).length > 0, '6.9 has the BackButton');
  assert.deepEqual(errors, []);
});

test('a 6.0 client without signature gets the in-page Back arrow', async () => {
  const user = 9900 + Math.floor(Math.random() * 50);
  const { page } = await phone(b);
  await openInTelegram(page, { user, version: '6.0', platform: 'tdesktop', signature: false, startParam: 'product_demo-0004' });
  await page.locator('.product h1').waitFor();
  // No BackButton before 6.1, and no haptics: the app draws its own arrow.
  await page.getByTestId('back').waitFor();
  assert.equal((await telegramCalls(page, 'web_app_setup_back_button')).length, 0);
  await page.waitForFunction(() => window.__tg.some((e) => e.type === 'web_app_setup_main_button' && e.data?.is_visible));
  await telegramEvent(page, 'main_button_pressed');
  await page.getByText('Добавлено в корзину').waitFor();
  assert.equal((await telegramCalls(page, 'web_app_trigger_haptic_feedback')).length, 0);
  await page.getByTestId('back').click();
  await page.waitForURL((u) => u.pathname === '/');
  await page.getByTestId('grid').locator('.card').first().waitFor();
});
