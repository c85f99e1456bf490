// The customer's favourites, newest first, with today's price and stock. A product that left
// the catalog (or has nothing for sale) stays in the list, marked unavailable.
import { useFavorites } from '../favorites';
import { HeartButton } from '../favorites';
import { t } from '../i18n';
import { navigate } from '../router';
import { Empty, ErrorState, Price, RetryBanner, Thumb } from '../ui';

export function Favorites() {
  const list = useFavorites();
  if (list.isPending) return <div className="screen"><div className="line shimmer" /></div>;
  if (list.isError) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  const items = list.data.items;
  return (
    <div className="screen">
      <h1 className="title">{t('favorites')}</h1>
      <RetryBanner failures={list.failureCount} />
      {items.length === 0 ? (
        <Empty title={t('favoritesEmpty')} hint={t('favoritesEmptyHint')}>
          <button className="btn" onClick={() => navigate('/')}>
            {t('catalog')}
          </button>
        </Empty>
      ) : null}
      <ul className="lines" data-testid="favorites">
        {items.map((f) => (
          <li key={f.product_id} className={`line-item${f.available ? '' : ' gone'}`} data-testid="favorite">
            <Thumb src={f.image ?? null} alt={f.name} size={160} />
            <div className="line-body">
              {f.available ? (
                <a
                  className="card-name fav-link"
                  href={`/product/${encodeURIComponent(f.product_id)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(`/product/${encodeURIComponent(f.product_id)}`);
                  }}
                >
                  {f.name}
                </a>
              ) : (
                <div className="card-name">{f.name}</div>
              )}
              {f.available && f.price ? <Price amount={f.price.amount} currency={f.price.currency} /> : null}
              {!f.available ? (
                <div className="hint" data-testid="unavailable">{t('favoriteUnavailable')}</div>
              ) : !f.in_stock ? (
                <div className="hint">{t('outOfStock')}</div>
              ) : null}
            </div>
            <HeartButton product={{ id: f.product_id, name: f.name, image: f.image }} />
          </li>
        ))}
      </ul>
    </div>
  );
}
