/**
 * How much memory the engine's DuckDB may use, and giving it back. DuckDB's own default
 * (80% of RAM) assumes it has the machine to itself; the engine shares a laptop or a CI host
 * with orch and whatever else runs there, so it defaults to half of what the machine (or its
 * container) has. And DuckDB frees a finished query's memory to the C allocator, which keeps
 * most of it: an engine whose session ran one huge query would hold gigabytes for good. When a
 * session or batch ends, the engine re-applies the memory limit, which makes DuckDB evict down
 * to the limit and return the allocator's free memory to the system (`malloc_trim` on glibc).
 */
import { totalmem } from 'node:os';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** The share of the machine's memory the engine's DuckDB gets unless `--memory-limit` says otherwise. */
export const DEFAULT_MEMORY_FRACTION = 0.5;

/** Bytes of memory this process can use: the machine's, or its cgroup's when that is lower. */
export function machineMemoryBytes(): number {
  const total = totalmem();
  // Node reports ~2^64 when there is no cgroup limit, and 0 or undefined where it cannot tell.
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < total ? constrained : total;
}

/**
 * The DuckDB `memory_limit` for a `--memory-limit` value: unset → half the machine's memory;
 * `N%` → that share of it; anything else (`2GB`, `512MiB`) is passed to DuckDB, which checks it.
 */
export function resolveMemoryLimit(flag: string | undefined, machineBytes: number = machineMemoryBytes()): string {
  const text = flag?.trim();
  if (!text) return mib(machineBytes * DEFAULT_MEMORY_FRACTION);
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (!percent) return text;
  const share = Number(percent[1]) / 100;
  if (share <= 0 || share > 1) throw new RangeError(`--memory-limit ${text}: a share of the machine's memory must be above 0% and at most 100%, e.g. 25%`);
  return mib(machineBytes * share);
}

const mib = (bytes: number) => `${Math.max(1, Math.floor(bytes / 2 ** 20))}MiB`;

/**
 * Gives DuckDB's freed memory back to the system, on request, one release at a time (requests
 * that arrive during a release are folded into one more). Best effort: a release that fails
 * (DuckDB cannot evict down to the limit right now) leaves things as they were, and the next
 * session or batch that ends tries again.
 *
 * A release right when a connection closes can come too early: DuckDB's worker threads may
 * still be handing a finished query's buffers back (on a busy machine, for seconds), and
 * nothing would release them later. So after each request the engine's reaper ticks release
 * again for FOLLOW_UP_MS; on an engine with nothing to give back a release costs microseconds.
 */
export class MemoryReleaser {
  static readonly FOLLOW_UP_MS = 10_000;
  private connection: DuckDBConnection | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private followUntil = 0;

  constructor(
    private readonly db: DuckDBInstance,
    private readonly memoryLimit: string,
  ) {}

  /** Ask for a release now, and more on the next ticks; returns at once. */
  release(now = Date.now()): void {
    this.followUntil = now + MemoryReleaser.FOLLOW_UP_MS;
    this.releaseNow();
  }

  /** A reaper tick: release once more while a recent request's follow-up lasts. */
  tick(now = Date.now()): void {
    if (now < this.followUntil) this.releaseNow();
  }

  private releaseNow(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        this.connection ??= await this.db.connect();
        // Setting the limit, even to its current value, evicts down to it and then flushes the
        // allocator (DuckDB's BufferPool::SetLimit → Allocator::FlushAll).
        await this.connection.run(`SET memory_limit = '${this.memoryLimit.replaceAll("'", "''")}'`);
      } catch {
        // Best effort, see the class comment.
      }
    } while (this.again && !this.closed);
  }

  /** Stop taking requests, wait for the release under way, close the connection. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    this.connection?.closeSync();
    this.connection = undefined;
  }
}
