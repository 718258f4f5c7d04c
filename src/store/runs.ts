/** The `dag_run` table: creating runs with their task instances, state, and ownership leases. */
import { prepared, type Db } from './db.ts';
import type { DagRunRow, Owner, RunState } from './types.ts';

const SELECT = `SELECT dag_id AS dagId, run_id AS runId, run_type AS runType, triggered_by AS triggeredBy,
  logical_date AS logicalDate, data_interval_start AS dataIntervalStart, data_interval_end AS dataIntervalEnd,
  conf, params, state, queued_at AS queuedAt, start_date AS startDate, end_date AS endDate,
  owner_id AS ownerId, owner_host AS ownerHost, owner_pid AS ownerPid, owner_identity AS ownerIdentity, lease_expires_at AS leaseExpiresAt,
  cancel_requested AS cancelRequested, note FROM dag_run`;

export type NewRun = Pick<
  DagRunRow,
  'dagId' | 'runId' | 'runType' | 'triggeredBy' | 'logicalDate' | 'dataIntervalStart' | 'dataIntervalEnd' | 'conf' | 'params' | 'queuedAt'
> & {
  tasks: { taskId: string; maxTries: number; pool: string; operator: string }[];
};

export interface RunFilter {
  dagId?: string;
  states?: RunState[];
  limit?: number;
}

export class RunStore {
  constructor(private readonly db: Db) {}

  /** Insert a queued run and one task instance per task, in one transaction. */
  create(run: NewRun): DagRunRow {
    this.db.transaction(() => {
      prepared(this.db, 
          `INSERT INTO dag_run (dag_id, run_id, run_type, triggered_by, logical_date, data_interval_start,
             data_interval_end, conf, params, state, queued_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
        )
        .run(
          run.dagId,
          run.runId,
          run.runType,
          run.triggeredBy,
          run.logicalDate,
          run.dataIntervalStart,
          run.dataIntervalEnd,
          JSON.stringify(run.conf),
          JSON.stringify(run.params),
          run.queuedAt,
        );
      const insertTi = prepared(this.db, 
        `INSERT INTO task_instance (dag_id, run_id, task_id, max_tries, pool, operator) VALUES (?, ?, ?, ?, ?, ?)`,
      );
      for (const t of run.tasks) insertTi.run(run.dagId, run.runId, t.taskId, t.maxTries, t.pool, t.operator);
    })();
    return this.get(run.dagId, run.runId)!;
  }

  get(dagId: string, runId: string): DagRunRow | undefined {
    const row = prepared(this.db, `${SELECT} WHERE dag_id = ? AND run_id = ?`).get(dagId, runId) as RawRun | undefined;
    return row && toRun(row);
  }

  /** Runs, newest first. */
  list(filter: RunFilter = {}): DagRunRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.dagId) {
      where.push('dag_id = ?');
      args.push(filter.dagId);
    }
    if (filter.states?.length) {
      where.push(`state IN (${filter.states.map(() => '?').join(',')})`);
      args.push(...filter.states);
    }
    const sql = `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY queued_at DESC, logical_date DESC LIMIT ?`;
    return (prepared(this.db, sql).all(...args, filter.limit ?? 1000) as RawRun[]).map(toRun);
  }

  /**
   * One page of a DAG's runs, newest first (list's order, run id breaking ties): `limit`
   * runs older than run `before` (from the newest when undefined).
   */
  page(dagId: string, limit: number, before?: DagRunRow): DagRunRow[] {
    const after = before ? `AND (queued_at, logical_date, run_id) < (?, ?, ?)` : '';
    const args = before ? [before.queuedAt, before.logicalDate, before.runId] : [];
    const sql = `${SELECT} WHERE dag_id = ? ${after} ORDER BY queued_at DESC, logical_date DESC, run_id DESC LIMIT ?`;
    return (prepared(this.db, sql).all(dagId, ...args, limit) as RawRun[]).map(toRun);
  }

  /** Ids of every DAG that has runs (a DAG whose file was removed keeps its history). */
  dagIds(): string[] {
    return (prepared(this.db, `SELECT DISTINCT dag_id AS dagId FROM dag_run ORDER BY dag_id`).all() as { dagId: string }[]).map((r) => r.dagId);
  }

  /** Runs of a DAG that are queued or running. */
  countActive(dagId: string): number {
    const row = prepared(this.db, `SELECT count(*) AS n FROM dag_run WHERE dag_id = ? AND state IN ('queued', 'running')`)
      .get(dagId) as { n: number };
    return row.n;
  }

  /** The scheduled run with the latest data interval, if any. */
  latestScheduled(dagId: string): DagRunRow | undefined {
    const row = prepared(this.db, `${SELECT} WHERE dag_id = ? AND run_type = 'scheduled' ORDER BY data_interval_end DESC LIMIT 1`)
      .get(dagId) as RawRun | undefined;
    return row && toRun(row);
  }

  /**
   * Take ownership of a run if nobody holds a live lease on it. `ownerIsDead` lets the
   * caller declare an owner dead before its lease runs out (same host, pid gone).
   * Returns the run as claimed, or undefined when another process owns it.
   */
  claim(
    dagId: string,
    runId: string,
    owner: Owner,
    now: string,
    leaseUntil: string,
    ownerIsDead: (r: DagRunRow) => boolean,
    /** For a queued run: start it only while fewer runs of its DAG than this are running (maxActiveRuns), checked in the same transaction. */
    maxRunning?: number,
  ): DagRunRow | undefined {
    return this.db
      .transaction(() => {
        const run = this.get(dagId, runId);
        if (!run || run.state === 'success' || run.state === 'failed') return undefined;
        if (run.state === 'queued' && maxRunning !== undefined) {
          const { n } = prepared(this.db, `SELECT count(*) AS n FROM dag_run WHERE dag_id = ? AND state = 'running'`).get(dagId) as { n: number };
          if (n >= maxRunning) return undefined;
        }
        const held = run.ownerId && run.ownerId !== owner.id && run.leaseExpiresAt && run.leaseExpiresAt > now;
        if (held && !ownerIsDead(run)) return undefined;
        prepared(this.db, 
            `UPDATE dag_run SET owner_id = ?, owner_host = ?, owner_pid = ?, owner_identity = ?, lease_expires_at = ?,
               state = 'running', start_date = coalesce(start_date, ?)
             WHERE dag_id = ? AND run_id = ?`,
          )
          .run(owner.id, owner.host, owner.pid, owner.identity ?? null, leaseUntil, now, dagId, runId);
        return this.get(dagId, runId);
      })
      .immediate();
  }

  /**
   * Extend the lease on every unfinished run this owner holds (and their running task
   * instances). Processes on a database file renew from a thread of their own instead
   * (src/core/leases/keeper-worker.mjs, the same two updates); this serves `:memory:`.
   */
  renewLeases(ownerId: string, leaseUntil: string): void {
    this.db.transaction(() => {
      prepared(this.db, `UPDATE dag_run SET lease_expires_at = ? WHERE owner_id = ? AND state IN ('queued', 'running')`)
        .run(leaseUntil, ownerId);
      prepared(this.db, `UPDATE task_instance SET lease_expires_at = ? WHERE owner_id = ? AND state IN ('queued', 'running')`)
        .run(leaseUntil, ownerId);
    })();
  }

  /** The runs this owner holds, as `dag/run` keys: a run missing here was taken over. */
  ownedBy(ownerId: string): Set<string> {
    const owned = prepared(this.db, `SELECT dag_id AS dagId, run_id AS runId FROM dag_run WHERE owner_id = ?`).all(ownerId) as { dagId: string; runId: string }[];
    return new Set(owned.map((r) => `${r.dagId}/${r.runId}`));
  }

  /** Give up ownership so another process may adopt the run at once. */
  release(dagId: string, runId: string, ownerId: string): void {
    prepared(this.db, 
        `UPDATE dag_run SET owner_id = NULL, owner_host = NULL, owner_pid = NULL, owner_identity = NULL, lease_expires_at = NULL
         WHERE dag_id = ? AND run_id = ? AND owner_id = ?`,
      )
      .run(dagId, runId, ownerId);
  }

  /** Started, unfinished runs not owned by `ownerId`: candidates for adoption (the caller checks the lease). */
  runningElsewhere(ownerId: string, dagId?: string): DagRunRow[] {
    const sql = `${SELECT} WHERE state = 'running' AND (owner_id IS NULL OR owner_id != ?) ${dagId ? 'AND dag_id = ?' : ''}
      ORDER BY queued_at`;
    const rows = (dagId ? prepared(this.db, sql).all(ownerId, dagId) : prepared(this.db, sql).all(ownerId)) as RawRun[];
    return rows.map(toRun);
  }

  /** Queued runs nobody has started, oldest first. */
  queued(): DagRunRow[] {
    return (prepared(this.db, `${SELECT} WHERE state = 'queued' ORDER BY queued_at`).all() as RawRun[]).map(toRun);
  }

  /** Finish a run; only its owner (or anyone, when `ownerId` is null) may. */
  finish(dagId: string, runId: string, state: 'success' | 'failed', now: string, note?: string): void {
    prepared(this.db, 
        `UPDATE dag_run SET state = ?, end_date = ?, note = coalesce(?, note), owner_id = NULL, owner_host = NULL,
           owner_pid = NULL, owner_identity = NULL, lease_expires_at = NULL WHERE dag_id = ? AND run_id = ?`,
      )
      .run(state, now, note ?? null, dagId, runId);
  }

  /** Put a finished run back to running so its cleared tasks are scheduled again. */
  reopen(dagId: string, runId: string): void {
    prepared(this.db, `UPDATE dag_run SET state = 'running', end_date = NULL, cancel_requested = 0, note = NULL WHERE dag_id = ? AND run_id = ? AND state IN ('success', 'failed')`)
      .run(dagId, runId);
  }

  requestCancel(dagId: string, runId: string): void {
    prepared(this.db, `UPDATE dag_run SET cancel_requested = 1 WHERE dag_id = ? AND run_id = ?`).run(dagId, runId);
  }
}

type RawRun = Omit<DagRunRow, 'conf' | 'params' | 'cancelRequested'> & { conf: string; params: string; cancelRequested: number };
const toRun = (r: RawRun): DagRunRow => ({
  ...r,
  conf: JSON.parse(r.conf) as Record<string, unknown>,
  params: JSON.parse(r.params) as Record<string, unknown>,
  cancelRequested: r.cancelRequested === 1,
});
