/** The adaptive poll: fast at first, slower while nothing changes, fast again when the state changes. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLL, nextInterval } from '../../../src/integrations/livy/index.ts';

describe('the adaptive poll interval', () => {
  const poll = { minIntervalMs: 100, maxIntervalMs: 1000, factor: 2 };

  it('grows while nothing changes, up to the ceiling', () => {
    const seq = [100];
    for (let i = 0; i < 6; i++) seq.push(nextInterval(seq.at(-1)!, false, poll));
    expect(seq).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('drops back to the minimum as soon as the state changes', () => {
    expect(nextInterval(800, true, poll)).toBe(100);
  });

  it('starts fast by default and never waits longer than a second, so an end is seen within one', () => {
    expect(DEFAULT_POLL.minIntervalMs).toBeLessThanOrEqual(100);
    let interval = DEFAULT_POLL.minIntervalMs;
    for (let i = 0; i < 50; i++) interval = nextInterval(interval, false);
    expect(interval).toBe(1000);
  });
});
