// A customer at phone width buys something start to finish, outside Telegram (the demo):
// section → filter → search with a typo → product → variant → cart → quantity → checkout with
// a validation error, then valid → the order in My orders with its status.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, BASE, browser, phone, SHOTS } from './harness.mjs';

const USER = 7000 + Math.floor(Math.random() * 1000);
let b;
before(async () => {
  b = await browser();
});
after(async () => {
  await b?.close();
});

test('buy a jacket start to finish', async () => {
  const { page } = await phone(b);
  await page.goto(`${BASE}/?dev_user=${USER}`);
  const grid = page.getByTestId('grid');
  await grid.locator('.card').first().waitFor();
  await page.getByText('Демо-режим').waitFor();
  await page.screenshot({ path: `${SHOTS}home-light.png` });

  // A section, then a subsection from its chips.
  await page.locator('.chip', { hasText: 'Одежда' }).click();
  await page.locator('h1', { hasText: 'Одежда' }).waitFor();
  await page.locator('.chip', { hasText: 'Куртки' }).click();
  await page.locator('h1', { hasText: 'Куртки' }).waitFor();
  const totalText = async () => Number((await page.locator('.total').textContent()).match(/\d+/)[0]);
  await page.locator('.total').waitFor();
  const before = await totalText();
  assert.ok(before > 1, `a section with products, got ${before}`);

  // The filter sheet with counts: one brand narrows the list to that count.
  await page.getByTestId('open-filters').click();
  const brand = page.locator('.facet').first().locator('label').first();
  const expected = Number(await brand.locator('.count').textContent());
  await brand.locator('input').check();
  await page.getByTestId('apply-filters').click();
  await page.waitForFunction(
    (n) => document.querySelector('.total')?.textContent?.match(/\d+/)?.[0] === String(n),
    expected,
  );
  assert.ok(expected < before, 'the filter narrowed the list');
  await page.getByTestId('open-filters').waitFor();
  assert.match(await page.getByTestId('open-filters').textContent(), /· 1/);

  // Search from home with a typo (курткп → куртка), suggestions as you type.
  await page.getByTestId('back').click();
  await page.getByTestId('back').click();
  const box = page.getByRole('searchbox');
  await box.fill('курт');
  await page.getByRole('listbox').locator('li').first().waitFor();
  await box.fill('курткп');
  await box.press('Enter');
  await page.waitForURL(/\/search\?q=/);
  await grid.locator('.card').first().waitFor();
  assert.match(await grid.locator('.card-name').first().textContent(), /Куртка/);

  // The product: a variant, then add to cart from the main button.
  await grid.locator('.card').first().click();
  await page.locator('.product h1').waitFor();
  const sizes = page.locator('.variants .variant:not([disabled])');
  assert.ok((await sizes.count()) >= 1, 'an orderable variant');
  await sizes.last().click();
  assert.equal(await sizes.last().getAttribute('aria-pressed'), 'true');
  await page.screenshot({ path: `${SHOTS}product-light.png` });
  const main = page.getByTestId('main-button');
  assert.match(await main.textContent(), /В корзину · .*₽/);
  await main.click();
  await page.getByText('Добавлено в корзину').waitFor();
  assert.equal(await page.getByTestId('cart-count').textContent(), '1');

  // The cart: quantity up, total on the main button.
  await main.click(); // «Перейти в корзину»
  await page.getByTestId('cart-line').first().waitFor();
  await page.getByTestId('cart-line').first().getByRole('button', { name: '+' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=qty]')?.textContent === '2');
  await page.waitForFunction(() => document.querySelector('[data-testid=cart-count]')?.textContent === '2');
  assert.match(await main.textContent(), /Оформить заказ · .*₽/);
  await page.screenshot({ path: `${SHOTS}cart-light.png` });
  await main.click();

  // Checkout: an empty name and no address are refused, field by field.
  await page.locator('input[name=name]').waitFor();
  await page.locator('input[name=name]').fill('');
  await main.click();
  await page.locator('.field-error').first().waitFor();
  assert.ok((await page.locator('.field-error').count()) >= 2, 'name and phone errors');
  assert.equal(await page.locator('input[name=name]').getAttribute('aria-invalid'), 'true');
  await page.locator('input[name=name]').fill('Анна');
  await page.locator('input[name=phone]').fill('8 (999) 123-45-67');
  await page.locator('textarea[name=address]').fill('Москва, Тверская, 1, кв. 5');
  assert.equal(await page.locator('.field-error').count(), 0, 'fixed fields lose their errors');
  await page.screenshot({ path: `${SHOTS}checkout-light.png` });
  // A double tap: one order.
  await main.dblclick();
  await page.getByText('Заказ оформлен').waitFor();
  assert.equal(await page.getByTestId('order-status').textContent(), 'Новый');
  await page.screenshot({ path: `${SHOTS}order-light.png` });

  // My orders lists it with its status; the server has exactly one order for this customer.
  await page.getByTestId('nav-orders').click();
  await page.getByTestId('order-row').first().waitFor();
  assert.equal(await page.getByTestId('order-row').count(), 1);
  assert.match(await page.getByTestId('order-row').first().textContent(), /Новый/);
  const orders = await api(USER, '/api/v1/orders');
  assert.equal(orders.length, 1);
  assert.equal(orders[0].items[0].quantity, 2);
  assert.equal(orders[0].delivery.address, 'Москва, Тверская, 1, кв. 5');
  assert.equal(orders[0].contact.phone, '+79991234567');
});

test('the initial route stays light and images are sized and lazy', async () => {
  const { page } = await phone(b);
  await page.goto(`${BASE}/?dev_user=${USER + 1}`);
  await page.getByTestId('grid').locator('img').first().waitFor();
  const imgs = await page.$$eval('[data-testid=grid] img', (list) =>
    list.map((i) => ({ w: i.getAttribute('width'), loading: i.getAttribute('loading'), src: i.getAttribute('src') })),
  );
  assert.ok(imgs.length >= 10);
  for (const i of imgs) {
    assert.equal(i.loading, 'lazy');
    assert.equal(i.w, '320');
    assert.match(i.src, /^\/images\/[0-9a-f]+\/320x320\.jpg$/);
  }
});
