/**
 * A serving scheduler's presence, as other processes see it: `orch web` reports whether
 * triggered runs will start (GET /api/v1/health). Written on the scheduler's heartbeat; the
 * change log the triggers fill is kept short on the same rhythm.
 */
import type { Owner, Store } from '../store/index.ts';
import type { Logger } from './logging.ts';

/** A scheduler whose last beat is older than this is taken for gone. */
export const SCHEDULER_BEAT_STALE_MS = 30_000;

export class Presence {
  private prunedAt = 0;

  constructor(
    private readonly store: Store,
    private readonly owner: Owner,
    /** How often the change log is pruned. */
    private readonly pruneEveryMs: number,
    private readonly logger: Logger,
  ) {}

  /** Say this scheduler is alive now (and prune the change log when it is due). */
  beat(now: Date): void {
    this.store.changes.beat(this.owner, now.toISOString());
    if (now.getTime() - this.prunedAt < this.pruneEveryMs) return;
    this.store.changes.prune();
    this.prunedAt = now.getTime();
  }

  /** A draining scheduler starts nothing more: say so at once rather than after the beat goes stale. */
  withdraw(now: Date): void {
    try {
      this.store.changes.unbeat(this.owner.id, new Date(now.getTime() - SCHEDULER_BEAT_STALE_MS).toISOString());
    } catch (err) {
      this.logger.warn({ err }, "could not clear this scheduler's beat; it goes stale by itself");
    }
  }
}
