// My orders and one order with its status timeline.
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api } from '../api';
import { currentLang, formatDate, formatPrice, formatTime, noteText, t, tk } from '../i18n';
import { navigate } from '../router';
import { claimRepeatLink, useRepeat } from '../repeat';
import { haptic, openInvoice, setMainAction, telegramHas } from '../telegram';
import { Empty, ErrorState, problemText, RetryBanner } from '../ui';

// Only this lazily loaded screen shows it, so it stays in this chunk, not in the first load.
const shopWrote = () => (currentLang() === 'en' ? 'Message from the shop' : 'Сообщение от магазина');

export function Orders() {
  const orders = useQuery({ queryKey: ['orders'], queryFn: api.orders });
  if (orders.isPending) return <div className="screen"><div className="line shimmer" /></div>;
  if (orders.isError) return <ErrorState error={orders.error} onRetry={() => void orders.refetch()} />;
  return (
    <div className="screen">
      <h1 className="title">{t('myOrders')}</h1>
      <RetryBanner failures={orders.failureCount} />
      {orders.data.length === 0 ? <Empty title={t('noOrders')} /> : null}
      <ul className="lines">
        {orders.data.map((o) => (
          <li key={o.id}>
            <button className="order-row" data-testid="order-row" onClick={() => navigate(`/orders/${o.id}`)}>
              <span className="card-name">{o.number}</span>
              <span className={`status status-${o.status}`}>{o.status_name ?? tk(`status.${o.status}`)}</span>
              <span className="hint">{formatDate(o.created_at)}</span>
              <span className="price">{formatPrice(o.total.amount, o.total.currency)}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function OrderView({ id, placed, repeat: fromLink = false }: { id: number; placed: boolean; repeat?: boolean }) {
  const order = useQuery({ queryKey: ['order', id], queryFn: () => api.order(id), refetchInterval: 30_000 });
  const options = useQuery({ queryKey: ['checkout-options'], queryFn: api.checkoutOptions, staleTime: 300_000 });
  const o0 = order.data;
  const payable =
    !!o0 && o0.payment_state === 'unpaid' && o0.status !== 'cancelled' && ['telegram', 'stars'].includes(o0.payment_method);
  const pay = useMutation({
    mutationFn: async () => {
      const { invoice_link } = await api.invoice(id);
      await openInvoice(invoice_link);
    },
    // Whatever the sheet reported, the server's answer (from Telegram's successful_payment) counts.
    onSettled: () => void order.refetch(),
    onError: () => haptic('error'),
  });
  useEffect(() => {
    if (payable && telegramHas('invoice') && o0) {
      setMainAction({ text: t('pay')(formatPrice(o0.total.amount, o0.total.currency)), onClick: () => pay.mutate(), loading: pay.isPending });
    } else if (placed) {
      setMainAction({ text: t('continueShopping'), onClick: () => navigate('/') });
    } else {
      setMainAction(null);
    }
  }, [placed, payable, pay.isPending, o0?.total.amount]);
  useEffect(() => () => setMainAction(null), []);
  const repeat = useRepeat(id);
  // `startapp=repeat_<id>` (the delivered-order message's button): repeat at once, once.
  useEffect(() => {
    if (fromLink && claimRepeatLink(id)) repeat.mutate();
  }, [fromLink, id]);
  if (order.isPending) return <div className="screen"><div className="line shimmer" /></div>;
  if (order.isError) return <ErrorState error={order.error} onRetry={() => void order.refetch()} />;
  const o = order.data;
  const hold = options.data?.payment_hold_seconds ?? 0;
  // The last status change's note (a message from the shop is not a reason).
  const reason = o.timeline.filter((e) => e.kind !== 'message').at(-1)?.note;
  return (
    <div className="screen">
      {placed ? (
        <div className="success" role="status">
          <div className="success-mark">✓</div>
          <h1 className="title">{t('orderPlaced')}</h1>
          <div className="hint">{t('orderPlacedHint')}</div>
        </div>
      ) : null}
      <h2>
        {t('order')} {o.number}
      </h2>
      {/* A status the shop has no mapping for is shown as the shop wrote it. */}
      <div className={`status status-${o.status}`} data-testid="order-status">{o.status_name ?? tk(`status.${o.status}`)}</div>
      {o.status === 'cancelled' && o.cancel_reason ? (
        <div className="hint" data-testid="cancel-reason">{t('cancelReason')}: {o.cancel_reason}</div>
      ) : null}
      {o.tracking_number ? (
        <div className="hint" data-testid="tracking-number">{t('trackingNumber')}: {o.tracking_number}</div>
      ) : null}
      {o.refund_due > 0 ? (
        <div className="warn" data-testid="refund-due">{t('refundDue')(formatPrice(o.refund_due, o.total.currency))}</div>
      ) : null}
      {o.payment_method !== 'on_receipt' ? (
        <div className="hint" data-testid="payment-state">{tk(`payment_state.${o.payment_state}`)}</div>
      ) : null}
      {reason && noteText(reason) !== reason ? (
        <div className="hint" data-testid="status-reason">{noteText(reason)}</div>
      ) : null}
      {payable && hold > 0 ? (
        <div className="hint" data-testid="pay-before">{t('payBefore')(formatTime(o.created_at + hold * 1000))}</div>
      ) : null}
      {payable && !telegramHas('invoice') ? <div className="hint">{t('payInTelegram')}</div> : null}
      {pay.isError ? <div className="warn" role="alert">{problemText(pay.error)}</div> : null}
      <ol className="timeline">
        {o.timeline.map((e) => (
          <li key={`${e.kind}-${e.status}-${e.at}-${e.note ?? ''}`}>
            <span className="dot" />
            {/* A message the shop wrote (staff desk): its text, not another status row. */}
            <span>{e.kind === 'message' ? shopWrote() : tk(`status.${e.status}`)}</span>
            <span className="hint">{formatDate(e.at)}</span>
            {e.note ? <span className={e.kind === 'message' ? 'description' : 'hint'}>{noteText(e.note)}</span> : null}
          </li>
        ))}
      </ol>
      <ul className="lines">
        {o.items.map((i) => (
          <li key={i.offer_id} className="totals">
            <span>
              {i.name}
              {i.variant ? ` (${i.variant})` : ''} × {i.quantity}
            </span>
            <span>{formatPrice(i.total, o.total.currency)}</span>
          </li>
        ))}
      </ul>
      <div className="totals">
        <span>{t('delivery')}</span>
        <span>{o.delivery.price === 0 ? t('free') : formatPrice(o.delivery.price, o.total.currency)}</span>
      </div>
      <div className="totals strong">
        <span>{t('total')}</span>
        <span>{formatPrice(o.total.amount, o.total.currency)}</span>
      </div>
      <div className="hint">{o.delivery.address ?? o.delivery.pickup_point ?? ''}</div>
      {repeat.isError ? <div className="warn" role="alert">{problemText(repeat.error)}</div> : null}
      <button
        className="btn-secondary wide"
        data-testid="repeat"
        disabled={repeat.isPending}
        onClick={() => repeat.mutate()}
      >
        {repeat.isPending ? <span className="spinner" aria-label={t('loading')} /> : t('repeatOrder')}
      </button>
    </div>
  );
}
