import type { TriggerRule } from './types.ts';

/** Every trigger rule, in the order the docs list them. */
export const TRIGGER_RULES: readonly TriggerRule[] = [
  'all_success',
  'all_failed',
  'all_done',
  'one_success',
  'one_failed',
  'none_failed',
  'none_skipped',
  'always',
];
