/**
 * What a user does to a run from outside the process driving it (CLI now, the UI later):
 * cancel it, mark a task, clear tasks so they run again. Each is one transaction; the
 * owning scheduler notices on its next heartbeat.
 */
import { UnknownRunError, UnknownTaskError } from '../errors.ts';
import { FINISHED_RUN_STATES, FINISHED_TASK_STATES, type RunState, type Store, type TaskState } from '../store/index.ts';
import { allDownstream, type DagDefinition } from './dags/definition.ts';
import { ownerGone } from './leases/owner.ts';
import { runStateFromLeaves } from './run-state.ts';

/**
 * What a cancel did: `finished` (a queued run, failed at once), `requested` (a live process
 * drives the run and acts on it within a heartbeat), `orphaned` (recorded, but no process
 * drives the run: whoever adopts it next honours the cancel and runs its teardowns),
 * `already_done` (the run had finished).
 */
export type CancelOutcome = 'finished' | 'requested' | 'orphaned' | 'already_done';

/** Ask for a run to be cancelled. A queued run nobody started is failed at once. */
export function cancelRun(store: Store, dagId: string, runId: string, now: Date): CancelOutcome {
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
    return ownerGone(run, now) ? 'orphaned' : 'requested';
  });
}


/** Tasks that clean up after the others (trigger rule all_done/always, e.g. terminate_cluster). */
export function teardownTasks(dag: DagDefinition): string[] {
  return [...dag.tasks.values()].filter((t) => t.triggerRule === 'all_done' || t.triggerRule === 'always').map((t) => t.id);
}

export interface MarkResult {
  /** Tasks set to the state, in DAG order. */
  marked: string[];
  /** Tasks that were in that state already and were left alone. */
  unchanged: string[];
  /** Teardown tasks downstream that --downstream left to run as their trigger rule says. */
  teardownsLeft: string[];
  /** The run's state afterwards; a finished run's is worked out again from its tasks. */
  runState: RunState;
}

/**
 * Set a task's state by hand (success or failed) and, with `downstream`, every task after
 * it — except teardowns, which must still run (a cluster is terminated whatever was
 * marked). A running try is stopped by its owner within a heartbeat. In a finished run the
 * run's state follows the new task states (a cancelled run stays failed).
 */
export function markTask(
  store: Store,
  dag: DagDefinition,
  runId: string,
  taskId: string,
  state: Extract<TaskState, 'success' | 'failed'>,
  now: Date,
  downstream = false,
): MarkResult {
  return store.immediate(() => {
    const run = store.runs.get(dag.id, runId);
    if (!run) throw new UnknownRunError(dag.id, runId);
    const current = new Map(store.tis.listForRun(dag.id, runId).map((t) => [t.taskId, t.state]));
    if (!current.has(taskId)) throw new UnknownTaskError(dag.id, taskId, [...current.keys()]);
    const teardowns = new Set(teardownTasks(dag));
    const below = downstream ? allDownstream(dag, taskId).filter((t) => current.has(t)) : [];
    const selected = [taskId, ...below.filter((t) => !teardowns.has(t))];
    const result: MarkResult = { marked: [], unchanged: [], teardownsLeft: below.filter((t) => teardowns.has(t)), runState: run.state };
    for (const t of selected) {
      if (current.get(t) === state) result.unchanged.push(t);
      else if (store.tis.setState({ dagId: dag.id, runId, taskId: t }, state, now.toISOString(), undefined, markNote(state))) result.marked.push(t);
    }
    if (FINISHED_RUN_STATES.has(run.state) && run.note !== 'cancelled') {
      const states = new Map(store.tis.listForRun(dag.id, runId).map((t) => [t.taskId, t.state]));
      if ([...states.values()].every((s) => FINISHED_TASK_STATES.has(s))) {
        result.runState = runStateFromLeaves(dag, states);
        // The run's work ended when it ended; a mark changes its verdict, not its end time.
        if (result.runState !== run.state) store.runs.finish(dag.id, runId, result.runState, run.endDate ?? now.toISOString());
      }
    }
    return result;
  });
}

/** What a mark records as the task's error, so views can tell a state set by hand from one a try reached. */
const markNote = (state: 'success' | 'failed'): string => `marked ${state} by a user`;

/** True when the task's state was set by `markTask` (and nothing ran it since). */
export function markedByHand(ti: { state: TaskState; error: string | null }): boolean {
  return (ti.state === 'success' || ti.state === 'failed') && ti.error === markNote(ti.state);
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
