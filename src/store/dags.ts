/** The `dag` and `pool` tables: what is paused, where each DAG lives, pool sizes. */
import { prepared, type Db } from './db.ts';
import type { DagRow } from './types.ts';

const SELECT = `SELECT dag_id AS dagId, is_paused AS isPaused, fileloc, schedule, last_seen_at AS lastSeenAt FROM dag`;

export class DagStore {
  constructor(private readonly db: Db) {}

  /** Record that a DAG was seen in a file; keeps its paused flag. */
  upsert(dagId: string, fileloc: string, schedule: string | null, now: string): void {
    prepared(this.db, 
        `INSERT INTO dag (dag_id, fileloc, schedule, last_seen_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (dag_id) DO UPDATE SET fileloc = excluded.fileloc, schedule = excluded.schedule,
           last_seen_at = excluded.last_seen_at`,
      )
      .run(dagId, fileloc, schedule, now);
  }

  get(dagId: string): DagRow | undefined {
    const row = prepared(this.db, `${SELECT} WHERE dag_id = ?`).get(dagId) as RawDag | undefined;
    return row && toDag(row);
  }

  isPaused(dagId: string): boolean {
    return this.get(dagId)?.isPaused ?? false;
  }

  setPaused(dagId: string, paused: boolean): void {
    prepared(this.db, `INSERT INTO dag (dag_id, is_paused) VALUES (?, ?) ON CONFLICT (dag_id) DO UPDATE SET is_paused = excluded.is_paused`)
      .run(dagId, paused ? 1 : 0);
  }

  /** Every pool and its slots. */
  pools(): Map<string, number> {
    return new Map((prepared(this.db, `SELECT name, slots FROM pool`).all() as { name: string; slots: number }[]).map((p) => [p.name, p.slots]));
  }

  /** Slots of a pool, or undefined when it is not defined. */
  poolSlots(name: string): number | undefined {
    const row = prepared(this.db, `SELECT slots FROM pool WHERE name = ?`).get(name) as { slots: number } | undefined;
    return row?.slots;
  }

  setPool(name: string, slots: number, description?: string): void {
    prepared(this.db, 
        `INSERT INTO pool (name, slots, description) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET slots = excluded.slots, description = coalesce(excluded.description, description)`,
      )
      .run(name, slots, description ?? null);
  }
}

type RawDag = Omit<DagRow, 'isPaused'> & { isPaused: number };
const toDag = (r: RawDag): DagRow => ({ ...r, isPaused: r.isPaused === 1 });
