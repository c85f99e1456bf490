// Home, a section and search results: section chips, sort, a filter sheet with facet counts,
// and a product grid that loads the next page as it scrolls into view.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { api, type Facet, type ProductSummary, type SectionNode } from '../api';
import { t, tk } from '../i18n';
import { revealApp } from '../prerender';
import { navigate } from '../router';
import { haptic } from '../telegram';
import { Empty, ErrorState, Price, RetryBanner, SkeletonGrid, Thumb } from '../ui';
import { HeartButton } from '../favorites';
import { SearchBox } from './Search';

const SORTS = ['popular', 'price_asc', 'price_desc', 'new', 'name'] as const;

function findSection(nodes: SectionNode[], id: string): SectionNode | null {
  for (const n of nodes) {
    if (n.id === id) return n;
    const inner = findSection(n.children, id);
    if (inner) return inner;
  }
  return null;
}

export function Catalog({ section, q }: { section?: string; q?: string }) {
  const [sort, setSort] = useState<string>(q ? '' : 'popular');
  const [filters, setFilters] = useState<Record<string, string[]>>({});
  const [inStock, setInStock] = useState(false);
  const [sheet, setSheet] = useState(false);
  useEffect(() => {
    setFilters({});
    setInStock(false);
    setSort(q ? '' : 'popular');
  }, [section, q]);

  const sections = useQuery({ queryKey: ['sections'], queryFn: api.sections, staleTime: 60_000 });
  const current = section && sections.data ? findSection(sections.data, section) : null;
  const chips = section ? (current?.children ?? []) : (sections.data ?? []);

  const params = { section, q, sort: sort || undefined, filters, in_stock: inStock };
  const list = useInfiniteQuery({
    queryKey: ['products', params],
    queryFn: ({ pageParam }) => api.products({ ...params, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const first = list.data?.pages[0];
  // The grid index.html pre-drew stays until this screen has its own answer to show.
  useLayoutEffect(() => {
    if (!list.isPending) revealApp();
  }, [list.isPending]);
  useEffect(() => revealApp, []);
  const facets: Facet[] = first?.facets ?? [];
  const items: ProductSummary[] = useMemo(
    () => list.data?.pages.flatMap((p) => p.items) ?? [],
    [list.data],
  );
  const activeFilters = Object.values(filters).reduce((n, v) => n + v.length, 0) + (inStock ? 1 : 0);

  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el) return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && list.hasNextPage && !list.isFetchingNextPage) {
          void list.fetchNextPage();
        }
      },
      { rootMargin: '600px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [list.hasNextPage, list.isFetchingNextPage, list.fetchNextPage]);

  return (
    <div className="screen">
      {section ? <h1 className="title">{current?.name ?? ''}</h1> : null}
      {!section ? <SearchBox initial={q ?? ''} /> : null}
      {chips.length > 0 && !q ? (
        <nav className="chips" aria-label={t('catalog')}>
          {chips.map((s) => (
            <button
              key={s.id}
              className="chip"
              onClick={() => navigate(`/section/${encodeURIComponent(s.id)}`)}
            >
              {s.name} <span className="count">{s.product_count}</span>
            </button>
          ))}
        </nav>
      ) : null}
      <div className="toolbar">
        <select
          aria-label={t('sort')}
          value={sort}
          onChange={(e) => {
            haptic('select');
            setSort(e.target.value);
          }}
        >
          {q ? <option value="">{t('search')}</option> : null}
          {SORTS.map((s) => (
            <option key={s} value={s}>
              {tk(`sort.${s}`)}
            </option>
          ))}
        </select>
        <button className="btn-secondary" onClick={() => setSheet(true)} data-testid="open-filters">
          {t('filters')}
          {activeFilters ? ` · ${activeFilters}` : ''}
        </button>
      </div>
      <RetryBanner failures={list.failureCount} />
      {first ? <div className="hint total">{t('found')(first.total)}</div> : null}
      {list.isPending ? (
        <SkeletonGrid />
      ) : list.isError && items.length === 0 ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <Empty title={t('nothing')} hint={t('nothingHint')} />
      ) : (
        <div className="grid" data-testid="grid">
          {items.map((p) => (
            <ProductCard key={p.id} p={p} />
          ))}
        </div>
      )}
      {list.isFetchingNextPage ? <SkeletonGrid n={2} /> : null}
      <div ref={sentinel} className="sentinel" />
      {sheet ? (
        <FilterSheet
          facets={facets}
          filters={filters}
          inStock={inStock}
          total={first?.total ?? 0}
          onChange={(f, s) => {
            setFilters(f);
            setInStock(s);
          }}
          onClose={() => setSheet(false)}
        />
      ) : null}
    </div>
  );
}

function ProductCard({ p }: { p: ProductSummary }) {
  // The heart sits beside the link, not inside it (a button in a link is not operable alone).
  return (
    <div className="card-wrap">
      <a
        className="card"
        href={`/product/${encodeURIComponent(p.id)}`}
        onClick={(e) => {
          e.preventDefault();
          navigate(`/product/${encodeURIComponent(p.id)}`);
        }}
      >
        <Thumb src={p.image ?? null} alt={p.name} />
        <div className="card-name">{p.name}</div>
        {p.price ? (
          <Price amount={p.price.amount} currency={p.price.currency} from={p.price_max != null} old={p.old_price} />
        ) : null}
        {!p.in_stock ? <div className="hint">{t('outOfStock')}</div> : null}
      </a>
      <HeartButton product={{ id: p.id, name: p.name, image: p.image }} className="on-card" />
    </div>
  );
}

function FilterSheet({
  facets,
  filters,
  inStock,
  total,
  onChange,
  onClose,
}: {
  facets: Facet[];
  filters: Record<string, string[]>;
  inStock: boolean;
  total: number;
  onChange: (f: Record<string, string[]>, inStock: boolean) => void;
  onClose: () => void;
}) {
  const toggle = (facet: string, value: string) => {
    haptic('select');
    const now = filters[facet] ?? [];
    const next = now.includes(value) ? now.filter((v) => v !== value) : [...now, value];
    const f = { ...filters, [facet]: next };
    if (next.length === 0) delete f[facet];
    onChange(f, inStock);
  };
  return (
    <div className="sheet-backdrop" onClick={onClose}>
      <div className="sheet" role="dialog" aria-label={t('filters')} onClick={(e) => e.stopPropagation()}>
        <div className="sheet-head">
          <h2>{t('filters')}</h2>
          <button className="link" onClick={() => onChange({}, false)}>
            {t('reset')}
          </button>
        </div>
        <label className="check">
          <input type="checkbox" checked={inStock} onChange={(e) => onChange(filters, e.target.checked)} />
          {t('inStock')}
        </label>
        {facets.map((f) => (
          <fieldset key={f.id} className="facet">
            <legend>{f.name}</legend>
            {f.values.map((v) => (
              <label key={v.value} className="check">
                <input
                  type="checkbox"
                  checked={(filters[f.id] ?? []).includes(v.value)}
                  onChange={() => toggle(f.id, v.value)}
                />
                {v.value} <span className="count">{v.count}</span>
              </label>
            ))}
          </fieldset>
        ))}
        <button className="btn wide" onClick={onClose} data-testid="apply-filters">
          {t('apply')} · {t('found')(total)}
        </button>
      </div>
    </div>
  );
}
