/**
 * Turns what a DAG file built with `dag()` into a DagDefinition, or into errors that
 * name the file, the DAG, the task and the field. Problems are collected, not thrown
 * one at a time, so a user fixes a file in one pass.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { Cron } from 'croner';
import { z } from 'zod';
import { DagValidationError } from '../../errors.ts';
import { TRIGGER_RULES, durationMs, type Dag, type Duration, type ParamsSchema, type TaskArgs } from '../../sdk/index.ts';
import type { DagDefinition, TaskDefinition } from './definition.ts';
import { closest } from '../../util/suggest.ts';

const duration = z.union([z.number(), z.string()]);
const taskArgsShape = {
  triggerRule: z.string().optional(),
  pool: z.string().min(1).optional(),
  retries: z.number().int().min(0).optional(),
  retryDelay: duration.optional(),
  retryExponentialBackoff: z.boolean().optional(),
  maxRetryDelay: duration.optional(),
  executionTimeout: duration.optional(),
  isolation: z.enum(['inline', 'worker']).optional(),
};
const taskShape = {
  ...taskArgsShape,
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -'),
  upstream: z.array(z.union([z.string(), z.object({ id: z.string() })])).optional(),
  doc: z.string().optional(),
  run: z.function().optional(),
  resume: z.function().optional(),
  cleanup: z.function().optional(),
  operator: z.object({ type: z.string(), options: z.record(z.string(), z.unknown()), defaults: z.object(taskArgsShape).optional() }).optional(),
};
const dagShape = {
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -'),
  description: z.string().optional(),
  schedule: z.string().nullable().optional(),
  startDate: z.union([z.string(), z.date()]).optional(),
  catchup: z.boolean().optional(),
  // Duck-typed: the DAG file may load its own copy of zod.
  params: z
    .custom<ParamsSchema>((v) => typeof (v as ParamsSchema)?.safeParse === 'function' && typeof (v as ParamsSchema)?.shape === 'object', 'must be a zod object, e.g. z.object({ … })')
    .optional(),
  maxActiveTasks: z.number().int().min(1).optional(),
  maxActiveRuns: z.number().int().min(1).optional(),
  tags: z.array(z.string()).optional(),
  defaultArgs: z.object(taskArgsShape).strict().optional(),
};
const DagOptionsSchema = z.object(dagShape).strict();
const TaskSchema = z.object(taskShape).strict();

/** Validate one exported DAG; `file` is only for messages. */
export function validateDag(dag: Dag<ParamsSchema | undefined>, file: string, absFile = file): DagDefinition | DagValidationError[] {
  const errors: DagValidationError[] = [];
  const dagId = typeof dag.options?.id === 'string' ? dag.options.id : undefined;
  const fail = (code: DagValidationError['code'], detail: string) =>
    errors.push(new DagValidationError(code as never, file, dagId, detail));

  const opts = DagOptionsSchema.safeParse(dag.options);
  if (!opts.success) {
    for (const issue of opts.error.issues) fail('ORCH_DAG_BAD_OPTION', describeIssue(issue, Object.keys(dagShape), 'DAG option'));
    return errors;
  }
  const o = opts.data;
  const defaults: TaskArgs = (o.defaultArgs ?? {}) as TaskArgs;

  let schedule: string | null = o.schedule ?? null;
  if (schedule !== null) {
    try {
      new Cron(schedule, { paused: true, timezone: 'UTC' });
    } catch (err) {
      fail('ORCH_DAG_BAD_SCHEDULE', `schedule '${schedule}' is not a valid cron expression or preset (@hourly, @daily, @weekly, @monthly): ${(err as Error).message}`);
      schedule = null;
    }
  }
  const startDate = o.startDate === undefined ? null : new Date(o.startDate);
  if (startDate && Number.isNaN(startDate.getTime())) fail('ORCH_DAG_BAD_OPTION', `startDate '${String(o.startDate)}' is not a date (use ISO 8601, e.g. '2026-01-01')`);
  if (o.schedule && !startDate) fail('ORCH_DAG_BAD_OPTION', `a scheduled DAG needs a startDate`);
  if (o.params) {
    let res: ReturnType<ParamsSchema['safeParse']>;
    try {
      res = o.params.safeParse({});
    } catch (err) {
      // zod builds a schema lazily: `z.object({ name: 3 })` only throws when first used.
      fail('ORCH_DAG_BAD_OPTION', `params is not a valid zod schema: ${(err as Error).message}`);
      return errors;
    }
    // A param without a default is allowed (conf must then give it); a default that fails its own schema is not.
    if (!res.success) {
      for (const issue of res.error.issues) {
        if (issue.code === 'invalid_type' && issue.input === undefined) continue;
        fail('ORCH_DAG_BAD_OPTION', `params.${issue.path.join('.')}: default is invalid: ${issue.message}`);
      }
    }
  }

  const tasks = new Map<string, TaskDefinition>();
  const refs: { task: string; upstream: string }[] = [];
  for (const [index, raw] of (dag.tasks ?? []).entries()) {
    const parsed = TaskSchema.safeParse(raw);
    const label = typeof (raw as { id?: unknown })?.id === 'string' ? `task '${(raw as { id: string }).id}'` : `task #${index + 1}`;
    if (!parsed.success) {
      for (const issue of parsed.error.issues) fail('ORCH_DAG_BAD_OPTION', `${label}: ${describeIssue(issue, Object.keys(taskShape), 'task option')}`);
      continue;
    }
    const t = { ...defaults, ...parsed.data.operator?.defaults, ...parsed.data } as typeof parsed.data & TaskArgs;
    if (tasks.has(t.id)) {
      fail('ORCH_TASK_DUPLICATE_ID', `task id '${t.id}' is defined more than once`);
      continue;
    }
    if (!t.run === !t.operator) {
      fail('ORCH_DAG_BAD_OPTION', `${label}: give exactly one of 'run' (a function) or 'operator'`);
      continue;
    }
    if (t.operator && parsed.data.isolation === 'worker') {
      fail('ORCH_DAG_BAD_OPTION', `${label}: isolation 'worker' is for function tasks (run); operator tasks wait on I/O and always run inline`);
      continue;
    }
    const rule = t.triggerRule ?? 'all_success';
    if (!TRIGGER_RULES.includes(rule as never)) {
      const hint = closest(rule, TRIGGER_RULES);
      fail('ORCH_TASK_BAD_TRIGGER_RULE', `${label}: unknown trigger rule '${rule}'${hint ? ` (did you mean '${hint}'?)` : ''}; use one of ${TRIGGER_RULES.join(', ')}`);
      continue;
    }
    const ms = (field: string, v: Duration | undefined, fallback: number | undefined) => {
      if (v === undefined) return fallback;
      try {
        return durationMs(v);
      } catch (err) {
        fail('ORCH_DAG_BAD_OPTION', `${label}: ${field}: ${(err as Error).message}`);
        return fallback;
      }
    };
    const upstream = (t.upstream ?? []).map((u) => (typeof u === 'string' ? u : u.id));
    for (const u of upstream) refs.push({ task: t.id, upstream: u });
    tasks.set(t.id, {
      id: t.id,
      upstream: [...new Set(upstream)],
      triggerRule: rule as TaskDefinition['triggerRule'],
      pool: t.pool ?? 'default_pool',
      retries: t.retries ?? 0,
      retryDelayMs: ms('retryDelay', t.retryDelay as Duration | undefined, 30_000)!,
      retryExponentialBackoff: t.retryExponentialBackoff ?? false,
      maxRetryDelayMs: ms('maxRetryDelay', t.maxRetryDelay as Duration | undefined, 600_000)!,
      executionTimeoutMs: ms('executionTimeout', t.executionTimeout as Duration | undefined, undefined),
      doc: t.doc,
      operatorType: t.operator ? t.operator.type : 'function',
      operator: t.operator && { type: t.operator.type, options: resolveCodeFiles(t.operator.options, dirname(absFile)) },
      run: t.run as TaskDefinition['run'],
      resume: t.resume as TaskDefinition['resume'],
      cleanup: t.cleanup as TaskDefinition['cleanup'],
      // From defaultArgs it applies to the function tasks only.
      isolation: t.run ? (t.isolation ?? 'inline') : 'inline',
    });
  }
  if (tasks.size === 0 && errors.length === 0) fail('ORCH_DAG_BAD_OPTION', 'the DAG has no tasks; add one with d.task({ id, run })');

  const downstream = new Map<string, string[]>([...tasks.keys()].map((id) => [id, []]));
  for (const { task, upstream } of refs) {
    if (!tasks.has(upstream)) {
      const hint = closest(upstream, [...tasks.keys()]);
      fail('ORCH_TASK_UNKNOWN_UPSTREAM', `task '${task}' depends on '${upstream}', which is not a task of this DAG${hint ? ` (did you mean '${hint}'?)` : ''}`);
    } else if (!downstream.get(upstream)!.includes(task)) downstream.get(upstream)!.push(task);
  }
  const cycle = findCycle(tasks);
  if (cycle) fail('ORCH_DAG_CYCLE', `tasks form a cycle: ${cycle.join(' → ')}`);
  // Livy work on an EMR cluster created without Livy could only fail at run time.
  for (const t of tasks.values()) {
    if (!t.operatorType.startsWith('livy.')) continue;
    const create = tasks.get(String(t.operator?.options.cluster));
    const apps = (create?.operator?.options.emr as { applications?: string[] } | undefined)?.applications;
    if (apps && !apps.some((a) => a.toLowerCase() === 'livy')) {
      fail('ORCH_DAG_BAD_OPTION', `task '${t.id}' runs through Livy on the cluster of '${create!.id}', whose emr.applications (${apps.join(', ')}) leave Livy out; add 'Livy'`);
    }
  }

  if (errors.length) return errors;
  return {
    id: o.id,
    file,
    path: absFile,
    description: o.description,
    schedule,
    startDate,
    catchup: o.catchup ?? false,
    params: o.params,
    maxActiveTasks: o.maxActiveTasks ?? 16,
    maxActiveRuns: o.maxActiveRuns ?? 16,
    tags: o.tags ?? [],
    tasks,
    downstream,
  };
}

/** Make every `codeFile()` path absolute, relative to the DAG file's folder. */
function resolveCodeFiles(options: Record<string, unknown>, dir: string): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (typeof o.$file === 'string' && Object.keys(o).length === 1) return { $file: isAbsolute(o.$file) ? o.$file : resolve(dir, o.$file) };
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
  };
  return walk(options) as Record<string, unknown>;
}

/** The first cycle found, as a path that returns to its start, or undefined. */
function findCycle(tasks: Map<string, TaskDefinition>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done' || !tasks.has(id)) return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const up of tasks.get(id)!.upstream) {
      const found = visit(up);
      if (found) return found;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of tasks.keys()) {
    const found = visit(id);
    // Walked along upstream edges: reverse so the path reads in run order.
    if (found) return found.reverse();
  }
  return undefined;
}

function describeIssue(issue: z.core.$ZodIssue, known: string[], what: string): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((k) => {
        const hint = closest(k, known);
        return `unknown ${what} '${k}'${hint ? ` (did you mean '${hint}'?)` : ''}`;
      })
      .join('; ');
  }
  const path = issue.path.join('.');
  return `${path ? `${path}: ` : ''}${issue.message}`;
}
