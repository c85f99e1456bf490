// `startapp` parameters from the bot's links (t.me/<bot>/<app>?startapp=product_<id>) and the
// in-app path they open.

export type DeepLink =
  | { kind: 'product'; id: string }
  | { kind: 'section'; id: string }
  | { kind: 'search'; q: string }
  | { kind: 'order'; id: number }
  /** The delivered-order message's «Повторить»: the order's items back into the cart. */
  | { kind: 'repeat'; id: number }
  | { kind: 'cart' }
  | { kind: 'desk'; order: number | null }
  | null;

// Telegram allows [A-Za-z0-9_-] in start_param, up to 512 chars; ids with other characters
// (1C ids like `abc#def`) are sent base64url-encoded after a `b64` marker.
export function parseStartParam(param: string | null | undefined): DeepLink {
  if (!param || param.length > 512 || !/^[\w-]+$/.test(param)) return null;
  if (param === 'cart') return { kind: 'cart' };
  // The staff desk (`desk`) and one order on it (`desk_order_<id>`).
  const desk = /^desk(?:_order_(\d{1,15}))?$/.exec(param);
  if (desk) return { kind: 'desk', order: desk[1] ? Number(desk[1]) || null : null };
  const m = /^(product|section|order|repeat|search)_(b64)?(.+)$/.exec(param);
  if (!m) return null;
  let id = m[3] ?? '';
  if (m[2]) {
    try {
      id = decodeURIComponent(escape(atob(id.replace(/-/g, '+').replace(/_/g, '/'))));
    } catch {
      return null;
    }
  }
  if (m[1] === 'order' || m[1] === 'repeat') {
    const n = Number(id);
    if (!/^\d+$/.test(id) || !Number.isSafeInteger(n) || n <= 0) return null;
    return m[1] === 'order' ? { kind: 'order', id: n } : { kind: 'repeat', id: n };
  }
  if (m[1] === 'search') return { kind: 'search', q: id };
  return m[1] === 'product' ? { kind: 'product', id } : { kind: 'section', id };
}

export function pathFor(link: DeepLink): string | null {
  if (!link) return null;
  switch (link.kind) {
    case 'product':
      return `/product/${encodeURIComponent(link.id)}`;
    case 'section':
      return `/section/${encodeURIComponent(link.id)}`;
    case 'search':
      return `/search?q=${encodeURIComponent(link.q)}`;
    case 'order':
      return `/orders/${link.id}`;
    case 'repeat':
      return `/orders/${link.id}?repeat`;
    case 'cart':
      return '/cart';
    case 'desk':
      return link.order ? `/desk/orders/${link.order}` : '/desk';
  }
}

/** A `startapp` parameter for a screen: the value as is when Telegram allows it, else
 * base64url after `b64` (as `parseStartParam` reads, and the server's links.rs writes). */
export function startParam(kind: 'product' | 'section' | 'search', value: string): string {
  if (/^[\w-]+$/.test(value) && !value.startsWith('b64')) return `${kind}_${value}`;
  const b64 = btoa(unescape(encodeURIComponent(value))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${kind}_b64${b64}`;
}

/** The link that opens the shop on a product: the bot's Mini App when its username is known
 * (`https://t.me/<bot>?startapp=product_<id>`), else the shop's own page. */
export function productLink(id: string, bot?: string | null): string {
  if (bot) return `https://t.me/${bot.replace(/^@/, '')}?startapp=${startParam('product', id)}`;
  return `${location.origin}/product/${encodeURIComponent(id)}`;
}
