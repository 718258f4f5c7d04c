/**
 * Writes what happened to one run's tasks — a try's end, a failure before any try, a
 * failed preflight, the run's end — each in one transaction (a savepoint inside the run
 * driver's batch), hands every row it changed to `apply` so the driver's in-memory copy
 * stays the file's, and announces it as an event. The run driver decides; this records.
 */
import { RETURN_VALUE, type Store, type TaskInstanceRow, type TaskState, type TiKey } from '../store/index.ts';
import type { TaskLogger } from '../sdk/index.ts';
import type { Clock } from './clock.ts';
import type { TaskDefinition } from './dags/definition.ts';
import type { OrchEvents } from './events.ts';
import type { Logger } from './logging.ts';
import type { PreflightFailure } from './preflight.ts';
import { retryDelayMs } from './retry.ts';
import { jsonValue } from './xcom-value.ts';

/** The note of a run that failed its preflight check (nothing ran). */
export const PREFLIGHT_FAILED = 'preflight check failed';

export interface RecordsDeps {
  store: Store;
  clock: Clock;
  events: OrchEvents;
  logger: Logger;
  /** Told of every task instance row as a write left it. */
  apply: (row: TaskInstanceRow) => void;
}

export class RunRecords {
  constructor(
    private readonly deps: RecordsDeps,
    readonly dagId: string,
    readonly runId: string,
  ) {}

  key(taskId: string): TiKey {
    return { dagId: this.dagId, runId: this.runId, taskId };
  }

  emit(taskId: string, state: TaskState, tryNumber: number, error?: string): void {
    this.deps.events.emit('task', { dagId: this.dagId, runId: this.runId, taskId, state, tryNumber, error });
  }

  /** A try returned: success and its XCom, in one transaction (unless the row moved on meanwhile). */
  succeeded(task: TaskDefinition, tryNumber: number, value: unknown, log: TaskLogger): void {
    const { store } = this.deps;
    const key = this.key(task.id);
    const now = this.now();
    const json = value === undefined ? undefined : jsonValue(value, task.id);
    const recorded = store.immediate(() => {
      const row = store.tis.finishTry(key, tryNumber, 'success', now, null);
      if (row && json !== undefined) store.xcom.set(key, RETURN_VALUE, json, now);
      return row;
    });
    if (recorded) {
      this.deps.apply(recorded);
      log.info(`try ${tryNumber} succeeded`);
      this.emit(task.id, 'success', tryNumber);
    }
  }

  /** A try interrupted by a shutdown: back to scheduled, its try number given back. */
  interrupted(taskId: string, tryNumber: number, log: TaskLogger): void {
    const { store } = this.deps;
    const key = this.key(taskId);
    log.warn('try interrupted by shutdown; it will run again');
    const row = store.immediate(() => {
      if (!store.tis.finishTry(key, tryNumber, 'scheduled', this.now(), null)) return undefined;
      store.tis.giveBackTry(key, tryNumber);
      return store.tis.get(key);
    });
    if (row) this.deps.apply(row);
  }

  /** A try failed: up_for_retry after the task's delay when `retry`, else failed. */
  failed(task: TaskDefinition | undefined, ti: TaskInstanceRow, tryNumber: number, error: string, retry: boolean): void {
    const { store, clock } = this.deps;
    const key = this.key(ti.taskId);
    const now = clock.now();
    if (retry && task && tryNumber < ti.maxTries) {
      const delay = retryDelayMs(task, tryNumber);
      const at = new Date(now.getTime() + delay).toISOString();
      const row = store.tis.finishTry(key, tryNumber, 'up_for_retry', now.toISOString(), error, at);
      if (row) {
        this.deps.apply(row);
        store.logs.append(key, tryNumber, 'info', 'orch', `will retry in ${Math.round(delay / 100) / 10} s (try ${tryNumber + 1} of ${ti.maxTries})`, now.toISOString());
        this.emit(ti.taskId, 'up_for_retry', tryNumber, error);
      }
    } else {
      const row = store.tis.finishTry(key, tryNumber, 'failed', now.toISOString(), error);
      if (row) {
        this.deps.apply(row);
        this.emit(ti.taskId, 'failed', tryNumber, error);
      }
    }
  }

  /** A task that cannot even start (unknown operator or pool) fails without a try; true if recorded. */
  failedBeforeStart(taskId: string, error: string): boolean {
    const row = this.deps.store.tis.setState(this.key(taskId), 'failed', this.now(), ['scheduled', 'up_for_retry'], error);
    if (!row) return false;
    this.deps.apply(row);
    this.deps.logger.error({ dag: this.dagId, run: this.runId, task: taskId }, error);
    this.emit(taskId, 'failed', 0, error);
    return true;
  }

  /** Some task's preflight check failed: those tasks fail, the others are skipped, the run fails. */
  preflightFailed(failures: PreflightFailure[]): void {
    const { store } = this.deps;
    const now = this.now();
    const names = failures.map((f) => f.taskId).join(', ');
    store.immediate(() => {
      for (const f of failures) store.tis.setState(this.key(f.taskId), 'failed', now, ['none'], f.error);
      for (const ti of store.tis.listForRun(this.dagId, this.runId)) {
        store.tis.setState(this.key(ti.taskId), 'skipped', now, ['none'], `not run: the run failed its preflight check (${names})`);
      }
    });
    for (const f of failures) {
      // Info, like any task failure: the run's end says it, and `orch run` prints the errors.
      this.deps.logger.info({ dag: this.dagId, run: this.runId, task: f.taskId }, `preflight check failed: ${f.error}`);
      this.emit(f.taskId, 'failed', 0, f.error);
    }
    this.finishRun('failed', PREFLIGHT_FAILED);
  }

  /** The run is over. */
  finishRun(state: 'success' | 'failed', note?: string): void {
    this.deps.store.runs.finish(this.dagId, this.runId, state, this.now(), note);
    this.deps.logger.info({ dag: this.dagId, run: this.runId }, `run ${state}${note ? ` (${note})` : ''}`);
    this.deps.events.emit('run', { dagId: this.dagId, runId: this.runId, state, note });
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}
