/** Shared setup for client tests: an engine in-process and a client with short polls. */
import { LivyClient } from '../../../src/integrations/livy/index.ts';
import type { LivyClientOptions } from '../../../src/integrations/livy/index.ts';
import { engineForTest } from '../../engine/support.ts';

export { engineForTest };

/** A client with test-sized poll intervals and retry delays (behaviour unchanged, just faster). */
export function testClient(url: string, options: Partial<LivyClientOptions> = {}): LivyClient {
  return new LivyClient({
    url,
    poll: { minIntervalMs: 20, maxIntervalMs: 200 },
    retry: { retries: 3, baseDelayMs: 20, maxDelayMs: 100 },
    ...options,
  });
}

/** Capture a rejection to assert on its fields. */
export async function failure(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got a result');
}
