import { describe, expect, it } from 'vitest';
import { toggled } from './favorites';

describe('the heart before the server answers', () => {
  const list = {
    limit: 200,
    items: [
      { product_id: 'a', name: 'A', image: null, price: null, stock: 0, in_stock: false, available: false, added_at: 1 },
    ],
  };
  it('puts a new favourite first and keeps the others, unavailable ones too', () => {
    const on = toggled(list, { id: 'b', name: 'B' }, true);
    expect(on.items.map((f) => f.product_id)).toEqual(['b', 'a']);
    expect(on.items[1]?.available).toBe(false);
    expect(toggled(on, { id: 'b', name: 'B' }, true).items).toHaveLength(2);
  });
  it('removes one', () => {
    expect(toggled(list, { id: 'a', name: 'A' }, false).items).toEqual([]);
  });
});
