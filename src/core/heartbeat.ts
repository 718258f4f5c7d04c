/**
 * A scheduler's rhythm while it drives runs: the lease keeper's thread (leases renewed off
 * the main thread, see leases/keeper.ts), the heartbeat that notices what other processes
 * changed, and housekeeping rounds (reaping what ended tries and runs left behind), in the
 * background and never two at once.
 */
import { LeaseKeeper } from './leases/keeper.ts';

export interface HeartbeatOptions {
  /** The SQLite file; `:memory:` has no keeper thread (nobody else can see its leases). */
  dbFile: string;
  ownerId: string;
  leaseMs: number;
  heartbeatMs: number;
  housekeepingMs: number;
  housekeeping?: () => Promise<unknown>;
  /** Whether a housekeeping round may start now (not while stopping). */
  mayHouseKeep: () => boolean;
  /** Each beat; `renewInline` when there is no keeper thread to renew the leases. */
  onBeat: (renewInline: boolean) => void;
  /** An error from the keeper thread or a housekeeping round. */
  onError: (err: unknown) => void;
}

export class Heartbeat {
  private readonly keeper: LeaseKeeper | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  private housekeepingTimer: NodeJS.Timeout | undefined;
  private round: Promise<unknown> | undefined;

  constructor(private readonly options: HeartbeatOptions) {
    const { dbFile, ownerId, leaseMs, heartbeatMs } = options;
    if (dbFile !== ':memory:') this.keeper = new LeaseKeeper({ dbFile, ownerId, leaseMs, heartbeatMs, onError: options.onError });
  }

  start(): void {
    if (this.beatTimer) return;
    this.keeper?.start();
    this.beatTimer = setInterval(() => {
      this.keeper?.pulse();
      this.options.onBeat(!this.keeper);
    }, this.options.heartbeatMs);
    // `orch run` too: a session whose delete failed at the end of one task is reaped during the run.
    this.housekeepingTimer = setInterval(() => this.houseKeep(), this.options.housekeepingMs);
  }

  /** Stop the timers and the keeper's thread; resolves once that thread has let the database go. */
  stop(): Promise<void> {
    const keeperGone = this.keeper?.stop() ?? Promise.resolve();
    clearInterval(this.beatTimer);
    clearInterval(this.housekeepingTimer);
    this.beatTimer = undefined;
    this.housekeepingTimer = undefined;
    return keeperGone;
  }

  /** Start a housekeeping round unless one is going (or it may not now). */
  houseKeep(): void {
    const { housekeeping, mayHouseKeep, onError } = this.options;
    if (!housekeeping || this.round || !mayHouseKeep()) return;
    this.round = housekeeping()
      .catch((err: unknown) => onError(err))
      .finally(() => (this.round = undefined));
  }

  /** Wait for a housekeeping round in progress, at most `ms`. */
  async settle(ms: number): Promise<void> {
    await Promise.race([this.round, new Promise((r) => setTimeout(r, ms).unref())]);
  }
}
