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
