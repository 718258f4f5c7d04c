import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { api, enc, errorText } from '../lib/api.ts';
import { useEvents } from '../lib/events.ts';
import { dateTime, relative } from '../lib/format.ts';
import { dagUrl, linkClick, navigate, withQuery } from '../lib/router.ts';
import { stateClass } from '../lib/states.ts';
import type { DagList as DagListT, DagSummary, Run } from '../lib/types.ts';
import { TriggerDialog } from './TriggerDialog.tsx';

const RECENT = 10;

export function DagList() {
  const [data, setData] = useState<DagListT | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [trigger, setTrigger] = useState<string | null>(null);
  const q = new URLSearchParams(location.search);
  const search = q.get('search') ?? '';
  const tag = q.get('tag') ?? '';

  const load = useCallback(() => {
    api<DagListT>('/dags').then((d) => { setData(d); setError(null); }, (e) => setError(errorText(e)));
  }, []);
  useEffect(load, [load]);

  const patchDag = (dagId: string, fn: (d: DagSummary) => DagSummary) =>
    setData((cur) => cur && { ...cur, dags: cur.dags.map((d) => (d.dagId === dagId ? fn(d) : d)) });

  useEvents({}, {
    dags: load,
    dag: (e: { dagId: string; isPaused: boolean }) => patchDag(e.dagId, (d) => ({ ...d, isPaused: e.isPaused })),
    run: (r: Run) => patchDag(r.dagId, (d) => {
      const entry = { runId: r.runId, state: r.state, startDate: r.startDate, endDate: r.endDate };
      const known = d.recentRuns.some((x) => x.runId === r.runId);
      return { ...d, recentRuns: known ? d.recentRuns.map((x) => (x.runId === r.runId ? entry : x)) : [entry, ...d.recentRuns].slice(0, RECENT) };
    }),
  });

  const shown = useMemo(() => {
    if (!data) return [];
    const s = search.toLowerCase();
    return data.dags.filter((d) => (!tag || d.tags.includes(tag)) &&
      (!s || d.dagId.toLowerCase().includes(s) || (d.description ?? '').toLowerCase().includes(s) || d.tags.some((t) => t.toLowerCase().includes(s))));
  }, [data, search, tag]);

  const togglePause = async (d: DagSummary) => {
    patchDag(d.dagId, (x) => ({ ...x, isPaused: !d.isPaused }));
    try {
      const res = await api<DagSummary>(`/dags/${enc(d.dagId)}`, { method: 'PATCH', body: { isPaused: !d.isPaused } });
      patchDag(d.dagId, (x) => ({ ...x, isPaused: res.isPaused }));
    } catch (e) { patchDag(d.dagId, (x) => ({ ...x, isPaused: d.isPaused })); setError(errorText(e)); }
  };

  const errorsByFile = new Map<string, DagListT['errors']>();
  for (const e of data?.errors ?? []) errorsByFile.set(e.file, [...(errorsByFile.get(e.file) ?? []), e]);
  const dagFiles = new Set(data?.dags.map((d) => d.file));
  const orphanErrors = [...errorsByFile.entries()].filter(([f]) => !dagFiles.has(f));

  return (
    <div>
      <div class="page-title">
        <h1>DAGs</h1>
        <span class="muted">{data ? `${shown.length} of ${data.dags.length}` : ''}</span>
        <span style="flex:1" />
        {tag && <span class="tag on" onClick={() => navigate(withQuery({ tag: null }), true)}>tag: {tag} ✕</span>}
        <input type="search" placeholder="Search DAGs…" value={search} style="width:260px"
          onInput={(e) => navigate(withQuery({ search: e.currentTarget.value }), true)} />
      </div>
      {error && <div class="error-box">{error}</div>}
      {orphanErrors.length > 0 && (
        <div class="card load-errors">
          <div class="load-errors-title">{orphanErrors.length} DAG file{orphanErrors.length > 1 ? 's' : ''} failed to load</div>
          {orphanErrors.map(([file, errs]) => <FileErrors key={file} file={file} errs={errs} />)}
        </div>
      )}
      <div class="card">
        <table class="list dag-list">
          <thead><tr><th style="width:52px" /><th>DAG</th><th>Schedule</th><th>Next run</th><th>Recent runs</th><th style="width:90px" /></tr></thead>
          <tbody>
            {shown.map((d) => (
              <tr key={d.dagId} data-dag={d.dagId}>
                <td><button class={`toggle ${d.isPaused ? '' : 'on'}`} title={d.isPaused ? 'Paused: click to unpause' : 'Active: click to pause'}
                  aria-label={`pause ${d.dagId}`} aria-pressed={!d.isPaused} onClick={() => togglePause(d)} /></td>
                <td>
                  <a class="dag-id" href={dagUrl(d.dagId, 'graph')} onClick={linkClick}>{d.dagId}</a>
                  {d.description && <div class="muted small">{d.description}</div>}
                  <div>{d.tags.map((t) => (
                    <span key={t} class={`tag ${t === tag ? 'on' : ''}`} onClick={() => navigate(withQuery({ tag: t === tag ? null : t }))}>{t}</span>
                  ))}<span class="muted small mono">{d.file}</span></div>
                  {errorsByFile.get(d.file)?.map((e, i) => <div key={i} class="err mono">{e.code}: {e.message}</div>)}
                </td>
                <td class="mono">{d.schedule ?? <span class="muted">manual</span>}</td>
                <td title={dateTime(d.nextRunAt)}>{d.nextRunAt ? <>{dateTime(d.nextRunAt)}<div class="muted small">{relative(d.nextRunAt)}</div></> : <span class="muted">—</span>}</td>
                <td>{d.recentRuns.slice().reverse().map((r) => (
                  <a key={r.runId} href={dagUrl(d.dagId, 'graph', { run: r.runId })} onClick={linkClick}
                    title={`${r.runId}\n${r.state}\n${dateTime(r.startDate)}`}><span class={`dot ${stateClass(r.state)}`} /></a>
                ))}{d.recentRuns.length === 0 && <span class="muted small">no runs yet</span>}</td>
                <td><button class="btn small" onClick={() => setTrigger(d.dagId)} title="Trigger a run">▶ Trigger</button></td>
              </tr>
            ))}
            {data && shown.length === 0 && <tr><td colSpan={6} class="muted" style="text-align:center;padding:24px">No DAGs match.</td></tr>}
            {!data && !error && <tr><td colSpan={6} class="muted" style="text-align:center;padding:24px">Loading…</td></tr>}
          </tbody>
        </table>
      </div>
      {data && data.historical.length > 0 && (
        <p class="muted small">DAGs with runs but no file any more: {data.historical.map((h, i) => (
          <span key={h}>{i > 0 && ', '}<a href={dagUrl(h, 'runs')} onClick={linkClick}>{h}</a></span>))}</p>
      )}
      {trigger && <TriggerDialog dagId={trigger} onClose={() => setTrigger(null)}
        onTriggered={(run) => navigate(dagUrl(run.dagId, 'graph', { run: run.runId }))} />}
    </div>
  );
}

function FileErrors({ file, errs }: { file: string; errs: DagListT['errors'] }) {
  return (
    <div class="file-error">
      <div class="mono">{file}</div>
      {errs.map((e, i) => <pre key={i} class="err">{e.code}: {e.message}</pre>)}
    </div>
  );
}
