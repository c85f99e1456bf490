// The staff desk: the Mini App's second face, opened with `startapp=desk` (or
// `desk_order_<id>`). Loaded as its own chunk, so customers never download it. Who may use it,
// and what they may do, the server decides (`GET /api/v1/staff/me`); the desk only hides
// what the role cannot do.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ApiError } from '../api';
import { t } from '../i18n';
import { canGoBack, navigate, useRoute } from '../router';
import { isTelegram, onFallbackMainAction, setBackAction, telegramHas, type MainAction } from '../telegram';
import { ErrorState } from '../ui';
import { deskApi } from './api';
import { deskRoute } from './logic';
import { OrderDetail } from './OrderDetail';
import { OrdersList } from './OrdersList';
import { Summary } from './Summary';
import { d } from './texts';
import './desk.css';

/** Back from an order: to the list it was opened from, or to the list when opened by a link. */
export function deskBack(): void {
  if (canGoBack()) history.back();
  else navigate('/desk', { replace: true });
}

export function Desk({ demo }: { demo: boolean }) {
  const { path } = useRoute();
  const route = deskRoute(path);
  const me = useQuery({ queryKey: ['staff-me'], queryFn: deskApi.me, staleTime: 300_000 });
  const [main, setMain] = useState<MainAction | null>(null);
  useEffect(() => onFallbackMainAction(setMain), []);
  const inOrder = route.screen === 'order';
  useEffect(() => setBackAction(inOrder ? deskBack : null), [inOrder]);
  useEffect(() => {
    const shop = document.title;
    document.title = d('desk');
    return () => {
      document.title = shop;
    };
  }, []);

  let body;
  if (me.isPending) {
    body = (
      <div className="screen" aria-busy="true" aria-label={t('loading')}>
        <div className="line shimmer" />
        <div className="line short shimmer" />
      </div>
    );
  } else if (me.isError) {
    // A customer (403 `forbidden`) gets a clear answer, not an error.
    const forbidden = me.error instanceof ApiError && me.error.status === 403;
    body = forbidden ? (
        <NotStaff />
      ) : (
        <ErrorState error={me.error} onRetry={() => void me.refetch()} />
      );
  } else if (route.screen === 'order') {
    body = <OrderDetail id={route.id} me={me.data} />;
  } else if (route.screen === 'summary') {
    body = <Summary />;
  } else {
    body = <OrdersList me={me.data} />;
  }

  const staff = me.isSuccess;
  return (
    <div className={`app desk${main && !isTelegram() ? ' with-main' : ''}`} data-testid="desk">
      {demo ? <div className="demo-banner">{t('demoBanner')}</div> : null}
      <div className="desk-bar">
      <header className="header">
        {!telegramHas('backButton') && inOrder ? (
          <>
            <button className="icon" aria-label={t('back')} onClick={deskBack} data-testid="back">
              ‹
            </button>
            <span className="brand">{d('desk')}</span>
          </>
        ) : (
          <span className="brand">{d('desk')}</span>
        )}
        <span className="spacer" />
        {staff && me.data.role === 'viewer' ? (
          <span className="desk-role" data-testid="read-only">
            {d('readOnly')}
          </span>
        ) : null}
      </header>
      {staff && !inOrder ? (
        <nav className="desk-tabs" aria-label={d('desk')}>
          <TabLink to="/desk" current={route.screen === 'orders'} label={d('orders')} id="tab-orders" />
          <TabLink to="/desk/summary" current={route.screen === 'summary'} label={d('summary')} id="tab-summary" />
        </nav>
      ) : null}
      </div>
      <main>{body}</main>
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

function TabLink({ to, current, label, id }: { to: string; current: boolean; label: string; id: string }) {
  return (
    <button
      className={`desk-tab${current ? ' on' : ''}`}
      aria-current={current ? 'page' : undefined}
      data-testid={id}
      // Tabs replace each other in history, so Back from an order always lands on the list.
      onClick={() => (current ? undefined : navigate(to, { replace: true }))}
    >
      {label}
    </button>
  );
}

function NotStaff() {
  return (
    <div className="empty" role="alert" data-testid="not-staff">
      <svg viewBox="0 0 48 48" width="56" height="56" aria-hidden="true">
        <path
          d="M14 22v-6a10 10 0 0 1 20 0v6 M11 22h26v18H11z M24 29v5"
          fill="none"
          stroke="currentColor"
          strokeWidth="2.5"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      </svg>
      <div className="empty-title">{d('notStaff')}</div>
      <div className="hint">{d('notStaffHint')}</div>
      <button className="btn" onClick={() => navigate('/', { replace: true })} data-testid="to-shop">
        {d('toShop')}
      </button>
    </div>
  );
}
