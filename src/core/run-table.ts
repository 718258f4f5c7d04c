/**
 * One run's task instance rows as the run driver knows them — read from the file when it
 * claims the run and at each heartbeat, and replaced by the row every write returns — with
 * the two work lists it decides from: tasks to decide again (their upstream changed) and
 * tasks allowed to run that wait for a slot. Keeping these in memory is what makes a try's
 * end cost work proportional to its downstream tasks, not to the run.
 */
import { FINISHED_TASK_STATES, type TaskInstanceRow, type TaskState } from '../store/index.ts';

/** States of a task that has not started: the driver still has to decide or start it. */
export const UNDECIDED: ReadonlySet<TaskState> = new Set(['none', 'scheduled', 'queued', 'up_for_retry']);

export class RunTable {
  rows = new Map<string, TaskInstanceRow>();
  /** Tasks to decide again: their upstream changed, or they wait to be scheduled. */
  pending = new Set<string>();
  /** Tasks allowed to run, in the order they became so, waiting for a slot. */
  ready = new Set<string>();
  /** How many rows are not in a finished state. */
  unfinished = 0;

  constructor(private readonly downstream: ReadonlyMap<string, string[]>) {}

  /** Start again from `rows` as read from the file: every task is decided again. */
  load(rows: TaskInstanceRow[]): void {
    this.rows = new Map(rows.map((r) => [r.taskId, r]));
    this.unfinished = rows.filter((r) => !FINISHED_TASK_STATES.has(r.state)).length;
    this.pending = new Set(this.rows.keys());
    this.ready = new Set();
  }

  /** Take in a row as a write left it: keep the count, and queue what it affects for a decision. */
  apply(row: TaskInstanceRow): void {
    const old = this.rows.get(row.taskId);
    this.rows.set(row.taskId, row);
    const was = old ? FINISHED_TASK_STATES.has(old.state) : true;
    const is = FINISHED_TASK_STATES.has(row.state);
    if (!old) this.unfinished += is ? 0 : 1;
    else if (was !== is) this.unfinished += was ? 1 : -1;
    if (was !== is) for (const d of this.downstream.get(row.taskId) ?? []) this.pending.add(d);
    if (UNDECIDED.has(row.state)) this.pending.add(row.taskId);
    else this.ready.delete(row.taskId);
  }

  /** A try of `taskId` ended here: it and its downstream tasks are decided again (a stopping try counted as running). */
  touched(taskId: string): void {
    this.pending.add(taskId);
    for (const d of this.downstream.get(taskId) ?? []) this.pending.add(d);
  }

  /** Every task's state, for working out the run's. */
  states(): Map<string, TaskState> {
    return new Map([...this.rows].map(([id, r]) => [id, r.state]));
  }
}
