import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, enc, errorText } from '../lib/api.ts';
import type { Bus } from '../lib/bus.ts';
import { dateTime, duration, span } from '../lib/format.ts';
import { navigate, withQuery } from '../lib/router.ts';
import { isFinished, stateClass } from '../lib/states.ts';
import type { DagDetail, Handle, RunDetail, TaskDetail, Try } from '../lib/types.ts';
import { OutputView } from './OutputTable.tsx';
import { TaskActions } from './TaskActions.tsx';
import { TaskLog } from './TaskLog.tsx';
import type { LogWatch } from './useDagState.ts';
import { useNow } from './useNow.ts';
import { useTaskLog } from './useTaskLog.ts';

interface Props {
  dag: DagDetail | null; run: RunDetail; taskId: string; tryParam: number | null; bus: Bus;
  onLogWatch: (w: LogWatch | null) => void; onClose: () => void; onChanged: () => void;
}

export function TaskPanel({ dag, run, taskId, tryParam, bus, onLogWatch, onClose, onChanged }: Props) {
  const base = `/dags/${enc(run.dagId)}/runs/${enc(run.runId)}`;
  const [detail, setDetail] = useState<TaskDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ti = run.tasks.find((t) => t.taskId === taskId);
  const def = dag?.tasks.find((t) => t.taskId === taskId);

  // The task's own state comes live from the run; its details (tries, handles, XCom) are
  // read again only when that state changes, which is rare.
  useEffect(() => {
    api<TaskDetail>(`${base}/tasks/${enc(taskId)}`).then((d) => { setDetail(d); setError(null); }, (e) => setError(errorText(e)));
  }, [base, taskId, ti?.state, ti?.tryNumber]);
  useEffect(() => bus.on((kind, data) => {
    if (data.runId !== run.runId || data.taskId !== taskId) return;
    if (kind === 'handle') setDetail((d) => d && { ...d, handles: upsertHandle(d.handles, data as Handle) });
  }), [bus, run.runId, taskId]);

  const tries: Try[] = useMemo(() => {
    const fromRun = run.tries.filter((t) => t.taskId === taskId);
    return (fromRun.length ? fromRun : detail?.tries ?? []).slice().sort((a, b) => a.tryNumber - b.tryNumber);
  }, [run.tries, detail?.tries, taskId]);
  const latest = ti?.tryNumber ?? tries[tries.length - 1]?.tryNumber ?? 0;
  const tryNumber = tryParam ?? latest;
  const tr = tries.find((t) => t.tryNumber === tryNumber);
  const running = !!tr && !isFinished(tr.state) && tr.state !== 'up_for_retry' && !tr.endDate;
  const now = useNow(running);
  const log = useTaskLog(base, run.runId, taskId, tryNumber, running, bus, onLogWatch);
  const handles = (detail?.handles ?? []).filter((h) => h.tryNumber === tryNumber || h.kind === 'cluster');
  const codeLines = log.lines.filter((l) => l.source === 'code');
  // A Livy statement returns { output, … }; a function task's return value is the output.
  const ret = detail?.xcom.find((x) => x.key === 'return_value')?.value;
  const output = ret && typeof ret === 'object' && !Array.isArray(ret) && 'output' in ret ? (ret as { output: unknown }).output : ret;
  const state = tr?.state ?? ti?.state ?? null;

  return (
    <aside class="card task-panel" aria-label={`task ${taskId}`} data-task-panel={taskId}>
      <div class="tp-head">
        <div>
          <div class="mono tp-title">{taskId}</div>
          <div class="muted small">{ti?.operator ?? def?.operator}</div>
        </div>
        <button class="btn small" onClick={onClose} aria-label="close panel">✕</button>
      </div>
      {error && <div class="error-box">{error}</div>}
      {tries.length > 0 && (
        <div class="tp-tries">
          {tries.map((t) => (
            <button key={t.tryNumber} class={`try-btn ${stateClass(t.state)} ${t.tryNumber === tryNumber ? 'on' : ''}`}
              onClick={() => navigate(withQuery({ try: t.tryNumber === latest ? null : t.tryNumber }), true)}>
              <span class={`dot ${stateClass(t.state)}`} />try {t.tryNumber}
            </button>
          ))}
        </div>
      )}
      <dl class="tp-facts">
        <dt>State</dt><dd><span class={`badge ${stateClass(state)}`} data-task-state={state ?? 'none'}>{state ?? 'no status'}</span>{ti?.markedByHand && <span class="muted small"> marked by hand</span>}</dd>
        <dt>Start</dt><dd>{dateTime(tr?.startDate ?? ti?.startDate)}</dd>
        <dt>End</dt><dd>{dateTime(tr?.endDate ?? null)}</dd>
        <dt>Duration</dt><dd class="mono">{duration(span(tr?.startDate ?? null, tr?.endDate ?? null, now)) || '—'}</dd>
        <dt>Pool</dt><dd>{ti?.pool ?? def?.pool ?? '—'}</dd>
        <dt>Tries</dt><dd>{ti ? `${ti.tryNumber} of ${ti.maxTries}` : '—'}</dd>
        {tr?.hostname && <><dt>Host</dt><dd class="mono small">{tr.hostname}{tr.pid ? ` · pid ${tr.pid}` : ''}</dd></>}
      </dl>
      {(tr?.error ?? ti?.error) && <pre class="error-box tp-error">{tr?.error ?? ti?.error}</pre>}
      {handles.length > 0 && (
        <section><h3>Livy / cluster</h3>
          {handles.map((h) => <HandleRow key={`${h.kind}/${h.externalId}`} h={h} />)}
        </section>
      )}
      {codeLines.length > 0 && (
        <section><h3>Statement</h3><pre class="code stmt-code" data-testid="statement">{codeLines.map((l) => l.message).join('\n')}</pre></section>
      )}
      {output !== undefined && output !== null && <section data-testid="output"><h3>Output</h3><OutputView value={output} /></section>}
      <section><h3>Log</h3>
        {tryNumber > 0
          ? <TaskLog lines={log.lines} loading={!log.loaded && !log.error} error={log.error} downloadUrl={`/api/v1${base}/tasks/${enc(taskId)}/tries/${tryNumber}/logs/download`} />
          : <p class="muted small">Not started yet.</p>}
      </section>
      <TaskActions run={run} taskId={taskId} onDone={() => { onChanged(); }} />
    </aside>
  );
}

function upsertHandle(list: Handle[], h: Handle): Handle[] {
  const i = list.findIndex((x) => x.kind === h.kind && x.externalId === h.externalId);
  if (i < 0) return [...list, h];
  const copy = list.slice();
  copy[i] = { ...copy[i]!, ...h };
  return copy;
}

function HandleRow({ h }: { h: Handle }) {
  const p = typeof h.data?.progress === 'number' ? h.data.progress : null;
  const label = h.kind === 'livy-session' ? 'session' : h.kind === 'livy-statement' ? 'statement' : h.kind === 'livy-batch' ? 'batch' : h.kind;
  return (
    <div class="handle" data-handle={h.kind}>
      <span class="muted small">{label}</span>
      <span class="mono">{h.externalId}</span>
      {h.url && <a class="mono small" href={h.url} target="_blank" rel="noreferrer">{h.url}</a>}
      {p !== null && <span class="hprog"><span style={{ width: `${Math.round(p * 100)}%` }} /></span>}
      {p !== null && <span class="mono small">{Math.round(p * 100)}%</span>}
      {h.releasedAt && <span class="muted small">released</span>}
    </div>
  );
}
