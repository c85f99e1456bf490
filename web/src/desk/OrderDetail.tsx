// One order as staff see it: items, contact (tap to call), delivery, payment, the timeline,
// the back office's record, and for managers the actions: the next statuses the shop's
// transitions allow (confirmed before it goes) and a message to the customer through the bot.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { ApiError, api } from '../api';
import { formatDate, formatPrice, noteText, t, tk } from '../i18n';
import { confirmClosing, haptic, setMainAction } from '../telegram';
import { ErrorState, problemText, RetryBanner } from '../ui';
import { deskApi } from './api';
import { formatPhone, MESSAGE_LIMIT, messageLeft, messageSendable, telHref } from './logic';
import { statusName } from './OrdersList';
import { d, dk } from './texts';
import type { StaffMe, StaffOrderDetail } from './types';

const SYSTEMS: Record<string, string> = { bitrix: '1С-Битрикс', '1c': '1С' };

/** What went wrong, in the desk's words when it knows the problem. */
function deskProblem(error: unknown): string {
  if (error instanceof ApiError && error.problem?.code) {
    const words = dk(`problem.${error.problem.code}`);
    if (words) return words;
  }
  return problemText(error);
}

export function OrderDetail({ id, me }: { id: number; me: StaffMe }) {
  const detail = useQuery({ queryKey: ['staff-order', id], queryFn: () => deskApi.order(id), refetchInterval: 60_000 });
  if (detail.isPending) {
    return (
      <div className="screen" aria-busy="true" aria-label={t('loading')}>
        <div className="line shimmer" />
        <div className="line short shimmer" />
      </div>
    );
  }
  if (detail.isError) return <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />;
  return (
    <>
      <RetryBanner failures={detail.failureCount} />
      <OrderView data={detail.data} me={me} />
    </>
  );
}

function OrderView({ data, me }: { data: StaffOrderDetail; me: StaffMe }) {
  const qc = useQueryClient();
  const { order: o, customer, master } = data;
  // Delivery methods by their names in the shop's settings (the order keeps the method's id).
  const options = useQuery({ queryKey: ['checkout-options'], queryFn: api.checkoutOptions, staleTime: 300_000 });
  const method = options.data?.delivery.find((m) => m.id === o.delivery.method)?.name ?? o.delivery.method;
  const manager = me.role === 'manager';
  const [pending, setPending] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [text, setText] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const confirmRef = useRef<HTMLDivElement>(null);
  const noteId = useId();
  const messageId = useId();
  const counterId = useId();
  const name = (code: string) => statusName(me, code);

  const settle = (next: StaffOrderDetail) => {
    qc.setQueryData(['staff-order', o.id], next);
    void qc.invalidateQueries({ queryKey: ['staff-orders'] });
  };
  const change = useMutation({
    mutationFn: (status: string) => deskApi.setStatus(o.id, status, note.trim() || null),
    onSuccess: (next, status) => {
      settle(next);
      haptic('success');
      setPending(null);
      setNote('');
      setDone(d('statusChanged')(name(status)));
    },
    onError: (error) => {
      haptic('error');
      // The transitions changed under us (another manager, the back office): show the new ones.
      if (error instanceof ApiError && error.status === 409) {
        setPending(null);
        void qc.invalidateQueries({ queryKey: ['staff-order', o.id] });
      }
    },
  });
  const send = useMutation({
    mutationFn: () => deskApi.message(o.id, text),
    onSuccess: (next) => {
      settle(next);
      haptic('success');
      setText('');
      setDone(d('messageSent'));
    },
    onError: () => haptic('error'),
  });

  const sendable = messageSendable(text);
  useEffect(() => {
    if (!manager) {
      setMainAction(null);
    } else if (pending) {
      setMainAction({
        text: d('confirmStatusButton')(name(pending)),
        onClick: () => change.mutate(pending),
        loading: change.isPending,
      });
    } else if (text.trim()) {
      setMainAction({
        text: d('sendMessage'),
        onClick: () => (messageSendable(text) ? send.mutate() : haptic('error')),
        loading: send.isPending,
        enabled: sendable,
      });
    } else {
      setMainAction(null);
    }
  }, [manager, pending, note, text, sendable, change.isPending, send.isPending]);
  useEffect(() => () => setMainAction(null), []);
  // A half-written message is not lost to a stray swipe: Telegram asks before closing.
  const drafting = text.length > 0;
  useEffect(() => confirmClosing(drafting), [drafting]);
  useEffect(() => () => confirmClosing(false), []);
  useEffect(() => {
    if (pending) confirmRef.current?.focus();
  }, [pending]);

  // The order's contact phone first (the one given for this order); the account's own when it
  // differs (the phone Telegram vouched for, or the profile's).
  const tel = telHref(o.contact.phone);
  const other = customer.phone && customer.phone !== o.contact.phone ? telHref(customer.phone) : null;
  const left = messageLeft(text);
  const systemName = master.system ? (SYSTEMS[master.system] ?? master.system) : null;

  return (
    <div className="screen desk-order" data-testid="desk-order">
      <h1 className="title">
        {t('order')} {o.number}
      </h1>
      <div className="desk-status-line">
        <span className={`status status-${o.status}`} data-testid="desk-order-status">
          {statusName(me, o.status, o.status_name)}
        </span>
        <span className="hint">{formatDate(o.created_at)}</span>
      </div>
      {done ? (
        <div className="ok" role="status" data-testid="desk-done">
          {done}
        </div>
      ) : null}

      {manager ? (
        <section className="desk-card" aria-labelledby={`${noteId}-h`}>
          <h2 id={`${noteId}-h`}>{d('changeStatus')}</h2>
          {data.allowed_next.length === 0 ? <div className="hint">{d('noTransitions')}</div> : null}
          <div className="chips wrap" data-testid="next-statuses">
            {data.allowed_next.map((code) => (
              <button
                key={code}
                className={`chip outline${pending === code ? ' on' : ''}`}
                aria-pressed={pending === code}
                data-testid={`next-${code}`}
                onClick={() => {
                  haptic('select');
                  setDone(null);
                  change.reset();
                  setPending(pending === code ? null : code);
                }}
              >
                {name(code)}
              </button>
            ))}
          </div>
          {pending ? (
            <div className="desk-confirm" ref={confirmRef} tabIndex={-1} data-testid="confirm-status" role="group" aria-label={d('confirmStatus')(name(pending))}>
              <div className="strong">{d('confirmStatus')(name(pending))}</div>
              <label htmlFor={noteId} className="hint">
                {d('noteLabel')}
              </label>
              <input id={noteId} value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} data-testid="status-note" />
              <button className="btn-secondary" onClick={() => setPending(null)} data-testid="cancel-status">
                {d('cancel')}
              </button>
            </div>
          ) : null}
          {change.isError ? (
            <div className="warn" role="alert" data-testid="status-error">
              {deskProblem(change.error)}
            </div>
          ) : null}
        </section>
      ) : null}

      <section className="desk-card" aria-label={d('customer')}>
        <h2>{d('customer')}</h2>
        <div className="strong" data-testid="desk-customer">{o.contact.name}</div>
        <div className="hint" data-testid="desk-telegram-name">
          Telegram: {customer.name}
          {customer.username ? ` (@${customer.username})` : ''}
        </div>
        <div className="desk-actions">
          {tel ? (
            <a className="btn-secondary" href={tel} data-testid="desk-call">
              {d('call')} {formatPhone(o.contact.phone)}
            </a>
          ) : (
            <span>{o.contact.phone}</span>
          )}
          {other ? (
            <a className="btn-secondary" href={other} data-testid="desk-call-profile">
              {formatPhone(customer.phone)}
            </a>
          ) : null}
          {customer.username ? (
            <a className="btn-secondary" href={`https://t.me/${encodeURIComponent(customer.username)}`} target="_blank" rel="noopener noreferrer">
              {d('writeInTelegram')}
            </a>
          ) : null}
        </div>
        {o.contact.email ? <div className="hint">{o.contact.email}</div> : null}
      </section>

      <section className="desk-card" aria-label={d('items')}>
        <h2>{d('items')}</h2>
        <ul className="lines">
          {o.items.map((i) => (
            <li key={i.offer_id} className="totals">
              <span>
                {i.name}
                {i.variant ? ` (${i.variant})` : ''} ×{'\u00a0'}{i.quantity}
              </span>
              <span className="desk-amount">{formatPrice(i.total, o.total.currency)}</span>
            </li>
          ))}
        </ul>
        <div className="totals">
          <span>{d('delivery')}</span>
          <span>{o.delivery.price === 0 ? t('free') : formatPrice(o.delivery.price, o.total.currency)}</span>
        </div>
        <div className="totals strong">
          <span>{t('total')}</span>
          <span>{formatPrice(o.total.amount, o.total.currency)}</span>
        </div>
      </section>

      <section className="desk-card" aria-label={d('delivery')}>
        <h2>{d('delivery')}</h2>
        <div data-testid="desk-delivery">{method}</div>
        {o.delivery.address || o.delivery.pickup_point ? <div className="hint">{o.delivery.address ?? o.delivery.pickup_point}</div> : null}
        <h2>{d('payment')}</h2>
        <div data-testid="desk-payment">
          {tk(`payment.${o.payment_method}`)} · {tk(`payment_state.${o.payment_state}`)}
        </div>
        {o.refund_due > 0 ? <div className="warn">{t('refundDue')(formatPrice(o.refund_due, o.total.currency))}</div> : null}
        {o.coupon ? <div className="hint">{t('coupon')}: {o.coupon}</div> : null}
        {o.comment ? (
          <>
            <h2>{d('comment')}</h2>
            <p className="desk-comment">{o.comment}</p>
          </>
        ) : null}
        {o.tracking_number ? <div className="hint">{t('trackingNumber')}: {o.tracking_number}</div> : null}
      </section>

      {systemName ? (
        <section className="desk-card" aria-label={d('master')}>
          <h2>{d('master')}</h2>
          {master.id ? <div data-testid="master-id">{d('masterId')(systemName, master.id)}</div> : null}
          {master.url ? (
            <a className="link" href={master.url} target="_blank" rel="noopener noreferrer" data-testid="master-link">
              {d('openIn')(systemName)}
            </a>
          ) : null}
        </section>
      ) : null}

      <section className="desk-card" aria-label={d('timeline')}>
        <h2>{d('timeline')}</h2>
        <ol className="timeline" data-testid="desk-timeline">
          {o.timeline.map((e, i) => (
            <li key={`${i}-${e.at}`} className={e.kind === 'message' ? 'desk-said' : undefined}>
              <span className="dot" />
              <span>{e.kind === 'message' ? d('messageEntry') : name(e.status)}</span>
              <span className="hint">
                {formatDate(e.at)} · {d('actor')(e.actor)}
              </span>
              {e.note ? <span className="desk-note">{noteText(e.note)}</span> : null}
            </li>
          ))}
        </ol>
      </section>

      {manager ? (
        <section className="desk-card" aria-labelledby={`${messageId}-h`}>
          <h2 id={`${messageId}-h`}>
            <label htmlFor={messageId}>{d('message')}</label>
          </h2>
          <textarea
            id={messageId}
            className="desk-message"
            rows={4}
            value={text}
            placeholder={d('messagePlaceholder')}
            aria-describedby={counterId}
            aria-invalid={left < 0}
            onChange={(e) => {
              setText(e.target.value);
              if (done) setDone(null);
            }}
            data-testid="desk-message"
          />
          <div id={counterId} className={`desk-counter${left < 0 ? ' over' : ''}`} aria-live="polite" data-testid="desk-counter">
            {left >= 0 ? d('messageLeft')(left) : d('messageOver')(-left)} / {MESSAGE_LIMIT}
          </div>
          {send.isError ? (
            <div className="warn" role="alert">
              {deskProblem(send.error)}
            </div>
          ) : null}
        </section>
      ) : null}
    </div>
  );
}
