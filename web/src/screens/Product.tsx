// A product card: swipeable gallery, a variant picker that offers only combinations that exist
// and are in stock, quantity, and add-to-cart on the main button.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import {
  api,
  request,
  type AlertKind,
  type ClientEvent,
  type Offer,
  type Product as ProductT,
  type Subscriptions,
} from '../api';
import { productLink } from '../deeplink';
import { HeartButton } from '../favorites';
import { formatPrice, t } from '../i18n';
import { navigate } from '../router';
import { haptic, setMainAction, shareProduct } from '../telegram';
import { ErrorState, Price, problemText, RetryBanner, Stepper, sized } from '../ui';

type Selection = Record<string, string>;

function dimensions(offers: Offer[]): { name: string; values: string[] }[] {
  const dims: { name: string; values: string[] }[] = [];
  for (const o of offers) {
    for (const c of o.characteristics) {
      let d = dims.find((x) => x.name === c.name);
      if (!d) dims.push((d = { name: c.name, values: [] }));
      if (!d.values.includes(c.value)) d.values.push(c.value);
    }
  }
  return dims;
}

const valueOf = (o: Offer, name: string) => o.characteristics.find((c) => c.name === name)?.value;

/** Whether choosing `value` for `dim`, keeping the other choices, leads to an offer in stock. */
export function available(offers: Offer[], sel: Selection, dim: string, value: string): boolean {
  return offers.some(
    (o) =>
      o.in_stock &&
      valueOf(o, dim) === value &&
      Object.entries(sel).every(([d, v]) => d === dim || valueOf(o, d) === v),
  );
}

function chosen(offers: Offer[], sel: Selection, dims: number): Offer | undefined {
  return offers.find(
    (o) =>
      o.characteristics.length === dims &&
      Object.entries(sel).length === dims &&
      Object.entries(sel).every(([d, v]) => valueOf(o, d) === v),
  );
}

/** Tells the server a product card was opened (the desk's funnel counts these). Fire and
 * forget: whatever happens to it, the card is not held up and shows no error. */
function recordView(id: string): void {
  const event: ClientEvent = { kind: 'product_view', product_id: id };
  request('POST', '/api/v1/events', event).catch(() => undefined);
}

export function Product({ id }: { id: string }) {
  const product = useQuery({ queryKey: ['product', id], queryFn: () => api.product(id) });
  // Once per card opened (StrictMode's second effect run in development keeps the ref).
  const viewed = useRef<string | null>(null);
  useEffect(() => {
    if (viewed.current === id) return;
    viewed.current = id;
    recordView(id);
  }, [id]);
  if (product.isPending) return <div className="screen"><div className="gallery shimmer" /></div>;
  if (product.isError) return <ErrorState error={product.error} onRetry={() => void product.refetch()} />;
  return (
    <>
      <RetryBanner failures={product.failureCount} />
      <ProductView p={product.data} />
    </>
  );
}

function ProductView({ p }: { p: ProductT }) {
  const qc = useQueryClient();
  const dims = useMemo(() => dimensions(p.offers), [p.offers]);
  const [sel, setSel] = useState<Selection>(() => {
    const first = p.offers.find((o) => o.in_stock) ?? p.offers[0];
    return Object.fromEntries((first?.characteristics ?? []).map((c) => [c.name, c.value]));
  });
  const offer = dims.length === 0 ? p.offers[0] : chosen(p.offers, sel, dims.length);
  const [qty, setQty] = useState(1);
  const [added, setAdded] = useState(false);
  useEffect(() => {
    setQty(1);
    setAdded(false);
  }, [offer?.id]);
  const max = offer?.stock ?? null;
  const add = useMutation({
    mutationFn: () => api.addToCart(offer?.id ?? '', qty),
    onSuccess: (cart) => {
      qc.setQueryData(['cart'], cart);
      haptic('add');
      setAdded(true);
    },
    onError: () => haptic('error'),
  });
  const price = offer?.price ?? p.price;
  // The bot's username, for the share link (the same query the order screen uses).
  const options = useQuery({ queryKey: ['checkout-options'], queryFn: api.checkoutOptions, staleTime: 300_000 });
  useEffect(() => {
    if (added) {
      setMainAction({ text: t('toCart'), onClick: () => navigate('/cart') });
    } else if (offer?.in_stock && price) {
      setMainAction({
        text: `${t('addToCart')} · ${formatPrice(price.amount * qty, price.currency)}`,
        onClick: () => add.mutate(),
        loading: add.isPending,
      });
    } else {
      setMainAction(null);
    }
  }, [added, offer?.id, offer?.in_stock, price?.amount, qty, add.isPending]);
  useEffect(() => () => setMainAction(null), []);

  return (
    <div className="screen product">
      {/* Focusable, so the pictures scroll with the arrow keys too. */}
      <div className="gallery" role="region" aria-label={p.name} tabIndex={0}>
        {p.images.length === 0 ? <div className="slide thumb-empty" /> : null}
        {p.images.map((img, i) => (
          <img
            key={img.large}
            className="slide"
            src={sized(img.thumb, 640)}
            srcSet={`${sized(img.thumb, 640)} 640w, ${img.large} 1080w`}
            sizes="100vw"
            alt={`${p.name} ${i + 1}`}
            width={640}
            height={640}
            loading={i === 0 ? 'eager' : 'lazy'}
            decoding="async"
          />
        ))}
      </div>
      {p.images.length > 1 ? <div className="dots">{p.images.map((i) => <span key={i.large} />)}</div> : null}
      <div className="title-row">
        <h1 className="title">{p.name}</h1>
        <HeartButton product={{ id: p.id, name: p.name, image: p.images[0]?.thumb ?? null }} />
        <button
          type="button"
          className="icon share"
          aria-label={t('share')}
          title={t('share')}
          data-testid="share"
          onClick={() => shareProduct(p.name, productLink(p.id, options.data?.bot_username))}
        >
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <path d="M12 15V4 M7.5 8.5 12 4l4.5 4.5 M5 13v6h14v-6" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
        </button>
      </div>
      {price ? <div className="big-price"><Price amount={price.amount} currency={price.currency} old={offer ? offer.old_price : p.old_price} /></div> : null}
      {dims.map((d) => (
        <fieldset key={d.name} className="variants">
          <legend>{d.name}</legend>
          {d.values.map((v) => {
            const ok = available(p.offers, sel, d.name, v);
            return (
              <button
                key={v}
                className={`variant${sel[d.name] === v ? ' on' : ''}`}
                aria-pressed={sel[d.name] === v}
                disabled={!ok}
                onClick={() => {
                  haptic('select');
                  setSel({ ...sel, [d.name]: v });
                }}
              >
                {v}
              </button>
            );
          })}
        </fieldset>
      ))}
      {offer && !offer.in_stock ? <div className="warn">{t('outOfStock')}</div> : null}
      {offer ? <Alerts offerId={offer.id} inStock={offer.in_stock} /> : null}
      {offer?.in_stock ? (
        <div className="row">
          <Stepper value={qty} max={max} label={t('items')} onChange={(n) => setQty(Math.max(1, n))} />
          {max !== null && max <= 5 ? <span className="hint">{t('left')(max)}</span> : null}
        </div>
      ) : null}
      {add.isError ? <div className="warn" role="alert">{problemText(add.error)}</div> : null}
      {added ? <div className="ok" role="status">{t('added')}</div> : null}
      {p.properties.length > 0 ? (
        <section>
          <h2>{t('properties')}</h2>
          <dl className="props">
            {p.properties.map((pr) => (
              <div key={pr.name}>
                <dt>{pr.name}</dt>
                <dd>{pr.values.join(', ')}</dd>
              </div>
            ))}
          </dl>
        </section>
      ) : null}
      {p.description ? <p className="description">{p.description}</p> : null}
    </div>
  );
}

/** «Сообщить о поступлении» (an offer out of stock) and «Сообщить о снижении цены». */
function Alerts({ offerId, inStock }: { offerId: string; inStock: boolean }) {
  const qc = useQueryClient();
  const subs = useQuery({ queryKey: ['subscriptions'], queryFn: api.subscriptions, staleTime: 60_000 });
  const toggle = useMutation({
    mutationFn: async ({ kind, id }: { kind: AlertKind; id: number | null }) => {
      if (id !== null) await api.unsubscribe(id);
      else await api.subscribe(offerId, kind);
    },
    onSuccess: () => haptic('success'),
    onError: () => haptic('error'),
    onSettled: () => void qc.invalidateQueries({ queryKey: ['subscriptions'] }),
  });
  const open = (kind: AlertKind) =>
    (subs.data as Subscriptions | undefined)?.items.find((x) => x.offer_id === offerId && x.kind === kind) ?? null;
  const kinds: AlertKind[] = inStock ? ['price_drop'] : ['back_in_stock', 'price_drop'];
  return (
    <div className="alerts">
      {kinds.map((kind) => {
        const sub = open(kind);
        const busy = subs.isPending || (toggle.isPending && toggle.variables?.kind === kind);
        const label =
          kind === 'back_in_stock'
            ? sub ? t('notifyStockOn') : t('notifyStock')
            : sub ? t('notifyPriceOn') : t('notifyPrice');
        return (
          <button
            key={kind}
            type="button"
            className={`alert-toggle${sub ? ' on' : ''}`}
            aria-pressed={sub !== null}
            data-testid={`alert-${kind}`}
            disabled={busy || subs.isError}
            onClick={() => toggle.mutate({ kind, id: sub?.id ?? null })}
          >
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
              <path d="M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15zM10 20.5h4" fill={sub ? 'currentColor' : 'none'} stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
            </svg>
            {label}
          </button>
        );
      })}
      {toggle.isError ? <div className="warn" role="alert">{problemText(toggle.error)}</div> : null}
    </div>
  );
}
