/** Rows of the store as the API shows them (docs/http-api.md, "Resources"). */
import { existsSync, readFileSync } from 'node:fs';
import { extname, relative } from 'node:path';
import { describeTasks, type DagDefinition } from '../core/dags/definition.ts';
import { markedByHand } from '../core/run-commands.ts';
import { paramsJsonSchema } from '../core/runs/params.ts';
import { nextRunAt } from '../core/timetable.ts';
import type { DagRunRow, ExternalHandleRow, Store, TaskInstanceRow, TaskTryRow } from '../store/index.ts';
import { STATEMENT } from '../operators/livy/session.ts';

/** A Run. */
export function runView(r: DagRunRow) {
  return {
    dagId: r.dagId,
    runId: r.runId,
    runType: r.runType,
    triggeredBy: r.triggeredBy,
    logicalDate: r.logicalDate,
    conf: r.conf,
    params: r.params,
    state: r.state,
    queuedAt: r.queuedAt,
    startDate: r.startDate,
    endDate: r.endDate,
    note: r.note,
    cancelRequested: r.cancelRequested,
    owner: r.ownerHost !== null || r.ownerPid !== null ? { host: r.ownerHost, pid: r.ownerPid } : null,
  };
}

/** The Livy statement's progress of the task's current try, from its handle (null without one). */
export function progressOf(ti: TaskInstanceRow, handles: readonly ExternalHandleRow[]): number | null {
  const statement = handles
    .filter((h) => h.kind === STATEMENT && h.taskId === ti.taskId && h.tryNumber === ti.tryNumber)
    .sort((a, b) => b.id - a.id)[0];
  const p = statement?.data?.progress;
  return typeof p === 'number' ? p : null;
}

/** A TaskInstance; `handles` are the run's or the task's, for its progress. */
export function taskView(ti: TaskInstanceRow, handles: readonly ExternalHandleRow[]) {
  return {
    taskId: ti.taskId,
    state: ti.state,
    tryNumber: ti.tryNumber,
    maxTries: ti.maxTries,
    pool: ti.pool,
    operator: ti.operator,
    queuedAt: ti.queuedAt,
    startDate: ti.startDate,
    endDate: ti.endDate,
    nextRetryAt: ti.nextRetryAt,
    hostname: ti.hostname,
    pid: ti.pid,
    error: ti.error,
    markedByHand: markedByHand(ti),
    progress: progressOf(ti, handles),
  };
}

export function tryView(t: TaskTryRow) {
  return { taskId: t.taskId, tryNumber: t.tryNumber, state: t.state, startDate: t.startDate, endDate: t.endDate, hostname: t.hostname, pid: t.pid, error: t.error };
}

export function handleView(h: ExternalHandleRow) {
  return { kind: h.kind, externalId: h.externalId, url: h.url, tryNumber: h.tryNumber, createdAt: h.createdAt, releasedAt: h.releasedAt, data: h.data };
}

/** The run's cluster, from the newest `cluster` handle a task recorded. */
export function clusterView(handles: readonly ExternalHandleRow[]) {
  const h = handles.filter((x) => x.kind === 'cluster').sort((a, b) => b.id - a.id)[0];
  if (!h) return null;
  const backend = h.data?.backend;
  return { backend: typeof backend === 'string' ? backend : null, clusterId: h.externalId, url: h.url, taskId: h.taskId, createdAt: h.createdAt, releasedAt: h.releasedAt };
}

/** A DAG in the list. */
export function dagSummaryView(store: Store, dag: DagDefinition, now: Date) {
  const recent = store.runs.list({ dagId: dag.id, limit: 10 });
  return {
    dagId: dag.id,
    description: dag.description ?? null,
    tags: dag.tags,
    file: dag.file,
    schedule: dag.schedule,
    nextRunAt: nextRunOf(store, dag, now),
    isPaused: store.dags.isPaused(dag.id),
    taskCount: dag.tasks.size,
    hasParams: dag.params !== undefined,
    recentRuns: recent.map((r) => ({ runId: r.runId, state: r.state, startDate: r.startDate, endDate: r.endDate })),
  };
}

function nextRunOf(store: Store, dag: DagDefinition, now: Date): string | null {
  if (!dag.schedule || !dag.startDate || store.dags.isPaused(dag.id)) return null;
  const latest = store.runs.latestScheduled(dag.id);
  return nextRunAt(dag.schedule, dag.startDate, dag.catchup, latest ? new Date(latest.dataIntervalEnd) : undefined, now)?.toISOString() ?? null;
}

/** One DAG in full. */
export function dagDetailView(store: Store, dag: DagDefinition, now: Date) {
  const { recentRuns: _recent, taskCount: _count, hasParams: _has, ...summary } = dagSummaryView(store, dag, now);
  return {
    ...summary,
    maxActiveTasks: dag.maxActiveTasks,
    maxActiveRuns: dag.maxActiveRuns,
    paramsSchema: dag.params ? paramsJsonSchema(dag.params) : null,
    tasks: describeTasks(dag).map(({ executionTimeoutMs: _timeout, ...t }) => t),
  };
}

const LANGUAGES: Record<string, string> = { '.ts': 'typescript', '.sql': 'sql', '.scala': 'scala', '.py': 'python' };
const languageOf = (file: string) => LANGUAGES[extname(file).toLowerCase()] ?? 'text';
/** A path as a user reads it: relative to the working directory when inside it. */
const shown = (file: string) => {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
};

/**
 * The DAG file and the code files its statement tasks name with codeFile(…) — found by
 * walking the tasks' operator options, so no request can name a path of its own.
 */
export function dagSourceView(dag: DagDefinition) {
  const byFile = new Map<string, string[]>();
  for (const task of dag.tasks.values()) {
    for (const file of codeFiles(task.operator?.options)) {
      const tasks = byFile.get(file) ?? [];
      if (!tasks.includes(task.id)) tasks.push(task.id);
      byFile.set(file, tasks);
    }
  }
  return {
    file: { path: dag.file, language: languageOf(dag.path), text: readFileSync(dag.path, 'utf8') },
    statementFiles: [...byFile]
      .filter(([file]) => existsSync(file))
      .map(([file, tasks]) => ({ path: shown(file), language: languageOf(file), text: readFileSync(file, 'utf8'), tasks })),
  };
}

/** Every `{ $file }` inside an operator's options. */
function codeFiles(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) codeFiles(v, out);
  else if (value && typeof value === 'object') {
    const file = (value as { $file?: unknown }).$file;
    if (typeof file === 'string') out.push(file);
    else for (const v of Object.values(value)) codeFiles(v, out);
  }
  return out;
}
