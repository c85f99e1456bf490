// The orders list: status chips, a debounced search over number, phone and name, newest first,
// a page at a time. Filters live in the URL, so Back from an order returns to the same list.
import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { formatDate, formatPrice, tk } from '../i18n';
import { navigate, useRoute } from '../router';
import { haptic } from '../telegram';
import { Empty, ErrorState, RetryBanner } from '../ui';
import { deskApi } from './api';
import { formatPhone } from './logic';
import { d } from './texts';
import type { StaffMe } from './types';

/** `value`, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setV(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return v;
}

function listPath(status: string, q: string): string {
  const s = new URLSearchParams();
  if (status) s.set('status', status);
  if (q) s.set('q', q);
  const qs = s.toString();
  return qs ? `/desk?${qs}` : '/desk';
}

export function statusName(me: StaffMe, code: string, sent?: string | null): string {
  return sent ?? me.statuses.find((s) => s.code === code)?.name ?? tk(`status.${code}`);
}

export function OrdersList({ me }: { me: StaffMe }) {
  const { query } = useRoute();
  const status = query.get('status') ?? '';
  const q = query.get('q') ?? '';
  const [typed, setTyped] = useState(q);
  const debounced = useDebounced(typed.trim(), 350);
  useEffect(() => {
    if (debounced !== q) navigate(listPath(status, debounced), { replace: true });
  }, [debounced]);

  const orders = useInfiniteQuery({
    queryKey: ['staff-orders', status, q],
    queryFn: ({ pageParam }) => deskApi.orders({ status, q }, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    staleTime: 10_000,
  });
  const rows = orders.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="screen desk-orders">
      <div className="search">
        <input
          type="search"
          inputMode="search"
          enterKeyHint="search"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder={d('searchOrders')}
          aria-label={d('searchLabel')}
          data-testid="desk-search"
        />
      </div>
      <div className="chips" role="group" aria-label={d('statusFilter')}>
        {[{ code: '', name: d('all') }, ...me.statuses].map((s) => (
          <button
            key={s.code || 'all'}
            className={`chip${status === s.code ? ' on' : ''}`}
            aria-pressed={status === s.code}
            data-testid={`status-chip-${s.code || 'all'}`}
            onClick={() => {
              haptic('select');
              navigate(listPath(s.code, q), { replace: true });
            }}
          >
            {s.name}
          </button>
        ))}
      </div>
      {orders.isPending ? (
        <div aria-busy="true">
          {[0, 1, 2].map((i) => (
            <div key={i} className="desk-row skeleton">
              <div className="line shimmer" />
              <div className="line short shimmer" />
            </div>
          ))}
        </div>
      ) : orders.isError && rows.length === 0 ? (
        <ErrorState error={orders.error} onRetry={() => void orders.refetch()} />
      ) : (
        <>
          <RetryBanner failures={orders.failureCount} />
          {rows.length === 0 ? <Empty title={d('noOrders')} hint={d('noOrdersHint')} /> : null}
          <ul className="desk-list" data-testid="desk-orders">
            {rows.map((o) => (
              <li key={o.id}>
                <button
                  className="desk-row"
                  data-testid="desk-order-row"
                  onClick={() => navigate(`/desk/orders/${o.id}`)}
                >
                  <span className="desk-row-top">
                    <span className="desk-number">{o.number}</span>
                    <span className={`status status-${o.status}`}>{statusName(me, o.status, o.status_name)}</span>
                    <span className="spacer" />
                    <span className="price">{formatPrice(o.total, o.currency)}</span>
                  </span>
                  <span className="desk-row-bottom hint">
                    <span>{o.customer_name}</span>
                    <span>{formatPhone(o.phone)}</span>
                  </span>
                  <span className="desk-row-bottom hint">
                    <span>{formatDate(o.created_at)}</span>
                    <span>
                      {d('itemsCount')(o.items_count)} · {tk(`payment_state.${o.payment_state}`)}
                    </span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {orders.hasNextPage ? (
            <button
              className="btn-secondary wide"
              data-testid="load-more"
              disabled={orders.isFetchingNextPage}
              onClick={() => void orders.fetchNextPage()}
            >
              {orders.isFetchingNextPage ? <span className="spinner" aria-label={d('loadMore')} /> : d('loadMore')}
            </button>
          ) : null}
        </>
      )}
    </div>
  );
}
