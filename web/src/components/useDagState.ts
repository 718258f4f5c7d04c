import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, enc, errorText } from '../lib/api.ts';
import { Bus } from '../lib/bus.ts';
import { useEvents } from '../lib/events.ts';
import type { DagDetail, Grid, Run, RunDetail, TaskInstance, Try } from '../lib/types.ts';

const RUNS_PAGE = 25;

export interface LogWatch { runId: string; taskId: string; tryNumber: number; cursor: number }

/**
 * Everything the DAG page shows, loaded once and then kept current by the page's one
 * event stream: events patch the state in place, never trigger a reload.
 */
export function useDagState(dagId: string, wantedRunId: string | null, wantGrid: boolean, logWatch: LogWatch | null) {
  const [dag, setDag] = useState<DagDetail | null>(null);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [nextRuns, setNextRuns] = useState<string | null>(null);
  const [run, setRun] = useState<RunDetail | null>(null);
  const [grid, setGrid] = useState<Grid | null>(null);
  const [error, setError] = useState<string | null>(null);
  const bus = useMemo(() => new Bus(), [dagId]);

  const runId = wantedRunId ?? runs?.[0]?.runId ?? null;
  const runIdRef = useRef(runId);
  runIdRef.current = runId;

  const loadDag = useCallback(() => {
    api<DagDetail>(`/dags/${enc(dagId)}`).then(setDag, (e) => setError(errorText(e)));
  }, [dagId]);
  const loadRuns = useCallback(() => {
    api<{ runs: Run[]; next: string | null }>(`/dags/${enc(dagId)}/runs?limit=${RUNS_PAGE}`)
      .then((r) => { setRuns(r.runs); setNextRuns(r.next); }, (e) => setError(errorText(e)));
  }, [dagId]);
  const loadRun = useCallback(() => {
    const id = runIdRef.current;
    if (!id) { setRun(null); return; }
    api<RunDetail>(`/dags/${enc(dagId)}/runs/${enc(id)}`).then(
      (r) => { if (runIdRef.current === id) setRun(r); },
      (e) => setError(errorText(e)));
  }, [dagId]);
  const loadGrid = useCallback(() => {
    api<Grid>(`/dags/${enc(dagId)}/grid?limit=${RUNS_PAGE}`).then(setGrid, (e) => setError(errorText(e)));
  }, [dagId]);

  useEffect(() => { setDag(null); setRuns(null); setRun(null); setGrid(null); setError(null); loadDag(); loadRuns(); }, [dagId]);
  useEffect(() => { if (run?.runId !== runId) setRun(null); loadRun(); }, [runId, loadRun]);
  useEffect(() => { if (wantGrid) loadGrid(); }, [wantGrid, loadGrid]);

  const moreRuns = useCallback(() => {
    if (!nextRuns) return;
    api<{ runs: Run[]; next: string | null }>(`/dags/${enc(dagId)}/runs?limit=${RUNS_PAGE}&before=${enc(nextRuns)}`)
      .then((r) => { setRuns((cur) => [...(cur ?? []), ...r.runs]); setNextRuns(r.next); }, (e) => setError(errorText(e)));
  }, [dagId, nextRuns]);

  const onRun = (r: Run) => {
    if (r.dagId !== dagId) return;
    setRuns((cur) => {
      if (!cur) return cur;
      const i = cur.findIndex((x) => x.runId === r.runId);
      if (i < 0) return [r, ...cur];
      const copy = cur.slice();
      copy[i] = { ...copy[i], ...r };
      return copy;
    });
    setRun((cur) => (cur && cur.runId === r.runId ? { ...cur, ...r, tasks: cur.tasks, tries: cur.tries, cluster: cur.cluster } : cur));
    setGrid((g) => {
      if (!g) return g;
      const summary = { runId: r.runId, state: r.state, startDate: r.startDate, endDate: r.endDate, runType: r.runType };
      const i = g.runs.findIndex((x) => x.runId === r.runId);
      const runsNext = i < 0 ? [...g.runs, summary].slice(-RUNS_PAGE) : g.runs.map((x, j) => (j === i ? summary : x));
      return { ...g, runs: runsNext };
    });
  };

  const onTask = (t: TaskInstance & { dagId: string; runId: string }) => {
    if (t.dagId !== dagId) return;
    setRun((cur) => {
      if (!cur || cur.runId !== t.runId) return cur;
      const { dagId: _d, runId: _r, ...ti } = t;
      const i = cur.tasks.findIndex((x) => x.taskId === t.taskId);
      const tasks = cur.tasks.slice();
      if (i < 0) tasks.push(ti); else tasks[i] = { ...tasks[i]!, ...ti };
      return { ...cur, tasks };
    });
    setGrid((g) => {
      if (!g) return g;
      const col = g.cells[t.runId] ?? {};
      return { ...g, cells: { ...g.cells, [t.runId]: { ...col, [t.taskId]: { state: t.state, tryNumber: t.tryNumber, startDate: t.startDate, endDate: t.endDate } } } };
    });
  };

  const onTry = (t: Try & { dagId: string; runId: string }) => {
    setRun((cur) => {
      if (!cur || cur.runId !== t.runId || t.dagId !== dagId) return cur;
      const { dagId: _d, runId: _r, ...tr } = t;
      const i = cur.tries.findIndex((x) => x.taskId === t.taskId && x.tryNumber === t.tryNumber);
      const tries = cur.tries.slice();
      if (i < 0) tries.push(tr); else tries[i] = { ...tries[i]!, ...tr };
      return { ...cur, tries };
    });
  };

  const onHandle = (h: { runId: string; taskId: string; kind: string; data?: { progress?: number } | null }) => {
    if (h.runId !== runIdRef.current) return;
    // A cluster appearing or going away changes the run header: rare, so fetch it.
    if (h.kind === 'cluster') { loadRun(); return; }
    const p = h.data?.progress;
    if (h.kind === 'livy-statement' && typeof p === 'number') {
      setRun((cur) => cur && cur.runId === h.runId
        ? { ...cur, tasks: cur.tasks.map((x) => (x.taskId === h.taskId ? { ...x, progress: p } : x)) } : cur);
    }
  };

  const live = useStreamFilter(dagId, logWatch);
  const connected = useEvents(live, {
    open: () => { loadRun(); if (wantGrid) loadGrid(); },
    dags: loadDag,
    dag: (e: { dagId: string; isPaused: boolean }) => setDag((d) => (d && d.dagId === e.dagId ? { ...d, isPaused: e.isPaused } : d)),
    run: (r) => { onRun(r); bus.emit('run', r); },
    task: (t) => { onTask(t); bus.emit('task', t); },
    try: (t) => { onTry(t); bus.emit('try', t); },
    handle: (h) => { onHandle(h); bus.emit('handle', h); },
    log: (l) => bus.emit('log', l),
  });

  return { dag, setDag, runs, moreRuns: nextRuns ? moreRuns : null, run, runId, grid, error, bus, connected, reloadRun: loadRun };
}

/**
 * The stream's filter: the whole DAG (every view keeps all its runs' events, the grid's
 * included), plus the try whose log a panel follows live, named with its own run (logRun).
 */
function useStreamFilter(dagId: string, logWatch: LogWatch | null) {
  // The cursor only matters when the stream opens; keeping it out of the key stops a
  // reconnect on every log page.
  const cursorRef = useRef(0);
  if (logWatch) cursorRef.current = logWatch.cursor;
  const { runId: logRun, taskId: logTask, tryNumber: logTry } = logWatch ?? {};
  return useMemo(() => {
    const p: Record<string, string | number> = { dagId };
    if (logRun && logTask && logTry) Object.assign(p, { logRun, logTask, logTry, logCursor: cursorRef.current });
    return p;
  }, [dagId, logRun, logTask, logTry]);
}
