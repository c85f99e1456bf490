// The day at a glance: orders and revenue per day, average order, paid share, top products and
// the funnel from app opens to payment, for today, 7 or 30 days.
import { useQuery } from '@tanstack/react-query';
import { currentLang, formatPrice } from '../i18n';
import { navigate, useRoute } from '../router';
import { haptic } from '../telegram';
import { ErrorState, RetryBanner } from '../ui';
import { deskApi } from './api';
import { DayBars, ShareBar } from './charts';
import { compactMoney, fillDays, formatShare, funnelRows, type Preset, PRESETS, presetRange, shortDate } from './logic';
import { d } from './texts';
import type { Summary as SummaryT } from './types';

function isPreset(v: string | null): v is Preset {
  return v !== null && (PRESETS as string[]).includes(v);
}

export function Summary() {
  const { query } = useRoute();
  const raw = query.get('range');
  const preset: Preset = isPreset(raw) ? raw : 'week';
  const range = presetRange(preset);
  const summary = useQuery({
    queryKey: ['staff-summary', range.from, range.to],
    queryFn: () => deskApi.summary(range.from, range.to),
    staleTime: 60_000,
  });
  return (
    <div className="screen desk-summary">
      <div className="chips" role="group" aria-label={d('period')}>
        {PRESETS.map((p) => (
          <button
            key={p}
            className={`chip${p === preset ? ' on' : ''}`}
            aria-pressed={p === preset}
            data-testid={`range-${p}`}
            onClick={() => {
              haptic('select');
              navigate(`/desk/summary?range=${p}`, { replace: true });
            }}
          >
            {d(p)}
          </button>
        ))}
      </div>
      {summary.isPending ? (
        <div className="desk-stats" aria-busy="true">
          {[0, 1, 2, 3].map((i) => (
            <div key={i} className="desk-stat shimmer" />
          ))}
        </div>
      ) : summary.isError ? (
        <ErrorState error={summary.error} onRetry={() => void summary.refetch()} />
      ) : (
        <>
          <RetryBanner failures={summary.failureCount} />
          <SummaryView s={summary.data} />
        </>
      )}
    </div>
  );
}

function SummaryView({ s }: { s: SummaryT }) {
  const lang = currentLang();
  const days = fillDays(s, s.days, (date) => ({ date, orders: 0, revenue: 0, paid: 0 }));
  const labels = days.map((x) => shortDate(x.date, lang));
  const money = (v: number) => formatPrice(v, s.currency);
  const topMax = Math.max(1, ...s.top_products.map((p) => p.revenue));
  const funnel = funnelRows(s.funnel);
  return (
    <div data-testid="desk-summary">
      <div className="desk-stats">
        <Stat label={d('ordersCount')} value={String(s.orders)} testId="stat-orders" />
        <Stat label={d('revenue')} value={money(s.revenue)} testId="stat-revenue" />
        <Stat label={d('averageOrder')} value={money(s.currency === 'XTR' ? s.average_order : Math.round(s.average_order / 100) * 100)} testId="stat-average" />
        <Stat label={d('paidShare')} value={formatShare(s.paid_share, lang)} testId="stat-paid" />
      </div>
      {days.length > 1 ? (
        <>
          <DayBars
            title={d('ordersPerDay')}
            labels={labels}
            values={days.map((x) => x.orders)}
            format={(v) => String(v)}
            integer
            testId="chart-orders"
          />
          <DayBars
            title={d('revenuePerDay')}
            labels={labels}
            values={days.map((x) => x.revenue)}
            format={(v) => compactMoney(v, lang)}
            testId="chart-revenue"
          />
        </>
      ) : null}
      <section className="desk-card" aria-label={d('topProducts')}>
        <h2>{d('topProducts')}</h2>
        {s.top_products.length === 0 ? <div className="hint">{d('noSales')}</div> : null}
        <ol className="desk-top" data-testid="top-products">
          {s.top_products.map((p) => (
            <li key={p.product_id}>
              <div className="desk-top-line">
                <span className="desk-top-name">{p.name}</span>
                <span className="price">{money(p.revenue)}</span>
              </div>
              <ShareBar share={p.revenue / topMax} />
              <div className="hint">{d('pieces')(p.quantity)}</div>
            </li>
          ))}
        </ol>
      </section>
      <section className="desk-card" aria-label={d('funnel')}>
        <h2>{d('funnel')}</h2>
        <ol className="desk-funnel" data-testid="funnel">
          {funnel.map((r) => (
            <li key={r.step} data-testid={`funnel-${r.step}`}>
              <div className="desk-top-line">
                <span>{d(`funnel.${r.step}`)}</span>
                <span className="strong" data-testid="funnel-count">{r.count}</span>
              </div>
              <ShareBar share={r.ofFirst} />
              {r.ofPrevious !== null ? <div className="hint">{d('ofPrevious')(formatShare(r.ofPrevious, lang))}</div> : null}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="desk-stat" data-testid={testId}>
      <div className="hint">{label}</div>
      <div className="desk-stat-value">{value}</div>
    </div>
  );
}
