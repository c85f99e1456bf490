// A small history router: the app has a handful of screens, and a router library would cost
// more bytes than this file.
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
let depth = 0; // in-app history entries, so Back never leaves the app

function notify(): void {
  for (const l of listeners) l();
}

window.addEventListener('popstate', () => {
  depth = Math.max(0, depth - 1);
  notify();
});

export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) {
    history.replaceState(null, '', path);
  } else {
    history.pushState(null, '', path);
    depth += 1;
  }
  window.scrollTo(0, 0);
  notify();
}

export function canGoBack(): boolean {
  return depth > 0;
}

export function goBack(): void {
  if (depth > 0) history.back();
  else navigate('/', { replace: true });
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

const snapshot = (): string => location.pathname + location.search;

export interface Route {
  path: string;
  query: URLSearchParams;
}

export function useRoute(): Route {
  const s = useSyncExternalStore(subscribe, snapshot);
  const [path = '/', query = ''] = s.split('?');
  return { path, query: new URLSearchParams(query) };
}

/** `/product/:id` against a path: the params, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const a = path.split('/');
  if (p.length !== a.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i] ?? '';
    const val = a[i] ?? '';
    if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(val);
    else if (seg !== val) return null;
  }
  return params;
}
