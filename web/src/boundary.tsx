// The last line of defence: whatever a screen throws while rendering, the customer sees what
// happened and a button that tries again, never a blank or frozen page.
import { Component, type ErrorInfo, Fragment, type ReactNode } from 'react';
import { t } from './i18n';
import { revealApp } from './prerender';

interface State {
  error: Error | null;
  attempt: number;
}

/** A script chunk that did not arrive (a bad network): only a reload fetches it again. */
export function isChunkLoadError(error: unknown): boolean {
  const message = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return /dynamically imported module|Importing a module script failed|ChunkLoadError|Failed to fetch/i.test(message);
}

export class ErrorBoundary extends Component<{ children: ReactNode; reload?: boolean }, State> {
  override state: State = { error: null, attempt: 0 };

  static getDerivedStateFromError(error: Error): Partial<State> {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    // The pre-drawn grid must not stay in front of the message.
    revealApp();
    console.error('vitrina: a screen failed', error, info.componentStack);
  }

  retry = (): void => {
    if (this.props.reload || isChunkLoadError(this.state.error)) {
      location.reload();
      return;
    }
    this.setState((s) => ({ error: null, attempt: s.attempt + 1 }));
  };

  override render(): ReactNode {
    if (this.state.error) {
      return (
        <div className="empty" role="alert" data-testid="app-error">
          <div className="empty-title">{t('error')}</div>
          <div className="hint">{t('appFailed')}</div>
          <button className="btn" onClick={this.retry} data-testid="app-retry">
            {t('retry')}
          </button>
        </div>
      );
    }
    // A new key remounts the screens, so a retry starts them afresh.
    return <Fragment key={this.state.attempt}>{this.props.children}</Fragment>;
  }
}
