import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, enc, errorText } from '../lib/api.ts';
import { dateTime } from '../lib/format.ts';
import { requestLayout } from '../lib/layout.ts';
import { dagUrl, linkClick, navigate, withQuery } from '../lib/router.ts';
import type { Route } from '../lib/router.ts';
import type { DagDetail } from '../lib/types.ts';
import { CodeView } from './CodeView.tsx';
import { GanttView } from './GanttView.tsx';
import { GraphView } from './GraphView.tsx';
import { GridView } from './GridView.tsx';
import { RunHeader } from './RunHeader.tsx';
import { RunsView } from './RunsView.tsx';
import { TaskPanel } from './TaskPanel.tsx';
import { TriggerDialog } from './TriggerDialog.tsx';
import { useDagState, type LogWatch } from './useDagState.ts';

const TABS = [['graph', 'Graph'], ['grid', 'Grid'], ['gantt', 'Gantt'], ['runs', 'Runs'], ['code', 'Code']] as const;

export function DagPage({ dagId, tab, query }: { dagId: string; tab: NonNullable<Route['tab']>; query: URLSearchParams }) {
  const wantedRun = query.get('run');
  const taskId = query.get('task');
  const tryParam = query.get('try');
  const [logWatch, setLogWatch] = useState<LogWatch | null>(null);
  const s = useDagState(dagId, wantedRun, tab === 'grid', taskId ? logWatch : null);
  const [trigger, setTrigger] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  // Lay the graph out (in a worker) once the view on screen has its data, whatever tab is
  // open: the Graph tab then only draws, and the first view does not share the CPU with dagre.
  const viewReady = tab === 'grid' ? !!s.grid : tab === 'runs' ? !!s.runs : true;
  const dagTasks = s.dag?.tasks;
  useEffect(() => { if (dagTasks && viewReady) requestLayout(dagTasks).catch(() => {}); }, [dagTasks, viewReady]);
  const tasksById = useMemo(() => new Map((s.run?.tasks ?? []).map((t) => [t.taskId, t])), [s.run?.tasks]);

  const togglePause = async (d: DagDetail) => {
    try {
      const res = await api<{ isPaused: boolean }>(`/dags/${enc(d.dagId)}`, { method: 'PATCH', body: { isPaused: !d.isPaused } });
      s.setDag((cur) => cur && { ...cur, isPaused: res.isPaused });
    } catch (e) { setActionError(errorText(e)); }
  };
  const selectTask = (t: string | null, run?: string) =>
    navigate(withQuery({ task: t, try: null, ...(run ? { run } : {}) }));
  const runQuery = { run: wantedRun };
  const showRunPicker = tab === 'graph' || tab === 'gantt';

  return (
    <div>
      <div class="page-title">
        <a href="/dags" onClick={linkClick} class="muted">DAGs</a><span class="muted">/</span>
        <h1 class="mono">{dagId}</h1>
        {s.dag && <button class={`toggle ${s.dag.isPaused ? '' : 'on'}`} aria-label="pause" title={s.dag.isPaused ? 'Paused' : 'Active'} onClick={() => togglePause(s.dag!)} />}
        {s.dag?.isPaused && <span class="muted small">paused</span>}
        {s.dag?.tags.map((t) => <a key={t} class="tag" href={`/dags?tag=${encodeURIComponent(t)}`} onClick={linkClick}>{t}</a>)}
        <span style="flex:1" />
        {s.dag?.schedule && <span class="muted small mono" title={`next: ${dateTime(s.dag.nextRunAt)}`}>⏱ {s.dag.schedule}</span>}
        <span class={`conn ${s.connected ? 'live' : ''}`}>{s.connected ? 'live' : 'connecting…'}</span>
        <button class="btn primary" disabled={!s.dag} onClick={() => setTrigger(true)}>▶ Trigger</button>
      </div>
      {s.dag?.description && <p class="muted" style="margin:-8px 0 12px">{s.dag.description}</p>}
      {(s.error || actionError) && <div class="error-box">{s.error ?? actionError}</div>}
      {s.run && tab !== 'runs' && tab !== 'code' && <RunHeader run={s.run} onError={setActionError} />}
      <div class="tabs">
        {TABS.map(([id, label]) => (
          <a key={id} class={tab === id ? 'active' : ''} href={dagUrl(dagId, id, tab === 'runs' || id === 'runs' || id === 'code' ? {} : runQuery)} onClick={linkClick}>{label}</a>
        ))}
        <span style="flex:1" />
        {showRunPicker && s.runs && s.runs.length > 0 && (
          <label class="run-picker small muted">Run&nbsp;
            <select value={s.runId ?? ''} onChange={(e) => navigate(withQuery({ run: e.currentTarget.value, task: null, try: null }))}>
              {s.runs.map((r) => <option key={r.runId} value={r.runId}>{dateTime(r.startDate ?? r.queuedAt)} · {r.state} · {r.runId}</option>)}
            </select>
          </label>
        )}
      </div>
      <div class="layout">
        <div class="main-col">
          {tab === 'graph' && s.dag && <GraphView dag={s.dag} tasks={tasksById} selected={taskId} onSelect={(t) => selectTask(t)} />}
          {tab === 'grid' && s.grid && <GridView grid={s.grid} selected={{ run: s.runId, task: taskId }} onSelect={(run, t) => selectTask(t, run)} />}
          {tab === 'gantt' && (s.run ? <GanttView run={s.run} order={s.dag?.tasks.map((t) => t.taskId) ?? []} selected={taskId} onSelect={(t) => selectTask(t)} /> : <p class="muted">No run yet.</p>)}
          {tab === 'runs' && <RunsView dagId={dagId} runs={s.runs} more={s.moreRuns} />}
          {tab === 'code' && <CodeView dagId={dagId} />}
          {(tab === 'graph' || tab === 'gantt') && s.runs?.length === 0 && <p class="muted">This DAG has no runs yet — trigger one.</p>}
        </div>
        {taskId && s.run && tab !== 'runs' && tab !== 'code' && (
          <TaskPanel key={`${s.run.runId}/${taskId}`} dag={s.dag} run={s.run} taskId={taskId} tryParam={tryParam ? Number(tryParam) : null}
            bus={s.bus} onLogWatch={setLogWatch} onClose={() => selectTask(null)} onChanged={s.reloadRun} />
        )}
      </div>
      {trigger && <TriggerDialog dagId={dagId} onClose={() => setTrigger(false)}
        onTriggered={(r) => navigate(dagUrl(dagId, 'graph', { run: r.runId }))} />}
    </div>
  );
}
