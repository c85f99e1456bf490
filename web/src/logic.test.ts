import { describe, expect, it } from 'vitest';
import { deliveryPrice, normalizePhone, orderTotal } from './checkout-math';
import { parseStartParam, pathFor, productLink, startParam } from './deeplink';
import { formatPrice, plural, setLang } from './i18n';

// i18n touches document.lang; vitest runs in node here.
(globalThis as { document?: unknown }).document = { documentElement: { lang: 'ru' } };

describe('prices', () => {
  it('formats rubles in Russian without kopecks', () => {
    setLang('ru');
    expect(formatPrice(1299000).replace(/\s/g, ' ')).toBe('12 990 ₽');
    expect(formatPrice(12345).replace(/\s/g, ' ')).toBe('123,45 ₽');
  });
  it('formats in English', () => {
    setLang('en');
    expect(formatPrice(1299000).replace(/\s/g, ' ')).toBe('₽12,990');
    setLang('ru');
  });
  it('stars are whole numbers', () => {
    expect(formatPrice(50, 'XTR')).toBe('50 ⭐');
  });
  it('Russian plurals', () => {
    expect([1, 2, 5, 11, 21, 22, 112].map((n) => plural(n, 'товар', 'товара', 'товаров'))).toEqual([
      'товар',
      'товара',
      'товаров',
      'товаров',
      'товар',
      'товара',
      'товаров',
    ]);
  });
});

describe('checkout math', () => {
  const courier = {
    id: 'courier',
    name: 'Курьером',
    price: 39000,
    free_from: 500000,
    needs_address: true,
    pickup_points: [],
  };
  it('charges delivery below the threshold and not from it', () => {
    expect(deliveryPrice(courier, 499999)).toBe(39000);
    expect(deliveryPrice(courier, 500000)).toBe(0);
    expect(orderTotal(courier, 100000)).toBe(139000);
    expect(orderTotal(undefined, 100000)).toBe(100000);
  });
  it('normalizes phones as the server does', () => {
    expect(normalizePhone('8 (999) 123-45-67')).toBe('+79991234567');
    expect(normalizePhone('+7 999 123 45 67')).toBe('+79991234567');
    expect(normalizePhone('+44 20 7946 0958')).toBe('+442079460958');
    expect(normalizePhone('12345')).toBeNull();
  });
});

describe('deep links', () => {
  it('opens products, sections, orders and the cart', () => {
    expect(parseStartParam('product_demo-0001')).toEqual({ kind: 'product', id: 'demo-0001' });
    expect(parseStartParam('section_jackets')).toEqual({ kind: 'section', id: 'jackets' });
    expect(parseStartParam('order_42')).toEqual({ kind: 'order', id: 42 });
    expect(parseStartParam('cart')).toEqual({ kind: 'cart' });
    // `vitrina links search куртка` (src/selling/links.rs): base64url of the UTF-8 words.
    expect(parseStartParam('search_b640LrRg9GA0YLQutCw')).toEqual({ kind: 'search', q: 'куртка' });
    expect(pathFor(parseStartParam('search_b640LrRg9GA0YLQutCw'))).toBe('/search?q=%D0%BA%D1%83%D1%80%D1%82%D0%BA%D0%B0');
    expect(pathFor(parseStartParam('search_boots'))).toBe('/search?q=boots');
    expect(pathFor(parseStartParam('product_demo-0001'))).toBe('/product/demo-0001');
  });
  it('decodes base64url ids with characters Telegram does not allow', () => {
    const id = 'abc#def';
    const b64 = btoa(id).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(parseStartParam(`product_b64${b64}`)).toEqual({ kind: 'product', id });
  });
  it('repeats an order from the delivered-order message', () => {
    expect(parseStartParam('repeat_42')).toEqual({ kind: 'repeat', id: 42 });
    expect(pathFor(parseStartParam('repeat_42'))).toBe('/orders/42?repeat');
    expect(parseStartParam('repeat_1e3')).toBeNull();
    expect(parseStartParam('repeat_0')).toBeNull();
  });
  it('writes start parameters the way the server does and reads them back', () => {
    expect(startParam('product', 'demo-0001')).toBe('product_demo-0001');
    // Same as `vitrina links search куртка`.
    expect(startParam('search', 'куртка')).toBe('search_b640LrRg9GA0YLQutCw');
    expect(parseStartParam(startParam('product', 'abc#def'))).toEqual({ kind: 'product', id: 'abc#def' });
    expect(parseStartParam(startParam('product', 'b64x'))).toEqual({ kind: 'product', id: 'b64x' });
    expect(productLink('demo-0001', '@shop_bot')).toBe('https://t.me/shop_bot?startapp=product_demo-0001');
  });
  it('rejects garbage', () => {
    expect(parseStartParam('')).toBeNull();
    expect(parseStartParam('order_abc')).toBeNull();
    expect(parseStartParam('product_a b')).toBeNull();
    expect(parseStartParam('x'.repeat(600))).toBeNull();
    expect(parseStartParam('hello')).toBeNull();
  });
});
