import { useEffect, useState } from 'preact/hooks';

// A few clean-path routes; the server answers index.html for any non-API path.
export interface Route {
  page: 'list' | 'dag' | 'notfound';
  dagId?: string;
  tab?: 'graph' | 'grid' | 'gantt' | 'runs' | 'code';
  query: URLSearchParams;
}

const TABS = ['graph', 'grid', 'gantt', 'runs', 'code'] as const;

export function parseRoute(path: string, search: string): Route {
  const query = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts[0] === 'dags' && parts.length === 1)) return { page: 'list', query };
  if (parts[0] === 'dags' && parts[1]) {
    const tab = (parts[2] ?? 'graph') as Route['tab'];
    if (!TABS.includes(tab as (typeof TABS)[number])) return { page: 'notfound', query };
    return { page: 'dag', dagId: parts[1], tab, query };
  }
  return { page: 'notfound', query };
}

const listeners = new Set<() => void>();

export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((fn) => fn());
}

/** The current URL with some query keys set (null/'' removes them). */
export function withQuery(changes: Record<string, string | number | null | undefined>, path = location.pathname): string {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function dagUrl(dagId: string, tab: string, query: Record<string, string | number | null | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return `/dags/${encodeURIComponent(dagId)}/${tab}${s ? `?${s}` : ''}`;
}

export function useRoute(): Route {
  const [, setTick] = useState(0);
  useEffect(() => {
    const fn = () => setTick((t) => t + 1);
    listeners.add(fn);
    addEventListener('popstate', fn);
    return () => { listeners.delete(fn); removeEventListener('popstate', fn); };
  }, []);
  return parseRoute(location.pathname, location.search);
}

/** onClick for <a href> that keeps plain clicks inside the app and lets ctrl/middle-click open tabs. */
export function linkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.currentTarget as HTMLAnchorElement);
  if (a.target || a.origin !== location.origin) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}
