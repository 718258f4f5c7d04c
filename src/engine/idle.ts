/**
 * The engine's idle safety net, like EMR's auto-termination: after `--idle-timeout` with no open
 * session, no running batch and no HTTP request, the engine stops by itself. An engine the
 * embedded backend started outlives its orch process on purpose (a crashed run resumes against
 * it), so if that run is never resumed, this is what stops it.
 */
import { durationMs } from '../sdk/duration.ts';
import type { Duration } from '../sdk/types.ts';

/** `--idle-timeout` in ms: a duration as in DAG files (`30m`, `2h`, `90s`); `0` turns it off. */
export function idleTimeoutMs(value: Duration | string): number {
  if (value === '0' || value === 0) return 0;
  try {
    return durationMs(value as Duration);
  } catch (error) {
    throw new RangeError(`--idle-timeout: ${(error as Error).message}; 0 turns it off`, { cause: error });
  }
}

/** Counts HTTP requests in flight and fires once the engine has had nothing to do for `timeoutMs`. */
export class IdleWatch {
  /** Resolves, with why, once the engine has been idle for the whole timeout. */
  readonly expired: Promise<string>;
  private inflight = 0;
  private lastActive = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: number,
    /** True while a session is open or a batch runs. */
    private readonly busy: () => boolean,
    private readonly label: string,
  ) {
    let expire!: (reason: string) => void;
    this.expired = new Promise((resolve) => (expire = resolve));
    // Checked often enough to stop within a tenth of the timeout (at most 10 s) of it.
    const everyMs = Math.min(Math.max(timeoutMs / 10, 50), 10_000);
    this.timer = setInterval(() => {
      const now = Date.now();
      if (this.inflight > 0 || this.busy()) this.lastActive = now;
      else if (now - this.lastActive >= this.timeoutMs) {
        this.stop();
        expire(`no open session, no running batch and no HTTP request for ${this.label} (--idle-timeout)`);
      }
    }, everyMs);
    this.timer.unref();
  }

  /** An HTTP request arrived. */
  requestStarted(): void {
    this.inflight++;
    this.lastActive = Date.now();
  }

  /** An HTTP request was answered (or its connection dropped). */
  requestEnded(): void {
    this.inflight--;
    this.lastActive = Date.now();
  }

  /** Stop watching (the engine is closing). */
  stop(): void {
    clearInterval(this.timer);
  }
}
