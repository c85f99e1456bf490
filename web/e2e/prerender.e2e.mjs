// The first screen before the app's script: index.html carries the home screen's answers and
// draws the grid from them, so the catalog shows even while the script is still downloading
// (here: never arrives); once the app runs, its own grid replaces the drawn one, one grid only.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASE, browser, phone } from './harness.mjs';

let b;
before(async () => {
  b = await browser();
});
after(async () => {
  await b?.close();
});

test('the home catalog paints from the HTML alone, without the app script', async () => {
  const { page, context } = await phone(b);
  const api = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/')) api.push(r.url());
  });
  await page.route('**/assets/*.js', (route) => route.abort());
  await page.goto(`${BASE}/`);
  const cards = page.locator('[data-testid=prerender-grid] .card');
  await cards.first().waitFor();
  assert.equal(await cards.count(), 20);
  assert.ok((await cards.first().locator('.card-name').innerText()).length > 0);
  assert.match(await cards.first().locator('.price').innerText(), /₽/);
  const href = await cards.first().getAttribute('href');
  assert.match(href, /^\/product\//);
  // The answers came inside the page: no API request was needed to paint.
  assert.deepEqual(api, []);
  // The stylesheet is inlined: the grid is laid out in columns, not a bare list.
  const columns = await page.evaluate(
    () => getComputedStyle(document.querySelector('[data-testid=prerender-grid]')).gridTemplateColumns.split(' ').length,
  );
  assert.ok(columns >= 2, `grid columns: ${columns}`);
  await context.close();
});

test('the app takes over the drawn grid: one grid, the same first product, no second request for it', async () => {
  const { page, context } = await phone(b);
  const lists = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/v1/products') lists.push(u.search);
  });
  await page.goto(`${BASE}/?dev_user=${7700 + Math.floor(Math.random() * 200)}`);
  const drawnFirst = await page.evaluate(() => window.__initial['/api/v1/products?sort=popular&limit=20'].items[0].name);
  await page.getByTestId('grid').locator('.card').first().waitFor();
  assert.equal(await page.locator('#prerender').count(), 0);
  assert.equal(await page.locator('.grid .card-name').first().innerText(), drawnFirst);
  assert.equal(await page.locator('[data-testid=prerender-grid]').count(), 0);
  assert.ok(await page.locator('#root').isVisible());
  // The first page came with the HTML; the app asked only for later pages, if any.
  assert.ok(!lists.includes('?sort=popular&limit=20'), `lists requested: ${lists}`);
  await context.close();
});

test('a deep link never shows the home grid', async () => {
  const { page, context } = await phone(b);
  await page.goto(`${BASE}/cart?dev_user=${7900 + Math.floor(Math.random() * 90)}`);
  await page.locator('#root .app').waitFor();
  assert.equal(await page.locator('[data-testid=prerender-grid]').count(), 0);
  await context.close();
});
