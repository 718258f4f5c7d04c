/**
 * Retry as a wrapper around `send`, like undici's retry interceptor: GET and DELETE only, on
 * a connection failure or a 502/503/504 (a gateway or a restarting Livy), with exponential
 * backoff. POST is never retried: Livy would create a second session or run the statement
 * twice — a lost POST is resolved by looking the session/statement up (reattach.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LivyConnectionError } from './errors.ts';
import type { Send } from './transport.ts';

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Delay before the first retry; doubles each time. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Bounded so that a dead server is reported within seconds (≈ 0.25 + 0.5 + 1 s). */
export const DEFAULT_RETRY: RetryOptions = { retries: 3, baseDelayMs: 250, maxDelayMs: 2000 };

/** Statuses that mean "the gateway or server is momentarily unavailable", not "your request is wrong". */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Delay before retry number `attempt` (0-based): exponential, capped, with ±20% jitter. */
export function backoffDelay(attempt: number, options: RetryOptions, random: () => number = Math.random): number {
  const exact = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  return Math.round(exact * (0.8 + 0.4 * random()));
}

/** Wrap `send` so idempotent calls survive connection errors and 502/503/504. */
export function withRetry(send: Send, options: RetryOptions = DEFAULT_RETRY): Send {
  return async (request) => {
    if (request.method === 'POST') return send(request);
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= options.retries;
      try {
        const response = await send(request);
        if (last || !RETRYABLE_STATUSES.has(response.status)) return response;
      } catch (error) {
        if (last || !(error instanceof LivyConnectionError)) throw error;
      }
      await sleep(backoffDelay(attempt, options), undefined, { signal: request.signal });
    }
  };
}
