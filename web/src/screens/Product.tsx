// A product card: swipeable gallery, a variant picker that offers only combinations that exist
// and are in stock, quantity, and add-to-cart on the main button.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, request, type ClientEvent, type Offer, type Product as ProductT } from '../api';
import { formatPrice, t } from '../i18n';
import { navigate } from '../router';
import { haptic, setMainAction } from '../telegram';
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
      <div className="gallery" role="region" aria-label={p.name}>
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
      <h1 className="title">{p.name}</h1>
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
