// Shared pieces: prices, images, skeletons, error and retry states, the stepper.
import type { ReactNode } from 'react';
import { ApiError } from './api';
import { formatPrice, known, t } from './i18n';

export function Price({
  amount,
  currency,
  from,
  old,
}: {
  amount: number;
  currency: string;
  from?: boolean;
  /** The price before a discount: shown struck through when above `amount`. */
  old?: number | null;
}) {
  return (
    <span className="price">
      {old != null && old > amount ? (
        <s className="old-price" aria-label={t('oldPrice')}>
          {formatPrice(old, currency)}
        </s>
      ) : null}
      {from ? `${t('from')} ` : ''}
      {formatPrice(amount, currency)}
    </span>
  );
}

/** A server thumbnail (`/images/<hash>/320x320.jpg`) at another of its sizes. */
export function sized(url: string, size: 160 | 320 | 640 | 1080): string {
  return url.replace(/\/\d+x\d+\.(\w+)$/, `/${size}x${size}.$1`);
}

export function Thumb({ src, alt, size = 320 }: { src: string | null; alt: string; size?: 160 | 320 }) {
  if (!src) return <div className="thumb thumb-empty" aria-hidden />;
  return (
    <img
      className="thumb"
      src={sized(src, size)}
      srcSet={`${sized(src, size)} 1x, ${sized(src, size === 160 ? 320 : 640)} 2x`}
      alt={alt}
      width={size}
      height={size}
      loading="lazy"
      decoding="async"
    />
  );
}

export function SkeletonGrid({ n = 6 }: { n?: number }) {
  return (
    <div className="grid" aria-busy="true" aria-label={t('loading')}>
      {Array.from({ length: n }, (_, i) => (
        <div key={i} className="card skeleton">
          <div className="thumb shimmer" />
          <div className="line shimmer" />
          <div className="line short shimmer" />
        </div>
      ))}
    </div>
  );
}

/** What went wrong, in the customer's words when vitrina knows the problem's code. */
export function problemText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return t('offline');
    const code = error.problem?.code;
    const words = code ? known(`problem.${code}`) : null;
    if (words) return words;
    return error.problem?.detail ?? error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const offline = error instanceof ApiError && error.status === 0;
  return (
    <div className="empty" role="alert">
      <div className="empty-title">{offline ? t('offline') : t('error')}</div>
      {error instanceof ApiError && !offline && (error.problem?.detail || error.problem?.code) ? (
        <div className="hint">{problemText(error)}</div>
      ) : null}
      <button className="btn" onClick={onRetry}>
        {t('retry')}
      </button>
    </div>
  );
}

/** Shown while a request is being retried after a failure. */
export function RetryBanner({ failures }: { failures: number }) {
  if (failures === 0) return null;
  return (
    <div className="banner" role="status">
      {t('offline')}. {t('retrying')}
    </div>
  );
}

export function Empty({ title, hint, children }: { title: string; hint?: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-title">{title}</div>
      {hint ? <div className="hint">{hint}</div> : null}
      {children}
    </div>
  );
}

export function Stepper({
  value,
  max,
  onChange,
  label,
}: {
  value: number;
  max?: number | null;
  onChange: (n: number) => void;
  label: string;
}) {
  return (
    <div className="stepper" aria-label={label}>
      <button aria-label="−" onClick={() => onChange(value - 1)} disabled={value <= 0}>
        −
      </button>
      <span data-testid="qty">{value}</span>
      <button
        aria-label="+"
        onClick={() => onChange(value + 1)}
        disabled={max !== null && max !== undefined && value >= max}
      >
        +
      </button>
    </div>
  );
}
