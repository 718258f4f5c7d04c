/**
 * A finished run's state follows from its leaves. A leaf with trigger rule `all_done` or
 * `always` is a teardown (e.g. terminate_cluster): its success must not hide a failure
 * upstream, so the tasks it waits on count as leaves too.
 */
import type { TaskState } from '../store/index.ts';
import type { DagDefinition } from './dags/definition.ts';

const FAILED: ReadonlySet<TaskState> = new Set(['failed', 'upstream_failed']);

export function runStateFromLeaves(dag: DagDefinition, states: ReadonlyMap<string, TaskState>): 'success' | 'failed' {
  const seen = new Set<string>();
  const failedLeaf = (id: string): boolean => {
    if (seen.has(id)) return false;
    seen.add(id);
    const task = dag.tasks.get(id);
    const state = states.get(id);
    if (state && FAILED.has(state)) return true;
    if (task && (task.triggerRule === 'all_done' || task.triggerRule === 'always')) return task.upstream.some(failedLeaf);
    return false;
  };
  const leaves = [...dag.tasks.keys()].filter((id) => (dag.downstream.get(id) ?? []).length === 0);
  return leaves.some(failedLeaf) ? 'failed' : 'success';
}
