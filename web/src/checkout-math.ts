// What the checkout screen shows before the server computes the order: the delivery price for
// the chosen method and the total. The server's numbers win; these only have to agree with
// them (same rules: free delivery from a threshold of the items' total).
import type { DeliveryOption } from './api';

export function deliveryPrice(option: DeliveryOption | undefined, itemsTotal: number): number {
  if (!option) return 0;
  if (option.free_from != null && itemsTotal >= option.free_from) return 0;
  return option.price;
}

export function orderTotal(option: DeliveryOption | undefined, itemsTotal: number): number {
  return itemsTotal + deliveryPrice(option, itemsTotal);
}

/** Phone as the server accepts it: digits with a country code; `8…` is Russia's `+7…`. */
export function normalizePhone(input: string): string | null {
  const digits = input.replace(/[^\d+]/g, '');
  if (/^\+\d{10,15}$/.test(digits)) return digits;
  if (/^8\d{10}$/.test(digits)) return `+7${digits.slice(1)}`;
  if (/^7\d{10}$/.test(digits)) return `+${digits}`;
  return null;
}

/** A fresh key per checkout attempt: a double tap or a retry of the same attempt reuses it. */
export function newIdempotencyKey(): string {
  return typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
