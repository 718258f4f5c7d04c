/** The `task_log` table: every line of every try, in order, from orch and from Livy. */
import { prepared, type Db } from './db.ts';
import type { TaskLogRow, TiKey } from './types.ts';

export class LogStore {
  constructor(private readonly db: Db) {}

  append(k: TiKey, tryNumber: number, level: string, source: string, message: string, ts: string): number {
    const res = prepared(this.db, 
        `INSERT INTO task_log (dag_id, run_id, task_id, try_number, ts, level, source, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(k.dagId, k.runId, k.taskId, tryNumber, ts, level, source, message);
    return Number(res.lastInsertRowid);
  }

  /** Lines of one try after line id `afterId` (0 = from the start), oldest first. */
  read(k: TiKey, tryNumber: number, afterId = 0, limit = 10_000): TaskLogRow[] {
    return prepared(this.db, 
        `SELECT id, try_number AS tryNumber, ts, level, source, message FROM task_log
         WHERE dag_id = ? AND run_id = ? AND task_id = ? AND try_number = ? AND id > ? ORDER BY id LIMIT ?`,
      )
      .all(k.dagId, k.runId, k.taskId, tryNumber, afterId, limit) as TaskLogRow[];
  }

  /** The id of a try's newest line (0 when it has none): where a live view of it starts. */
  lastId(k: TiKey, tryNumber: number): number {
    const row = prepared(this.db, `SELECT coalesce(max(id), 0) AS id FROM task_log WHERE dag_id = ? AND run_id = ? AND task_id = ? AND try_number = ?`)
      .get(k.dagId, k.runId, k.taskId, tryNumber) as { id: number };
    return row.id;
  }
}
