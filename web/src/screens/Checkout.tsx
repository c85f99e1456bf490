// Checkout: contact (phone from Telegram on request), delivery with prices, address or pickup
// point, comment and payment. One Idempotency-Key per attempt: a double tap or a retry after a
// timeout reuses it, so the server makes one order; changing the form starts a new attempt.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError, type CheckoutRequest, type PaymentMethod } from '../api';
import { deliveryPrice, newIdempotencyKey, normalizePhone, orderTotal } from '../checkout-math';
import { formatPrice, t, tk } from '../i18n';
import { navigate } from '../router';
import { askPhone, confirmClosing, haptic, isTelegram, setMainAction, telegramHas } from '../telegram';
import { ErrorState, problemText, RetryBanner } from '../ui';

type Errors = Record<string, string>;

export function Checkout() {
  const qc = useQueryClient();
  const options = useQuery({ queryKey: ['checkout-options'], queryFn: api.checkoutOptions, staleTime: 300_000 });
  const cart = useQuery({ queryKey: ['cart'], queryFn: api.cart });
  const me = useQuery({ queryKey: ['me'], queryFn: api.me, staleTime: 300_000 });
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const [method, setMethod] = useState('');
  const [address, setAddress] = useState('');
  const [pickup, setPickup] = useState('');
  const [comment, setComment] = useState('');
  const [email, setEmail] = useState('');
  const [coupon, setCoupon] = useState('');
  const [payment, setPayment] = useState<PaymentMethod>('on_receipt');
  const [errors, setErrors] = useState<Errors>({});

  useEffect(() => {
    if (me.data) {
      setName((n) => n || me.data.first_name);
      setPhone((p) => p || me.data.phone || '');
    }
  }, [me.data]);
  useEffect(() => {
    const o = options.data;
    if (o && !method) {
      setMethod(o.delivery[0]?.id ?? '');
      setPickup(o.delivery[0]?.pickup_points[0] ?? '');
      setPayment(o.payment_methods[0] ?? 'on_receipt');
    }
  }, [options.data]);
  useEffect(() => {
    confirmClosing(true);
    return () => confirmClosing(false);
  }, []);

  const delivery = options.data?.delivery.find((d) => d.id === method);
  const itemsTotal = cart.data?.total.amount ?? 0;
  const currency = cart.data?.total.currency ?? options.data?.currency ?? 'RUB';
  const total = orderTotal(delivery, itemsTotal);

  const body: CheckoutRequest = {
    contact: {
      name: name.trim(),
      phone: normalizePhone(phone) ?? phone.trim(),
      ...(email.trim() ? { email: email.trim() } : {}),
    },
    delivery: delivery?.needs_address
      ? { method, address: address.trim() }
      : delivery?.pickup_points.length
        ? { method, pickup_point: pickup }
        : { method },
    payment_method: payment,
    ...(comment.trim() ? { comment: comment.trim() } : {}),
    ...(options.data?.coupons && coupon.trim() ? { coupon: coupon.trim() } : {}),
  };
  const bodyKey = JSON.stringify(body);
  const key = useMemo(() => newIdempotencyKey(), [bodyKey]);

  const place = useMutation({
    mutationFn: () => api.placeOrder(body, key),
    retry: (count, e) => e instanceof ApiError && e.transient && count < 3,
    onSuccess: (order) => {
      haptic('success');
      confirmClosing(false);
      qc.setQueryData(['order', order.id], order);
      void qc.invalidateQueries({ queryKey: ['cart'] });
      void qc.invalidateQueries({ queryKey: ['orders'] });
      navigate(`/orders/${order.id}?placed=1`, { replace: true });
    },
    onError: (e) => {
      haptic('error');
      if (e instanceof ApiError && e.problem?.errors) {
        setErrors(Object.fromEntries(e.problem.errors.map((f) => {
          const text = tk(`field.${f.code}`);
          return [f.field, text === f.code ? f.message : text];
        })));
      }
    },
  });

  const validate = (): boolean => {
    const e: Errors = {};
    if (!body.contact.name) e['contact.name'] = t('field.required');
    if (!normalizePhone(phone)) e['contact.phone'] = t('field.invalid_phone');
    if (delivery?.needs_address && !address.trim()) e['delivery.address'] = t('field.required');
    setErrors(e);
    if (Object.keys(e).length) haptic('error');
    return Object.keys(e).length === 0;
  };
  const submit = () => {
    if (place.isPending) return;
    if (validate()) place.mutate();
  };
  useEffect(() => {
    if (!cart.data || cart.data.lines.length === 0) {
      setMainAction(null);
      return;
    }
    setMainAction({
      text: t('placeOrder')(formatPrice(total, currency)),
      onClick: submit,
      loading: place.isPending,
    });
  });
  useEffect(() => () => setMainAction(null), []);

  if (options.isError) return <ErrorState error={options.error} onRetry={() => void options.refetch()} />;
  if (!options.data || !cart.data) return <div className="screen"><div className="line shimmer" /></div>;
  const clear = (f: string) =>
    setErrors((e) => {
      if (!(f in e)) return e;
      const { [f]: _gone, ...rest } = e;
      return rest;
    });
  const err = (f: string) => (errors[f] ? <div className="field-error" role="alert">{errors[f]}</div> : null);

  return (
    <form
      className="screen form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h1 className="title">{t('order')}</h1>
      <RetryBanner failures={place.failureCount} />
      {Object.keys(errors).length ? <div className="warn" role="alert">{t('fixErrors')}</div> : null}
      <label>
        {t('name')}
        <input name="name" value={name} autoComplete="name" onChange={(e) => { setName(e.target.value); clear('contact.name'); }} aria-invalid={!!errors['contact.name']} />
      </label>
      {err('contact.name')}
      <label>
        {t('phone')}
        <input
          name="phone"
          type="tel"
          inputMode="tel"
          autoComplete="tel"
          placeholder="+7 999 123-45-67"
          value={phone}
          onChange={(e) => { setPhone(e.target.value); clear('contact.phone'); }}
          aria-invalid={!!errors['contact.phone']}
        />
      </label>
      {telegramHas('requestPhone') ? (
        <button type="button" className="link" onClick={() => void askPhone().then((p) => p && setPhone(p))}>
          {t('sharePhone')}
        </button>
      ) : null}
      {err('contact.phone')}
      <fieldset>
        <legend>{t('delivery')}</legend>
        {options.data.delivery.map((d) => (
          <label key={d.id} className="radio">
            <input type="radio" name="delivery" checked={method === d.id} onChange={() => { setMethod(d.id); setPickup(d.pickup_points[0] ?? ''); }} />
            <span>{d.name}</span>
            <span className="hint">
              {deliveryPrice(d, itemsTotal) === 0 ? t('free') : formatPrice(d.price, currency)}
              {d.free_from != null && deliveryPrice(d, itemsTotal) > 0 ? ` · ${t('freeFrom')(formatPrice(d.free_from, currency))}` : ''}
            </span>
          </label>
        ))}
      </fieldset>
      {delivery?.needs_address ? (
        <label>
          {t('address')}
          <textarea name="address" rows={2} value={address} autoComplete="street-address" onChange={(e) => { setAddress(e.target.value); clear('delivery.address'); }} aria-invalid={!!errors['delivery.address']} />
        </label>
      ) : null}
      {err('delivery.address')}
      {delivery && !delivery.needs_address && delivery.pickup_points.length > 0 ? (
        <label>
          {t('pickupPoint')}
          <select value={pickup} onChange={(e) => setPickup(e.target.value)}>
            {delivery.pickup_points.map((p) => <option key={p}>{p}</option>)}
          </select>
        </label>
      ) : null}
      {err('delivery.pickup_point')}
      <label>
        {t('email')}
        <input
          name="email"
          type="email"
          inputMode="email"
          autoComplete="email"
          value={email}
          onChange={(e) => { setEmail(e.target.value); clear('contact.email'); }}
          aria-invalid={!!errors['contact.email']}
        />
      </label>
      {err('contact.email')}
      <label>
        {t('comment')}
        <textarea name="comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
      </label>
      {options.data.coupons ? (
        <>
          <label>
            {t('coupon')}
            <input
              name="coupon"
              autoCapitalize="characters"
              value={coupon}
              onChange={(e) => { setCoupon(e.target.value); clear('coupon'); }}
              aria-invalid={!!errors['coupon']}
            />
          </label>
          {err('coupon')}
        </>
      ) : null}
      <fieldset>
        <legend>{t('payment')}</legend>
        {options.data.payment_methods.map((m) => (
          <label key={m} className="radio">
            <input type="radio" name="payment" checked={payment === m} onChange={() => setPayment(m)} />
            <span>{tk(`payment.${m}`)}</span>
          </label>
        ))}
        {!options.data.payment_methods.some((m) => m !== 'on_receipt') ? <div className="hint">{t('onlinePaymentNote')}</div> : null}
        {payment !== 'on_receipt' && options.data.payment_hold_seconds > 0 ? (
          <div className="hint" data-testid="payment-hold">
            {t('payWithin')(Math.round(options.data.payment_hold_seconds / 60))}
          </div>
        ) : null}
      </fieldset>
      <div className="totals">
        <span>{t('items')}</span>
        <span>{formatPrice(itemsTotal, currency)}</span>
      </div>
      <div className="totals">
        <span>{t('delivery')}</span>
        <span>{deliveryPrice(delivery, itemsTotal) === 0 ? t('free') : formatPrice(deliveryPrice(delivery, itemsTotal), currency)}</span>
      </div>
      <div className="totals strong">
        <span>{t('total')}</span>
        <span data-testid="checkout-total">{formatPrice(total, currency)}</span>
      </div>
      {place.isError && !(place.error instanceof ApiError && place.error.problem?.errors) ? (
        <div className="warn" role="alert" data-testid="checkout-error">{problemText(place.error)}</div>
      ) : null}
      {isTelegram() ? null : <button type="submit" hidden />}
    </form>
  );
}
