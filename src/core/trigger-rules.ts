/**
 * Whether a task may run, given its upstream tasks' states. Decisions are made as early
 * as the outcome is certain (Airflow's behaviour): an `all_success` task becomes
 * `upstream_failed` as soon as one upstream fails, without waiting for the others.
 */
import type { TriggerRule } from '../sdk/index.ts';
import type { TaskState } from '../store/index.ts';

export type Decision = 'run' | 'wait' | 'upstream_failed' | 'skipped';

/** Decide for one task from the states of its direct upstream tasks. */
export function decide(rule: TriggerRule, upstream: readonly TaskState[]): Decision {
  if (upstream.length === 0 || rule === 'always') return 'run';
  let success = 0;
  let failed = 0; // failed or upstream_failed
  let skipped = 0;
  for (const s of upstream) {
    if (s === 'success') success++;
    else if (s === 'failed' || s === 'upstream_failed') failed++;
    else if (s === 'skipped') skipped++;
  }
  const total = upstream.length;
  const done = success + failed + skipped === total;
  switch (rule) {
    case 'all_success':
      if (failed) return 'upstream_failed';
      if (skipped) return 'skipped';
      return done ? 'run' : 'wait';
    case 'all_failed':
      if (success || skipped) return 'skipped';
      return done ? 'run' : 'wait';
    case 'all_done':
      return done ? 'run' : 'wait';
    case 'one_success':
      if (success) return 'run';
      if (!done) return 'wait';
      return skipped === total ? 'skipped' : 'upstream_failed';
    case 'one_failed':
      if (failed) return 'run';
      return done ? 'skipped' : 'wait';
    case 'none_failed':
      if (failed) return 'upstream_failed';
      return done ? 'run' : 'wait';
    case 'none_skipped':
      if (skipped) return 'skipped';
      return done ? 'run' : 'wait';
  }
}
