// Every screen readable and operable by everyone: axe-core (WCAG 2 A/AA) on each screen of a
// purchase inside the emulated Telegram client, in Telegram's light and dark themes, with no
// serious or critical finding.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, axe, BASE, browser, openInTelegram, phone, SHOTS, telegramEvent } from './harness.mjs';

let b;
before(async () => {
  b = await browser();
});
after(async () => {
  await b?.close();
});

async function waitMain(page, pattern) {
  await page.waitForFunction(
    (source) =>
      new RegExp(source).test(window.__tg.filter((e) => e.type === 'web_app_setup_main_button').at(-1)?.data?.text ?? ''),
    pattern.source,
  );
}

for (const theme of ['light', 'dark']) {
  test(`every screen passes axe-core in the ${theme} theme`, async () => {
    const user = (theme === 'light' ? 5100 : 5500) + Math.floor(Math.random() * 400);
    // A favourite that the favourites screen shows.
    await api(user, '/api/v1/favorites/demo-0001', { method: 'PUT' });
    const { page } = await phone(b, { colorScheme: theme });
    await openInTelegram(page, { user, theme });
    const findings = {};
    const check = async (screen) => {
      // Let transitions and late answers settle before measuring.
      await page.waitForTimeout(300);
      findings[screen] = await axe(page);
    };

    await page.getByTestId('grid').locator('.card').first().waitFor();
    await check('home');

    await page.locator('.chip').first().click();
    await page.locator('h1.title').waitFor();
    await page.getByTestId('grid').locator('.card').first().waitFor();
    await check('section');

    await page.getByTestId('grid').locator('.card').first().click();
    await page.locator('.product h1').waitFor();
    await page.locator('.alert-toggle:not([disabled])').first().waitFor();
    await check('product');

    // Add from a product well in stock, then cart → checkout → order.
    const target = await plentiful();
    await page.evaluate((path) => window.history.pushState(null, '', path), `/product/${encodeURIComponent(target)}`);
    await page.evaluate(() => window.dispatchEvent(new PopStateEvent('popstate')));
    await page.locator('.product h1').waitFor();
    await waitMain(page, /В корзину/);
    await telegramEvent(page, 'main_button_pressed');
    await page.getByText('Добавлено в корзину').waitFor();
    await waitMain(page, /^Перейти в корзину$/);
    await telegramEvent(page, 'main_button_pressed');
    await page.getByTestId('cart-line').first().waitFor();
    await check('cart');

    await waitMain(page, /Оформить заказ/);
    await telegramEvent(page, 'main_button_pressed');
    await page.locator('input[name=name]').waitFor();
    await page.locator('input[name=name]').fill('Анна');
    await page.locator('input[name=phone]').fill('+7 999 123-45-67');
    await page.locator('textarea[name=address]').fill('Москва, Тверская, 1');
    await check('checkout');

    await waitMain(page, /Подтвердить заказ/);
    await telegramEvent(page, 'main_button_pressed');
    await page.getByText('Заказ оформлен').waitFor();
    await check('order');

    await page.getByTestId('nav-orders').click();
    await page.getByTestId('order-row').first().waitFor();
    await check('orders');

    await page.getByTestId('nav-favorites').click();
    await page.getByTestId('favorite').first().waitFor();
    await check('favorites');
    await page.screenshot({ path: `${SHOTS}favorites-${theme}.png` });

    const bad = Object.entries(findings).filter(([, v]) => v.length > 0);
    assert.deepEqual(bad, [], `serious or critical axe findings (${theme}):\n${bad.map(([s, v]) => `${s}:\n  ${v.join('\n  ')}`).join('\n')}`);
    assert.deepEqual(Object.keys(findings), ['home', 'section', 'product', 'cart', 'checkout', 'order', 'orders', 'favorites']);
  });
}

/** A product whose every offer has plenty in stock (so the first variant can be bought). */
async function plentiful() {
  const list = await (await fetch(`${BASE}/api/v1/products?in_stock=true&limit=100`)).json();
  // From the end of the list: the other browser tests buy the first products by id.
  for (const p of list.items.reverse()) {
    const card = await (await fetch(`${BASE}/api/v1/products/${encodeURIComponent(p.id)}`)).json();
    if (card.offers.every((o) => o.in_stock && (o.stock === null || o.stock >= 10))) return p.id;
  }
  throw new Error('no product with plenty in stock');
}
