/**
 * A wide DAG for the web UI's scale checks (test/e2e/web-dags.test.ts, bench/web-render.ts):
 * `wide_200`, 200 no-op tasks in a tree, and 25 finished runs written straight into SQLite
 * (executing 5000 tasks would take minutes here).
 */
import { openStore } from '../../src/store/index.ts';
import type { Workspace } from './dags.ts';

export const WIDE_DAG = 'wide_200';
export const WIDE = 200;
export const RUNS = 25;

export const wideTaskId = (i: number) => `task_${String(i).padStart(3, '0')}`;

/** Write the DAG file: task i hangs under task (i-1)/4, so the layout has real depth and width. */
export function writeWideDag(ws: Workspace): void {
  ws.writeDag(WIDE_DAG, `
const d = dag({ id: '${WIDE_DAG}', description: '${WIDE} no-op tasks', tags: ['bench'] });
const t = [];
for (let i = 0; i < ${WIDE}; i++) t.push(d.task({ id: 'task_' + String(i).padStart(3, '0'), upstream: i === 0 ? [] : [t[Math.floor((i - 1) / 4)]], run: () => {} }));
export default d;`);
}

/** Seed the runs (hourly from 2026-01-01, a mix of final task states); returns their ids, oldest first. */
export function seedWideRuns(db: string): string[] {
  const store = openStore(db);
  const runIds: string[] = [];
  try {
    const tasks = Array.from({ length: WIDE }, (_, i) => ({ taskId: wideTaskId(i), maxTries: 1, pool: 'default_pool', operator: 'python' }));
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const states = ['success', 'success', 'success', 'failed', 'upstream_failed', 'skipped'];
    store.immediate(() => {
      for (let r = 0; r < RUNS; r++) {
        const at = new Date(t0 + r * 3_600_000).toISOString();
        const end = new Date(t0 + r * 3_600_000 + 60_000 + r * 1000).toISOString();
        const runId = `manual__${at}`;
        runIds.push(runId);
        store.runs.create({ dagId: WIDE_DAG, runId, runType: 'manual', triggeredBy: 'api', logicalDate: at, dataIntervalStart: at, dataIntervalEnd: at, conf: {}, params: {}, queuedAt: at, tasks });
        store.db.prepare(`UPDATE dag_run SET state = ?, start_date = ?, end_date = ? WHERE dag_id = ? AND run_id = ?`).run(r % 5 === 4 ? 'failed' : 'success', at, end, WIDE_DAG, runId);
        store.db.prepare(`UPDATE task_instance SET state = CASE WHEN (CAST(substr(task_id, 6) AS INTEGER) + ?) % 7 = 0 THEN ? ELSE 'success' END, try_number = 1, start_date = ?, end_date = ? WHERE dag_id = ? AND run_id = ?`)
          .run(r, states[r % states.length], at, end, WIDE_DAG, runId);
      }
    });
  } finally { store.close(); }
  return runIds;
}

/** Runs in the page (the UI's CSP forbids string evaluation): are there `n` elements matching `sel`? */
export function countIs([sel, n]: readonly [string, number]): boolean {
  return (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll(sel).length === n;
}

/** Runs in the page: performance.now() once there are `n` elements matching `sel`, else false (for waitForFunction). */
export function renderedAt([sel, n]: readonly [string, number]): number | false {
  // Self-contained: playwright sends this function's source alone.
  const g = globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } }; performance: { now(): number } };
  return g.document.querySelectorAll(sel).length === n && g.performance.now();
}
