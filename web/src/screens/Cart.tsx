// The cart: steppers, totals, and warnings for what changed since it was added.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api, type CartLine } from '../api';
import { formatPrice, t } from '../i18n';
import { navigate } from '../router';
import { RepeatNotes } from '../repeat';
import { haptic, setMainAction } from '../telegram';
import { Empty, ErrorState, Price, problemText, RetryBanner, Stepper, Thumb } from '../ui';

export function Cart() {
  const qc = useQueryClient();
  const cart = useQuery({ queryKey: ['cart'], queryFn: api.cart });
  const change = useMutation({
    mutationFn: ({ line, qty }: { line: CartLine; qty: number }) =>
      qty <= 0 ? api.removeLine(line.offer_id) : api.setQuantity(line.offer_id, qty),
    onSuccess: (c) => qc.setQueryData(['cart'], c),
    onError: () => haptic('error'),
  });
  const data = cart.data;
  const sellable = data?.lines.filter((l) => !l.removed) ?? [];
  useEffect(() => {
    if (data && sellable.length > 0) {
      setMainAction({
        text: t('checkoutWithTotal')(formatPrice(data.total.amount, data.total.currency)),
        onClick: () => navigate('/checkout'),
        enabled: !change.isPending,
      });
    } else {
      setMainAction(null);
    }
  }, [data, change.isPending]);
  useEffect(() => () => setMainAction(null), []);

  if (cart.isPending) return <div className="screen"><div className="line shimmer" /></div>;
  if (cart.isError) return <ErrorState error={cart.error} onRetry={() => void cart.refetch()} />;
  if (!data || data.lines.length === 0) {
    return (
      <div className="screen">
        <RepeatNotes />
        <Empty title={t('cartEmpty')} hint={t('cartEmptyHint')}>
          <button className="btn" onClick={() => navigate('/')}>{t('catalog')}</button>
        </Empty>
      </div>
    );
  }
  return (
    <div className="screen">
      <h1 className="title">{t('cart')}</h1>
      <RetryBanner failures={cart.failureCount} />
      <RepeatNotes />
      <ul className="lines">
        {data.lines.map((l) => (
          <li key={l.offer_id} className={`line-item${l.removed ? ' gone' : ''}`} data-testid="cart-line">
            <Thumb src={l.image ?? null} alt={l.name} size={160} />
            <div className="line-body">
              <div className="card-name">{l.name}</div>
              {l.variant ? <div className="hint">{l.variant}</div> : null}
              {l.price ? <Price amount={l.line_total} currency={l.price.currency} /> : null}
              {l.price_was != null && l.price ? (
                <div className="warn">{t('priceChanged')(formatPrice(l.price_was, l.price.currency))}</div>
              ) : null}
              {l.removed ? <div className="warn">{t('removed')}</div> : null}
              {l.insufficient_stock && l.stock != null ? <div className="warn">{t('notEnough')(l.stock)}</div> : null}
            </div>
            <Stepper
              value={l.quantity}
              max={l.max_quantity}
              label={l.name}
              onChange={(qty) => change.mutate({ line: l, qty })}
            />
          </li>
        ))}
      </ul>
      {change.isError ? <div className="warn" role="alert">{problemText(change.error)}</div> : null}
      <div className="totals">
        <span>{t('total')}</span>
        <Price amount={data.total.amount} currency={data.total.currency} />
      </div>
    </div>
  );
}
