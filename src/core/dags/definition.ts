/** A DAG as the runtime uses it: validated, defaults applied, edges indexed. */
import type { OperatorSpec, ParamsSchema, TaskContext, TriggerRule, TryOutcome } from '../../sdk/index.ts';

export interface TaskDefinition {
  id: string;
  upstream: string[];
  triggerRule: TriggerRule;
  pool: string;
  retries: number;
  retryDelayMs: number;
  retryExponentialBackoff: boolean;
  maxRetryDelayMs: number;
  executionTimeoutMs: number | undefined;
  doc: string | undefined;
  /** 'function' for TypeScript tasks, else the operator type (e.g. 'livy.statement'). */
  operatorType: string;
  operator: OperatorSpec | undefined;
  run: ((ctx: TaskContext<any>) => unknown) | undefined;
  resume: ((ctx: TaskContext<any>) => unknown) | undefined;
  cleanup: ((ctx: TaskContext<any>, outcome: TryOutcome) => unknown) | undefined;
  /** Where `run` executes: the scheduler's thread, or a worker thread of its own. */
  isolation: 'inline' | 'worker';
}

export interface DagDefinition {
  id: string;
  /** The DAG file, relative to the working directory when inside it (for messages). */
  file: string;
  /** The DAG file's absolute path (to import it again, e.g. in a worker thread). */
  path: string;
  description: string | undefined;
  schedule: string | null;
  startDate: Date | null;
  catchup: boolean;
  params: ParamsSchema | undefined;
  maxActiveTasks: number;
  maxActiveRuns: number;
  tags: string[];
  /** Tasks in the order the file defined them. */
  tasks: Map<string, TaskDefinition>;
  downstream: Map<string, string[]>;
}

/** Every task downstream of `taskId`, transitively, in definition order. */
export function allDownstream(dag: DagDefinition, taskId: string): string[] {
  const seen = new Set<string>();
  const stack = [...(dag.downstream.get(taskId) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(dag.downstream.get(id) ?? []));
  }
  return [...dag.tasks.keys()].filter((id) => seen.has(id));
}

/** A DAG's tasks as `orch dags show --json` and the HTTP API show them, in definition order. */
export function describeTasks(dag: DagDefinition) {
  return [...dag.tasks.values()].map((t) => ({
    taskId: t.id,
    operator: t.operatorType,
    upstream: t.upstream,
    downstream: dag.downstream.get(t.id) ?? [],
    triggerRule: t.triggerRule,
    pool: t.pool,
    retries: t.retries,
    executionTimeoutMs: t.executionTimeoutMs ?? null,
    doc: t.doc ?? null,
  }));
}
