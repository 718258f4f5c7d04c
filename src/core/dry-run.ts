/**
 * `orch run --dry-run`: every task's requests in the order the run would make them, from
 * each operator's `plan`, sending nothing. The run exists only in an in-memory database,
 * where each task's planned result stands in for its XCom (a cluster's address), so later
 * tasks render their statements as they would for real.
 */
import { openStore, type Store } from '../store/index.ts';
import type { DagDefinition } from './dags/definition.ts';
import { errorText } from './executor.ts';
import { silentLogger } from './logging.ts';
import { bindTask, type OperatorRegistry, type PlanHints, type PlanStep } from './operator.ts';
import { createRun } from './runs/create-run.ts';
import { buildTaskContext } from './task-context.ts';
import { systemClock } from './clock.ts';

export interface PlannedTask {
  taskId: string;
  operatorType: string;
  triggerRule: string;
  upstream: string[];
  steps: PlanStep[];
  /** Why this task could not be planned (bad settings, a template naming an XCom a function would push). */
  error?: string;
  /** The upstream task whose failure to plan left this one without what it needs. */
  blockedBy?: string;
}

export interface DryRunPlan {
  runId: string;
  params: Record<string, unknown>;
  tasks: PlannedTask[];
  summary: string[];
}

/** Plan a run of `dag` with `conf`; throws only for bad conf, as a real run would. */
export async function planRun(dag: DagDefinition, conf: Record<string, unknown> | undefined, registry: OperatorRegistry, hints: PlanHints = {}): Promise<DryRunPlan> {
  const store: Store = openStore(':memory:');
  try {
    const run = createRun(store, dag, { conf, triggeredBy: 'cli', runType: 'manual', now: new Date() });
    const tasks: PlannedTask[] = [];
    const summary: string[] = [];
    for (const task of topological(dag)) {
      const planned: PlannedTask = { taskId: task.id, operatorType: task.operatorType, triggerRule: task.triggerRule, upstream: task.upstream, steps: [] };
      tasks.push(planned);
      if (task.run) {
        planned.steps.push({ call: 'run the TypeScript function (not run in a dry run)' });
        continue;
      }
      try {
        const impl = registry.get(task.operatorType);
        bindTask(task, registry); // Throws the usual error for an unknown operator.
        if (!impl?.plan) {
          planned.steps.push({ call: `${task.operatorType}: this operator cannot say in advance what it will send` });
          continue;
        }
        const ctx = buildTaskContext({ store, run, taskId: task.id, tryNumber: 1, maxTries: task.retries + 1, signal: new AbortController().signal, clock: systemClock, logger: silentLogger });
        const plan = await impl.plan(ctx, task.operator!.options as never, hints);
        planned.steps.push(...plan.steps);
        if (plan.result !== undefined) store.xcom.set({ dagId: dag.id, runId: run.runId, taskId: task.id }, 'return_value', plan.result, new Date().toISOString());
        summary.push(...(plan.summary ?? []));
      } catch (err) {
        const broken = tasks.find((t) => task.upstream.includes(t.taskId) && (t.error || t.blockedBy));
        if (broken) planned.blockedBy = broken.blockedBy ?? broken.taskId;
        else planned.error = errorText(err);
      }
    }
    return { runId: run.runId, params: run.params, tasks, summary };
  } finally {
    store.close();
  }
}

/** Tasks so that each comes after its upstream, otherwise in the DAG's order. */
function topological(dag: DagDefinition) {
  const done = new Set<string>();
  const order = [];
  const pending = [...dag.tasks.values()];
  while (pending.length) {
    const i = pending.findIndex((t) => t.upstream.every((u) => done.has(u)));
    const [next] = pending.splice(i < 0 ? 0 : i, 1);
    done.add(next!.id);
    order.push(next!);
  }
  return order;
}
