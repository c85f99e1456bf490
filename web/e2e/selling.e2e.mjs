// Selling inside Telegram, in the Mini App: the heart and the favourites screen, back-in-stock
// and price-drop alerts, «Повторить» on an order, and sharing a product into a chat.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { api, BASE, browser, openInTelegram, phone, SHOTS, telegramCalls } from './harness.mjs';

const base = 20000 + Math.floor(Math.random() * 5000);
let b;
before(async () => {
  b = await browser();
});
after(async () => {
  await b?.close();
});

const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('a heart on the card and the product page, the favourites screen, rollback on refusal', async () => {
  const user = base + 1;
  const { page } = await phone(b);
  await page.goto(`${BASE}/?dev_user=${user}`);
  const first = page.getByTestId('grid').locator('.card-wrap').first();
  await first.locator('.card').waitFor();
  const name = (await first.locator('.card-name').textContent()).trim();
  const heart = first.getByTestId('heart');
  await page.waitForFunction(() => !document.querySelector('[data-testid=grid] [data-testid=heart]')?.disabled);
  assert.equal(await heart.getAttribute('aria-pressed'), 'false');
  await heart.click();
  assert.equal(await heart.getAttribute('aria-pressed'), 'true');
  await page.waitForFunction(async () => true);
  let favs = await waitFor(() => api(user, '/api/v1/favorites'), (f) => f.items.length === 1);
  assert.equal(favs.items[0].name, name);
  const productId = favs.items[0].product_id;

  // The product page shows it pressed; the favourites screen lists it.
  await first.locator('.card').click();
  await page.locator('.product h1').waitFor();
  assert.equal(await page.locator('.title-row [data-testid=heart]').getAttribute('aria-pressed'), 'true');
  await page.getByTestId('nav-favorites').click();
  await page.getByTestId('favorite').first().waitFor();
  assert.equal(await page.getByTestId('favorite').count(), 1);
  assert.match(await page.getByTestId('favorite').first().textContent(), new RegExp(name));
  await page.screenshot({ path: `${SHOTS}favorites-light.png` });

  // Removed from the favourites screen.
  await page.getByTestId('favorite').first().getByTestId('heart').click();
  favs = await waitFor(() => api(user, '/api/v1/favorites'), (f) => f.items.length === 0);
  assert.equal(favs.items.length, 0);

  // The server refuses (the limit): the heart goes back and says why.
  await page.route('**/api/v1/favorites/*', (route) =>
    route.request().method() === 'PUT'
      ? route.fulfill({
          status: 409,
          contentType: 'application/problem+json',
          body: JSON.stringify({ type: 'about:blank', title: 'Conflict', status: 409, code: 'favorites_limit' }),
        })
      : route.continue(),
  );
  await page.goto(`${BASE}/product/${encodeURIComponent(productId)}?dev_user=${user}`);
  const pageHeart = page.locator('.title-row [data-testid=heart]');
  await page.waitForFunction(() => !document.querySelector('.title-row [data-testid=heart]')?.disabled);
  await pageHeart.click();
  await page.getByText('В избранном уже максимум').waitFor();
  assert.equal(await pageHeart.getAttribute('aria-pressed'), 'false', 'rolled back');
});

test('subscribe and unsubscribe to back-in-stock and price-drop alerts', async () => {
  const user = base + 2;
  const out = await findProduct((p) => !p.in_stock);
  const { page } = await phone(b);
  await page.goto(`${BASE}/product/${encodeURIComponent(out.id)}?dev_user=${user}`);
  await page.locator('.product h1').waitFor();
  const stock = page.getByTestId('alert-back_in_stock');
  const price = page.getByTestId('alert-price_drop');
  await page.waitForFunction(() => !document.querySelector('[data-testid=alert-back_in_stock]')?.disabled);
  assert.match(await stock.textContent(), /Сообщить о поступлении/);
  assert.match(await price.textContent(), /Сообщить о снижении цены/);
  await stock.click();
  await page.waitForFunction(() => document.querySelector('[data-testid=alert-back_in_stock]')?.getAttribute('aria-pressed') === 'true');
  await price.click();
  await page.waitForFunction(() => document.querySelector('[data-testid=alert-price_drop]')?.getAttribute('aria-pressed') === 'true');
  const subs = await api(user, '/api/v1/subscriptions');
  assert.deepEqual(subs.items.map((s) => s.kind).sort(), ['back_in_stock', 'price_drop']);
  await page.screenshot({ path: `${SHOTS}alerts-light.png` });

  // Shown as subscribed after a reload (from GET), then cancelled.
  await page.reload();
  await page.waitForFunction(() => document.querySelector('[data-testid=alert-back_in_stock]')?.getAttribute('aria-pressed') === 'true');
  await stock.click();
  await page.waitForFunction(() => document.querySelector('[data-testid=alert-back_in_stock]')?.getAttribute('aria-pressed') === 'false');
  const left = await api(user, '/api/v1/subscriptions');
  assert.deepEqual(left.items.map((s) => s.kind), ['price_drop']);

  // A product in stock offers only the price-drop alert.
  const inStock = await findProduct((p) => p.in_stock);
  await page.goto(`${BASE}/product/${encodeURIComponent(inStock.id)}?dev_user=${user}`);
  await page.getByTestId('alert-price_drop').waitFor();
  assert.equal(await page.getByTestId('alert-back_in_stock').count(), 0);
});

test('«Повторить» puts the order back into the cart and says what could not be added', async () => {
  const user = base + 3;
  const other = base + 4;
  // Two products: one stays in stock, the other the order empties (the last units).
  const plenty = await addSome(user, (o) => o.stock === null || o.stock > 10, 1);
  const scarce = await addSome(user, (o) => o.stock !== null && o.stock <= 3 && o.id !== plenty.id, 1);
  const order = await placeOrder(user);
  // Someone else buys what is left of the scarce one (the cart shows the live stock).
  const probe = await api(other, '/api/v1/cart/items', json({ offer_id: scarce.id, quantity: 1 }));
  if (probe.lines) {
    const left = probe.lines[0].stock;
    if (left > 1) {
      await api(other, `/api/v1/cart/items/${encodeURIComponent(scarce.id)}`, { ...json({ quantity: left }), method: 'PATCH' });
    }
    await placeOrder(other);
  }

  const { page } = await phone(b);
  await page.goto(`${BASE}/orders/${order.id}?dev_user=${user}`);
  await page.getByTestId('repeat').click();
  await page.waitForURL((u) => u.pathname === '/cart');
  await page.getByTestId('cart-line').first().waitFor();
  assert.equal(await page.getByTestId('cart-line').count(), 1);
  const notes = page.getByTestId('repeat-notes');
  await notes.waitFor();
  assert.match(await notes.textContent(), /Не всё из заказа попало в корзину/);
  assert.match(await page.getByTestId('not-added').first().textContent(), /нет в наличии/);
  await page.screenshot({ path: `${SHOTS}repeat-light.png` });
  const cart = await api(user, '/api/v1/cart');
  assert.deepEqual(cart.lines.map((l) => l.offer_id), [plenty.id]);
});

test('startapp=repeat_<id> from the delivered-order message repeats the order once', async () => {
  const user = base + 5;
  const offer = await addSome(user, (o) => o.stock === null || o.stock > 10, 2);
  const order = await placeOrder(user);
  const { page } = await phone(b);
  await openInTelegram(page, { user, startParam: `repeat_${order.id}` });
  await page.waitForURL((u) => u.pathname === '/cart');
  await page.getByTestId('cart-line').first().waitFor();
  await page.waitForTimeout(500);
  const cart = await api(user, '/api/v1/cart');
  assert.deepEqual(cart.lines.map((l) => [l.offer_id, l.quantity]), [[offer.id, 2]], 'added once');
});

test('share: switchInlineQuery where the client has it, else the t.me share link', async () => {
  const product = await findProduct(() => true);
  // Bot API 8.0 and the bot's inline mode on: the client's chat picker with the product's name.
  {
    const { page } = await phone(b);
    await openInTelegram(page, { user: base + 6, startParam: `product_${product.id}`, botInline: true });
    await page.locator('.product h1').waitFor();
    await page.getByTestId('share').click();
    const calls = await telegramCalls(page, 'web_app_switch_inline_query');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].query, product.name);
    assert.deepEqual(calls[0].chat_types, ['users', 'groups', 'channels']);
    assert.equal((await telegramCalls(page, 'web_app_open_tg_link')).length, 0);
  }
  // A client without it (inline mode off, or before 6.7): Telegram's share link.
  {
    const { page } = await phone(b);
    await openInTelegram(page, { user: base + 7, startParam: `product_${product.id}`, version: '6.4' });
    await page.locator('.product h1').waitFor();
    await page.getByTestId('share').click();
    assert.equal((await telegramCalls(page, 'web_app_switch_inline_query')).length, 0);
    const links = await telegramCalls(page, 'web_app_open_tg_link');
    assert.equal(links.length, 1);
    const shared = new URL(`https://t.me${links[0].path_full}`);
    assert.equal(shared.pathname, '/share/url');
    assert.equal(shared.searchParams.get('text'), product.name);
    assert.match(shared.searchParams.get('url'), new RegExp(`(startapp=product_|/product/)${product.id}$`));
  }
});

async function waitFor(get, ok) {
  for (let i = 0; i < 50; i++) {
    const v = await get();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  return get();
}

async function products() {
  const all = [];
  let cursor = null;
  do {
    const r = await (await fetch(`${BASE}/api/v1/products?limit=100${cursor ? `&cursor=${cursor}` : ''}`)).json();
    all.push(...r.items);
    cursor = r.next_cursor;
  } while (cursor && all.length < 1000);
  return all;
}

async function findProduct(pred) {
  const p = (await products()).find(pred);
  assert.ok(p, 'the demo catalog has such a product');
  return p;
}

/** Puts `quantity` of the first offer in stock matching `pred` into `user`'s cart (trying the
 * next one when the cart says the stock is gone: the catalog's figure may lag). */
async function addSome(user, pred, quantity) {
  // From the end of the catalog: the other browser tests buy the first products by id.
  for (const p of (await products()).reverse()) {
    if (!p.in_stock) continue;
    const card = await (await fetch(`${BASE}/api/v1/products/${encodeURIComponent(p.id)}`)).json();
    for (const o of card.offers.filter((o) => o.in_stock && pred(o))) {
      const cart = await api(user, '/api/v1/cart/items', json({ offer_id: o.id, quantity }));
      if (cart.lines) return { ...o, product: p.id };
    }
  }
  assert.fail('the demo catalog has such an offer');
}

async function placeOrder(user) {
  const options = await api(user, '/api/v1/checkout/options');
  const delivery = options.delivery.find((d) => d.pickup_points?.length) ?? options.delivery[0];
  const body = {
    contact: { name: 'Анна', phone: '+79991234567' },
    delivery: {
      method: delivery.id,
      ...(delivery.pickup_points?.length ? { pickup_point: delivery.pickup_points[0] } : { address: 'Москва, Тверская, 1' }),
    },
    payment_method: 'on_receipt',
  };
  const order = await api(user, '/api/v1/orders', {
    ...json(body),
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
  });
  assert.ok(order.id, `an order: ${JSON.stringify(order)}`);
  return order;
}
