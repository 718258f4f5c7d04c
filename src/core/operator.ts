/**
 * The contract between the scheduler and task implementations. Operators (src/operators)
 * implement it; the CLI hands the scheduler a registry of them. Function tasks are
 * adapted to it here, so the executor sees one shape.
 */
import { UnknownOperatorError } from '../errors.ts';
import type { TaskContext, TryOutcome } from '../sdk/index.ts';
import type { DagRunRow } from '../store/index.ts';
import type { TaskDefinition } from './dags/definition.ts';
import { runInThread, type ThreadOptions } from './isolation/run-in-thread.ts';

export interface OperatorImpl<O = Record<string, unknown>> {
  /** Do the work; the result becomes XCom `return_value`. Must honour `ctx.signal`. */
  execute(ctx: TaskContext, options: O): Promise<unknown>;
  /** Continue a try whose owning process died, using `ctx.handles`. Absent: the try is retried. */
  resume?(ctx: TaskContext, options: O): Promise<unknown>;
  /** Release what the try opened, whatever the outcome. */
  cleanup?(ctx: TaskContext, options: O, outcome: TryOutcome): Promise<void>;
  /**
   * Checked once when a run starts, before any task of it runs: throw (an OrchError with
   * `retryable = false`, naming what is wrong) when the task cannot possibly work, e.g. an
   * input path that does not exist. `ctx` is the context of try 0: params, run id and
   * dates are there; XCom is not (no upstream task has run). Must not touch a cluster.
   */
  preflight?(ctx: TaskContext, options: O): Promise<void> | void;
  /**
   * What the task would do, for `orch run --dry-run`: the requests in order, without sending
   * any. `result` stands in for its XCom so later tasks can be planned (a cluster's address).
   */
  plan?(ctx: TaskContext, options: O, hints: PlanHints): Promise<TaskPlan> | TaskPlan;
}

/** One request (or wait) a task would make. */
export interface PlanStep {
  /** `EMR RunJobFlow`, `POST http://…/sessions`, `wait …`. */
  call: string;
  /** The request body, printed as JSON. */
  body?: unknown;
  /** Code or text sent as is (a statement). */
  text?: string;
}

export interface TaskPlan {
  steps: PlanStep[];
  result?: unknown;
  /** Lines for the end of the dry run, e.g. what the cluster costs. */
  summary?: string[];
}

/** What a dry run knows beyond the DAG: how long earlier runs took. */
export interface PlanHints {
  /** Median duration of earlier successful runs of the DAG on this backend, if any. */
  expectedRunMs?: number;
  /** How many runs that median came from. */
  expectedFrom?: number;
}

export type OperatorRegistry = ReadonlyMap<string, OperatorImpl<any>>;

/** The execute/resume/cleanup functions for one task, bound to its options. */
export interface BoundTask {
  execute: (ctx: TaskContext) => Promise<unknown>;
  resume: ((ctx: TaskContext) => Promise<unknown>) | undefined;
  cleanup: ((ctx: TaskContext, outcome: TryOutcome) => Promise<void>) | undefined;
  preflight: ((ctx: TaskContext) => Promise<void>) | undefined;
}

/** What a function task with `isolation: 'worker'` needs to run in a thread of its own. */
export interface ThreadSetting {
  /** The DAG file, imported again in the thread. */
  dagPath: string;
  /** The SQLite file the thread writes the try's log, XCom and handles to. */
  dbFile: string;
  dryRun: boolean;
  run: DagRunRow;
  abortGraceMs: number;
  onLine?: ThreadOptions['onLine'];
}

/**
 * Bind a task definition to its implementation; throws UnknownOperatorError for an unknown
 * type. `thread` is required to execute a function task whose isolation is 'worker'.
 */
export function bindTask(task: TaskDefinition, registry: OperatorRegistry, thread?: ThreadSetting): BoundTask {
  if (task.run) {
    const { run, resume, cleanup } = task;
    if (task.isolation === 'worker') {
      const inThread = (mode: 'execute' | 'resume') => (ctx: TaskContext) => {
        if (!thread) throw new Error(`task '${task.id}' has isolation 'worker', but no worker thread was set up for it`);
        const { dagPath, dbFile, dryRun, run: row, abortGraceMs, onLine } = thread;
        const input = { dagPath, dbFile, dryRun, run: row, dagId: ctx.dagId, taskId: ctx.taskId, mode, tryNumber: ctx.tryNumber, maxTries: ctx.maxTries };
        return runInThread(ctx, { input, abortGraceMs, onLine });
      };
      return {
        execute: inThread('execute'),
        resume: resume && inThread('resume'),
        cleanup: cleanup && (async (ctx, outcome) => void (await cleanup(ctx, outcome))),
        preflight: undefined,
      };
    }
    return {
      execute: async (ctx) => run(ctx),
      resume: resume && (async (ctx) => resume(ctx)),
      cleanup: cleanup && (async (ctx, outcome) => void (await cleanup(ctx, outcome))),
      preflight: undefined,
    };
  }
  const spec = task.operator!;
  const impl = registry.get(spec.type);
  if (!impl) throw new UnknownOperatorError(spec.type, task.id);
  return {
    execute: (ctx) => impl.execute(ctx, spec.options),
    resume: impl.resume && ((ctx) => impl.resume!(ctx, spec.options)),
    cleanup: impl.cleanup && ((ctx, outcome) => impl.cleanup!(ctx, spec.options, outcome)),
    preflight: impl.preflight && (async (ctx) => impl.preflight!(ctx, spec.options)),
  };
}
