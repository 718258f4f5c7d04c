/** `orch run <dag> --dry-run`: print what the run would send, in order, sending nothing. */
import type { DagDefinition } from '../../core/dags/definition.ts';
import type { DryRunPlan } from '../../core/dry-run.ts';
import type { PlanHints } from '../../core/operator.ts';
import type { Store } from '../../store/index.ts';

/** The plan as text; `backend` names where the clusters would be. */
export function formatPlan(dag: DagDefinition, plan: DryRunPlan, backend: string): string {
  const out: string[] = [];
  const cloud = backend === 'emr' ? 'AWS or Livy' : 'Livy';
  out.push(`Dry run of ${dag.id} on the ${backend} backend: nothing is created, nothing is sent to ${cloud}, nothing is recorded.`);
  out.push(`run ${plan.runId} with params ${JSON.stringify(plan.params)}`);
  out.push(`at most ${dag.maxActiveTasks} of its tasks at a time`);
  plan.tasks.forEach((t, i) => {
    const when = [t.upstream.length ? `after ${t.upstream.join(', ')}` : '', t.triggerRule !== 'all_success' ? `trigger rule ${t.triggerRule}` : ''].filter(Boolean).join('; ');
    out.push('', `${i + 1}. ${t.taskId}  ${t.operatorType === 'function' ? 'function' : t.operatorType}${when ? `  (${when})` : ''}`);
    for (const step of t.steps) {
      out.push(`   → ${step.call}`);
      if (step.body !== undefined) out.push(indent(JSON.stringify(step.body, null, 2), 5));
      if (step.text !== undefined) out.push(indent(step.text.trimEnd(), 5));
    }
    if (t.error) out.push(`   ✗ cannot be planned: ${t.error}`);
    if (t.blockedBy) out.push(`   (not planned: it needs what ${t.blockedBy} would produce)`);
  });
  if (plan.summary.length) out.push('', 'What it costs', ...plan.summary);
  return out.join('\n') + '\n';
}

const indent = (text: string, n: number) => text.replace(/^/gm, ' '.repeat(n));

/**
 * How long a run of this DAG takes on `backend`: the median of its last successful runs
 * whose cluster was created there (the create task's XCom names the backend).
 */
export function runLengthHints(store: Store, dag: DagDefinition, backend: string): PlanHints {
  const create = [...dag.tasks.values()].find((t) => t.operatorType === 'cluster.create');
  if (!create) return {};
  const lengths = store.runs
    .list({ dagId: dag.id, states: ['success'], limit: 20 })
    .filter((r) => r.startDate && r.endDate)
    .filter((r) => {
      const x = store.xcom.get({ dagId: dag.id, runId: r.runId, taskId: create.id }, 'return_value');
      return x.found && (x.value as { backend?: string } | null)?.backend === backend;
    })
    .slice(0, 5)
    .map((r) => Date.parse(r.endDate!) - Date.parse(r.startDate!))
    .sort((a, b) => a - b);
  if (!lengths.length) return {};
  return { expectedRunMs: lengths[Math.floor(lengths.length / 2)], expectedFrom: lengths.length };
}
