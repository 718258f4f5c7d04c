/** The `task_instance` and `task_try` tables: one row per task per run, one per try. */
import { prepared, type Db } from './db.ts';
import type { Owner, TaskInstanceRow, TaskState, TaskTryRow, TiKey } from './types.ts';

const COLUMNS = `dag_id AS dagId, run_id AS runId, task_id AS taskId, state, try_number AS tryNumber,
  max_tries AS maxTries, pool, operator, queued_at AS queuedAt, start_date AS startDate, end_date AS endDate,
  next_retry_at AS nextRetryAt, hostname, pid, owner_id AS ownerId, lease_expires_at AS leaseExpiresAt, error`;
const SELECT = `SELECT ${COLUMNS} FROM task_instance`;
const KEY = `dag_id = ? AND run_id = ? AND task_id = ?`;
const LIVE = `(lease_expires_at IS NULL OR lease_expires_at > ?)`;
const key = (k: TiKey) => [k.dagId, k.runId, k.taskId] as const;

export class TaskInstanceStore {
  constructor(private readonly db: Db) {}

  get(k: TiKey): TaskInstanceRow | undefined {
    return prepared(this.db, `${SELECT} WHERE ${KEY}`).get(...key(k)) as TaskInstanceRow | undefined;
  }

  listForRun(dagId: string, runId: string): TaskInstanceRow[] {
    return prepared(this.db, `${SELECT} WHERE dag_id = ? AND run_id = ? ORDER BY rowid`).all(dagId, runId) as TaskInstanceRow[];
  }

  /** Add rows for tasks a run does not have yet (added to the DAG after the run was created). */
  addMissing(dagId: string, runId: string, tasks: { taskId: string; maxTries: number; pool: string; operator: string }[]): void {
    const insert = prepared(this.db, 
      `INSERT OR IGNORE INTO task_instance (dag_id, run_id, task_id, max_tries, pool, operator) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const t of tasks) insert.run(dagId, runId, t.taskId, t.maxTries, t.pool, t.operator);
    })();
  }

  /**
   * Task instances holding a slot (queued or running) that `ownerId` does not run, counted per
   * DAG and pool, across all runs and processes. A running try whose lease ran out holds none:
   * its process is gone, and its run waits to be adopted — it must not block other runs meanwhile.
   */
  activeHeldByOthers(ownerId: string, now: string): { dagId: string; pool: string; n: number }[] {
    return prepared(this.db, 
      `SELECT dag_id AS dagId, pool, count(*) AS n FROM task_instance
       WHERE state IN ('queued', 'running') AND ${LIVE} AND (owner_id IS NULL OR owner_id <> ?)
       GROUP BY dag_id, pool`,
    ).all(now, ownerId) as { dagId: string; pool: string; n: number }[];
  }

  /**
   * Begin a new try if the instance is still in one of `from`: bumps try_number, records
   * the owner and a task_try row. Returns the row as it now is, or undefined if it moved on.
   */
  startTry(k: TiKey, from: readonly TaskState[], owner: Owner, now: string, leaseUntil: string): TaskInstanceRow | undefined {
    const row = prepared(this.db, 
        `UPDATE task_instance SET state = 'running', try_number = try_number + 1, start_date = ?, end_date = NULL,
           next_retry_at = NULL, hostname = ?, pid = ?, owner_id = ?, lease_expires_at = ?, error = NULL,
           queued_at = coalesce(queued_at, ?)
         WHERE ${KEY} AND state IN (${from.map(() => '?').join(',')}) RETURNING ${COLUMNS}`,
      )
      .get(now, owner.host, owner.pid, owner.id, leaseUntil, now, ...key(k), ...from) as TaskInstanceRow | undefined;
    if (!row) return undefined;
    const tryNumber = row.tryNumber;
    prepared(this.db, 
        `INSERT INTO task_try (dag_id, run_id, task_id, try_number, state, start_date, hostname, pid)
         VALUES (?, ?, ?, ?, 'running', ?, ?, ?)`,
      )
      .run(...key(k), tryNumber, now, owner.host, owner.pid);
    return row;
  }

  /** End the leases of a run's tries whose owner is known to be dead, so they hold no slots. */
  expireLeases(dagId: string, runId: string, now: string): void {
    prepared(this.db, `UPDATE task_instance SET lease_expires_at = ? WHERE dag_id = ? AND run_id = ? AND state IN ('queued', 'running')`)
      .run(now, dagId, runId);
  }

  /** Take over a running try from a dead owner (to resume it); the row as it now is, or undefined. */
  adoptTry(k: TiKey, tryNumber: number, owner: Owner, leaseUntil: string): TaskInstanceRow | undefined {
    return prepared(this.db, 
        `UPDATE task_instance SET hostname = ?, pid = ?, owner_id = ?, lease_expires_at = ?
         WHERE ${KEY} AND state = 'running' AND try_number = ? RETURNING ${COLUMNS}`,
      )
      .get(owner.host, owner.pid, owner.id, leaseUntil, ...key(k), tryNumber) as TaskInstanceRow | undefined;
  }

  /**
   * End a running try. Only succeeds while the row is still `running` at that try, so a
   * state someone set meanwhile (mark success, clear) is never overwritten. Returns the
   * row as it now is, or undefined when it had moved on.
   */
  finishTry(
    k: TiKey,
    tryNumber: number,
    state: 'success' | 'failed' | 'up_for_retry' | 'scheduled',
    now: string,
    error: string | null,
    nextRetryAt: string | null = null,
  ): TaskInstanceRow | undefined {
    const row = prepared(this.db, 
        `UPDATE task_instance SET state = ?, end_date = ?, error = ?, next_retry_at = ?, owner_id = NULL,
           lease_expires_at = NULL
         WHERE ${KEY} AND state = 'running' AND try_number = ? RETURNING ${COLUMNS}`,
      )
      .get(state, state === 'scheduled' ? null : now, error, nextRetryAt, ...key(k), tryNumber) as TaskInstanceRow | undefined;
    this.endTryRow(k, tryNumber, state === 'success' ? 'success' : 'failed', now, error);
    return row;
  }

  /** A try that was interrupted by shutdown gives its number back, so it does not count against retries. */
  giveBackTry(k: TiKey, tryNumber: number): void {
    prepared(this.db, `UPDATE task_instance SET try_number = try_number - 1 WHERE ${KEY} AND try_number = ? AND state = 'scheduled'`)
      .run(...key(k), tryNumber);
    prepared(this.db, `DELETE FROM task_try WHERE ${KEY} AND try_number = ?`).run(...key(k), tryNumber);
  }

  private endTryRow(k: TiKey, tryNumber: number, state: TaskState, now: string, error: string | null): void {
    prepared(this.db, `UPDATE task_try SET state = ?, end_date = ?, error = ? WHERE ${KEY} AND try_number = ? AND end_date IS NULL`)
      .run(state, now, error, ...key(k), tryNumber);
  }

  /**
   * Move an instance that is not running between scheduling states (scheduled, skipped,
   * upstream_failed, none). Returns the row as it now is, or undefined when it was not in `from`.
   */
  setState(k: TiKey, state: TaskState, now: string, from?: readonly TaskState[], error: string | null = null): TaskInstanceRow | undefined {
    const finished = state === 'success' || state === 'failed' || state === 'skipped' || state === 'upstream_failed';
    const guard = from ? ` AND state IN (${from.map(() => '?').join(',')})` : '';
    const row = prepared(this.db, 
        `UPDATE task_instance SET state = ?, end_date = ?, error = coalesce(?, error),
           queued_at = CASE WHEN ? = 'scheduled' THEN ? ELSE queued_at END
         WHERE ${KEY}${guard} RETURNING ${COLUMNS}`,
      )
      .get(state, finished ? now : null, error, state, now, ...key(k), ...(from ?? [])) as TaskInstanceRow | undefined;
    if (finished && row) {
      // A manual mark ends a try that was still open.
      prepared(this.db, `UPDATE task_try SET state = ?, end_date = ? WHERE ${KEY} AND end_date IS NULL`)
        .run(state, now, ...key(k));
    }
    return row;
  }

  /** Reset instances so they run again; each gets `retries + 1` more tries. */
  clear(k: TiKey, retries: number): void {
    prepared(this.db, 
        `UPDATE task_instance SET state = 'none', max_tries = try_number + ?, start_date = NULL, end_date = NULL,
           next_retry_at = NULL, owner_id = NULL, lease_expires_at = NULL, error = NULL, queued_at = NULL
         WHERE ${KEY}`,
      )
      .run(retries + 1, ...key(k));
  }

  tries(k: TiKey): TaskTryRow[] {
    return prepared(this.db, 
        `SELECT dag_id AS dagId, run_id AS runId, task_id AS taskId, try_number AS tryNumber, state,
           start_date AS startDate, end_date AS endDate, hostname, pid, error
         FROM task_try WHERE ${KEY} ORDER BY try_number`,
      )
      .all(...key(k)) as TaskTryRow[];
  }

  /** Every try of a run, for timelines and concurrency checks. */
  triesForRun(dagId: string, runId: string): TaskTryRow[] {
    return prepared(this.db, 
        `SELECT dag_id AS dagId, run_id AS runId, task_id AS taskId, try_number AS tryNumber, state,
           start_date AS startDate, end_date AS endDate, hostname, pid, error
         FROM task_try WHERE dag_id = ? AND run_id = ? ORDER BY start_date, task_id`,
      )
      .all(dagId, runId) as TaskTryRow[];
  }
}
