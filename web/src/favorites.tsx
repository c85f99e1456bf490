// Favourites: one query for the customer's list, and a heart that adds or removes a product
// at once (optimistic), putting the list back as it was when the server refuses.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Favorite, type Favorites } from './api';
import { t } from './i18n';
import { haptic } from './telegram';
import { problemText } from './ui';

const KEY = ['favorites'] as const;

export function useFavorites() {
  return useQuery({ queryKey: KEY, queryFn: api.favorites, staleTime: 60_000 });
}

/** What the heart needs to show a product in the list before the server answers. */
export interface FavoriteDraft {
  id: string;
  name: string;
  image?: string | null;
}

/** The list with `product` added (first, as the server orders it) or removed. */
export function toggled(list: Favorites, product: FavoriteDraft, on: boolean): Favorites {
  const rest = list.items.filter((f) => f.product_id !== product.id);
  if (!on) return { ...list, items: rest };
  const draft: Favorite = {
    product_id: product.id,
    name: product.name,
    image: product.image ?? null,
    price: null,
    stock: 0,
    in_stock: false,
    available: true,
    added_at: Date.now(),
  };
  return { ...list, items: [draft, ...rest] };
}

export function useToggleFavorite() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ product, on }: { product: FavoriteDraft; on: boolean }) =>
      on ? api.addFavorite(product.id) : api.removeFavorite(product.id),
    onMutate: async ({ product, on }) => {
      await qc.cancelQueries({ queryKey: KEY });
      const before = qc.getQueryData<Favorites>(KEY);
      qc.setQueryData<Favorites>(KEY, toggled(before ?? { items: [], limit: 0 }, product, on));
      haptic('select');
      return { before };
    },
    onError: (_e, _v, ctx) => {
      // The server refused (a limit, a product gone): the heart goes back to what is true.
      if (ctx?.before) qc.setQueryData(KEY, ctx.before);
      else void qc.invalidateQueries({ queryKey: KEY });
      haptic('error');
    },
    onSuccess: (list) => qc.setQueryData(KEY, list),
  });
}

/** The heart: pressed when the product is a favourite. */
export function HeartButton({ product, className = '' }: { product: FavoriteDraft; className?: string }) {
  const favorites = useFavorites();
  const toggle = useToggleFavorite();
  const [error, setError] = useState<string | null>(null);
  const on = favorites.data?.items.some((f) => f.product_id === product.id) ?? false;
  return (
    <>
      <button
        type="button"
        className={`heart${on ? ' on' : ''} ${className}`}
        aria-pressed={on}
        aria-label={on ? t('favoriteRemove') : t('favoriteAdd')}
        title={on ? t('favoriteRemove') : t('favoriteAdd')}
        data-testid="heart"
        disabled={favorites.isPending}
        onClick={(e) => {
          e.preventDefault();
          e.stopPropagation();
          setError(null);
          toggle.mutate(
            { product, on: !on },
            { onError: (err) => setError(problemText(err)) },
          );
        }}
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path
            d="M12 20.5s-7.5-4.6-9.3-9.2C1.4 8 3.4 4.5 7 4.5c2.1 0 3.6 1.2 5 3 1.4-1.8 2.9-3 5-3 3.6 0 5.6 3.5 4.3 6.8-1.8 4.6-9.3 9.2-9.3 9.2z"
            fill={on ? 'currentColor' : 'none'}
            stroke="currentColor"
            strokeWidth="1.8"
            strokeLinejoin="round"
          />
        </svg>
      </button>
      {error ? (
        <span className="warn heart-error" role="alert">
          {error}
        </span>
      ) : null}
    </>
  );
}
