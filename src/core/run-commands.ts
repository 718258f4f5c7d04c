/**
 * What a user does to a run from outside the process driving it (CLI now, the UI later):
 * cancel it, mark a task, clear tasks so they run again. Each is one transaction; the
 * owning scheduler notices on its next heartbeat.
 */
import { UnknownRunError, UnknownTaskError } from '../errors.ts';
import { FINISHED_RUN_STATES, type Store, type TaskState } from '../store/index.ts';
import { allDownstream, type DagDefinition } from './dags/definition.ts';

/** Ask for a run to be cancelled. A queued run nobody started is failed at once. */
export function cancelRun(store: Store, dagId: string, runId: string, now: Date): 'requested' | 'finished' | 'already_done' {
  return store.immediate(() => {
    const run = store.runs.get(dagId, runId);
    if (!run) throw new UnknownRunError(dagId, runId);
    if (FINISHED_RUN_STATES.has(run.state)) return 'already_done';
    if (run.state === 'queued') {
      for (const ti of store.tis.listForRun(dagId, runId)) store.tis.setState({ dagId, runId, taskId: ti.taskId }, 'skipped', now.toISOString(), ['none'], 'run cancelled');
      store.runs.finish(dagId, runId, 'failed', now.toISOString(), 'cancelled');
      return 'finished';
    }
    store.runs.requestCancel(dagId, runId);
    return 'requested';
  });
}

/** Set a task's state by hand (success or failed); a running try is stopped by its owner. */
export function markTask(store: Store, dagId: string, runId: string, taskId: string, state: Extract<TaskState, 'success' | 'failed'>, now: Date): void {
  store.immediate(() => {
    if (!store.runs.get(dagId, runId)) throw new UnknownRunError(dagId, runId);
    const ti = store.tis.get({ dagId, runId, taskId });
    if (!ti) throw new UnknownTaskError(dagId, taskId, store.tis.listForRun(dagId, runId).map((t) => t.taskId));
    store.tis.setState({ dagId, runId, taskId }, state, now.toISOString(), undefined, `marked ${state} by a user`);
  });
}

/**
 * Reset tasks (and, with `downstream`, everything after them) so they run again with
 * fresh retries; a finished run is reopened so `orch scheduler` or `orch run` picks it up.
 * Returns the task ids cleared.
 */
export function clearTasks(store: Store, dag: DagDefinition, runId: string, taskIds: string[] | undefined, downstream: boolean): string[] {
  return store.immediate(() => {
    const run = store.runs.get(dag.id, runId);
    if (!run) throw new UnknownRunError(dag.id, runId);
    const inRun = store.tis.listForRun(dag.id, runId).map((t) => t.taskId);
    for (const t of taskIds ?? []) if (!inRun.includes(t)) throw new UnknownTaskError(dag.id, t, inRun);
    const selected = new Set(taskIds ?? inRun);
    if (downstream) for (const t of [...selected]) for (const d of allDownstream(dag, t)) selected.add(d);
    const cleared = inRun.filter((t) => selected.has(t));
    for (const taskId of cleared) {
      const key = { dagId: dag.id, runId, taskId };
      store.tis.clear(key, dag.tasks.get(taskId)?.retries ?? 0);
      store.xcom.clear(key);
    }
    store.runs.reopen(dag.id, runId);
    return cleared;
  });
}
