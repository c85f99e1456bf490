// The typed client of vitrina's JSON API. Types are generated from the server's OpenAPI
// document (`/api/openapi.json`, committed as `openapi.json`; the browser tests check that copy
// against the live server).

import type { components } from './api.gen';

// Generated from the server's OpenAPI document by `npm run gen:api`; `api.gen.test.ts` fails
// when the committed `api.gen.ts` no longer matches `openapi.json`.
type Schemas = components['schemas'];

export type Money = Schemas['Money'];
export type SectionNode = Schemas['SectionNode'];
export type ProductSummary = Schemas['ProductSummary'];
export type FacetValue = Schemas['FacetValue'];
export type Facet = Schemas['Facet'];
export type ProductList = Schemas['ProductList'];
export type Offer = Schemas['OfferView'];
export type Product = Schemas['ProductCard'];
export type Suggestion = Schemas['Suggestion'];
export type CartLine = Schemas['CartLine'];
export type Cart = Schemas['Cart'];
export type DeliveryOption = Schemas['DeliveryOption'];
export type PaymentMethod = Schemas['PaymentMethod'];
export type CheckoutOptions = Schemas['CheckoutOptions'];
export type CheckoutRequest = Schemas['CheckoutRequest'];
export type OrderItem = Schemas['OrderItem'];
export type TimelineEntry = Schemas['TimelineEntry'];
export type Order = Schemas['Order'];
export type InvoiceLink = Schemas['InvoiceLink'];
export type Me = Schemas['CustomerProfile'];
export type FieldError = Schemas['FieldError'];
export type ClientEvent = Schemas['Event'];
export type Favorite = Schemas['Favorite'];
export type Favorites = Schemas['Favorites'];
export type AlertKind = Schemas['AlertKind'];
export type Subscription = Schemas['Subscription'];
export type Subscriptions = Schemas['Subscriptions'];
export type Repeated = Schemas['Repeated'];
export type NotAdded = Schemas['NotAdded'];
/** An RFC 9457 problem as the server sends it. */
export type Problem = Schemas['Problem'];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
  }
  /** Seconds the server asked to wait (`Retry-After` of a 429 or 503), if it did. */
  retryAfter: number | null = null;
  /** Worth retrying: the network, a timeout, or the server briefly unavailable. */
  get transient(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

let authorization = '';
export function setAuthorization(value: string): void {
  authorization = value;
}

const TIMEOUT_MS = 15_000;

declare global {
  interface Window {
    /** GETs index.html started before the app loaded, by path; each is taken at most once. */
    __prefetch?: Record<string, Promise<unknown> | undefined>;
  }
}

const PREFETCH_FRESH_MS = 20_000;

/** The response index.html already fetched for this GET, or null (none, or it failed). */
export async function takePrefetched(path: string): Promise<unknown> {
  const pending = typeof window === 'undefined' ? undefined : window.__prefetch?.[path];
  if (!pending) return null;
  // Only for the first screen: a list fetched at open is not an answer minutes later.
  if (typeof performance !== 'undefined' && performance.now() > PREFETCH_FRESH_MS) {
    window.__prefetch = {};
    return null;
  }
  delete window.__prefetch?.[path];
  return (await pending) ?? null;
}

/** One request with a timeout; network failures and timeouts become `ApiError(0)`. */
export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  if (method === 'GET' && body === undefined) {
    const early = await takePrefetched(path);
    if (early !== null) return early as T;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        ...(authorization ? { authorization } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
  } catch {
    throw new ApiError(0, null);
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json: unknown = text ? safeParse(text) : null;
  if (!response.ok) {
    const error = new ApiError(response.status, (json as Problem | null) ?? null);
    const after = Number(response.headers.get('retry-after'));
    error.retryAfter = Number.isFinite(after) && after > 0 ? after : null;
    throw error;
  }
  return json as T;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export type ListParams = {
  section?: string;
  q?: string;
  sort?: string;
  in_stock?: boolean;
  filters?: Record<string, string[]>;
  cursor?: string | null;
  limit?: number;
};

export function productsQuery(p: ListParams): string {
  const s = new URLSearchParams();
  if (p.section) s.set('section', p.section);
  if (p.q) s.set('q', p.q);
  if (p.sort) s.set('sort', p.sort);
  if (p.in_stock) s.set('in_stock', 'true');
  for (const [prop, values] of Object.entries(p.filters ?? {})) {
    for (const v of values) s.append(`f[${prop}]`, v);
  }
  if (p.cursor) s.set('cursor', p.cursor);
  s.set('limit', String(p.limit ?? 20));
  return `/api/v1/products?${s.toString()}`;
}

export const api = {
  sections: () => request<SectionNode[]>('GET', '/api/v1/sections'),
  products: (p: ListParams) => request<ProductList>('GET', productsQuery(p)),
  product: (id: string) => request<Product>('GET', `/api/v1/products/${encodeURIComponent(id)}`),
  suggest: (q: string) =>
    request<Suggestion[]>('GET', `/api/v1/search/suggest?q=${encodeURIComponent(q)}`),
  cart: () => request<Cart>('GET', '/api/v1/cart'),
  addToCart: (offer_id: string, quantity: number) =>
    request<Cart>('POST', '/api/v1/cart/items', { offer_id, quantity }),
  setQuantity: (offer_id: string, quantity: number) =>
    request<Cart>('PATCH', `/api/v1/cart/items/${encodeURIComponent(offer_id)}`, { quantity }),
  removeLine: (offer_id: string) =>
    request<Cart>('DELETE', `/api/v1/cart/items/${encodeURIComponent(offer_id)}`),
  checkoutOptions: () => request<CheckoutOptions>('GET', '/api/v1/checkout/options'),
  placeOrder: (body: CheckoutRequest, idempotencyKey: string) =>
    request<Order>('POST', '/api/v1/orders', body, { 'idempotency-key': idempotencyKey }),
  orders: () => request<Order[]>('GET', '/api/v1/orders'),
  invoice: (id: number) => request<InvoiceLink>('POST', `/api/v1/orders/${id}/invoice`),
  order: (id: number) => request<Order>('GET', `/api/v1/orders/${id}`),
  repeat: (id: number) => request<Repeated>('POST', `/api/v1/orders/${id}/repeat`),
  favorites: () => request<Favorites>('GET', '/api/v1/favorites'),
  addFavorite: (productId: string) =>
    request<Favorites>('PUT', `/api/v1/favorites/${encodeURIComponent(productId)}`),
  removeFavorite: (productId: string) =>
    request<Favorites>('DELETE', `/api/v1/favorites/${encodeURIComponent(productId)}`),
  subscriptions: () => request<Subscriptions>('GET', '/api/v1/subscriptions'),
  subscribe: (offer_id: string, kind: AlertKind) =>
    request<Subscription>('POST', '/api/v1/subscriptions', { offer_id, kind }),
  unsubscribe: (id: number) => request<void>('DELETE', `/api/v1/subscriptions/${id}`),
  me: () => request<Me>('GET', '/api/v1/me'),
  devInitData: (lang: string, id: number) =>
    request<{ init_data: string; authorization: string }>(
      'GET',
      `/dev/init-data?id=${id}&first_name=${encodeURIComponent('Гость')}&language_code=${lang}`,
    ),
};
