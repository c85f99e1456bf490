// The staff desk inside the emulated Telegram client, against the real server: a manager works
// an order (list → status filter → search → open → change the status → message the customer),
// the summary draws its charts and funnel, a viewer sees the same read-only, and a customer
// who opens startapp=desk is told the desk is for staff. The staff accounts are the demo's
// `telegram.staff_user_ids` / `telegram.staff_roles` as scripts/e2e.sh sets them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { BASE, browser, openInTelegram, phone, SHOTS, telegramCalls, telegramEvent } from './harness.mjs';

const MANAGER = Number(process.env.DESK_MANAGER_ID ?? 4_200_001);
const VIEWER = Number(process.env.DESK_VIEWER_ID ?? 4_200_002);
const CUSTOMER = 4_300_000 + Math.floor(Math.random() * 90_000);
const TAG = `Деск${Math.floor(Math.random() * 1e6)}`;

async function authorization(user) {
  const res = await fetch(`${BASE}/dev/init-data?id=${user}&first_name=Tg&language_code=ru`);
  return (await res.json()).authorization;
}

async function call(user, method, path, body, headers = {}) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: {
      authorization: await authorization(user),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A customer's order through the public API: one item, courier delivery, pay on receipt. */
async function placeOrder(user, name) {
  const product = await call(user, 'GET', '/api/v1/products/demo-0001');
  const offer = product.body.offers.find((o) => o.in_stock);
  assert.ok(offer, 'demo-0001 has an offer in stock');
  const added = await call(user, 'POST', '/api/v1/cart/items', { offer_id: offer.id, quantity: 1 });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  const placed = await call(
    user,
    'POST',
    '/api/v1/orders',
    {
      contact: { name, phone: '+79995550011' },
      delivery: { method: 'courier', address: 'Москва, Тверская, 7' },
      payment_method: 'on_receipt',
    },
    { 'idempotency-key': randomUUID() },
  );
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  return placed.body;
}

/** The last MainButton setup the app sent to the client. */
async function mainButton(page) {
  return (await telegramCalls(page, 'web_app_setup_main_button')).at(-1) ?? null;
}

let b;
let order;
/** Status code → its name as the server gives it to a Russian-speaking staff member. */
let names;
before(async () => {
  b = await browser();
  order = await placeOrder(CUSTOMER, `${TAG} Анна`);
  const me = await call(MANAGER, 'GET', '/api/v1/staff/me');
  assert.equal(me.status, 200, 'the manager is staff in this demo (scripts/e2e.sh)');
  assert.equal(me.body.role, 'manager');
  names = Object.fromEntries(me.body.statuses.map((s) => [s.code, s.name]));
});
after(async () => {
  await b?.close();
});

test('a manager finds an order, changes its status and writes to the customer', async () => {
  const { page } = await phone(b);
  await openInTelegram(page, { user: MANAGER, startParam: 'desk' });
  await page.getByTestId('desk-order-row').first().waitFor();
  assert.equal(new URL(page.url()).pathname, '/desk');
  // Inside Telegram: no in-page stand-ins, and no Back on the list.
  assert.equal(await page.getByTestId('main-button').count(), 0);
  assert.equal(await page.getByTestId('read-only').count(), 0);

  // Filter by status: the chip is pressed, the URL keeps it, every row is a new order.
  await page.getByTestId('status-chip-new').click();
  await page.waitForURL((u) => u.searchParams.get('status') === 'new');
  assert.equal(await page.getByTestId('status-chip-new').getAttribute('aria-pressed'), 'true');
  await page.getByTestId('desk-order-row').first().waitFor();
  for (const s of await page.locator('[data-testid=desk-order-row] .status').allTextContents()) {
    assert.equal(s, names.new);
  }

  // Search (debounced) by the customer's name: exactly our order.
  await page.getByTestId('desk-search').fill(TAG);
  await page.waitForURL((u) => u.searchParams.get('q') === TAG);
  await page.waitForFunction(
    (n) => [...document.querySelectorAll('[data-testid=desk-order-row]')].map((r) => r.textContent).join('|').includes(n),
    order.number,
  );
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=desk-order-row]').length === 1);
  const row = page.getByTestId('desk-order-row').first();
  assert.match(await row.textContent(), new RegExp(`${TAG} Анна`));
  assert.match(await row.textContent(), /\+7 999 555-00-11/);
  await page.screenshot({ path: `${SHOTS}desk-orders-light.png` });

  // The order: contact with a tel: link, delivery, items; Back is Telegram's.
  await row.click();
  await page.getByTestId('desk-order').waitFor();
  assert.equal(new URL(page.url()).pathname, `/desk/orders/${order.id}`);
  assert.equal(await page.getByTestId('desk-call').getAttribute('href'), 'tel:+79995550011');
  assert.match(await page.getByTestId('desk-customer').textContent(), new RegExp(TAG));
  assert.equal(await page.getByTestId('desk-order-status').textContent(), names.new);
  assert.match(await page.getByTestId('desk-telegram-name').textContent(), /Telegram: Tg/);
  assert.match(await page.getByTestId('desk-delivery').textContent(), /Курьер/);
  await page.waitForFunction(() =>
    window.__tg.filter((e) => e.type === 'web_app_setup_back_button').at(-1)?.data?.is_visible === true,
  );

  // Only the statuses the transitions allow from «new».
  const next = await page.getByTestId('next-statuses').locator('button').allTextContents();
  assert.deepEqual(next, ['confirmed', 'paid', 'cancelled'].map((c) => names[c]));
  // Choosing one asks first: nothing changes until the MainButton confirms.
  await page.getByTestId('next-confirmed').click();
  await page.getByTestId('confirm-status').waitFor();
  await page.waitForFunction(
    (want) => window.__tg.filter((e) => e.type === 'web_app_setup_main_button').at(-1)?.data?.text === want,
    `Сменить на «${names.confirmed}»`,
  );
  assert.equal((await call(CUSTOMER, 'GET', `/api/v1/orders/${order.id}`)).body.status, 'new', 'not changed before confirming');
  await page.getByTestId('status-note').fill('Позвонили, подтвердил');
  await telegramEvent(page, 'main_button_pressed');
  await page.getByTestId('desk-done').waitFor();
  assert.equal(await page.getByTestId('desk-done').textContent(), `Статус изменён: ${names.confirmed}`);
  assert.equal(await page.getByTestId('desk-order-status').textContent(), names.confirmed);
  const mine = (await call(CUSTOMER, 'GET', `/api/v1/orders/${order.id}`)).body;
  assert.equal(mine.status, 'confirmed', 'the customer sees the new status');
  // From «confirmed» the next statuses are the ones configured for it.
  await page.waitForFunction(
    (want) => [...document.querySelectorAll('[data-testid=next-statuses] button')].map((b) => b.textContent).join(',') === want,
    ['paid', 'shipped', 'cancelled'].map((c) => names[c]).join(','),
  );
  const haptics = await telegramCalls(page, 'web_app_trigger_haptic_feedback');
  assert.ok(haptics.some((h) => h.type === 'notification' && h.notification_type === 'success'), 'success haptic');
  await page.screenshot({ path: `${SHOTS}desk-order-light.png` });

  // A message: the counter counts down from 4096, over the limit the button is off.
  const box = page.getByTestId('desk-message');
  await box.fill('x'.repeat(4097));
  assert.match(await page.getByTestId('desk-counter').textContent(), /Лишних знаков: 1/);
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  await page.waitForFunction(() => window.__tg.filter((e) => e.type === 'web_app_setup_main_button').at(-1)?.data?.is_active === false);
  const text = `Здравствуйте! Заказ ${order.number} собран, курьер приедет завтра.`;
  await box.fill(text);
  assert.match(await page.getByTestId('desk-counter').textContent(), new RegExp(`Осталось ${4096 - text.length}`));
  await page.waitForFunction(() => {
    const last = window.__tg.filter((e) => e.type === 'web_app_setup_main_button').at(-1)?.data;
    return last?.text === 'Отправить сообщение' && last?.is_active === true;
  });
  // `vitrina demo` runs on a placeholder bot token, so the server has no bot to send with: it
  // answers 503 `bot_not_configured`, which the desk says in words, keeping the text. (With a
  // bot, the message goes through the outbox and lands in the timeline: the staff API's
  // integration tests check that against the fake Bot API.)
  const answer = page.waitForResponse((r) => r.url().endsWith(`/api/v1/staff/orders/${order.id}/message`));
  await telegramEvent(page, 'main_button_pressed');
  const res = await answer;
  assert.equal(res.status(), 503);
  assert.equal((await res.json()).code, 'bot_not_configured');
  await page.getByRole('alert').filter({ hasText: 'не подключён бот' }).waitFor();
  assert.equal(await box.inputValue(), text, 'the text is kept for another try');
  assert.ok(
    (await telegramCalls(page, 'web_app_trigger_haptic_feedback')).some((h) => h.notification_type === 'error'),
    'error haptic',
  );
  // The status note is in the timeline, with who wrote it.
  await page.getByTestId('desk-timeline').getByText('Позвонили, подтвердил').waitFor();

  // Back (Telegram's) returns to the filtered list; with every status shown, the order reads
  // as confirmed.
  await telegramEvent(page, 'back_button_pressed');
  await page.waitForURL((u) => u.pathname === '/desk' && u.searchParams.get('status') === 'new');
  await page.getByTestId('status-chip-all').click();
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid=desk-order-row] .status')?.textContent === want,
    names.confirmed,
  );
});

test('the summary draws orders, revenue, top products and the funnel', async () => {
  // A customer opening a product card is counted in the funnel (fire-and-forget event).
  const visitor = CUSTOMER + 1;
  const { page: shop } = await phone(b);
  const sent = shop.waitForResponse((r) => r.url().endsWith('/api/v1/events') && r.request().method() === 'POST');
  await shop.goto(`${BASE}/product/demo-0002?dev_user=${visitor}`);
  await shop.locator('.product h1').waitFor();
  assert.equal((await sent).status(), 204);

  const { page } = await phone(b, { colorScheme: 'dark' });
  await openInTelegram(page, { user: MANAGER, theme: 'dark', startParam: 'desk' });
  await page.getByTestId('tab-summary').click();
  await page.getByTestId('desk-summary').waitFor();
  assert.equal(await page.getByTestId('range-week').getAttribute('aria-pressed'), 'true');
  // Seven days, one bar slot each, in both charts.
  assert.equal(await page.getByTestId('chart-orders').locator('rect').count(), 7);
  assert.equal(await page.getByTestId('chart-revenue').locator('rect').count(), 7);
  const orders = Number(await page.getByTestId('stat-orders').locator('.desk-stat-value').textContent());
  assert.ok(orders >= 1, `orders this week: ${orders}`);
  await page.getByTestId('top-products').locator('li').first().waitFor();
  // The figures are the server's: the same as the API gives for the same range.
  const range = new URL(page.url());
  assert.equal(range.pathname, '/desk/summary');
  const { body: api } = await call(MANAGER, 'GET', `/api/v1/staff/summary?from=${weekAgo()}&to=${today()}`);
  assert.equal(orders, api.orders);
  const views = Number(await page.getByTestId('funnel-product_views').getByTestId('funnel-count').textContent());
  assert.equal(views, api.funnel.product_views);
  assert.ok(views >= 1, 'the product view was counted');
  assert.equal(await page.getByTestId('funnel').locator('li').count(), 6);
  await page.screenshot({ path: `${SHOTS}desk-summary-dark.png` });

  // Presets: today has one day, so no per-day charts; 30 days has 30 slots.
  await page.getByTestId('range-month').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=chart-orders] rect').length === 30);
  await page.getByTestId('range-today').click();
  await page.getByTestId('stat-orders').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=chart-orders]').length === 0);
});

test('a viewer sees the order read-only', async () => {
  const { page } = await phone(b);
  await openInTelegram(page, { user: VIEWER, startParam: `desk_order_${order.id}` });
  await page.getByTestId('desk-order').waitFor();
  await page.getByTestId('read-only').waitFor();
  assert.equal(await page.getByTestId('next-statuses').count(), 0);
  assert.equal(await page.getByTestId('desk-message').count(), 0);
  assert.match(await page.getByTestId('desk-customer').textContent(), new RegExp(TAG));
  const main = await mainButton(page);
  assert.ok(!main || main.is_visible === false, 'no MainButton for a viewer');
  // The server refuses a viewer's action all the same.
  const tried = await call(VIEWER, 'POST', `/api/v1/staff/orders/${order.id}/status`, { status: 'cancelled' });
  assert.equal(tried.status, 403);
});

test('a customer opening the shop downloads none of the desk', async () => {
  // Paired with the next test, which sees the desk arrive as its own chunk.
  const { page } = await phone(b);
  const scripts = [];
  page.on('request', (r) => {
    if (r.resourceType() === 'script' || r.resourceType() === 'stylesheet') scripts.push(new URL(r.url()).pathname);
  });
  await page.goto(`${BASE}/?dev_user=${CUSTOMER}`);
  await page.getByTestId('grid').locator('.card').first().waitFor();
  await page.getByTestId('grid').locator('.card').first().click();
  await page.locator('.product h1').waitFor();
  assert.ok(scripts.length > 0);
  assert.deepEqual(scripts.filter((p) => /Desk-/.test(p)), [], 'no desk chunk for a customer');
});

test('a customer who opens the desk is told it is for staff', async () => {
  const { page } = await phone(b);
  const scripts = [];
  page.on('request', (r) => r.resourceType() === 'script' && scripts.push(new URL(r.url()).pathname));
  await openInTelegram(page, { user: CUSTOMER, startParam: 'desk' });
  await page.getByTestId('not-staff').waitFor();
  // The desk came as its own chunk (the test above: the shop never asks for it).
  assert.equal(scripts.filter((p) => /\/assets\/Desk-[\w-]+\.js$/.test(p)).length, 1);
  assert.match(await page.getByTestId('not-staff').textContent(), /только для сотрудников/);
  assert.equal(await page.getByTestId('app-error').count(), 0);
  await page.getByTestId('to-shop').click();
  await page.getByTestId('grid').locator('.card').first().waitFor();
});

function today() {
  return iso(new Date());
}

function weekAgo() {
  const d = new Date();
  d.setDate(d.getDate() - 6);
  return iso(d);
}

function iso(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
