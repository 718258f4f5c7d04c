/**
 * The types a DAG file sees. Nothing here does I/O: the runtime (src/core) implements
 * these interfaces and hands them to tasks.
 */
import type { z } from 'zod';

/** When a task may run, given the states of its upstream tasks (Airflow's names). */
export type TriggerRule =
  | 'all_success'
  | 'all_failed'
  | 'all_done'
  | 'one_success'
  | 'one_failed'
  | 'none_failed'
  | 'none_skipped'
  | 'always';

/** A length of time: milliseconds as a number, or a string such as '500ms', '30s', '5m', '2h', '1d'. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/** A cron expression (5 or 6 fields) or one of the presets. */
export type Schedule = '@hourly' | '@daily' | '@weekly' | '@monthly' | '@yearly' | (string & {});

/** The schema of a DAG's params: a zod object whose defaults fill what the conf leaves out. */
export type ParamsSchema = z.ZodObject<z.ZodRawShape>;

/** Options every task accepts; `defaultArgs` on the DAG sets them for all its tasks. */
export interface TaskArgs {
  /** Upstream states this task needs before it runs. Default `all_success`. */
  triggerRule?: TriggerRule;
  /** Named pool whose slots this task takes while it runs. Default `default_pool`. */
  pool?: string;
  /** How many times a failed try is tried again. Default 0. */
  retries?: number;
  /** Wait before a retry. Default '30s'. */
  retryDelay?: Duration;
  /** Double the wait after each failed try (with jitter). Default false. */
  retryExponentialBackoff?: boolean;
  /** Upper bound for the backoff. Default '10m'. */
  maxRetryDelay?: Duration;
  /** Abort a try that runs longer than this (the task's signal fires, its cleanup runs). */
  executionTimeout?: Duration;
  /**
   * Where a function task's `run` executes. 'inline' (default): in the scheduler's own
   * thread — no start-up cost, but synchronous work blocks every run of the process and a
   * timeout or cancel can only stop it once it yields. 'worker': in a worker thread of its
   * own that is terminated on timeout or cancel — costs a thread and a second import of the
   * DAG file per try (a fraction of a second). Operator tasks always run inline.
   */
  isolation?: 'inline' | 'worker';
}

/** A task as referenced by others, e.g. in `upstream`. */
export interface TaskRef {
  readonly id: string;
}

/** What a task sees while it runs. */
export interface TaskContext<P = Record<string, unknown>> {
  readonly dagId: string;
  readonly runId: string;
  readonly taskId: string;
  /** 1 for the first try, 2 for the first retry, … */
  readonly tryNumber: number;
  readonly maxTries: number;
  readonly logicalDate: Date;
  readonly dataIntervalStart: Date;
  readonly dataIntervalEnd: Date;
  /** The logical date as YYYY-MM-DD. */
  readonly ds: string;
  /** The run's params: the DAG's defaults overlaid with the run's conf, validated. */
  readonly params: P;
  /** The conf the run was triggered with, as given. */
  readonly conf: Readonly<Record<string, unknown>>;
  /** Fires when the try is aborted: timeout, cancel, or shutdown. */
  readonly signal: AbortSignal;
  readonly log: TaskLogger;
  readonly xcom: XComAccess;
  /** Things this task opened outside orch (sessions, clusters), kept so they can be reattached or released. */
  readonly handles: HandleAccess;
}

export interface TaskLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A line that came from elsewhere (e.g. a Livy log, the task's console), stored under its own source. Level `info` unless given. */
  external(source: string, message: string, level?: 'debug' | 'info' | 'warn' | 'error'): void;
}

export interface XComAccess {
  /** The value a task in this run pushed (its return value by default). Throws if there is none. */
  pull<T = unknown>(taskId: string, key?: string): T;
  /** Like pull, but undefined when absent. */
  get<T = unknown>(taskId: string, key?: string): T | undefined;
  /** Store an extra value under `key` for downstream tasks. */
  push(key: string, value: unknown): void;
}

export interface ExternalHandle {
  /** The task that recorded it (given by `inRun`). */
  readonly taskId?: string;
  readonly kind: string;
  readonly externalId: string;
  readonly url?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly tryNumber: number;
  readonly releasedAt?: string;
}

export interface HandleAccess {
  /** Record at once (durably) that the task opened something outside. */
  record(handle: { kind: string; externalId: string; url?: string; data?: Record<string, unknown> }): void;
  /**
   * Mark a handle as released (closed, deleted). With `fromTask`, one that another task of
   * this run recorded (e.g. cluster.terminate releasing the cluster of cluster.create).
   */
  release(kind: string, externalId: string, fromTask?: string): void;
  /** Handles this task recorded in this run, newest first; unreleased only unless `all`. */
  list(kind?: string, all?: boolean): ExternalHandle[];
  /** Unreleased handles of one kind that any task of this run recorded, oldest first (e.g. a replacement cluster). */
  inRun(kind: string): ExternalHandle[];
}

/** A task whose work is a TypeScript function. */
export interface FunctionTaskOptions<P> extends TaskArgs {
  id: string;
  upstream?: ReadonlyArray<TaskRef | string>;
  doc?: string;
  /** The work. The returned value becomes the task's XCom `return_value`. */
  run: (ctx: TaskContext<P>) => unknown;
  /** Continue a try whose process died, from the handles it recorded. Without it, the try is retried. */
  resume?: (ctx: TaskContext<P>) => unknown;
  /** Runs after every try, whatever its outcome: release what the try opened. */
  cleanup?: (ctx: TaskContext<P>, outcome: TryOutcome) => unknown;
}

/** A task whose work is a built-in operator (e.g. a Livy statement), described by data. */
export interface OperatorTaskOptions extends TaskArgs {
  id: string;
  upstream?: ReadonlyArray<TaskRef | string>;
  doc?: string;
  operator: OperatorSpec;
}

/** Names an operator implementation and its options; the runtime looks the type up. */
export interface OperatorSpec {
  readonly type: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** Task args this operator implies (e.g. terminate runs `all_done`); the task's own win. */
  readonly defaults?: TaskArgs;
}

export type TryOutcome = { state: 'success' } | { state: 'failed'; error: Error };

export interface DagOptions<S extends ParamsSchema | undefined = undefined> {
  id: string;
  description?: string;
  /** Cron expression or preset; omit for a DAG that only runs when triggered. */
  schedule?: Schedule | null;
  /** First logical date the schedule covers (ISO string or Date). Required with a schedule. */
  startDate?: string | Date;
  /** With a schedule: create runs for every interval missed since startDate. Default false. */
  catchup?: boolean;
  params?: S;
  /** Tasks of this DAG running at once, across its runs. Default 16. */
  maxActiveTasks?: number;
  /** Runs of this DAG active at once. Default 16. */
  maxActiveRuns?: number;
  tags?: string[];
  defaultArgs?: TaskArgs;
}

export type ParamsOf<S> = S extends ParamsSchema ? z.output<S> : Record<string, unknown>;
