// `startapp` parameters from the bot's links (t.me/<bot>/<app>?startapp=product_<id>) and the
// in-app path they open.

export type DeepLink =
  | { kind: 'product'; id: string }
  | { kind: 'section'; id: string }
  | { kind: 'search'; q: string }
  | { kind: 'order'; id: number }
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
  const m = /^(product|section|order|search)_(b64)?(.+)$/.exec(param);
  if (!m) return null;
  let id = m[3] ?? '';
  if (m[2]) {
    try {
      id = decodeURIComponent(escape(atob(id.replace(/-/g, '+').replace(/_/g, '/'))));
    } catch {
      return null;
    }
  }
  if (m[1] === 'order') {
    const n = Number(id);
    return Number.isSafeInteger(n) && n > 0 ? { kind: 'order', id: n } : null;
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
    case 'cart':
      return '/cart';
    case 'desk':
      return link.order ? `/desk/orders/${link.order}` : '/desk';
  }
}
