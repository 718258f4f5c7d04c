/**
 * A timeout on every request, as a wrapper around `send`: each attempt gets its own deadline
 * (wrap this inside withRetry), combined with the caller's AbortSignal. A poll that hangs on
 * a half-dead server therefore fails in bounded time instead of stalling a task forever.
 */
import { LivyTimeoutError } from './errors.ts';
import type { Send } from './transport.ts';

/** Default per-request timeout. Livy answers DELETE only after the session stopped, so be generous. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Wrap `send` so each request fails with LivyTimeoutError after `timeoutMs`. */
export function withTimeout(send: Send, timeoutMs: number = DEFAULT_TIMEOUT_MS): Send {
  return async (request) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
    try {
      return await send({ ...request, signal });
    } catch (error) {
      if (deadline.aborted && !request.signal?.aborted) {
        throw new LivyTimeoutError(request.method, request.path, timeoutMs);
      }
      throw error;
    }
  };
}
