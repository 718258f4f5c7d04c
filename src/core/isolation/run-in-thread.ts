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
    const onAbort = () => {
      worker.postMessage({ type: 'abort', reason: toWire(ctx.signal.reason) });
      // A little inside the executor's own grace, so the thread is gone (and says so) before the try is recorded.
      graceTimer = setTimeout(() => {
        ctx.log.warn(`the worker thread did not stop within ${options.abortGraceMs / 1000} s of the abort; terminated it`);
        finish(() => reject(ctx.signal.reason));
      }, Math.max(0, options.abortGraceMs - 100));
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'line') options.onLine?.(m.line);
      else if (m.ok) finish(() => resolve(m.value));
      else finish(() => reject(fromWire(m.error)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the task's worker thread exited (code ${code}) before the task finished`))));
  });
}
