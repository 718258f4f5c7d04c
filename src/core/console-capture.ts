/**
 * `console.log` inside a function task lands in that try's log, as Airflow captures a task's
 * stdout: the console methods are wrapped once per process, and a call made while a try's
 * code runs (tracked through AsyncLocalStorage, so it follows awaits and timers) is written
 * to that try's log instead of the terminal. Calls outside any try print as usual.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { TaskLogger } from '../sdk/index.ts';

const scope = new AsyncLocalStorage<TaskLogger>();
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
      const log = scope.getStore();
      if (!log) return original(...args);
      const text = format(...args);
      // One log row per line keeps multi-line output readable in `orch logs` and the UI.
      for (const line of text.split('\n')) log.external(stream, line, level);
    };
  }
}

/** Run `fn` so that console output it makes (now or after awaits) goes to `log`. */
export function withTaskConsole<T>(log: TaskLogger, fn: () => T): T {
  install();
  return scope.run(log, fn);
}
