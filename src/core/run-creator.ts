/**
 * Creates scheduled runs from cron: every due interval with catchup, only the latest
 * without; never more active runs than `maxActiveRuns`; none for a paused DAG.
 */
import { OrchError } from '../errors.ts';
import type { Store } from '../store/index.ts';
import type { DagDefinition } from './dags/definition.ts';
import type { Logger } from './logging.ts';
import { createRun } from './runs/create-run.ts';
import { dueIntervals } from './timetable.ts';

const reported = new Set<string>();

/** Create the runs due at `now`; returns how many were created. */
export function createScheduledRuns(store: Store, dags: readonly DagDefinition[], now: Date, logger: Logger): number {
  let created = 0;
  for (const dag of dags) {
    if (!dag.schedule || !dag.startDate || store.dags.isPaused(dag.id)) continue;
    const room = dag.maxActiveRuns - store.runs.countActive(dag.id);
    if (room <= 0) continue;
    const latest = store.runs.latestScheduled(dag.id);
    const after = latest ? new Date(latest.dataIntervalEnd) : undefined;
    for (const interval of dueIntervals(dag.schedule, dag.startDate, dag.catchup, after, now, room)) {
      try {
        createRun(store, dag, { triggeredBy: 'scheduler', runType: 'scheduled', interval, now });
        created++;
      } catch (err) {
        // Another scheduler created it first (unique interval), or params lack defaults.
        if (String((err as { code?: string }).code).startsWith('SQLITE_CONSTRAINT')) continue;
        const key = `${dag.id}:${(err as Error).message}`;
        if (!reported.has(key)) {
          reported.add(key);
          logger.error({ dag: dag.id, code: err instanceof OrchError ? err.code : undefined }, `cannot create scheduled run: ${(err as Error).message}`);
        }
        break;
      }
    }
  }
  return created;
}
