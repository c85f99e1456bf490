import { describe, expect, it } from 'vitest';
import { parseStartParam, pathFor } from '../deeplink';
import {
  bars,
  compactMoney,
  datesBetween,
  deskRoute,
  fillDays,
  formatPhone,
  formatShare,
  funnelRows,
  isoDate,
  labelIndexes,
  MESSAGE_LIMIT,
  messageLeft,
  messageSendable,
  niceMax,
  ordersQuery,
  presetRange,
  shortDate,
  telHref,
  ticks,
} from './logic';

const nbsp = (s: string) => s.replace(/[\s\u202f]/g, ' ');

describe('date ranges', () => {
  const now = new Date(2026, 11, 1, 23, 30); // 1 December 2026, late evening local time
  it('today is one local day, not the UTC one', () => {
    expect(presetRange('today', now)).toEqual({ from: '2026-12-01', to: '2026-12-01' });
  });
  it('7 and 30 days end today and include it', () => {
    expect(presetRange('week', now)).toEqual({ from: '2026-11-25', to: '2026-12-01' });
    expect(presetRange('month', now)).toEqual({ from: '2026-11-02', to: '2026-12-01' });
  });
  it('crosses a year end', () => {
    expect(presetRange('week', new Date(2027, 0, 3))).toEqual({ from: '2026-12-28', to: '2027-01-03' });
  });
  it('lists every date of a range, across months and a leap day', () => {
    expect(datesBetween({ from: '2028-02-27', to: '2028-03-01' })).toEqual([
      '2028-02-27',
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
    expect(datesBetween(presetRange('month', now))).toHaveLength(30);
    expect(datesBetween({ from: '2026-12-02', to: '2026-12-01' })).toEqual([]);
    expect(datesBetween({ from: 'junk', to: '2026-12-01' })).toEqual([]);
  });
  it('fills days the server left out with zeros, in order', () => {
    const filled = fillDays({ from: '2026-11-29', to: '2026-12-01' }, [{ date: '2026-11-30', orders: 3 }], (date) => ({
      date,
      orders: 0,
    }));
    expect(filled).toEqual([
      { date: '2026-11-29', orders: 0 },
      { date: '2026-11-30', orders: 3 },
      { date: '2026-12-01', orders: 0 },
    ]);
  });
  it('formats a local date as YYYY-MM-DD', () => {
    expect(isoDate(new Date(2026, 0, 5))).toBe('2026-01-05');
  });
});

describe('chart scaling', () => {
  it('rounds the top of the scale up to a nice number', () => {
    expect([0, 1, 3, 7, 12, 26, 99, 100, 101, 480, 1234567].map(niceMax)).toEqual([
      1, 1, 5, 10, 20, 50, 100, 100, 200, 500, 2000000,
    ]);
    expect(niceMax(Number.NaN)).toBe(1);
    expect(niceMax(0.3)).toBeCloseTo(0.5);
  });
  it('gives evenly spaced ticks from zero, integers for counts', () => {
    expect(ticks(12)).toEqual([0, 5, 10, 15]);
    expect(ticks(10)).toEqual([0, 2.5, 5, 7.5, 10]);
    expect(ticks(3, 4, true)).toEqual([0, 1, 2, 3]);
    expect(ticks(0, 4, true)).toEqual([0, 1]);
    expect(ticks(7, 4, true)).toEqual([0, 2, 4, 6, 8]);
    expect(ticks(10, 4, true)).toEqual([0, 5, 10]);
    expect(ticks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(ticks(1_234_567)).toEqual([0, 500000, 1000000, 1500000]);
    for (const max of [1, 9, 17, 123, 999, 45_000_00]) {
      const t = ticks(max, 4, true);
      expect(t.at(-1)).toBeGreaterThanOrEqual(max);
      expect(t.length - 1).toBeLessThanOrEqual(4);
      expect(t.every(Number.isInteger)).toBe(true);
    }
  });
  it('draws bars in proportion, bottom-aligned, in equal slots', () => {
    const r = bars([0, 5, 10], 300, 100, 10);
    expect(r).toHaveLength(3);
    expect(r[0]?.height).toBe(0);
    expect(r[1]?.height).toBe(50);
    expect(r[2]?.height).toBe(100);
    expect(r[2]?.y).toBe(0);
    expect(r[1]?.y).toBe(50);
    expect(r[1]!.x - r[0]!.x).toBeCloseTo(100);
    expect(r.every((b) => b.width > 0 && b.width <= 100)).toBe(true);
  });
  it('keeps a tiny non-zero bar visible', () => {
    const [small] = bars([1, 100000], 300, 100);
    expect(small!.height).toBeGreaterThanOrEqual(1);
  });
  it('scales to niceMax of the data by default', () => {
    const r = bars([3, 7], 100, 100); // top 10
    expect(r[1]?.height).toBeCloseTo(70);
  });
  it('labels at most max dates, the first always, the last when it fits', () => {
    expect(labelIndexes(5, 6)).toEqual([0, 1, 2, 3, 4]);
    expect(labelIndexes(7, 6)).toEqual([0, 2, 4, 6]);
    const month = labelIndexes(30, 6);
    expect(month.length).toBeLessThanOrEqual(6);
    expect(month[0]).toBe(0);
    expect(month.at(-1)).toBe(29);
    expect(labelIndexes(0, 6)).toEqual([]);
  });
});

describe('funnel', () => {
  it('computes shares of the first and the previous step', () => {
    const rows = funnelRows({ app_opens: 200, product_views: 100, carts: 20, checkouts: 10, orders: 5, paid: 0 });
    expect(rows.map((r) => r.step)).toEqual(['app_opens', 'product_views', 'carts', 'checkouts', 'orders', 'paid']);
    expect(rows[0]).toEqual({ step: 'app_opens', count: 200, ofFirst: 1, ofPrevious: null });
    expect(rows[2]?.ofFirst).toBeCloseTo(0.1);
    expect(rows[2]?.ofPrevious).toBeCloseTo(0.2);
    expect(rows[5]?.ofPrevious).toBe(0);
  });
  it('survives an empty period', () => {
    const rows = funnelRows({ app_opens: 0, product_views: 0, carts: 0, checkouts: 0, orders: 0, paid: 0 });
    expect(rows.every((r) => r.ofFirst === 0 && (r.ofPrevious === null || r.ofPrevious === 0))).toBe(true);
  });
});

describe('formatting', () => {
  it('shares as percents, a decimal only below 10 %', () => {
    expect(nbsp(formatShare(0.5, 'ru'))).toBe('50 %');
    expect(formatShare(0.5, 'en')).toBe('50%');
    expect(nbsp(formatShare(0.0345, 'ru'))).toBe('3,5 %');
    expect(formatShare(0.1234, 'en')).toBe('12%');
    expect(formatShare(0, 'en')).toBe('0%');
    expect(formatShare(-1, 'en')).toBe('0%');
  });
  it('compact money for axes, from minor units', () => {
    expect(compactMoney(125_000_000, 'en')).toBe('1.3M');
    expect(nbsp(compactMoney(1_250_000, 'ru'))).toBe('12,5 тыс.');
    expect(compactMoney(0, 'en')).toBe('0');
  });
  it('short dates for chart labels', () => {
    expect(shortDate('2026-12-05', 'en')).toBe('Dec 5');
    expect(shortDate('2026-12-05', 'ru')).toBe('05.12');
    expect(shortDate('junk', 'en')).toBe('junk');
  });
  it('phones: a dialable tel: link and a readable Russian number', () => {
    expect(telHref('+79991234567')).toBe('tel:+79991234567');
    expect(telHref('+7 (999) 123-45-67')).toBe('tel:+79991234567');
    expect(telHref('')).toBeNull();
    expect(telHref(null)).toBeNull();
    expect(telHref('call me')).toBeNull();
    expect(formatPhone('+79991234567')).toBe('+7 999 123-45-67');
    expect(formatPhone('+442079460958')).toBe('+442079460958');
  });
});

describe('message to the customer', () => {
  it('counts down to Telegram’s 4096 and refuses beyond it or blank', () => {
    expect(MESSAGE_LIMIT).toBe(4096);
    expect(messageLeft('')).toBe(4096);
    expect(messageLeft('Привет')).toBe(4090);
    expect(messageSendable('   ')).toBe(false);
    expect(messageSendable('a'.repeat(4096))).toBe(true);
    expect(messageSendable('a'.repeat(4097))).toBe(false);
    expect(messageLeft('a'.repeat(4100))).toBe(-4);
  });
  it('counts as Telegram does, in UTF-16 units (an emoji is two)', () => {
    expect(messageLeft('👍')).toBe(4094);
  });
});

describe('desk routes and links', () => {
  it('builds the list query without empty fields', () => {
    expect(ordersQuery({})).toBe('limit=20');
    expect(ordersQuery({ status: 'new', q: '  +7999 ' }, 'abc')).toBe('status=new&q=%2B7999&cursor=abc&limit=20');
    expect(ordersQuery({ q: '   ' })).toBe('limit=20');
  });
  it('maps paths to screens', () => {
    expect(deskRoute('/desk')).toEqual({ screen: 'orders' });
    expect(deskRoute('/desk/summary')).toEqual({ screen: 'summary' });
    expect(deskRoute('/desk/orders/42')).toEqual({ screen: 'order', id: 42 });
    expect(deskRoute('/desk/orders/0')).toEqual({ screen: 'orders' });
    expect(deskRoute('/desk/orders/x')).toEqual({ screen: 'orders' });
  });
  it('opens the desk and one order from startapp', () => {
    expect(pathFor(parseStartParam('desk'))).toBe('/desk');
    expect(pathFor(parseStartParam('desk_order_17'))).toBe('/desk/orders/17');
    expect(pathFor(parseStartParam('desk_order_0'))).toBe('/desk');
    expect(parseStartParam('desk_order_')).toBeNull();
    expect(parseStartParam('deskx')).toBeNull();
    expect(pathFor(parseStartParam('order_17'))).toBe('/orders/17');
  });
});
