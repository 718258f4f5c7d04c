/** Creating a DagRun: params checked first, then the run and its task instances in one transaction. */
import { randomBytes } from 'node:crypto';
import type { DagRunRow, RunType, Store, TriggerSource } from '../../store/index.ts';
import type { DataInterval } from '../timetable.ts';
import type { DagDefinition } from '../dags/definition.ts';
import { resolveParams } from './params.ts';

export interface CreateRunOptions {
  conf?: Record<string, unknown>;
  triggeredBy: TriggerSource;
  runType: RunType;
  /** The data interval; manual runs default to [now, now]. */
  interval?: DataInterval;
  now: Date;
}

/** Create a queued run; throws ParamsValidationError before writing anything if conf is bad. */
export function createRun(store: Store, dag: DagDefinition, options: CreateRunOptions): DagRunRow {
  const conf = options.conf ?? {};
  const params = resolveParams(dag, conf);
  const interval = options.interval ?? { start: options.now, end: options.now };
  const logicalDate = interval.start.toISOString();
  const base = `${options.runType}__${logicalDate}`;
  // Two manual triggers in the same millisecond still get distinct ids.
  const runId = options.runType === 'manual' && store.runs.get(dag.id, base) ? `${base}_${randomBytes(3).toString('hex')}` : base;
  store.dags.upsert(dag.id, dag.file, dag.schedule, options.now.toISOString());
  return store.runs.create({
    dagId: dag.id,
    runId,
    runType: options.runType,
    triggeredBy: options.triggeredBy,
    logicalDate,
    dataIntervalStart: interval.start.toISOString(),
    dataIntervalEnd: interval.end.toISOString(),
    conf,
    params,
    queuedAt: options.now.toISOString(),
    tasks: [...dag.tasks.values()].map((t) => ({ taskId: t.id, maxTries: t.retries + 1, pool: t.pool, operator: t.operatorType })),
  });
}
