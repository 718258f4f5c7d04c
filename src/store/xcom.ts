/** The `xcom` table: values tasks hand to their downstream tasks, JSON-encoded. */
import { prepared, type Db } from './db.ts';
import type { TiKey } from './types.ts';

export const RETURN_VALUE = 'return_value';

export class XComStore {
  constructor(private readonly db: Db) {}

  set(k: TiKey, xkey: string, value: unknown, now: string): void {
    prepared(this.db, 
        `INSERT INTO xcom (dag_id, run_id, task_id, key, value, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (dag_id, run_id, task_id, key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at`,
      )
      .run(k.dagId, k.runId, k.taskId, xkey, JSON.stringify(value ?? null), now);
  }

  /** `{ found: false }` when absent, so a stored null is told apart from no value. */
  get(k: TiKey, xkey: string): { found: true; value: unknown } | { found: false } {
    const row = prepared(this.db, `SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? AND key = ?`)
      .get(k.dagId, k.runId, k.taskId, xkey) as { value: string } | undefined;
    return row ? { found: true, value: JSON.parse(row.value) } : { found: false };
  }

  listForTask(k: TiKey): { key: string; value: unknown }[] {
    return (
      prepared(this.db, `SELECT key, value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? ORDER BY key`)
        .all(k.dagId, k.runId, k.taskId) as { key: string; value: string }[]
    ).map((r) => ({ key: r.key, value: JSON.parse(r.value) }));
  }

  clear(k: TiKey): void {
    prepared(this.db, `DELETE FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ?`).run(k.dagId, k.runId, k.taskId);
  }
}
