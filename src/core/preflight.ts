/**
 * Checks run once when a run first starts, before any task: each operator's `preflight`
 * (e.g. "the input files exist") gets a try-0 context. A run that cannot work fails here,
 * naming the task and the reason, before a cluster is created or anything is submitted.
 */
import type { DagRunRow, Store } from '../store/index.ts';
import type { Clock } from './clock.ts';
import type { DagDefinition } from './dags/definition.ts';
import { errorText } from './executor.ts';
import type { Logger } from './logging.ts';
import { bindTask, type OperatorRegistry } from './operator.ts';
import { buildTaskContext } from './task-context.ts';

/** How long all checks of one run may take together. */
const PREFLIGHT_TIMEOUT_MS = 60_000;

export interface PreflightFailure {
  taskId: string;
  error: string;
}

/** Run every task's preflight check; the failures, in task order (empty when all pass). */
export async function preflightRun(
  dag: DagDefinition,
  run: DagRunRow,
  deps: { store: Store; registry: OperatorRegistry; clock: Clock; logger: Logger },
): Promise<PreflightFailure[]> {
  const failures: PreflightFailure[] = [];
  const signal = AbortSignal.timeout(PREFLIGHT_TIMEOUT_MS);
  for (const task of dag.tasks.values()) {
    let check: ReturnType<typeof bindTask>['preflight'];
    try {
      check = bindTask(task, deps.registry).preflight;
    } catch {
      continue; // An unknown operator fails the task when it is due, as it always has.
    }
    if (!check) continue;
    const ctx = buildTaskContext({ ...deps, run, taskId: task.id, tryNumber: 0, maxTries: task.retries + 1, signal, dryRun: true });
    try {
      await check(ctx);
    } catch (err) {
      failures.push({ taskId: task.id, error: errorText(err) });
    }
  }
  return failures;
}
