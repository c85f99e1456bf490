import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { productsQuery, request } from './api';

// Every field the client's interfaces declare must exist in the server's OpenAPI schema, so a
// renamed or removed field fails here instead of on a customer's phone.
const spec = JSON.parse(readFileSync(new URL('./openapi.json', import.meta.url), 'utf8')) as {
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
};
const SCHEMA_OF: Record<string, string> = {
  Product: 'ProductCard',
  Offer: 'OfferView',
  Me: 'CustomerProfile',
};
const source = readFileSync(new URL('./api.ts', import.meta.url), 'utf8');
const interfaces = [...source.matchAll(/export interface (\w+) \{\n([\s\S]*?)\n\}/g)].map((m) => ({
  name: m[1] ?? '',
  fields: [...(m[2] ?? '').matchAll(/^ {2}(\w+)\??:/gm)].map((f) => f[1] ?? ''),
}));

describe('API types match the OpenAPI document', () => {
  it('finds the interfaces', () => {
    expect(interfaces.length).toBeGreaterThan(15);
  });
  for (const { name, fields } of interfaces) {
    const schemaName = SCHEMA_OF[name] ?? name;
    const schema = spec.components.schemas[schemaName];
    if (!schema?.properties) continue; // client-only shapes (ListParams, Problem subsets)
    it(`${name} ⊆ ${schemaName}`, () => {
      for (const f of fields) expect(Object.keys(schema.properties ?? {})).toContain(f);
    });
  }
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
