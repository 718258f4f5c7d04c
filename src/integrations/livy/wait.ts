/**
 * Waiting on Livy without the classic loop's faults. Sessions: poll until `idle`, stop at
 * once on a final state with the log tail in the error. Statements: poll adaptively — every
 * 50 ms while young, growing to a 1 s ceiling while the state stays (progress moving is not
 * a reason to poll faster: it is reported, not waited on), so an end is seen within a
 * second at worst and at about two requests a second at most — and treat `available` with
 * `output: null` as not finished. The log is read at most every `logIntervalMs` and once
 * more at the end, each line once (logs.ts). A poll that gets no answer (a timeout, a
 * refused connection after its retries, a gateway's 502/503/504) is asked again: one slow
 * answer must not end a statement that has run for hours. Only when polls stay unanswered
 * for a bounded window (`lostAfterMs`, a minute by default) — or the session answers 404 —
 * is it reported as LivySessionLostError, rather than polled forever.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { getBatchState } from './batches.ts';
import {
  LivyBatchFailedError,
  LivyConnectionError,
  LivyHttpError,
  LivySessionDeadError,
  LivySessionLostError,
  LivyStatementCancelledError,
  LivyStatementFailedError,
  LivyTimeoutError,
} from './errors.ts';
import { logTail } from './logs.ts';
import type { LogOwner, LogRead, LogReader } from './logs.ts';
import { getSessionState } from './sessions.ts';
import { pollStatement } from './statements.ts';
import { RETRYABLE_STATUSES } from './retry.ts';
import type { Send } from './transport.ts';
import { FINAL_SESSION_STATES } from './types.ts';
import type { Statement } from './types.ts';

export interface PollOptions {
  /** First and "something moved" interval. */
  minIntervalMs: number;
  /** Ceiling while nothing changes. */
  maxIntervalMs: number;
  /** Growth per unchanged poll. */
  factor: number;
}

export const DEFAULT_POLL: PollOptions = { minIntervalMs: 50, maxIntervalMs: 1000, factor: 1.5 };

/** How long a poll may be held by a server that offers orch's long poll, by default. */
export const DEFAULT_LONG_POLL_MS = 2000;

/** How often a statement's session log is read while it runs, by default. */
export const DEFAULT_LOG_INTERVAL_MS = 2000;

/** The next poll interval: back to the minimum when the state changed, else grow to the ceiling. */
export function nextInterval(current: number, changed: boolean, poll: PollOptions = DEFAULT_POLL): number {
  if (changed) return poll.minIntervalMs;
  return Math.min(poll.maxIntervalMs, Math.max(poll.minIntervalMs, Math.round(current * poll.factor)));
}

/** How long polls may go unanswered before the session counts as lost, by default. */
export const DEFAULT_LOST_AFTER_MS = 60_000;

/** Polls that got no answer, in a row. */
export interface Outage {
  failures: number;
  /** Since the first of them was sent. */
  forMs: number;
  lostAfterMs: number;
}

export interface WaitOptions {
  poll?: Partial<PollOptions>;
  signal?: AbortSignal;
  /** Lines of log put in a session-dead error. */
  tailLines?: number;
  /** How long polls may go unanswered before LivySessionLostError (at least two polls are tried); 60 s by default. */
  lostAfterMs?: number;
  /** Told of each unanswered poll inside that window (to log it); throw to stop waiting at once. */
  onUnanswered?: (error: Error, outage: Outage) => void;
}

export interface WaitSessionOptions extends WaitOptions {
  onState?: (state: string) => void;
}

/** Wait until a session is `idle`; throw LivySessionDeadError on a final state, LivySessionLostError if it vanishes. */
export async function waitForSessionIdle(send: Send, sessionId: number, options: WaitSessionOptions = {}): Promise<void> {
  const poll = { ...DEFAULT_POLL, ...options.poll };
  let interval = poll.minIntervalMs;
  let last: string | undefined;
  for (;;) {
    const { state } = await guard(sessionId, () => getSessionState(send, sessionId, options.signal), options);
    if (state !== last) options.onState?.(state);
    if (state === 'idle') return;
    // Livy: stop waiting on error, dead, killed, success (and shutting_down, which ends dead).
    if (FINAL_SESSION_STATES.has(state)) throw await deadError(send, 'sessions', sessionId, state, options);
    interval = nextInterval(interval, state !== last, poll);
    last = state;
    await sleep(interval, undefined, { signal: options.signal });
  }
}

export interface WaitStatementOptions extends WaitOptions {
  /** Called when `progress` (0..1) changes. */
  onProgress?: (progress: number, statement: Statement) => void;
  /** Read this log reader now and then (and at the end), passing what is new to `onLog`. */
  logs?: LogReader;
  onLog?: (read: LogRead) => void;
  /** Least time between two log reads while the statement runs; 2 s by default. */
  logIntervalMs?: number;
  /**
   * How long to let a server that offers orch's long poll (`orch engine`) hold a poll until
   * the statement changes; 2 s by default, 0 for plain polling. Keep it well under the
   * request timeout.
   */
  longPollMs?: number;
  /** Check the session's state every this many polls, to notice it dying mid-statement. */
  sessionCheckEvery?: number;
  /** Resolve with the statement instead of throwing LivyStatementFailedError on an error output. */
  returnErrors?: boolean;
}

/**
 * Wait until a statement is finished and its output is set. Resolves with the statement
 * (`available`, output `ok`); throws LivyStatementFailedError / LivyStatementCancelledError /
 * LivySessionDeadError / LivySessionLostError.
 */
export async function waitForStatement(
  send: Send,
  sessionId: number,
  statementId: number,
  options: WaitStatementOptions = {},
): Promise<Statement> {
  const poll = { ...DEFAULT_POLL, ...options.poll };
  const checkEvery = options.sessionCheckEvery ?? 5;
  const logEvery = options.logIntervalMs ?? DEFAULT_LOG_INTERVAL_MS;
  const longPollMs = options.longPollMs ?? DEFAULT_LONG_POLL_MS;
  let interval = poll.minIntervalMs;
  let previous: Statement | undefined;
  let logReadAt = -Infinity;
  /** The longest wait the server offers, once it has said so; undefined for plain Livy. */
  let offered: number | undefined;
  for (let polls = 1; ; polls++) {
    let statement: Statement;
    // A long poll only from a state that can still change: `available` without output is a moment's wait.
    const waitMs = offered && previous && previous.state !== 'available' ? Math.min(longPollMs, offered) : 0;
    const askedAt = performance.now();
    try {
      const answer = await guard(sessionId, () => pollStatement(send, sessionId, statementId, waitMs > 0 ? { state: previous!.state, ms: waitMs } : undefined, options.signal), options);
      statement = answer.statement;
      offered = answer.longPollMs;
    } catch (error) {
      // 404/400/500 on the statement usually means the session is gone or dead: say which.
      if (error instanceof LivyHttpError) await checkSession(send, sessionId, options);
      throw error;
    }
    const progress = statement.progress ?? 0;
    if (progress !== (previous?.progress ?? -1)) options.onProgress?.(progress, statement);
    // Livy: output may still be null right after 'available' — keep polling (fast) until it is set.
    const ended = statement.state === 'cancelled' || (statement.state === 'available' && statement.output !== null && statement.output !== undefined);
    if (options.logs && (ended || performance.now() - logReadAt >= logEvery)) {
      logReadAt = performance.now();
      options.onLog?.(await guard(sessionId, () => options.logs!.read(options.signal), options));
    }

    if (statement.state === 'cancelled') throw new LivyStatementCancelledError(sessionId, statementId);
    if (statement.state === 'available' && statement.output) {
      if (statement.output.status === 'error' && !options.returnErrors) {
        const { ename, evalue, traceback } = statement.output;
        throw new LivyStatementFailedError(ename, evalue, traceback ?? [], sessionId, statementId);
      }
      return statement;
    }
    const changed = !previous || previous.state !== statement.state || statement.state === 'available';
    if (polls % checkEvery === 0) await checkSession(send, sessionId, options);
    interval = nextInterval(interval, changed, poll);
    previous = statement;
    // The server held the poll until something changed or its wait ran out: ask again at once.
    // One that answers a long poll straight away with nothing changed is not waiting: poll as usual.
    const held = waitMs > 0 && (changed || performance.now() - askedAt >= waitMs / 2);
    if (!held) await sleep(interval, undefined, { signal: options.signal });
  }
}

/** Wait until a batch ends: resolves on `success`, throws LivyBatchFailedError on `dead`/`killed`/`error`. */
export async function waitForBatch(send: Send, batchId: number, options: WaitSessionOptions = {}): Promise<void> {
  const poll = { ...DEFAULT_POLL, ...options.poll };
  let interval = poll.minIntervalMs;
  let last: string | undefined;
  for (;;) {
    const { state } = await guard(batchId, () => getBatchState(send, batchId, options.signal), options, 'batch');
    if (state !== last) options.onState?.(state);
    if (state === 'success') return;
    if (state === 'dead' || state === 'killed' || state === 'error') {
      throw new LivyBatchFailedError(batchId, state, await safeTail(send, 'batches', batchId, options));
    }
    interval = nextInterval(interval, state !== last, poll);
    last = state;
    await sleep(interval, undefined, { signal: options.signal });
  }
}

/** Throw the right error if the session is final or gone; return if it is alive. */
async function checkSession(send: Send, sessionId: number, options: WaitOptions): Promise<void> {
  const { state } = await guard(sessionId, () => getSessionState(send, sessionId, options.signal), options);
  if (FINAL_SESSION_STATES.has(state)) throw await deadError(send, 'sessions', sessionId, state, options);
}

/**
 * Run a poll; ask again while it goes unanswered, within the window. Map "the server or the
 * session is gone" — a 404 for the session, or no answer for the whole window — to
 * LivySessionLostError.
 */
async function guard<T>(id: number, run: () => Promise<T>, options: WaitOptions, what: 'session' | 'batch' = 'session'): Promise<T> {
  const poll = { ...DEFAULT_POLL, ...options.poll };
  const lostAfterMs = options.lostAfterMs ?? DEFAULT_LOST_AFTER_MS;
  const since = Date.now();
  let delay = poll.minIntervalMs;
  for (let failures = 1; ; failures++) {
    try {
      return await run();
    } catch (error) {
      if (error instanceof LivyHttpError && error.status === 404 && /not found\.?$/i.test(error.serverMessage) && /session/i.test(error.serverMessage)) {
        throw new LivySessionLostError(id, `the server no longer knows ${what} ${id} (404: ${error.serverMessage})`, { cause: error });
      }
      if (!unanswered(error) || options.signal?.aborted) throw error;
      const outage: Outage = { failures, forMs: Date.now() - since, lostAfterMs };
      if (failures >= 2 && outage.forMs >= lostAfterMs) throw lostError(id, error, outage);
      options.onUnanswered?.(error, outage);
      await sleep(delay, undefined, { signal: options.signal });
      delay = nextInterval(delay, false, poll);
    }
  }
}

/** A poll that got no answer worth reading: it may get one if asked again. */
function unanswered(error: unknown): error is LivyConnectionError | LivyTimeoutError | LivyHttpError {
  return error instanceof LivyConnectionError || error instanceof LivyTimeoutError || (error instanceof LivyHttpError && RETRYABLE_STATUSES.has(error.status));
}

function lostError(id: number, error: LivyConnectionError | LivyTimeoutError | LivyHttpError, outage: Outage): LivySessionLostError {
  const during = `, for ${Math.round(outage.forMs / 1000)} s and ${outage.failures} polls`;
  if (error instanceof LivyConnectionError) return new LivySessionLostError(id, `the server stopped answering (${error.reason})${during}`, { cause: error });
  if (error instanceof LivyTimeoutError) return new LivySessionLostError(id, `polls got no answer within ${error.timeoutMs} ms${during}`, { cause: error });
  return new LivySessionLostError(id, `the server answered ${error.status} (${error.serverMessage})${during}`, { cause: error });
}

async function deadError(send: Send, owner: LogOwner, id: number, state: string, options: WaitOptions): Promise<LivySessionDeadError> {
  return new LivySessionDeadError(id, state, await safeTail(send, owner, id, options));
}

/** The log tail for an error message; an unreadable log must not hide the real error. */
async function safeTail(send: Send, owner: LogOwner, id: number, options: WaitOptions): Promise<string[]> {
  try {
    return await logTail(send, owner, id, options.tailLines ?? 20, options.signal);
  } catch {
    return [];
  }
}
