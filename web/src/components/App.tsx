import { useEffect, useState } from 'preact/hooks';
import { api, getToken, onAuthRequired } from '../lib/api.ts';
import { linkClick, navigate, useRoute } from '../lib/router.ts';
import type { Health } from '../lib/types.ts';
import { DagList } from './DagList.tsx';
import { DagPage } from './DagPage.tsx';
import { TokenPrompt } from './TokenPrompt.tsx';

const HEALTH_EVERY_MS = 15_000;

export function App() {
  const route = useRoute();
  const [health, setHealth] = useState<Health | null>(null);
  const [needToken, setNeedToken] = useState(false);
  const [authTick, setAuthTick] = useState(0);

  useEffect(() => onAuthRequired(() => setNeedToken(true)), []);
  useEffect(() => {
    let stop = false;
    const check = () => api<Health>('/health').then((h) => {
      if (stop) return;
      setHealth(h);
      if (h.authRequired && !getToken()) setNeedToken(true);
    }).catch(() => { if (!stop) setHealth(null); });
    check();
    const t = setInterval(check, HEALTH_EVERY_MS);
    return () => { stop = true; clearInterval(t); };
  }, []);
  useEffect(() => { if (location.pathname === '/') navigate('/dags', true); }, []);

  if (needToken) {
    return <TokenPrompt onDone={() => { setNeedToken(false); setAuthTick((t) => t + 1); }} />;
  }
  return (
    <div key={authTick}>
      <header class="topbar">
        <a class="brand" href="/dags" onClick={linkClick}>orch</a>
        <nav><a href="/dags" class={route.page === 'list' ? 'active' : ''} onClick={linkClick}>DAGs</a></nav>
        <span class="spacer" />
        {health && <span class="muted small">v{health.version}</span>}
      </header>
      {health && !health.schedulerAlive && (
        <div class="banner" role="status">
          No scheduler is running: triggered runs will wait until <code>orch scheduler</code> or <code>orch standalone</code> runs.
        </div>
      )}
      <main>
        {route.page === 'list' && <DagList />}
        {route.page === 'dag' && <DagPage dagId={route.dagId!} tab={route.tab!} query={route.query} />}
        {route.page === 'notfound' && <p class="muted">No such page. <a href="/dags" onClick={linkClick}>All DAGs</a></p>}
      </main>
    </div>
  );
}
