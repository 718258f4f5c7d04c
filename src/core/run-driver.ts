/**
 * Drives one DagRun this process owns: decides which tasks may run (trigger rules, caps),
 * starts their tries, records outcomes, and finishes the run.
 *
 * It decides from memory: the run's task rows are read once when it is claimed (and again
 * at each heartbeat, for what other processes changed), and every write hands back the row
 * it left. When a try ends only its direct downstream tasks are decided again; tasks
 * allowed to run wait in a ready queue for a slot. All of it happens in `plan()`, which the
 * scheduler calls for every run inside one write transaction per burst of events; tries
 * are set going in `commit()`, after that transaction — a try never runs before the row
 * saying it runs is on disk. Timers are only for retry delays.
 */
import { PoolNotFoundError, TaskCancelledError, TaskDetachedError } from '../errors.ts';
import type { ActiveCounts } from './active-counts.ts';
import {
  type DagRunRow,
  type Owner,
  type RunState,
  type Store,
  type TaskInstanceRow,
  type TaskState,
  type TiKey,
} from '../store/index.ts';
import { isoAfter, type Clock } from './clock.ts';
import type { DagDefinition, TaskDefinition } from './dags/definition.ts';
import type { OrchEvents } from './events.ts';
import { errorText } from './executor.ts';
import type { Logger } from './logging.ts';
import { bindTask, type BoundTask, type OperatorRegistry } from './operator.ts';
import { preflightRun } from './preflight.ts';
import { Wakeups } from './retry.ts';
import { RunRecords } from './run-records.ts';
import { runStateFromLeaves } from './run-state.ts';
import { RunTable, UNDECIDED } from './run-table.ts';
import { RunTries, TEARDOWN_RULES } from './run-tries.ts';
import type { SlotPool } from './slots.ts';
import { decide } from './trigger-rules.ts';

export interface DriverDeps {
  store: Store;
  owner: Owner;
  clock: Clock;
  logger: Logger;
  events: OrchEvents;
  registry: OperatorRegistry;
  slots: SlotPool;
  /** Slots held per DAG and pool, across this process and others. */
  counts: ActiveCounts;
  leaseMs: number;
  abortGraceMs: number;
  /** Ask the scheduler for a batch soon (once per burst of events): something ended, a slot was freed. */
  kick: () => void;
  /** Run a batch now: what has ended must be on disk before the caller goes on (a drain). */
  flush: () => void;
  /**
   * Report an error the driver could not handle where it happened (a write that failed).
   * True when it means the database cannot be used: the scheduler then halts every run,
   * and the driver stops writing.
   */
  fault: (err: unknown) => boolean;
}

const NOT_STARTED: readonly TaskState[] = [...UNDECIDED];

/** What a start attempt came to: started; gone (it cannot or need not start); no room in the process or DAG; no room in its pool. */
type StartOutcome = 'started' | 'gone' | 'no_room' | 'pool_full';

export class RunDriver {
  readonly dagId: string;
  readonly runId: string;
  readonly done: Promise<RunState>;
  private resolveDone!: (s: RunState) => void;
  private readonly tries: RunTries;
  /** Wake-ups for tasks waiting out a retry delay. */
  private readonly retryTimers = new Wakeups();
  private draining = false;
  /** The cancel reason once the run is cancelled. */
  private cancelled: string | false = false;
  private finished = false;
  /** False until begin() has run the preflight checks of a new run. */
  private begun = false;
  private readonly records: RunRecords;

  /** The run's rows as this process last wrote or read them, and what waits to be decided or started. */
  private readonly table: RunTable;
  /** Set by recover(): the tries the last owner left running are taken over in the next batch. */
  private recovering: { handedOver: boolean } | undefined;

  // What the batch in flight did, undone if it rolls back.
  private launches: (() => void)[] = [];
  private undo: (() => void)[] = [];
  private recoveredInBatch: { handedOver: boolean } | undefined;
  /** This batch resumes a try that a cancel must stop once it is going. */
  private resumingNonTeardown = false;
  private outcome: 'success' | 'failed' | undefined;

  constructor(
    private readonly deps: DriverDeps,
    private readonly dag: DagDefinition,
    private run: DagRunRow,
  ) {
    this.dagId = run.dagId;
    this.runId = run.runId;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.table = new RunTable(dag.downstream);
    const apply = (row: TaskInstanceRow) => this.table.apply(row);
    this.records = new RunRecords({ ...deps, apply }, run.dagId, run.runId);
    this.tries = new RunTries({ deps, dag, records: this.records, run: () => this.run, mayRetry: (task) => this.mayRetry(task), apply });
    this.reload();
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /**
   * Start deciding. A run that has never started first passes its preflight checks (a
   * missing input fails the run here, before any cluster exists).
   */
  async begin(fresh: boolean): Promise<void> {
    if (fresh) {
      const { store, registry, clock, logger } = this.deps;
      const failures = await preflightRun(this.dag, this.run, { store, registry, clock, logger });
      if (this.finished) return;
      if (failures.length) {
        this.finished = true;
        this.guard(() => this.records.preflightFailed(failures));
        return this.resolveDone('failed');
      }
    }
    this.begun = true;
    this.deps.kick();
  }

  /**
   * After adopting a run: resume or retry the tries its last owner left running — one that
   * died, or (`handedOver`) one that drained and let the run go. Done in the next batch; a
   * database too busy to take it over means the batch after.
   */
  recover(handedOver: boolean): void {
    this.recovering = { handedOver };
    this.deps.kick();
  }

  /** Inside the scheduler's write transaction: write what ended, decide, start what may run. */
  plan(): void {
    if (this.finished || !this.begun) return;
    const now = this.deps.clock.now();
    if (this.recovering) {
      this.recoveredInBatch = this.recovering;
      this.recovering = undefined;
      for (const row of [...this.table.rows.values()]) if (!this.tries.has(row.taskId)) this.recoverTry(row, this.recoveredInBatch.handedOver);
    }
    for (const taskId of this.tries.writeEnds()) this.table.touched(taskId);
    if (this.cancelled) {
      // Teardowns keep running through a cancel; everything else must have stopped first
      // (tries resumed in this batch are stopped as soon as it commits).
      if (this.tries.entries().some(([, r]) => !r.teardown) || this.resumingNonTeardown) return;
      this.skipForCancel(this.cancelled);
    }
    do {
      for (const taskId of this.table.pending) {
        this.table.pending.delete(taskId);
        this.decide(taskId, now);
      }
      if (!this.draining) this.startReady();
    } while (this.table.pending.size);
    this.finishIfDone();
  }

  /** The batch committed: set going the tries it started; finish the run if it ended. */
  commit(): void {
    this.undo = [];
    this.recoveredInBatch = undefined;
    this.tries.committed();
    const launches = this.launches;
    this.launches = [];
    for (const go of launches) go();
    this.resumingNonTeardown = false;
    if (this.cancelled) this.stopForCancel(this.cancelled);
    if (this.outcome) {
      this.finished = true;
      this.retryTimers.clearAll();
      this.resolveDone(this.outcome);
    }
  }

  /** The batch rolled back (`busy`: the database was locked): nothing it did happened; read the rows again. */
  rollback(busy: boolean): void {
    for (const u of this.undo.reverse()) u();
    this.undo = [];
    this.launches = [];
    this.outcome = undefined;
    this.resumingNonTeardown = false;
    if (this.recoveredInBatch) this.recovering = this.recoveredInBatch;
    this.recoveredInBatch = undefined;
    this.tries.rolledBack(busy);
    if (this.finished) return;
    try {
      this.reload();
    } catch (err) {
      this.deps.fault(err);
    }
  }

  /**
   * Stop the run: abort running tries; once they have ended, tasks not started are
   * skipped, except teardowns, which then run. Waiting matters: a teardown must not run
   * while the task that creates what it tears down is still being stopped.
   */
  cancel(reason = 'the run was cancelled'): void {
    if (this.finished || this.cancelled) return;
    this.cancelled = reason;
    this.deps.store.runs.requestCancel(this.dagId, this.runId);
    this.deps.logger.info({ dag: this.dagId, run: this.runId }, `cancelling run: ${reason}`);
    this.stopForCancel(reason);
    this.deps.kick();
  }

  /** Stop every running try but the teardowns: terminate_cluster is what a cancel must still get done. */
  private stopForCancel(reason: string): void {
    for (const [taskId, r] of this.tries.entries()) if (!r.teardown) this.tries.stop(r, 'cancel', new TaskCancelledError(taskId, reason));
  }

  /**
   * Stop starting tries and hand the run over: tries that can be resumed elsewhere (Livy
   * statements, clusters) are detached at once and keep working outside, to be followed by
   * whoever adopts the run; the others get `graceMs` to end, then are interrupted and run
   * again. The lease is released so the next process adopts the run at once.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    this.retryTimers.clearAll();
    for (const [taskId, r] of this.tries.entries()) {
      if (r.resumable) this.tries.stop(r, 'detach', new TaskDetachedError(taskId, 'orch is shutting down'));
    }
    await Promise.race([this.tries.settled(), new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const [taskId, r] of this.tries.entries()) this.tries.stop(r, 'shutdown', new TaskCancelledError(taskId, 'orch is shutting down; the try will run again'));
    await this.tries.settled();
    // The ends must be on disk before the run is let go: the next owner decides from them.
    this.deps.flush();
    if (!this.finished) this.guard(() => this.deps.store.runs.release(this.dagId, this.runId, this.deps.owner.id));
    this.finished = true;
    this.resolveDone('running');
  }

  /**
   * Stop driving without recording anything: another process owns the run now (this one
   * stalled past its lease), or the database cannot be written. Resumable tries are
   * detached (their external work stays for the next owner), the others are stopped.
   */
  abandon(reason = 'another orch process took this run over', level: 'error' | 'info' = 'error'): void {
    if (this.finished) return;
    this.finished = true;
    this.draining = true;
    this.retryTimers.clearAll();
    for (const [taskId, r] of this.tries.entries()) {
      this.tries.stop(r, 'lost', r.resumable ? new TaskDetachedError(taskId, reason) : new TaskCancelledError(taskId, reason));
    }
    this.deps.logger[level]({ dag: this.dagId, run: this.runId }, `stopped driving this run: ${reason}`);
    this.resolveDone('running');
  }

  /** At a heartbeat: read the run and its rows again, and act on what other processes changed (cancel, mark, clear). */
  sync(): void {
    if (this.finished) return;
    const run = this.deps.store.runs.get(this.dagId, this.runId);
    if (!run) return;
    this.run = run;
    this.reload();
    if (run.cancelRequested && !this.cancelled) return this.cancel();
    for (const [taskId, r] of this.tries.entries()) {
      const row = this.table.rows.get(taskId);
      if (row && (row.state !== 'running' || row.tryNumber !== r.tryNumber)) this.tries.stop(r, 'marked', new TaskCancelledError(taskId, `set to '${row.state}' from outside`));
    }
    this.deps.kick();
  }

  /** Read the run's rows from the file; every task is decided again. */
  private reload(): void {
    this.table.load(this.deps.store.tis.listForRun(this.dagId, this.runId));
  }

  private decide(taskId: string, now: Date): void {
    const row = this.table.rows.get(taskId);
    if (!row) return;
    const task = this.dag.tasks.get(taskId);
    if (!task) {
      // The task was removed from the DAG file after this run was created.
      if (UNDECIDED.has(row.state)) this.setState(taskId, 'skipped', NOT_STARTED, 'task no longer in the DAG');
      return;
    }
    if (row.state === 'none') {
      // A try still stopping here (marked or cleared from outside) is running, whatever its row says
      // already: a teardown must not start before what it tears down has stopped.
      const upstream = task.upstream.map((u) => (this.tries.has(u) ? 'running' : (this.table.rows.get(u)?.state ?? 'success')));
      const decision = decide(task.triggerRule, upstream);
      if (decision !== 'wait') this.setState(taskId, decision === 'run' ? 'scheduled' : decision, ['none']);
    } else if (row.state === 'scheduled') {
      this.table.ready.add(taskId);
    } else if (row.state === 'up_for_retry') {
      const due = row.nextRetryAt ? new Date(row.nextRetryAt).getTime() - now.getTime() : 0;
      if (due <= 0) this.table.ready.add(taskId);
      else this.retryTimers.set(taskId, due, () => (this.table.pending.add(taskId), this.deps.kick()));
    }
  }

  private setState(taskId: string, state: TaskState, from: readonly TaskState[], error?: string): void {
    const row = this.deps.store.tis.setState(this.key(taskId), state, this.deps.clock.now().toISOString(), from, error);
    if (!row) return;
    this.table.apply(row);
    this.emit(taskId, state, row.tryNumber);
  }

  /** After a cancel, with nothing running any more: skip what had not started, teardowns excepted. */
  private skipForCancel(reason: string): void {
    for (const row of [...this.table.rows.values()]) {
      const task = this.dag.tasks.get(row.taskId);
      if (task && TEARDOWN_RULES.has(task.triggerRule)) continue;
      if (UNDECIDED.has(row.state)) this.setState(row.taskId, 'skipped', NOT_STARTED, reason);
    }
  }

  private startReady(): void {
    for (const taskId of this.table.ready) {
      const task = this.dag.tasks.get(taskId);
      const row = this.table.rows.get(taskId);
      if (!task || !row || (row.state !== 'scheduled' && row.state !== 'up_for_retry') || this.tries.has(taskId)) {
        this.table.ready.delete(taskId);
        continue;
      }
      const outcome = this.tryStart(task, row);
      if (outcome === 'no_room') return;
      if (outcome !== 'pool_full') this.table.ready.delete(taskId);
    }
  }

  private tryStart(task: TaskDefinition, row: TaskInstanceRow): StartOutcome {
    const { store, owner, slots, counts } = this.deps;
    let bound: BoundTask;
    try {
      bound = bindTask(task, this.deps.registry, this.tries.thread());
    } catch (err) {
      this.failBeforeStart(task, errorText(err));
      return 'gone';
    }
    // Not the batch's start time: a try started in a batch starts after the ends written before it.
    const at = this.deps.clock.now().toISOString();
    counts.refresh(at);
    if (counts.activeInDag(this.dagId) >= this.dag.maxActiveTasks) return 'no_room';
    const poolSlots = counts.slotsOf(task.pool);
    if (poolSlots === undefined) {
      this.failBeforeStart(task, new PoolNotFoundError(task.pool, task.id).message);
      return 'gone';
    }
    if (counts.activeInPool(task.pool) >= poolSlots) return 'pool_full';
    if (!slots.tryTake()) return 'no_room';
    const started = store.tis.startTry(this.key(task.id), ['scheduled', 'up_for_retry'], owner, at, isoAfter(this.deps.clock, this.deps.leaseMs));
    if (!started) {
      slots.give();
      return 'gone';
    }
    counts.started(this.dagId, task.pool);
    this.undo.push(() => (slots.give(), counts.ended(this.dagId, task.pool)));
    this.table.apply(started);
    this.retryTimers.clear(task.id);
    this.launches.push(this.tries.prepare(task, bound, started.tryNumber, row.maxTries, 'execute'));
    return 'started';
  }

  /** Resume or fail a try the last owner left running; a queued row goes back to scheduled. */
  private recoverTry(ti: TaskInstanceRow, handedOver: boolean): void {
    const { store, clock, owner, slots, counts } = this.deps;
    const key = this.key(ti.taskId);
    if (ti.state === 'queued') {
      const row = store.tis.setState(key, 'scheduled', clock.now().toISOString(), ['queued']);
      if (row) this.table.apply(row);
    }
    if (ti.state !== 'running') return;
    const task = this.dag.tasks.get(ti.taskId);
    const who = `pid ${ti.pid ?? '?'} on ${ti.hostname ?? '?'}`;
    const what = handedOver ? `the process running this try (${who}) handed the run over` : `the process running this try (${who}) died`;
    let bound: BoundTask | undefined;
    let bindError = '';
    try {
      bound = task && bindTask(task, this.deps.registry, this.tries.thread());
    } catch (err) {
      bindError = `: ${errorText(err)}`;
    }
    const adopted = task && bound?.resume ? store.tis.adoptTry(key, ti.tryNumber, owner, isoAfter(clock, this.deps.leaseMs)) : undefined;
    if (task && bound && adopted) {
      this.table.apply(adopted);
      store.logs.append(key, ti.tryNumber, handedOver ? 'info' : 'warn', 'orch', `${what}; resuming it in pid ${owner.pid}`, clock.now().toISOString());
      slots.take();
      counts.started(this.dagId, task.pool);
      this.undo.push(() => (slots.give(), counts.ended(this.dagId, task.pool)));
      this.retryTimers.clear(task.id);
      if (!TEARDOWN_RULES.has(task.triggerRule)) this.resumingNonTeardown = true;
      this.launches.push(this.tries.prepare(task, bound, ti.tryNumber, ti.maxTries, 'resume'));
    } else {
      const error = `${what} and the task cannot be resumed${task ? bindError : ' (it is no longer in the DAG)'}`;
      store.logs.append(key, ti.tryNumber, 'error', 'orch', error, clock.now().toISOString());
      this.records.failed(task, ti, ti.tryNumber, error, this.mayRetry(task));
    }
  }

  /** Run `fn`; an error it throws (a failed write) goes to the scheduler instead of escaping a timer or microtask. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.deps.fault(err);
    }
  }

  /** In a cancelled run only teardowns retry: they are what must still happen. */
  private mayRetry(task: TaskDefinition | undefined): boolean {
    return task !== undefined && (!this.cancelled || TEARDOWN_RULES.has(task.triggerRule));
  }

  /** A task that cannot even start (unknown operator or pool) fails without a try. */
  private failBeforeStart(task: TaskDefinition, error: string): void {
    this.records.failedBeforeStart(task.id, error);
  }

  private finishIfDone(): void {
    if (this.finished || this.draining || this.table.unfinished > 0 || this.tries.busy) return;
    const state = this.cancelled ? 'failed' : runStateFromLeaves(this.dag, this.table.states());
    this.records.finishRun(state, this.cancelled ? 'cancelled' : undefined);
    this.outcome = state;
  }

  private key(taskId: string): TiKey {
    return this.records.key(taskId);
  }

  private emit(taskId: string, state: TaskState, tryNumber: number, error?: string): void {
    this.records.emit(taskId, state, tryNumber, error);
  }
}
