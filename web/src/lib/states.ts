import type { State } from './types.ts';

export const FINISHED = new Set(['success', 'failed', 'upstream_failed', 'skipped', 'removed']);
export const ACTIVE = new Set(['running', 'queued', 'scheduled', 'up_for_retry', 'restarting', 'deferred']);

export function isFinished(state: State | null | undefined): boolean {
  return !!state && FINISHED.has(state);
}

/** CSS class carrying the Airflow colour of a state (see styles.css). */
export function stateClass(state: State | null | undefined): string {
  return `st-${(state ?? 'none').replace(/[^a-z_]/g, '')}`;
}
