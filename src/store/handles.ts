/** The `external_handle` table: what tasks opened outside orch, stored the moment it is known. */
import { prepared, type Db } from './db.ts';
import type { ExternalHandleRow, TiKey } from './types.ts';

const SELECT = `SELECT id, dag_id AS dagId, run_id AS runId, task_id AS taskId, try_number AS tryNumber, kind,
  external_id AS externalId, url, data, created_at AS createdAt, released_at AS releasedAt FROM external_handle`;

export interface NewHandle {
  kind: string;
  externalId: string;
  url?: string;
  data?: Record<string, unknown>;
}

export class HandleStore {
  constructor(private readonly db: Db) {}

  record(k: TiKey, tryNumber: number, h: NewHandle, now: string): void {
    prepared(this.db, 
        `INSERT INTO external_handle (dag_id, run_id, task_id, try_number, kind, external_id, url, data, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (dag_id, run_id, task_id, kind, external_id) DO UPDATE SET try_number = excluded.try_number,
           url = excluded.url, data = excluded.data, released_at = NULL`,
      )
      .run(k.dagId, k.runId, k.taskId, tryNumber, h.kind, h.externalId, h.url ?? null, h.data ? JSON.stringify(h.data) : null, now);
  }

  release(k: TiKey, kind: string, externalId: string, now: string): void {
    prepared(this.db, 
        `UPDATE external_handle SET released_at = ? WHERE dag_id = ? AND run_id = ? AND task_id = ? AND kind = ?
           AND external_id = ? AND released_at IS NULL`,
      )
      .run(now, k.dagId, k.runId, k.taskId, kind, externalId);
  }

  getById(id: number): ExternalHandleRow | undefined {
    const row = prepared(this.db, `${SELECT} WHERE id = ?`).get(id) as RawHandle | undefined;
    return row && toHandle(row);
  }

  /** A task's handles, newest first. */
  listForTask(k: TiKey, opts: { kind?: string; includeReleased?: boolean } = {}): ExternalHandleRow[] {
    const rows = prepared(this.db, 
        `${SELECT} WHERE dag_id = ? AND run_id = ? AND task_id = ? AND (? IS NULL OR kind = ?)
           AND (? = 1 OR released_at IS NULL) ORDER BY id DESC`,
      )
      .all(k.dagId, k.runId, k.taskId, opts.kind ?? null, opts.kind ?? null, opts.includeReleased ? 1 : 0) as RawHandle[];
    return rows.map(toHandle);
  }

  /** Every handle of a run, released or not, oldest first (for `orch runs show`). */
  listForRun(dagId: string, runId: string): ExternalHandleRow[] {
    const rows = prepared(this.db, `${SELECT} WHERE dag_id = ? AND run_id = ? ORDER BY id`).all(dagId, runId) as RawHandle[];
    return rows.map(toHandle);
  }

  /** Unreleased handles of one kind whose run has finished: what a reaper should look at. */
  openOfFinishedRuns(kind: string): ExternalHandleRow[] {
    const rows = prepared(this.db, 
        `SELECT h.id, h.dag_id AS dagId, h.run_id AS runId, h.task_id AS taskId, h.try_number AS tryNumber, h.kind,
           h.external_id AS externalId, h.url, h.data, h.created_at AS createdAt, h.released_at AS releasedAt
         FROM external_handle h JOIN dag_run r ON r.dag_id = h.dag_id AND r.run_id = h.run_id
         WHERE h.kind = ? AND h.released_at IS NULL AND r.state IN ('success', 'failed') ORDER BY h.id`,
      )
      .all(kind) as RawHandle[];
    return rows.map(toHandle);
  }

  /** Mark a handle released by its row id (for a reaper, which is no task). */
  releaseById(id: number, now: string): void {
    prepared(this.db, `UPDATE external_handle SET released_at = ? WHERE id = ? AND released_at IS NULL`).run(now, id);
  }
}

type RawHandle = Omit<ExternalHandleRow, 'data'> & { data: string | null };
const toHandle = (r: RawHandle): ExternalHandleRow => ({ ...r, data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null });
