import type { Duration } from './types.ts';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds in a Duration; throws a RangeError naming the bad value. */
export function durationMs(value: Duration): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`duration must be a non-negative number of ms, got ${value}`);
    return value;
  }
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(String(value).trim());
  if (!match) throw new RangeError(`'${value}' is not a duration (use e.g. '500ms', '30s', '5m', '2h', '1d')`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
