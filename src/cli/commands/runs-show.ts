/** `orch runs show <dag> <run_id>`: one run and its tasks, with the Livy ids behind each. */
import type { Command } from 'commander';
import { ownerGone } from '../../core/leases/owner.ts';
import { markedByHand } from '../../core/run-commands.ts';
import { UnknownRunError } from '../../errors.ts';
import type { DagRunRow, ExternalHandleRow, Store, TaskInstanceRow, TaskTryRow } from '../../store/index.ts';
import { openContext } from '../context.ts';
import { shortTime, span, table } from '../format.ts';
import type { GlobalOptions } from '../main.ts';

export function registerRunShowCommand(runs: Command, global: () => GlobalOptions): void {
  runs
    .command('show <dag> <run_id>')
    .description('a run (state, conf, times, trigger) and its tasks, with their Livy session, statement or batch ids')
    .option('--json', 'print JSON: { run, tasks }')
    .action(async (dagId: string, runId: string, opts: { json?: boolean }) => {
      const ctx = await openContext(global(), false);
      try {
        await ctx.knownDag(dagId);
        const view = runView(ctx.store, dagId, runId, new Date());
        if (opts.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        else process.stdout.write(renderRun(view));
      } finally {
        ctx.close();
      }
    });
}

/** What `runs show --json` prints; the text view is drawn from the same object. */
export interface RunView {
  run: Omit<DagRunRow, 'ownerId' | 'ownerHost' | 'ownerPid' | 'ownerIdentity' | 'leaseExpiresAt'> & {
    durationMs: number | null;
    /** The process driving the run, while it is unfinished; `alive: false` when it is gone. */
    owner: { host: string | null; pid: number | null; leaseExpiresAt: string | null; alive: boolean } | null;
  };
  tasks: TaskView[];
}

interface TaskView {
  taskId: string;
  state: TaskInstanceRow['state'];
  tryNumber: number;
  maxTries: number;
  operator: string;
  pool: string;
  startDate: string | null;
  endDate: string | null;
  durationMs: number | null;
  nextRetryAt: string | null;
  error: string | null;
  /** The state was set by hand (`orch tasks mark`), not reached by running the task. */
  marked: boolean;
  handles: { kind: string; id: string; tryNumber: number; url: string | null; released: boolean; createdAt: string; releasedAt: string | null; data: Record<string, unknown> | null }[];
  tries: { tryNumber: number; state: TaskTryRow['state']; startDate: string; endDate: string | null; durationMs: number | null; hostname: string | null; pid: number | null; error: string | null }[];
}

/** Milliseconds from start to end (to `now` while it runs); null before it started. */
const ms = (start: string | null, end: string | null, now: Date): number | null => (start ? Date.parse(end ?? now.toISOString()) - Date.parse(start) : null);

/** Read a run, its task instances, tries and external handles. */
export function runView(store: Store, dagId: string, runId: string, now: Date): RunView {
  const run = store.runs.get(dagId, runId);
  if (!run) throw new UnknownRunError(dagId, runId);
  const handles = store.handles.listForRun(dagId, runId);
  const tries = store.tis.triesForRun(dagId, runId);
  const unfinished = run.state === 'queued' || run.state === 'running';
  return {
    run: {
      dagId: run.dagId,
      runId: run.runId,
      state: run.state,
      note: run.note,
      cancelRequested: run.cancelRequested,
      runType: run.runType,
      triggeredBy: run.triggeredBy,
      logicalDate: run.logicalDate,
      dataIntervalStart: run.dataIntervalStart,
      dataIntervalEnd: run.dataIntervalEnd,
      conf: run.conf,
      params: run.params,
      queuedAt: run.queuedAt,
      startDate: run.startDate,
      endDate: run.endDate,
      durationMs: ms(run.startDate, run.endDate, now),
      owner: unfinished && (run.ownerId || run.state === 'running') ? { host: run.ownerHost, pid: run.ownerPid, leaseExpiresAt: run.leaseExpiresAt, alive: !ownerGone(run, now) } : null,
    },
    tasks: store.tis.listForRun(dagId, runId).map((ti) => ({
      taskId: ti.taskId,
      state: ti.state,
      tryNumber: ti.tryNumber,
      maxTries: ti.maxTries,
      operator: ti.operator,
      pool: ti.pool,
      startDate: ti.startDate,
      endDate: ti.endDate,
      durationMs: ti.state === 'running' || ti.endDate ? ms(ti.startDate, ti.endDate, now) : null,
      nextRetryAt: ti.nextRetryAt,
      error: ti.error,
      marked: markedByHand(ti),
      handles: handles.filter((h) => h.taskId === ti.taskId).map(handleView),
      tries: tries
        .filter((t) => t.taskId === ti.taskId)
        .map((t) => ({ tryNumber: t.tryNumber, state: t.state, startDate: t.startDate, endDate: t.endDate, durationMs: ms(t.startDate, t.endDate, now), hostname: t.hostname, pid: t.pid, error: t.error })),
    })),
  };
}

function handleView(h: ExternalHandleRow): TaskView['handles'][number] {
  return { kind: h.kind, id: h.externalId, tryNumber: h.tryNumber, url: h.url, released: h.releasedAt !== null, createdAt: h.createdAt, releasedAt: h.releasedAt, data: h.data };
}

/** The text view: a block about the run, a table of tasks, then the errors. */
export function renderRun(view: RunView): string {
  const { run, tasks } = view;
  const lines = [`${run.dagId} ${run.runId}`];
  const field = (name: string, value: string) => lines.push(`  ${name.padEnd(10)}${value}`);
  field('state', `${run.state}${run.note ? ` (${run.note})` : run.cancelRequested ? ' (cancel requested)' : ''}`);
  field('type', `${run.runType}, triggered by ${run.triggeredBy}`);
  if (run.runType === 'scheduled') field('interval', `${shortTime(run.dataIntervalStart)} → ${shortTime(run.dataIntervalEnd)}`);
  field('conf', JSON.stringify(run.conf));
  field('queued', `${shortTime(run.queuedAt)} UTC`);
  if (run.startDate) field('started', `${shortTime(run.startDate)} UTC`);
  if (run.endDate) field('ended', `${shortTime(run.endDate)} UTC`);
  if (run.startDate) field('duration', `${span(run.startDate, run.endDate)}${run.endDate ? '' : ' so far'}`);
  if (run.owner) field('owner', ownerText(run));
  const day = (run.startDate ?? run.queuedAt).slice(0, 10);
  lines.push(
    '',
    table(
      ['task', 'state', 'try', 'start', 'end', 'duration', 'pool', 'external'],
      tasks.map((t) => [
        t.taskId,
        t.marked ? `${t.state} (marked)` : t.state,
        `${t.tryNumber}/${t.maxTries}`,
        clock(t.startDate, day),
        clock(t.endDate, day),
        t.durationMs === null ? '' : span(t.startDate, t.endDate),
        t.pool,
        externalText(t),
      ]),
    ),
  );
  const marked = tasks.filter((t) => t.marked);
  if (marked.length) {
    lines.push('', `marked by hand (orch tasks mark): ${marked.map((t) => `${t.taskId} ${t.state}`).join(', ')}`);
    lines.push('  a user set these states; a try running at the time was stopped (its log may call that stop a failure)');
  }
  const failed = tasks.filter((t) => t.error && !t.marked && (t.state === 'failed' || t.state === 'up_for_retry'));
  if (failed.length) {
    lines.push('', 'errors:');
    for (const t of failed) lines.push(`  ${t.taskId} (try ${t.tryNumber}): ${firstLine(t.error!)}`);
    lines.push(`full text: orch logs ${run.dagId} ${run.runId} <task>`);
  }
  return `${lines.join('\n')}\n`;
}

function ownerText(run: RunView['run']): string {
  const owner = run.owner!;
  if (!owner.pid) return `none — \`orch run ${run.dagId}\` or \`orch scheduler\` will pick the run up`;
  const who = `pid ${owner.pid} on ${owner.host ?? '?'}`;
  return owner.alive ? `${who}` : `${who}, which is gone — \`orch run ${run.dagId}\` or \`orch scheduler\` will finish the run`;
}

/** Time of day when on the run's day, else date and time. */
function clock(iso: string | null, day: string): string {
  if (!iso) return '';
  return iso.startsWith(day) ? shortTime(iso).slice(11) : shortTime(iso);
}

/** The Livy session/statement or batch, or the cluster, behind a task's latest try. */
function externalText(t: TaskView): string {
  return t.handles
    .filter((h) => h.tryNumber === t.tryNumber)
    .map((h) => {
      switch (h.kind) {
        case 'livy-session':
          return `session ${h.id}`;
        case 'livy-statement':
          return `statement ${h.data?.statementId ?? h.id}`;
        case 'livy-batch':
          return `batch ${h.id}`;
        case 'cluster':
          return h.data?.backend === 'embedded' && h.data.pid ? `engine pid ${String(h.data.pid)}` : `cluster ${h.id}`;
        default:
          return `${h.kind} ${h.id}`;
      }
    })
    .join(', ');
}

function firstLine(text: string): string {
  const line = text.split('\n')[0]!;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
