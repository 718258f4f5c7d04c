/**
 * The tries one run has going in this process: starting one (its context, its AbortSignal,
 * its thread setting), stopping one for a reason, and writing its end — waiting out a
 * database locked by another process rather than losing the outcome. The run driver decides
 * what starts and stops; this keeps each try's bookkeeping.
 */
import { TaskCancelledError } from '../errors.ts';
import type { TaskContext } from '../sdk/index.ts';
import { isStoreBusy, type DagRunRow } from '../store/index.ts';
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
}

export class RunTries {
  private readonly running = new Map<string, RunningTry>();
  /** Ends of tries the database was too busy to take yet, by task: written again on each heartbeat. */
  private readonly unrecorded = new Map<string, () => void>();

  constructor(private readonly t: TriesDeps) {}

  has(taskId: string): boolean {
    return this.running.has(taskId);
  }

  /** Tries going, or ends not yet written: the run cannot finish. */
  get busy(): boolean {
    return this.running.size > 0 || this.unrecorded.size > 0;
  }

  entries(): [string, RunningTry][] {
    return [...this.running];
  }

  /** Resolves when every try going now has ended (and its end was handled). */
  settled(): Promise<unknown> {
    return Promise.all([...this.running.values()].map((r) => r.settled));
  }

  /** Start a try of `task` (or continue one, `mode` 'resume') and follow it to its end. */
  launch(task: TaskDefinition, bound: BoundTask, tryNumber: number, maxTries: number, mode: 'execute' | 'resume'): void {
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
    const entry: RunningTry = { tryNumber, controller, settled: Promise.resolve(), resumable: bound.resume !== undefined, teardown: TEARDOWN_RULES.has(task.triggerRule) };
    entry.settled = runTry(bound, ctx, { mode, timeoutMs: task.executionTimeoutMs, abortGraceMs: deps.abortGraceMs, controller })
      // runTry never rejects; if it somehow did, the try must still end rather than stay running.
      .catch((err): TryResult => ({ state: 'failed', error: toError(err), aborted: false }))
      .then((result) => this.onEnd(task, ctx, entry, result));
    this.running.set(task.id, entry);
  }

  /** Stop a try for `kind`; one already stopping (a timeout fired, say) ends as that, not as what came after. */
  stop(r: RunningTry, kind: StopKind, reason: Error): void {
    if (r.stop || r.controller.signal.aborted) return;
    r.stop = kind;
    r.controller.abort(reason);
  }

  /** Write again the ends the database was too busy to take. */
  retryUnrecorded(): void {
    for (const retry of [...this.unrecorded.values()]) retry();
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
    this.running.delete(task.id);
    this.t.deps.slots.give();
    try {
      if (entry.stop === 'lost') return; // another process owns the run, or nothing can be written: record nothing
      if (entry.stop === 'detach' && result.state !== 'success') {
        ctx.log.info(`try ${entry.tryNumber} detached: its work goes on, and the next orch process to own this run follows it`);
        return;
      }
      this.record(task, () => this.recordEnd(task, ctx, entry, result), entry.tryNumber);
    } finally {
      this.t.deps.kick();
    }
  }

  /**
   * Write a try's end. A database locked by another process is waited out: the outcome is
   * kept in memory and written again at each heartbeat (the run does not finish meanwhile).
   * Any other error that is not about the database fails the try rather than leave it
   * `running` for good.
   */
  private record(task: TaskDefinition, write: () => void, tryNumber: number): void {
    const { deps, records } = this.t;
    const where = { dag: records.dagId, run: records.runId, task: task.id };
    try {
      write();
      this.unrecorded.delete(task.id);
    } catch (err) {
      if (isStoreBusy(err)) {
        if (!this.unrecorded.has(task.id)) deps.logger.warn(where, `the database is locked; the end of try ${tryNumber} is written when it is free`);
        this.unrecorded.set(task.id, () => this.record(task, write, tryNumber));
        return;
      }
      this.unrecorded.delete(task.id);
      if (deps.fault(err)) return; // the database is gone: the scheduler halts everything
      const message = `recording the end of try ${tryNumber} failed: ${errorText(err)}`;
      deps.logger.error({ ...where, err }, message);
      try {
        const ti = deps.store.tis.get(records.key(task.id));
        if (ti) records.failed(task, ti, tryNumber, message, false);
      } catch (again) {
        if (isStoreBusy(again)) this.unrecorded.set(task.id, () => this.record(task, write, tryNumber));
        else deps.logger.error({ ...where, err: again }, 'could not record the failure either');
      }
    }
  }

  private recordEnd(task: TaskDefinition, ctx: TaskContext, entry: RunningTry, result: TryResult): void {
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
      deps.store.tis.finishTry(key, entry.tryNumber, 'failed', deps.clock.now().toISOString(), 'stopped from outside');
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
