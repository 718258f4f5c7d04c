/**
 * The engine's tables of interactive sessions and batches: ids from 0 (restarting from 0 when
 * the engine restarts, as Livy without recovery does), lookup by id or by unique name, and the
 * reaper that removes sessions Livy would remove (heartbeat/idle timeouts, finished ones after
 * a while).
 */
import type { SessionLog } from './log-ring.ts';

/** What the registry and the common routes need from a session or a batch. */
export interface Tracked {
  readonly id: number;
  readonly name: string | null;
  readonly log: SessionLog;
  readonly state: string;
  /** When it reached a final state (epoch ms), if it has. */
  readonly finishedAt: number | undefined;
  /** Record that a client looked at it (Livy's heartbeat for `heartbeatTimeoutInSecond`). */
  heartbeat(): void;
  /** Why it should be deleted now (a timeout), or undefined. */
  expiry(now: number): string | undefined;
  /** Stop its work and release its DuckDB connection; idempotent. */
  stop(finalState?: 'dead' | 'killed'): Promise<void>;
  toJSON(): unknown;
}

/** Livy: finished sessions vanish after `livy.server.session.state-retain.sec` (600 s). */
export const FINISHED_RETENTION_MS = 10 * 60 * 1000;

/** Sessions (or batches) by id, with Livy's lookup and cleanup rules. */
export class Registry<T extends Tracked> {
  private nextId = 0;
  private readonly items = new Map<number, T>();

  /** Register a new item under the next id. */
  add(make: (id: number) => T): T {
    const item = make(this.nextId++);
    this.items.set(item.id, item);
    return item;
  }

  /** Livy: an all-digit path segment is an id; anything else is looked up as the name. */
  find(idOrName: string): T | undefined {
    if (/^\d+$/.test(idOrName)) return this.items.get(Number(idOrName));
    return this.byName(idOrName);
  }

  /** The item with this name, if any. */
  byName(name: string): T | undefined {
    for (const item of this.items.values()) if (item.name === name) return item;
    return undefined;
  }

  /** All items, in id order. */
  all(): T[] {
    return [...this.items.values()].sort((a, b) => a.id - b.id);
  }

  /** Items not yet in a final state. */
  liveCount(): number {
    let n = 0;
    for (const item of this.items.values()) if (item.finishedAt === undefined) n++;
    return n;
  }

  /** Stop an item and forget it: later lookups are 404, as after Livy's DELETE. */
  async delete(item: T): Promise<void> {
    try {
      await item.stop('dead');
    } finally {
      this.items.delete(item.id);
    }
  }

  /** Remove what Livy would: timed-out items (stopped first) and long-finished ones. */
  async sweep(now: number, finishedRetentionMs: number = FINISHED_RETENTION_MS): Promise<void> {
    for (const item of [...this.items.values()]) {
      if (item.finishedAt !== undefined) {
        // Through stop: a session that died of a DuckDB error still holds its connection.
        if (now - item.finishedAt > finishedRetentionMs) await this.delete(item);
        continue;
      }
      const reason = item.expiry(now);
      if (reason) {
        item.log.info(`deleting: ${reason}`);
        await this.delete(item);
      }
    }
  }

  /** Stop everything (engine shutdown): sessions end `killed`, like an app killed under Livy. */
  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.items.values()].map((item) => item.stop('killed')));
  }
}
