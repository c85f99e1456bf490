import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, api, setAuthorization } from './api';
import { App } from './App';
import { ErrorBoundary } from './boundary';
import { pathFor, parseStartParam } from './deeplink';
import { pickLang, setLang } from './i18n';
import { revealApp } from './prerender';
import { navigate } from './router';
import { launch } from './telegram';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A phone on a bad network: retry what can succeed later, with backoff, and show it.
      retry: (count, error) => error instanceof ApiError && error.transient && count < 4,
      // A 429 or 503 says when: wait that long (capped) instead of guessing.
      retryDelay: (n, error) =>
        error instanceof ApiError && error.retryAfter
          ? Math.min(30_000, error.retryAfter * 1000)
          : Math.min(8000, 500 * 2 ** n),
      staleTime: 30_000,
      refetchOnWindowFocus: false,
    },
    mutations: { retry: false },
  },
});

async function start(): Promise<void> {
  const l = launch();
  setLang(pickLang(l.languageCode));
  let demo = false;
  if (l.initData) {
    // From Telegram, whether or not its SDK could run here: the server checks initData.
    setAuthorization(`tma ${l.initData}`);
  } else {
    // Outside Telegram: the server's dev sign-in (only in demo mode) signs initData for a guest.
    try {
      // `?dev_user=<id>` signs in as another demo customer (each browser test uses its own).
      const id = Number(new URLSearchParams(location.search).get('dev_user')) || 1001;
      const dev = await api.devInitData(pickLang(l.languageCode), id);
      setAuthorization(dev.authorization);
      demo = true;
    } catch {
      // Not a demo server and not in Telegram: the catalog still works; the cart will say why.
    }
  }
  const deep = pathFor(parseStartParam(l.startParam));
  if (deep && location.pathname === '/') navigate(deep, { replace: true });
  const root = document.getElementById('root');
  if (!root) return;
  createRoot(root).render(
    <StrictMode>
      <ErrorBoundary>
        <QueryClientProvider client={queryClient}>
          <App demo={demo} />
        </QueryClientProvider>
      </ErrorBoundary>
    </StrictMode>,
  );
  // The pre-drawn home grid belongs to the home screen only; and whatever happens, it never
  // outstays the app for long.
  if (location.pathname !== '/') revealApp();
  setTimeout(revealApp, 5000);
}

start().catch((error: unknown) => {
  // Nothing before the first render may leave the customer on the pre-drawn grid.
  console.error('vitrina: start failed', error);
  revealApp();
  const root = document.getElementById('root');
  if (root) {
    createRoot(root).render(
      <ErrorBoundary reload>
        <Thrower error={error} />
      </ErrorBoundary>,
    );
  }
});

function Thrower({ error }: { error: unknown }): null {
  throw error instanceof Error ? error : new Error(String(error));
}
