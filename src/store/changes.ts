/**
 * The `change_log` table (filled by triggers, so writes from every process show up) and
 * `scheduler_beat` (which schedulers are alive): what the web server's change feed reads.
 */
import { prepared, type Db } from './db.ts';
import type { Owner } from './types.ts';

export type ChangeKind = 'dag' | 'run' | 'task' | 'try' | 'handle';

export interface ChangeRow {
  seq: number;
  kind: ChangeKind;
  dagId: string;
  runId: string | null;
  taskId: string | null;
  tryNumber: number | null;
  /** external_handle.id for a `handle` change. */
  ref: number | null;
}

/** How many change rows are kept: enough for a reconnecting browser to catch up, small enough to cost nothing. */
export const CHANGES_KEPT = 50_000;

export class ChangeStore {
  constructor(private readonly db: Db) {}

  /** Changes after `seq`, oldest first. */
  after(seq: number, limit = 5_000): ChangeRow[] {
    return prepared(this.db, 
        `SELECT seq, kind, dag_id AS dagId, run_id AS runId, task_id AS taskId, try_number AS tryNumber, ref
         FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?`,
      )
      .all(seq, limit) as ChangeRow[];
  }

  /** The newest change's seq (0 when there is none). */
  latest(): number {
    return (prepared(this.db, `SELECT coalesce(max(seq), 0) AS s FROM change_log`).get() as { s: number }).s;
  }

  /** Drop all but the newest `keep` changes. */
  prune(keep = CHANGES_KEPT): void {
    prepared(this.db, `DELETE FROM change_log WHERE seq <= (SELECT max(seq) FROM change_log) - ?`).run(keep);
  }

  /** Record that a scheduler is alive now. */
  beat(owner: Owner, now: string): void {
    prepared(this.db, 
        `INSERT INTO scheduler_beat (owner_id, host, pid, beat_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (owner_id) DO UPDATE SET beat_at = excluded.beat_at`,
      )
      .run(owner.id, owner.host, owner.pid, now);
  }

  /** A stopping scheduler says so, so nobody waits for it; old rows of dead ones go too. */
  unbeat(ownerId: string, staleBefore: string): void {
    prepared(this.db, `DELETE FROM scheduler_beat WHERE owner_id = ? OR beat_at < ?`).run(ownerId, staleBefore);
  }

  /** The latest beat of any scheduler, or null. */
  lastBeat(): string | null {
    return (prepared(this.db, `SELECT max(beat_at) AS at FROM scheduler_beat`).get() as { at: string | null }).at;
  }
}
