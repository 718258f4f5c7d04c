/**
 * Runs one try of one task: calls the bound function with a context, enforces
 * executionTimeout through the AbortSignal, always runs cleanup, and reports the outcome.
 * It writes no task state; the run driver does, in one transaction with the XCom.
 */
import { performance } from 'node:perf_hooks';
import { TaskDetachedError, TaskTimeoutError } from '../errors.ts';
import type { TaskContext, TryOutcome } from '../sdk/index.ts';
import { withTaskScope } from './task-scope.ts';
import type { BoundTask } from './operator.ts';
import { describeThrown, toError } from './thrown.ts';

export type TryResult = { state: 'success'; value: unknown } | { state: 'failed'; error: Error; aborted: boolean };

export interface TryOptions {
  /** 'execute' for a new try, 'resume' to continue one whose process died. */
  mode: 'execute' | 'resume';
  timeoutMs: number | undefined;
  /** After an abort, how long the task gets to stop before it is given up on. */
  abortGraceMs: number;
  /** The controller whose signal the context carries; aborting it stops the try. */
  controller: AbortController;
  /** How long cleanup may take. Default 60 s. */
  cleanupTimeoutMs?: number;
}

/** Run a try to its end; never throws. */
export async function runTry(task: BoundTask, ctx: TaskContext, options: TryOptions): Promise<TryResult> {
  const { controller } = options;
  const started = performance.now();
  const timeout = () => new TaskTimeoutError(ctx.taskId, options.timeoutMs!);
  const timer = options.timeoutMs !== undefined ? setTimeout(() => controller.abort(timeout()), options.timeoutMs) : undefined;
  let result: TryResult;
  try {
    const fn = options.mode === 'resume' ? task.resume! : task.execute;
    const value = await untilAbortedPlusGrace(
      Promise.resolve().then(() => withTaskScope({ log: ctx.log, fail: (err) => controller.abort(toError(err)) }, () => fn(ctx))),
      controller.signal,
      options.abortGraceMs,
    );
    // The timer cannot fire while the task blocks the event loop: a try that returns past
    // its executionTimeout lost, whether or not the abort got to run.
    const late = options.timeoutMs !== undefined && performance.now() - started > options.timeoutMs;
    if (late && !controller.signal.aborted) controller.abort(timeout());
    // A task that ignored its signal but returned anyway still lost the race.
    result = controller.signal.aborted ? failed(controller.signal.reason, true) : { state: 'success', value };
  } catch (err) {
    const late = options.timeoutMs !== undefined && performance.now() - started > options.timeoutMs;
    if (late && !controller.signal.aborted) controller.abort(timeout());
    result = failed(controller.signal.aborted ? controller.signal.reason : err, controller.signal.aborted);
  } finally {
    clearTimeout(timer);
  }
  // A detached try is not over: the next owner resumes it, so what it opened must stay open.
  const detached = controller.signal.reason instanceof TaskDetachedError && task.resume !== undefined;
  if (task.cleanup && !detached) {
    const outcome: TryOutcome = result.state === 'success' ? { state: 'success' } : { state: 'failed', error: result.error };
    // Cleanup gets a bounded time too: one that hangs must not hold the try (and its lease) forever.
    const limit = options.cleanupTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(() => withTaskScope({ log: ctx.log }, () => task.cleanup!(ctx, outcome))),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`did not finish within ${limit / 1000} s; gave up on it`)), limit))),
      ]);
    } catch (err) {
      ctx.log.error(`cleanup failed: ${errorText(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return result;
}

/** Settle with `work`, or reject `abortGraceMs` after the signal fires if `work` is still running. */
function untilAbortedPlusGrace<T>(work: Promise<T>, signal: AbortSignal, abortGraceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let graceTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      graceTimer = setTimeout(() => reject(signal.reason), abortGraceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(graceTimer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

function failed(reason: unknown, aborted: boolean): TryResult {
  return { state: 'failed', error: toError(reason), aborted };
}

/** One-line text of an error (or of anything thrown) for logs and the task row; never throws. */
export function errorText(err: unknown): string {
  return describeThrown(err);
}
