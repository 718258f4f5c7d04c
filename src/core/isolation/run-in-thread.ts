/**
 * The scheduler-thread side of `isolation: 'worker'`: starts a worker thread for one try,
 * relays its log lines, passes an abort on, and — because a thread stuck in synchronous
 * work never reads that message — terminates the thread once the abort grace is over.
 */
import { Worker } from 'node:worker_threads';
import type { TaskContext } from '../../sdk/index.ts';
import type { ThreadMessage, ThreadTaskInput } from './wire.ts';
import { fromWire, toWire } from './wire.ts';

export interface ThreadOptions {
  input: ThreadTaskInput;
  /** After an abort, how long the thread gets to stop by itself before it is terminated. */
  abortGraceMs: number;
  /** Each log line the task writes (the thread stores it; this is for live display). */
  onLine?: (line: Extract<ThreadMessage, { type: 'line' }>['line']) => void;
}

/** How long a thread gets to acknowledge an abort before it counts as stuck. */
const STUCK_AFTER_MS = 1_000;

/** Run the try in its own worker thread; settles with the task's value or error. */
export function runInThread(ctx: TaskContext, options: ThreadOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./thread-entry.mjs', import.meta.url), { workerData: options.input });
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(graceTimer);
      ctx.signal.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    let heard = false;
    const terminate = (why: string) => {
      ctx.log.warn(`the worker thread ${why}; terminated it`);
      finish(() => reject(ctx.signal.reason));
    };
    const onAbort = () => {
      worker.postMessage({ type: 'abort', reason: toWire(ctx.signal.reason) });
      // A little inside the executor's own grace, so the thread is gone (and says so) before the try is recorded.
      const grace = Math.max(0, options.abortGraceMs - 100);
      graceTimer = setTimeout(() => terminate(`did not stop within ${options.abortGraceMs / 1000} s of the abort`), grace);
      // A thread whose event loop is free answers at once; one stuck in synchronous work never will.
      const askMs = Math.min(STUCK_AFTER_MS, grace);
      setTimeout(() => heard || settled || terminate(`did not take the abort within ${askMs / 1000} s (stuck in synchronous work)`), askMs).unref();
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'aborting') heard = true;
      else if (m.type === 'line') options.onLine?.(m.line);
      else if (m.ok) finish(() => resolve(m.value));
      else finish(() => reject(fromWire(m.error)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the task's worker thread exited (code ${code}) before the task finished`))));
  });
}
