/**
 * Drives one DagRun this process owns: decides which tasks may run (trigger rules, caps),
 * starts their tries, records outcomes, and finishes the run. Event-driven: a try that
 * ends re-evaluates at once; timers are only for retry delays.
 */
import { PoolNotFoundError, TaskCancelledError, TaskDetachedError } from '../errors.ts';
import {
  FINISHED_TASK_STATES,
  isStoreBusy,
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
  leaseMs: number;
  abortGraceMs: number;
  /** Ask the scheduler to re-evaluate every run (a slot was freed). */
  kick: () => void;
  /**
   * Report an error the driver could not handle where it happened (a write that failed).
   * True when it means the database cannot be used: the scheduler then halts every run,
   * and the driver stops writing.
   */
  fault: (err: unknown) => boolean;
}

const NOT_STARTED: readonly TaskState[] = ['none', 'scheduled', 'queued', 'up_for_retry'];

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
  private ready = false;

  private readonly records: RunRecords;
  /** Some running try could not be taken over yet (a locked database): recover() again at the next heartbeat. */
  private recoveryPending = false;
  private handedOver = false;

  constructor(
    private readonly deps: DriverDeps,
    private readonly dag: DagDefinition,
    private run: DagRunRow,
  ) {
    this.dagId = run.dagId;
    this.runId = run.runId;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.records = new RunRecords(deps, run.dagId, run.runId);
    this.tries = new RunTries({ deps, dag, records: this.records, run: () => this.run, mayRetry: (task) => this.mayRetry(task) });
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
    this.ready = true;
    this.guard(() => this.evaluate());
  }

  /**
   * After adopting a run: resume or retry the tries its last owner left running — one that
   * died, or (`handedOver`) one that drained and let the run go. A try the database was too
   * busy to take over is tried again at the next heartbeat.
   */
  recover(handedOver: boolean): void {
    this.handedOver = handedOver;
    this.recoveryPending = false;
    for (const ti of this.deps.store.tis.listForRun(this.dagId, this.runId)) {
      if (this.tries.has(ti.taskId)) continue;
      try {
        this.recoverTry(ti, handedOver);
      } catch (err) {
        if (!isStoreBusy(err)) throw err;
        this.recoveryPending = true;
      }
    }
  }

  private recoverTry(ti: TaskInstanceRow, handedOver: boolean): void {
    const { store, clock, owner } = this.deps;
    const key = this.key(ti.taskId);
    if (ti.state === 'queued') store.tis.setState(key, 'scheduled', clock.now().toISOString(), ['queued']);
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
    if (task && bound?.resume && store.tis.adoptTry(key, ti.tryNumber, owner, isoAfter(clock, this.deps.leaseMs))) {
      store.logs.append(key, ti.tryNumber, handedOver ? 'info' : 'warn', 'orch', `${what}; resuming it in pid ${owner.pid}`, clock.now().toISOString());
      this.deps.slots.take();
      this.launch(task, bound, ti.tryNumber, ti.maxTries, 'resume');
    } else {
      const error = `${what} and the task cannot be resumed${task ? bindError : ' (it is no longer in the DAG)'}`;
      store.logs.append(key, ti.tryNumber, 'error', 'orch', error, clock.now().toISOString());
      this.records.failed(task, ti, ti.tryNumber, error, this.mayRetry(task));
    }
  }

  /** Decide and start what can run now; finish the run when nothing is left. */
  evaluate(): void {
    if (this.finished || !this.ready) return;
    if (this.cancelled) {
      // Teardowns keep running through a cancel; everything else must have stopped first.
      if (this.tries.entries().some(([, r]) => !r.teardown)) return;
      this.skipForCancel(this.cancelled);
    }
    const { store, clock } = this.deps;
    const now = clock.now();
    let candidates: { task: TaskDefinition; ti: TaskInstanceRow }[] = [];
    for (let changed = true; changed; ) {
      changed = false;
      candidates = [];
      const tis = new Map(store.tis.listForRun(this.dagId, this.runId).map((ti) => [ti.taskId, ti]));
      for (const ti of tis.values()) {
        const task = this.dag.tasks.get(ti.taskId);
        if (!task) {
          // The task was removed from the DAG file after this run was created.
          if (NOT_STARTED.includes(ti.state)) changed ||= store.tis.setState(this.key(ti.taskId), 'skipped', now.toISOString(), NOT_STARTED, 'task no longer in the DAG');
          continue;
        }
        if (ti.state === 'none') {
          // A try still stopping here (marked or cleared from outside) is running, whatever its row says
          // already: a teardown must not start before what it tears down has stopped.
          const upstream = task.upstream.map((u) => (this.tries.has(u) ? 'running' : (tis.get(u)?.state ?? 'success')));
          const decision = decide(task.triggerRule, upstream);
          if (decision === 'wait') continue;
          if (decision === 'run') {
            store.tis.setState(this.key(task.id), 'scheduled', now.toISOString(), ['none']);
            this.emit(task.id, 'scheduled', ti.tryNumber);
            candidates.push({ task, ti: { ...ti, state: 'scheduled' } });
          } else if (store.tis.setState(this.key(task.id), decision, now.toISOString(), ['none'])) {
            this.emit(task.id, decision, ti.tryNumber);
            changed = true;
          }
        } else if (ti.state === 'scheduled') {
          candidates.push({ task, ti });
        } else if (ti.state === 'up_for_retry') {
          const due = ti.nextRetryAt ? new Date(ti.nextRetryAt).getTime() - now.getTime() : 0;
          if (due <= 0) candidates.push({ task, ti });
          else this.retryTimers.set(task.id, due, () => this.guard(() => this.evaluate()));
        }
      }
    }
    if (!this.draining) for (const c of candidates) this.tryStart(c.task, c.ti);
    this.finishIfDone();
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
    // A teardown (terminate_cluster) is what a cancel must still get done: never stopped.
    for (const [taskId, r] of this.tries.entries()) if (!r.teardown) this.tries.stop(r, 'cancel', new TaskCancelledError(taskId, reason));
    this.evaluate();
  }

  /** After a cancel, with nothing running any more: skip what had not started, teardowns excepted. */
  private skipForCancel(reason: string): void {
    const { store, clock } = this.deps;
    store.immediate(() => {
      for (const ti of store.tis.listForRun(this.dagId, this.runId)) {
        const task = this.dag.tasks.get(ti.taskId);
        if (task && TEARDOWN_RULES.has(task.triggerRule)) continue;
        if (store.tis.setState(this.key(ti.taskId), 'skipped', clock.now().toISOString(), NOT_STARTED, reason)) this.emit(ti.taskId, 'skipped', ti.tryNumber);
      }
    });
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

  /** Notice changes other processes made (cancel, mark, clear) and act on them. */
  sync(): void {
    if (this.finished) return;
    const { store } = this.deps;
    const run = store.runs.get(this.dagId, this.runId);
    if (!run) return;
    this.run = run;
    this.tries.retryUnrecorded();
    if (this.recoveryPending) this.recover(this.handedOver);
    if (run.cancelRequested && !this.cancelled) return this.cancel();
    for (const [taskId, r] of this.tries.entries()) {
      const ti = store.tis.get(this.key(taskId));
      if (ti && (ti.state !== 'running' || ti.tryNumber !== r.tryNumber)) this.tries.stop(r, 'marked', new TaskCancelledError(taskId, `set to '${ti.state}' from outside`));
    }
    this.evaluate();
  }

  /** Run `fn`; an error it throws (a failed write) goes to the scheduler instead of escaping a timer or microtask. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.deps.fault(err);
    }
  }

  private tryStart(task: TaskDefinition, ti: TaskInstanceRow): void {
    if (this.tries.has(task.id)) return;
    const { store, clock, owner, slots } = this.deps;
    let bound: BoundTask;
    try {
      bound = bindTask(task, this.deps.registry, this.tries.thread());
    } catch (err) {
      return this.failBeforeStart(task, errorText(err));
    }
    if (!slots.tryTake()) return;
    let outcome: number | 'full' | 'no_pool' | 'moved';
    try {
      outcome = store.immediate(() => {
        const now = clock.now().toISOString();
        if (store.tis.countActiveForDag(this.dagId, now) >= this.dag.maxActiveTasks) return 'full';
        const poolSlots = store.dags.poolSlots(task.pool);
        if (poolSlots === undefined) return 'no_pool';
        if (store.tis.countActiveInPool(task.pool, now) >= poolSlots) return 'full';
        return store.tis.startTry(this.key(task.id), ['scheduled', 'up_for_retry'], owner, clock.now().toISOString(), isoAfter(clock, this.deps.leaseMs)) ?? 'moved';
      });
    } catch (err) {
      // Nothing started (a locked or failed database): the slot must not be lost with it.
      slots.give();
      throw err;
    }
    if (typeof outcome !== 'number') {
      slots.give();
      if (outcome === 'no_pool') this.failBeforeStart(task, new PoolNotFoundError(task.pool, task.id).message);
      return;
    }
    this.launch(task, bound, outcome, ti.maxTries, 'execute');
  }

  private launch(task: TaskDefinition, bound: BoundTask, tryNumber: number, maxTries: number, mode: 'execute' | 'resume'): void {
    this.retryTimers.clear(task.id);
    this.tries.launch(task, bound, tryNumber, maxTries, mode);
  }

  /** In a cancelled run only teardowns retry: they are what must still happen. */
  private mayRetry(task: TaskDefinition | undefined): boolean {
    return task !== undefined && (!this.cancelled || TEARDOWN_RULES.has(task.triggerRule));
  }

  /** A task that cannot even start (unknown operator or pool) fails without a try. */
  private failBeforeStart(task: TaskDefinition, error: string): void {
    if (this.records.failedBeforeStart(task.id, error)) queueMicrotask(() => this.guard(() => this.evaluate()));
  }

  private finishIfDone(): void {
    if (this.finished || this.draining || this.tries.busy) return;
    const { store } = this.deps;
    const tis = store.tis.listForRun(this.dagId, this.runId);
    if (!tis.every((ti) => FINISHED_TASK_STATES.has(ti.state))) return;
    const state = this.cancelled ? 'failed' : runStateFromLeaves(this.dag, new Map(tis.map((t) => [t.taskId, t.state])));
    this.records.finishRun(state, this.cancelled ? 'cancelled' : undefined);
    this.finished = true;
    this.retryTimers.clearAll();
    this.resolveDone(state);
  }

  private key(taskId: string): TiKey {
    return this.records.key(taskId);
  }

  private emit(taskId: string, state: TaskState, tryNumber: number, error?: string): void {
    this.records.emit(taskId, state, tryNumber, error);
  }
}
