/**
 * How many task instances hold a slot of each DAG (maxActiveTasks) and each pool, kept in
 * memory so that starting a task costs no query. This process's own tries are counted as
 * they start and end; other processes' are read from SQLite, and read again only when
 * another connection has committed since (SQLite's `data_version`) or at a heartbeat (a
 * lease running out changes nothing in the file). Checked inside the write transaction
 * that starts the try, so two schedulers still cannot both take the last slot.
 */
import type Database from 'better-sqlite3';
import type { Store } from '../store/index.ts';

export class ActiveCounts {
  private readonly ownByDag = new Map<string, number>();
  private readonly ownByPool = new Map<string, number>();
  private othersByDag = new Map<string, number>();
  private othersByPool = new Map<string, number>();
  private poolSlots = new Map<string, number>();
  private readonly dataVersion: Database.Statement;
  /** The data_version last read, or undefined when the counts must be read again. */
  private seen: unknown;

  constructor(
    private readonly store: Store,
    private readonly ownerId: string,
  ) {
    // Statements of its own: data_version is plucked, which a shared cached statement must not be.
    this.dataVersion = store.db.prepare('PRAGMA data_version').pluck();
  }

  /** Read other processes' counts again at the next check (a heartbeat: leases may have run out). */
  invalidate(): void {
    this.seen = undefined;
  }

  /** Bring other processes' counts up to date if anything changed them; call inside the write transaction. */
  refresh(now: string): void {
    const version = this.dataVersion.get();
    if (version === this.seen) return;
    const byDag = new Map<string, number>();
    const byPool = new Map<string, number>();
    for (const row of this.store.tis.activeHeldByOthers(this.ownerId, now)) {
      byDag.set(row.dagId, (byDag.get(row.dagId) ?? 0) + row.n);
      byPool.set(row.pool, (byPool.get(row.pool) ?? 0) + row.n);
    }
    this.othersByDag = byDag;
    this.othersByPool = byPool;
    this.poolSlots = this.store.dags.pools();
    this.seen = version;
  }

  /** Slots of `pool`, or undefined when no such pool is defined. */
  slotsOf(pool: string): number | undefined {
    return this.poolSlots.get(pool) ?? this.store.dags.poolSlots(pool);
  }

  activeInDag(dagId: string): number {
    return (this.ownByDag.get(dagId) ?? 0) + (this.othersByDag.get(dagId) ?? 0);
  }

  activeInPool(pool: string): number {
    return (this.ownByPool.get(pool) ?? 0) + (this.othersByPool.get(pool) ?? 0);
  }

  /** A try of this process started (or was resumed). */
  started(dagId: string, pool: string): void {
    this.ownByDag.set(dagId, (this.ownByDag.get(dagId) ?? 0) + 1);
    this.ownByPool.set(pool, (this.ownByPool.get(pool) ?? 0) + 1);
  }

  /** A try of this process ended, or a start was rolled back. */
  ended(dagId: string, pool: string): void {
    this.ownByDag.set(dagId, Math.max(0, (this.ownByDag.get(dagId) ?? 0) - 1));
    this.ownByPool.set(pool, Math.max(0, (this.ownByPool.get(pool) ?? 0) - 1));
  }
}
