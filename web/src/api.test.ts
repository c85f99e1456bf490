import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { productsQuery, request, type CartLine, type Order } from './api';

// The client's types are generated from the server's OpenAPI document (the Rust test
// `committed_openapi_is_the_servers` keeps `openapi.json` equal to it). Regenerating must give
// the committed `api.gen.ts` byte for byte, so a spec change without `npm run gen:api` fails here.
describe('generated API types', () => {
  it('api.gen.ts is what openapi-typescript makes of openapi.json', () => {
    const web = fileURLToPath(new URL('..', import.meta.url));
    const out = join(mkdtempSync(join(tmpdir(), 'api-gen-')), 'api.gen.ts');
    execFileSync(join(web, 'node_modules/.bin/openapi-typescript'), ['src/openapi.json', '-o', out], {
      cwd: web,
      stdio: 'pipe',
    });
    const committed = readFileSync(new URL('./api.gen.ts', import.meta.url), 'utf8');
    expect(readFileSync(out, 'utf8'), 'run `npm run gen:api` and commit src/api.gen.ts').toBe(committed);
  }, 30_000);

  it('carry what the spec says may be missing', () => {
    // A cart line of a product deleted since has no product; the type must let the UI see that.
    const orphan: CartLine['product_id'] = null;
    const total: Order['total'] = { amount: 100, currency: 'RUB' };
    expect([orphan, total.amount]).toEqual([null, 100]);
  });
});

describe('productsQuery', () => {
  it('encodes filters as f[prop] and repeats values', () => {
    const q = productsQuery({
      section: 'jackets',
      filters: { brand: ['Кедр', 'Polar'] },
      in_stock: true,
      sort: 'price_asc',
    });
    const p = new URLSearchParams(q.split('?')[1]);
    expect(p.getAll('f[brand]')).toEqual(['Кедр', 'Polar']);
    expect(p.get('section')).toBe('jackets');
    expect(p.get('in_stock')).toBe('true');
    expect(p.get('limit')).toBe('20');
  });
});

describe('requests index.html prefetched', () => {
  it('are answered from the prefetch once, then from the network', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ from: 'network' }), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    vi.stubGlobal('window', { __prefetch: { '/api/v1/sections': Promise.resolve({ from: 'prefetch' }) } });
    try {
      expect(await request('GET', '/api/v1/sections')).toEqual({ from: 'prefetch' });
      expect(fetchMock).not.toHaveBeenCalled();
      expect(await request('GET', '/api/v1/sections')).toEqual({ from: 'network' });
      expect(fetchMock).toHaveBeenCalledTimes(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('fall back to the network when the prefetch failed', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify([1]), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    vi.stubGlobal('window', { __prefetch: { '/api/v1/sections': Promise.resolve(null) } });
    try {
      expect(await request('GET', '/api/v1/sections')).toEqual([1]);
      expect(fetchMock).toHaveBeenCalledTimes(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('index.html prefetch', () => {
  it('asks for exactly what the home screen asks for', () => {
    const html = readFileSync(new URL('../index.html', import.meta.url), 'utf8');
    const home = productsQuery({ sort: 'popular', filters: {}, in_stock: false, cursor: null });
    expect(html).toContain(`'${home}'`);
    expect(html).toContain("'/api/v1/sections'");
  });
});
