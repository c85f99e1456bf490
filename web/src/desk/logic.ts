// The desk's pure logic, kept apart from the screens so it is unit-tested: date ranges, chart
// scales, the funnel's conversions, counters and small formatting rules.

export type Preset = 'today' | 'week' | 'month';
export const PRESETS: Preset[] = ['today', 'week', 'month'];

export interface DateRange {
  /** YYYY-MM-DD, inclusive. */
  from: string;
  /** YYYY-MM-DD, inclusive. */
  to: string;
}

/** A local calendar date as YYYY-MM-DD (not toISOString, which is UTC). */
export function isoDate(d: Date): string {
  const m = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${d.getFullYear()}-${m}-${day}`;
}

/** The days a preset covers, ending today (the device's calendar), both ends included. */
export function presetRange(preset: Preset, now: Date = new Date()): DateRange {
  const days = preset === 'today' ? 1 : preset === 'week' ? 7 : 30;
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate() - (days - 1));
  return { from: isoDate(start), to: isoDate(now) };
}

/** Every date from `from` to `to` inclusive (for days the server had no orders on). */
export function datesBetween(range: DateRange): string[] {
  const [fy, fm, fd] = range.from.split('-').map(Number);
  const [ty, tm, td] = range.to.split('-').map(Number);
  if (!fy || !fm || !fd || !ty || !tm || !td) return [];
  const out: string[] = [];
  const end = new Date(ty, tm - 1, td);
  for (let d = new Date(fy, fm - 1, fd); d <= end && out.length < 400; d.setDate(d.getDate() + 1)) {
    out.push(isoDate(d));
  }
  return out;
}

/** The series over every date of the range, zero where the server sent nothing. */
export function fillDays<T extends { date: string }>(range: DateRange, days: T[], zero: (date: string) => T): T[] {
  const byDate = new Map(days.map((d) => [d.date, d]));
  return datesBetween(range).map((date) => byDate.get(date) ?? zero(date));
}

/** The smallest "nice" number (1, 2, 2.5 or 5 × 10ⁿ) at or above `max`; 1 for nothing. */
export function niceMax(max: number): number {
  if (!Number.isFinite(max) || max <= 0) return 1;
  const pow = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const v = m * pow;
    if (v >= max - pow * 1e-9) return v;
  }
  return 10 * pow;
}

/**
 * Axis ticks from 0 up to at least `max`, at most `n` steps of a nice size (1, 2, 2.5 or
 * 5 × 10ⁿ; whole numbers only for counts, so an axis of orders never reads 2.5).
 */
export function ticks(max: number, n = 4, integer = false): number[] {
  const m = Number.isFinite(max) && max > 0 ? max : 0;
  const rough = m / Math.max(1, n);
  let step = 1;
  if (rough > 0) {
    const pow = 10 ** Math.floor(Math.log10(rough));
    const options = [1, 2, 2.5, 5, 10].map((k) => k * pow).filter((v) => !integer || Number.isInteger(v));
    step = options.find((v) => Math.ceil(m / v - 1e-9) <= n) ?? 10 * pow;
    if (integer) step = Math.max(1, step);
  }
  const steps = Math.max(1, Math.ceil(m / step - 1e-9));
  return Array.from({ length: steps + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Vertical bars for `values` in a `width`×`height` box: equal slots, a gap between bars, the
 * top of the scale at niceMax. A non-zero value is never drawn thinner than 1 unit, so a
 * small day is still visible next to a big one.
 */
export function bars(values: number[], width: number, height: number, top = niceMax(Math.max(0, ...values))): Bar[] {
  if (values.length === 0) return [];
  const slot = width / values.length;
  const gap = Math.min(4, slot * 0.2);
  return values.map((v, i) => {
    const h = v <= 0 ? 0 : Math.max(1, (v / top) * height);
    return { x: i * slot + gap / 2, y: height - h, width: Math.max(1, slot - gap), height: h };
  });
}

/**
 * Which of `count` x labels to draw so that at most `max` fit: every k-th from the first, and
 * the last too when it does not crowd the one before it.
 */
export function labelIndexes(count: number, max: number): number[] {
  if (count <= 0) return [];
  if (count <= max || max < 2) return Array.from({ length: count }, (_, i) => i);
  const every = Math.ceil((count - 1) / (max - 1));
  const out: number[] = [];
  for (let i = 0; i < count; i += every) out.push(i);
  const last = count - 1;
  const prev = out[out.length - 1] ?? 0;
  if (prev !== last) {
    if (last - prev >= every / 2 && out.length < max) out.push(last);
    else if (last - prev >= every / 2) out[out.length - 1] = last;
  }
  return out;
}

export const FUNNEL_STEPS = ['app_opens', 'product_views', 'carts', 'checkouts', 'orders', 'paid'] as const;
export type FunnelStep = (typeof FUNNEL_STEPS)[number];

export interface FunnelRow {
  step: FunnelStep;
  count: number;
  /** Share of the first step, 0…1. */
  ofFirst: number;
  /** Share of the step before, 0…1; null for the first. */
  ofPrevious: number | null;
}

export function funnelRows(f: Record<FunnelStep, number>): FunnelRow[] {
  const first = f.app_opens;
  return FUNNEL_STEPS.map((step, i) => {
    const count = f[step];
    const prev = i === 0 ? null : f[FUNNEL_STEPS[i - 1] as FunnelStep];
    return {
      step,
      count,
      ofFirst: first > 0 ? count / first : 0,
      ofPrevious: prev === null ? null : prev > 0 ? count / prev : 0,
    };
  });
}

/** A share (0…1) as a whole percent, with one decimal below 10 %: 0.0345 → "3,5 %". */
export function formatShare(share: number, lang: 'ru' | 'en'): string {
  const pct = Math.max(0, share) * 100;
  const digits = pct > 0 && pct < 10 && pct !== Math.round(pct) ? 1 : 0;
  return new Intl.NumberFormat(lang === 'en' ? 'en-US' : 'ru-RU', {
    style: 'percent',
    minimumFractionDigits: 0,
    maximumFractionDigits: digits,
  }).format(pct / 100);
}

/** Short money for chart axes: 1 250 000 ₽ → "1,3 млн", 12 500 → "12,5 тыс." (major units). */
export function compactMoney(minor: number, lang: 'ru' | 'en'): string {
  return new Intl.NumberFormat(lang === 'en' ? 'en-US' : 'ru-RU', {
    notation: 'compact',
    maximumFractionDigits: 1,
  }).format(minor / 100);
}

/** A YYYY-MM-DD date as "05.12" / "Dec 5" for chart labels (short enough for six in a row). */
export function shortDate(date: string, lang: 'ru' | 'en'): string {
  const [y, m, d] = date.split('-').map(Number);
  if (!y || !m || !d) return date;
  const style: Intl.DateTimeFormatOptions =
    lang === 'en' ? { day: 'numeric', month: 'short' } : { day: '2-digit', month: '2-digit' };
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-US' : 'ru-RU', style).format(
    new Date(y, m - 1, d),
  );
}

/** Telegram's message limit, counted as Telegram counts it (UTF-16 code units). */
export const MESSAGE_LIMIT = 4096;

export function messageLeft(text: string): number {
  return MESSAGE_LIMIT - text.length;
}

/** Whether a message can be sent: something besides spaces, within the limit. */
export function messageSendable(text: string): boolean {
  return text.trim().length > 0 && text.length <= MESSAGE_LIMIT;
}

/** A `tel:` link for a phone as stored (+79991234567); null when there is nothing to dial. */
export function telHref(phone: string | null | undefined): string | null {
  const digits = (phone ?? '').replace(/[^\d+]/g, '');
  return /^\+?\d{5,15}$/.test(digits) ? `tel:${digits}` : null;
}

/** +79991234567 → "+7 999 123-45-67"; other numbers as stored. */
export function formatPhone(phone: string): string {
  const m = /^\+7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(phone);
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : phone;
}

/** The query string of the orders list (empty fields left out). */
export function ordersQuery(f: { status?: string; q?: string; from?: string; to?: string }, cursor?: string | null, limit = 20): string {
  const s = new URLSearchParams();
  if (f.status) s.set('status', f.status);
  const q = f.q?.trim();
  if (q) s.set('q', q);
  if (f.from) s.set('from', f.from);
  if (f.to) s.set('to', f.to);
  if (cursor) s.set('cursor', cursor);
  s.set('limit', String(limit));
  return s.toString();
}

/** The desk's routes: `/desk`, `/desk/orders/<id>`, `/desk/summary`. */
export type DeskRoute = { screen: 'orders' } | { screen: 'order'; id: number } | { screen: 'summary' };

export function deskRoute(path: string): DeskRoute {
  if (path === '/desk/summary') return { screen: 'summary' };
  const m = /^\/desk\/orders\/(\d+)$/.exec(path);
  if (m) {
    const id = Number(m[1]);
    if (Number.isSafeInteger(id) && id > 0) return { screen: 'order', id };
  }
  return { screen: 'orders' };
}
