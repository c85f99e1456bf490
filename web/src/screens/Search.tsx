// The search box with suggestions as you type; Enter or a suggestion opens results or a product.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '../api';
import { t } from '../i18n';
import { navigate } from '../router';
import { Price, Thumb } from '../ui';

function useDebounced(value: string, ms: number): string {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

export function SearchBox({ initial }: { initial: string }) {
  const [text, setText] = useState(initial);
  const [open, setOpen] = useState(false);
  useEffect(() => setText(initial), [initial]);
  const q = useDebounced(text.trim(), 150);
  const suggest = useQuery({
    queryKey: ['suggest', q],
    queryFn: () => api.suggest(q),
    enabled: open && q.length >= 2,
    staleTime: 60_000,
    retry: 1,
  });
  const submit = () => {
    setOpen(false);
    if (text.trim()) navigate(`/search?q=${encodeURIComponent(text.trim())}`);
  };
  return (
    <div className="search">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          (document.activeElement as HTMLElement | null)?.blur();
          submit();
        }}
      >
        <input
          type="search"
          enterKeyHint="search"
          placeholder={t('search')}
          aria-label={t('search')}
          value={text}
          onFocus={() => setOpen(true)}
          onBlur={() => setTimeout(() => setOpen(false), 200)}
          onChange={(e) => {
            setText(e.target.value);
            setOpen(true);
          }}
        />
      </form>
      {open && q.length >= 2 && suggest.data && suggest.data.length > 0 ? (
        <ul className="suggest" role="listbox" aria-label={t('suggestions')}>
          {suggest.data.map((s) => (
            <li key={s.id} role="option" aria-selected="false">
              <button
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => {
                  setOpen(false);
                  navigate(`/product/${encodeURIComponent(s.id)}`);
                }}
              >
                <Thumb src={s.image ?? null} alt="" size={160} />
                <span className="suggest-name">{s.name}</span>
                {s.price ? <Price amount={s.price.amount} currency={s.price.currency} /> : null}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
