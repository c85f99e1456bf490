// «Повторить»: an order's still-available items back into the cart at today's prices. The cart
// opens with what could not be added, and why, at its top.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type NotAdded, type Repeated } from './api';
import { formatPrice, t, tk } from './i18n';
import { navigate } from './router';
import { haptic } from './telegram';

const KEY = ['repeated'] as const;

/** Orders already repeated from a `startapp=repeat_<id>` link in this page's life (the link
 * must not put the items in twice when the screen renders again). */
const fromLink = new Set<number>();

export function claimRepeatLink(id: number): boolean {
  if (fromLink.has(id)) return false;
  fromLink.add(id);
  return true;
}

export function useRepeat(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.repeat(id),
    onSuccess: (r) => {
      qc.setQueryData(['cart'], r.cart);
      qc.setQueryData(KEY, r);
      haptic(r.not_added.length === 0 ? 'success' : 'add');
      navigate('/cart');
    },
    onError: () => haptic('error'),
  });
}

export function notAddedText(n: NotAdded): string {
  const why = tk(`notAdded.${n.reason}`);
  return n.reason === 'partly_in_stock' || n.reason === 'line_quantity_limit'
    ? `${why}: ${t('addedOf')(n.added, n.ordered)}`
    : why;
}

/** The last repeat's notes, on the cart screen, until dismissed. */
export function RepeatNotes() {
  const qc = useQueryClient();
  const [r, setR] = useState(() => qc.getQueryData<Repeated>(KEY));
  if (!r || (r.not_added.length === 0 && r.price_changes.length === 0)) return null;
  const currency = r.cart.total.currency;
  return (
    <div className="notice" role="status" data-testid="repeat-notes">
      {r.not_added.length > 0 ? (
        <>
          <div className="notice-title">{t('repeatNotAdded')}</div>
          <ul>
            {r.not_added.map((n) => (
              <li key={n.offer_id} data-testid="not-added">
                {n.name}
                {n.variant ? ` (${n.variant})` : ''} — {notAddedText(n)}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {r.price_changes.length > 0 ? (
        <>
          <div className="notice-title">{t('repeatPrices')}</div>
          <ul>
            {r.price_changes.map((p) => (
              <li key={p.offer_id}>
                {p.name}: {formatPrice(p.was, currency)} → {formatPrice(p.now, currency)}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <button
        className="link"
        onClick={() => {
          qc.removeQueries({ queryKey: KEY });
          setR(undefined);
        }}
      >
        {t('dismiss')}
      </button>
    </div>
  );
}
