/**
 * What follows a try's code wherever it goes — through awaits, timers and callbacks, tracked
 * with AsyncLocalStorage — so that what the code does outside orch's own calls still lands
 * on the try:
 * - `console.log` and friends go to that try's log, as Airflow captures a task's stdout
 *   (the console methods are wrapped once per process; calls outside any try print as usual);
 * - an error that escapes the code (thrown in a callback, a promise nobody awaited) fails
 *   that try instead of crashing the process and every run in it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { TaskLogger } from '../sdk/index.ts';
import { describeThrown, safeStack } from './thrown.ts';

export interface TaskScope {
  log: TaskLogger;
  /** End the try with this error (an error that escaped its code). */
  fail?: (err: unknown) => void;
}

const scope = new AsyncLocalStorage<TaskScope>();
let installed = false;

/** Where each console method's lines go: the stream a terminal would have shown them on, and a level. */
const ROUTES = {
  log: ['stdout', 'info'],
  info: ['stdout', 'info'],
  debug: ['stdout', 'debug'],
  trace: ['stderr', 'debug'],
  warn: ['stderr', 'warn'],
  error: ['stderr', 'error'],
} as const;

function install(): void {
  if (installed) return;
  installed = true;
  for (const [method, [stream, level]] of Object.entries(ROUTES) as [keyof typeof ROUTES, (typeof ROUTES)[keyof typeof ROUTES]][]) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const current = scope.getStore();
      if (!current) return original(...args);
      const text = format(...args);
      // One log row per line keeps multi-line output readable in `orch logs` and the UI.
      for (const line of text.split('\n')) current.log.external(stream, line, level);
    };
  }
  process.on('uncaughtException', (err) => escaped(err, 'uncaughtException'));
  process.on('unhandledRejection', (err) => escaped(err, 'unhandledRejection'));
}

function escaped(err: unknown, event: 'uncaughtException' | 'unhandledRejection'): void {
  const current = scope.getStore();
  if (current) {
    current.log.error(`an error escaped the task's code (thrown in a callback, or a promise nobody awaited): ${describeThrown(err)}`);
    current.fail?.(err);
    return;
  }
  // Not a task's: do what Node does without a handler — unless someone else handles it (a test runner).
  if (process.listenerCount(event) > 1) return;
  process.stderr.write(`${safeStack(err) ?? describeThrown(err)}\n`);
  process.exit(1);
}

/** Run `fn` inside a try's scope: its console output, now or after awaits, goes to `scope.log`. */
export function withTaskScope<T>(taskScope: TaskScope, fn: () => T): T {
  install();
  return scope.run(taskScope, fn);
}
