/** What crosses between the scheduler thread and a task's worker thread. */
import type { DagRunRow } from '../../store/index.ts';
import { describeThrown, safeStack } from '../thrown.ts';

export interface ThreadTaskInput {
  dagPath: string;
  dagId: string;
  taskId: string;
  mode: 'execute' | 'resume';
  dbFile: string;
  dryRun: boolean;
  run: DagRunRow;
  tryNumber: number;
  maxTries: number;
}

export type ThreadMessage =
  | { type: 'line'; line: { taskId: string; tryNumber: number; level: string; source: string; message: string } }
  | { type: 'aborting' }
  | { type: 'done'; ok: true; value: unknown }
  | { type: 'done'; ok: false; error: WireError };

/** An error as data: what a user needs of it survives the trip (message, stack, code, retryable, own fields). */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  retryable?: boolean;
}

/** Anything thrown, as a WireError. */
export function toWire(err: unknown): WireError {
  const e = err as Partial<WireError> | null;
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: describeThrown(err),
    stack: safeStack(err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    retryable: typeof e?.retryable === 'boolean' ? e.retryable : undefined,
  };
}

/** A WireError back as an Error with the same name, message, stack, code and retryable. */
export function fromWire(w: WireError): Error {
  const error = new Error(w.message);
  error.name = w.name;
  if (w.stack) error.stack = w.stack;
  if (w.code !== undefined) Object.assign(error, { code: w.code });
  if (w.retryable !== undefined) Object.defineProperty(error, 'retryable', { value: w.retryable });
  return error;
}
