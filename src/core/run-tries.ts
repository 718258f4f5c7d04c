/**
 * The tries one run has going in this process: starting one (its context, its AbortSignal,
 * its thread setting), stopping one for a reason, and writing its end. Starts and ends are
 * written inside the run driver's batch transaction: a try is set going only once the row
 * saying it runs is committed, and an end waits in memory until a batch commits it — a
 * database locked by another process delays the outcome, never loses it. The run driver
 * decides what starts and stops; this keeps each try's bookkeeping.
 */
import { TaskCancelledError } from '../errors.ts';
import type { TaskContext } from '../sdk/index.ts';
import { isStoreBusy, storeFailureKind, type DagRunRow, type TaskInstanceRow } from '../store/index.ts';
import type { DagDefinition, TaskDefinition } from './dags/definition.ts';
import { errorText, runTry, type TryResult } from './executor.ts';
import type { BoundTask, ThreadSetting } from './operator.ts';
import type { DriverDeps } from './run-driver.ts';
import type { RunRecords } from './run-records.ts';
import { buildTaskContext } from './task-context.ts';
import { safeStack, toError } from './thrown.ts';

/**
 * Why a try was stopped from outside; decides what its end is recorded as.
 * - cancel: failed, no retry;  marked: nothing (the user set the task's state);
 * - shutdown: given back, runs again;
 * - detach: nothing unless it succeeded — its work goes on outside and the next owner resumes it;
 * - lost: nothing at all — the run has a new owner, or the database cannot be written.
 */
export type StopKind = 'cancel' | 'shutdown' | 'marked' | 'detach' | 'lost';

export interface RunningTry {
  tryNumber: number;
  controller: AbortController;
  settled: Promise<void>;
  /** The task can continue this try in another process (it has `resume`). */
  resumable: boolean;
  teardown: boolean;
  stop?: StopKind;
}

export const TEARDOWN_RULES: ReadonlySet<string> = new Set(['all_done', 'always']);

export interface TriesDeps {
  deps: DriverDeps;
  dag: DagDefinition;
  records: RunRecords;
  /** The run as last read (its params, its dates). */
  run: () => DagRunRow;
  /** Whether a failed try of `task` may be retried now (not in a cancelled run, unless a teardown). */
  mayRetry: (task: TaskDefinition | undefined) => boolean;
  /** Told of every task instance row a write left. */
  apply: (row: TaskInstanceRow) => void;
}

/** A try that ended, waiting for a batch to write its end. */
interface EndedTry {
  task: TaskDefinition;
  ctx: TaskContext;
  entry: RunningTry;
  result: TryResult;
  /** The user was told the end waits for a locked database. */
  warned?: boolean;
}

export class RunTries {
  private readonly running = new Map<string, RunningTry>();
  /** Tries that ended and whose end no batch has written yet, oldest first. */
  private ended: EndedTry[] = [];
  /** The ends the batch in flight is writing: dropped on commit, put back on rollback. */
  private writing: EndedTry[] = [];

  constructor(private readonly t: TriesDeps) {}

  has(taskId: string): boolean {
    return this.running.has(taskId);
  }

  /** Tries going, or ends no batch has taken yet: the run cannot finish. */
  get busy(): boolean {
    return this.running.size > 0 || this.ended.length > 0;
  }

  entries(): [string, RunningTry][] {
    return [...this.running];
  }

  /** Resolves when every try going now has ended (its end waiting to be written, or not to be). */
  settled(): Promise<unknown> {
    return Promise.all([...this.running.values()].map((r) => r.settled));
  }

  /**
   * Inside the batch: announce and log the start of a try of `task` (or the continuation of
   * one, `mode` 'resume'). Returns the function that sets it going, to call once committed.
   */
  prepare(task: TaskDefinition, bound: BoundTask, tryNumber: number, maxTries: number, mode: 'execute' | 'resume'): () => void {
    const { deps, records } = this.t;
    const { store, clock, logger, events } = deps;
    const controller = new AbortController();
    const run = this.t.run();
    const ctx: TaskContext = buildTaskContext({
      store,
      run,
      taskId: task.id,
      tryNumber,
      maxTries,
      signal: controller.signal,
      clock,
      logger,
      onLine: (line) => events.emit('log', { dagId: run.dagId, runId: run.runId, ...line }),
      onWriteError: (err) => void deps.fault(err),
    });
    records.emit(task.id, 'running', tryNumber);
    ctx.log.info(`${mode === 'resume' ? 'resuming' : 'starting'} try ${tryNumber} of ${maxTries} (pid ${process.pid})`);
    return () => {
      const entry: RunningTry = { tryNumber, controller, settled: Promise.resolve(), resumable: bound.resume !== undefined, teardown: TEARDOWN_RULES.has(task.triggerRule) };
      this.running.set(task.id, entry);
      entry.settled = runTry(bound, ctx, { mode, timeoutMs: task.executionTimeoutMs, abortGraceMs: deps.abortGraceMs, controller })
        // runTry never rejects; if it somehow did, the try must still end rather than stay running.
        .catch((err): TryResult => ({ state: 'failed', error: toError(err), aborted: false }))
        .then((result) => this.onEnd(task, ctx, entry, result));
    };
  }

  /** Stop a try for `kind`; one already stopping (a timeout fired, say) ends as that, not as what came after. */
  stop(r: RunningTry, kind: StopKind, reason: Error): void {
    if (r.stop || r.controller.signal.aborted) return;
    r.stop = kind;
    r.controller.abort(reason);
  }

  /** Inside the batch: write the ends waiting; returns the tasks whose try ended. */
  writeEnds(): string[] {
    this.writing = this.ended;
    this.ended = [];
    for (const end of this.writing) this.write(end);
    return this.writing.map((e) => e.task.id);
  }

  /** The batch committed: the ends it wrote are done. */
  committed(): void {
    this.writing = [];
  }

  /** The batch rolled back: its ends wait for the next one. `busy` when the database was locked. */
  rolledBack(busy: boolean): void {
    this.ended = [...this.writing, ...this.ended];
    this.writing = [];
    if (!busy) return;
    const { deps, records } = this.t;
    for (const end of this.ended) {
      if (end.warned) continue;
      end.warned = true;
      deps.logger.warn({ dag: records.dagId, run: records.runId, task: end.task.id }, `the database is locked; the end of try ${end.entry.tryNumber} is written when it is free`);
    }
  }

  /** How this run's function tasks with isolation 'worker' reach their thread. */
  thread(): ThreadSetting {
    const { deps, dag } = this.t;
    const run = this.t.run();
    return {
      dagPath: dag.path,
      dbFile: deps.store.db.name,
      dryRun: false,
      run,
      abortGraceMs: deps.abortGraceMs,
      onLine: (line) => deps.events.emit('log', { dagId: run.dagId, runId: run.runId, ...line }),
    };
  }

  private onEnd(task: TaskDefinition, ctx: TaskContext, entry: RunningTry, result: TryResult): void {
    const { deps, dag } = this.t;
    this.running.delete(task.id);
    deps.slots.give();
    deps.counts.ended(dag.id, task.pool);
    try {
      if (entry.stop === 'lost') return; // another process owns the run, or nothing can be written: record nothing
      if (entry.stop === 'detach' && result.state !== 'success') {
        ctx.log.info(`try ${entry.tryNumber} detached: its work goes on, and the next orch process to own this run follows it`);
        return;
      }
      this.ended.push({ task, ctx, entry, result });
    } finally {
      deps.kick();
    }
  }

  /**
   * Write one try's end in a savepoint of the batch. An error about the database rolls the
   * whole batch back (the end is written again by the next one); any other error fails the
   * try rather than leave it `running` for good.
   */
  private write(end: EndedTry): void {
    const { deps, records } = this.t;
    const { task, entry } = end;
    try {
      deps.store.immediate(() => this.writeEnd(end));
    } catch (err) {
      if (isStoreBusy(err) || storeFailureKind(err)) throw err;
      const message = `recording the end of try ${entry.tryNumber} failed: ${errorText(err)}`;
      deps.logger.error({ dag: records.dagId, run: records.runId, task: task.id, err }, message);
      const ti = deps.store.tis.get(records.key(task.id));
      if (ti) records.failed(task, ti, entry.tryNumber, message, false);
    }
  }

  private writeEnd({ task, ctx, entry, result }: EndedTry): void {
    const { deps, records } = this.t;
    const key = records.key(task.id);
    // Checked before shutdown: work that finished is kept even if a drain interrupted its cleanup.
    if (result.state === 'success') return records.succeeded(task, entry.tryNumber, result.value, ctx.log);
    if (entry.stop === 'shutdown') return records.interrupted(task.id, entry.tryNumber, ctx.log);
    if (entry.stop === 'marked') {
      // The user set the state; the row already says so. Not a failure of the try's code.
      const ti = deps.store.tis.get(key);
      ctx.log.info(`try ${entry.tryNumber} stopped: the task was set to '${ti?.state ?? '?'}' from outside (${ti?.error ?? 'by hand'})`);
      // Closes the try's own row if the mark did not (a clear); the task's row is left as set.
      const row = deps.store.tis.finishTry(key, entry.tryNumber, 'failed', deps.clock.now().toISOString(), 'stopped from outside');
      if (row) this.t.apply(row);
      return;
    }
    const message = errorText(result.error);
    ctx.log.error(`try ${entry.tryNumber} failed: ${message}`);
    const stack = safeStack(result.error);
    if (stack && !(result.error instanceof TaskCancelledError)) ctx.log.debug(stack);
    const ti = deps.store.tis.get(key);
    const final = entry.stop === 'cancel' || (result.error as { retryable?: boolean }).retryable === false;
    if (ti) records.failed(task, ti, entry.tryNumber, message, !final && this.t.mayRetry(task));
  }
}
