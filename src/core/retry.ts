/** How long to wait before the next try of a failed task. */
export interface RetryPolicy {
  retryDelayMs: number;
  retryExponentialBackoff: boolean;
  maxRetryDelayMs: number;
}

/**
 * Delay before try `failedTry + 1`. With backoff the delay doubles per try and takes a
 * random point in its upper half, so tasks that failed together do not retry together.
 */
export function retryDelayMs(policy: RetryPolicy, failedTry: number, random: () => number = Math.random): number {
  if (!policy.retryExponentialBackoff) return policy.retryDelayMs;
  const ceiling = Math.min(policy.maxRetryDelayMs, policy.retryDelayMs * 2 ** Math.max(0, failedTry - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** One pending wake-up per key: the retry timers of a run. */
export class Wakeups {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** Call `fn` in `ms` unless a wake-up for `key` is already pending. */
  set(key: string, ms: number, fn: () => void): void {
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        fn();
      }, ms),
    );
  }

  clear(key: string): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
  }

  clearAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
