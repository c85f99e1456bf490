// The screens and the frame around them: header with the cart, Back (Telegram's BackButton or
// an in-page arrow), and the primary action (Telegram's MainButton or an in-page button).
import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useState } from 'react';
import { api } from './api';
import { t } from './i18n';
import { goBack, match, navigate, useRoute } from './router';
import { Catalog } from './screens/Catalog';
import { SkeletonGrid } from './ui';

// The catalog is the first paint; the other screens load when first opened.
const Product = lazy(() => import('./screens/Product').then((m) => ({ default: m.Product })));
const Cart = lazy(() => import('./screens/Cart').then((m) => ({ default: m.Cart })));
const Checkout = lazy(() => import('./screens/Checkout').then((m) => ({ default: m.Checkout })));
const Orders = lazy(() => import('./screens/Orders').then((m) => ({ default: m.Orders })));
const Favorites = lazy(() => import('./screens/Favorites').then((m) => ({ default: m.Favorites })));
const OrderView = lazy(() => import('./screens/Orders').then((m) => ({ default: m.OrderView })));
// The staff desk (`startapp=desk`): its own chunk, never loaded by a customer's first open.
const Desk = lazy(() => import('./desk/Desk').then((m) => ({ default: m.Desk })));
import { isTelegram, onFallbackMainAction, setBackAction, telegramHas, type MainAction } from './telegram';

function Screen() {
  const { path, query } = useRoute();
  let m: Record<string, string> | null;
  if (path === '/') return <Catalog />;
  if (path === '/search') return <Catalog q={query.get('q') ?? ''} />;
  if ((m = match('/section/:id', path))) return <Catalog section={m.id} />;
  if ((m = match('/product/:id', path))) return <Product id={m.id ?? ''} />;
  if (path === '/cart') return <Cart />;
  if (path === '/checkout') return <Checkout />;
  if (path === '/orders') return <Orders />;
  if (path === '/favorites') return <Favorites />;
  if ((m = match('/orders/:id', path))) {
    return <OrderView id={Number(m.id)} placed={query.has('placed')} repeat={query.has('repeat')} />;
  }
  return <Catalog />;
}

export function App({ demo }: { demo: boolean }) {
  const { path } = useRoute();
  if (path === '/desk' || path.startsWith('/desk/')) {
    return (
      <Suspense fallback={<div className="screen"><div className="line shimmer" /></div>}>
        <Desk demo={demo} />
      </Suspense>
    );
  }
  return <Shop demo={demo} />;
}

function Shop({ demo }: { demo: boolean }) {
  const { path } = useRoute();
  const home = path === '/';
  const cart = useQuery({ queryKey: ['cart'], queryFn: api.cart, staleTime: 10_000 });
  const [main, setMain] = useState<MainAction | null>(null);
  useEffect(() => onFallbackMainAction(setMain), []);
  useEffect(() => setBackAction(home ? null : goBack), [home]);
  const count = cart.data?.items ?? 0;

  return (
    <div className={`app${main && !isTelegram() ? ' with-main' : ''}`}>
      {demo ? <div className="demo-banner">{t('demoBanner')}</div> : null}
      <header className="header">
        {!telegramHas('backButton') && !home ? (
          <button className="icon" aria-label={t('back')} onClick={goBack} data-testid="back">
            ‹
          </button>
        ) : (
          <button className="brand" onClick={() => navigate('/')}>
            {t('catalog')}
          </button>
        )}
        <span className="spacer" />
        <button className="icon" aria-label={t('favorites')} onClick={() => navigate('/favorites')} data-testid="nav-favorites">
          <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
            <path d="M12 20.5s-7.5-4.6-9.3-9.2C1.4 8 3.4 4.5 7 4.5c2.1 0 3.6 1.2 5 3 1.4-1.8 2.9-3 5-3 3.6 0 5.6 3.5 4.3 6.8-1.8 4.6-9.3 9.2-9.3 9.2z" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
          </svg>
        </button>
        <button className="icon" aria-label={t('myOrders')} onClick={() => navigate('/orders')} data-testid="nav-orders">
          <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
            <path d="M5 4h14v16H5z M8 8h8 M8 12h8 M8 16h5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
          </svg>
        </button>
        <button className="icon cart-icon" aria-label={count > 0 ? `${t('cart')}: ${count}` : t('cart')} onClick={() => navigate('/cart')} data-testid="nav-cart">
          <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
            <path d="M3 4h2.5l2.2 11h10.1l2-8H7 M9.5 19.5a1 1 0 1 0 0 .01 M17 19.5a1 1 0 1 0 0 .01" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          {count > 0 ? <span className="badge" data-testid="cart-count">{count}</span> : null}
        </button>
      </header>
      <main>
        <Suspense fallback={<SkeletonGrid n={2} />}>
          <Screen />
        </Suspense>
      </main>
      {main && !isTelegram() ? (
        <button
          className="main-button"
          data-testid="main-button"
          disabled={main.enabled === false || main.loading}
          onClick={main.onClick}
        >
          {main.loading ? <span className="spinner" aria-label={t('loading')} /> : main.text}
        </button>
      ) : null}
    </div>
  );
}

