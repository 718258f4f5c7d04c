/**
 * Keeps this process's leases alive from a worker thread (keeper-worker.mjs), so a lease
 * lapses only when the process is gone — not when a task blocks the event loop. The main
 * thread calls `pulse()` on its own heartbeat; the worker warns when that stops.
 */
import { Worker } from 'node:worker_threads';

export interface LeaseKeeperOptions {
  dbFile: string;
  ownerId: string;
  leaseMs: number;
  heartbeatMs: number;
  /** A renewal failed: the database may no longer be writable. */
  onError: (err: Error & { code?: string }) => void;
}

/** How long the thread gets to close its connection before it is terminated. */
const STOP_GRACE_MS = 5_000;

export class LeaseKeeper {
  private worker: Worker | undefined;
  private readonly beat = new BigInt64Array(new SharedArrayBuffer(8));

  constructor(private readonly options: LeaseKeeperOptions) {}

  start(): void {
    if (this.worker) return;
    const { dbFile, ownerId, leaseMs, heartbeatMs } = this.options;
    this.pulse();
    const worker = new Worker(new URL('./keeper-worker.mjs', import.meta.url), {
      workerData: { dbFile, ownerId, leaseMs, heartbeatMs, pulse: this.beat.buffer },
    });
    worker.on('message', (m: { type: string; code?: string; message?: string }) => {
      if (m.type === 'error') this.options.onError(Object.assign(new Error(m.message), { code: m.code }));
    });
    worker.on('error', (err) => this.options.onError(err));
    // Leases are only worth keeping while there is other work: never hold the process open.
    worker.unref();
    this.worker = worker;
  }

  /** The main thread is alive (called from its heartbeat). */
  pulse(): void {
    Atomics.store(this.beat, 0, BigInt(Date.now()));
  }

  /** Stop renewing; resolves once the thread has closed its connection and exited (a stuck one is terminated). */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}
