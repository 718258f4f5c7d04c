/**
 * Imports DAG files in a worker thread before orch imports them for real, so that a file
 * that throws, exits or never finishes importing costs a terminated worker instead of a
 * frozen scheduler. Each file has its own time limit, counted from the moment a warmed-up
 * worker takes it: a worker's start-up (the module hooks, the SDK and zod) is never charged
 * to a file, so a busy host does not turn a slow start into a vanished DAG.
 */
import { Worker } from 'node:worker_threads';

export interface ProbeResult {
  file: string;
  ok: boolean;
  /** Names of the exports that are DAGs. */
  dagExports?: string[];
  message?: string;
  stack?: string;
  /** Set when the file did not finish importing within its limit. */
  timedOut?: boolean;
}

type WorkerMessage = { ready: true } | ProbeResult;

/** One probe worker thread; `alive` turns false once it died or was terminated. */
class ProbeWorker {
  alive = true;
  private constructor(private readonly worker: Worker) {
    worker.once('exit', () => (this.alive = false));
  }

  /** Start a worker and wait until it has loaded everything a DAG file needs. */
  static start(): Promise<ProbeWorker> {
    const worker = new Worker(new URL('./import-probe.mjs', import.meta.url));
    // A worker never holds the process open by itself: whoever waits on it holds a timer.
    worker.unref();
    return new Promise((resolve, reject) => {
      const settle = (err?: Error) => {
        worker.off('message', onMessage).off('error', settle).off('exit', onExit);
        if (err) void worker.terminate().then(() => reject(err));
        else resolve(new ProbeWorker(worker));
      };
      const onMessage = (msg: WorkerMessage) => 'ready' in msg && settle();
      const onExit = (code: number) => settle(new Error(`the import worker exited with code ${code} while starting`));
      worker.on('message', onMessage).on('error', settle).on('exit', onExit);
    });
  }

  /** Import `file` (as load number `load`) in this worker; after `timeoutMs` the worker is terminated. */
  probe(file: string, timeoutMs: number, load: number): Promise<ProbeResult> {
    const w = this.worker;
    return new Promise((resolve) => {
      const finish = (result: ProbeResult, terminate = false) => {
        clearTimeout(timer);
        w.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (terminate) void this.terminate().then(() => resolve(result));
        else resolve(result);
      };
      const timer = setTimeout(() => finish({ file, ok: false, timedOut: true }, true), timeoutMs);
      const onMessage = (msg: WorkerMessage) => 'file' in msg && msg.file === file && finish(msg);
      // An error thrown later by something the file started (a timer, a rejected promise) ends the worker.
      const onError = (err: Error) => finish({ file, ok: false, message: err.message, stack: err.stack ?? '' }, true);
      const onExit = (code: number) =>
        finish({ file, ok: false, message: `the file ended the import worker (exit code ${code}); a DAG file must not call process.exit()` });
      w.on('message', onMessage).on('error', onError).on('exit', onExit);
      w.postMessage({ file, load });
    });
  }

  async terminate(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }
}

/** A worker started ahead of need (see prewarmImportWorker), taken by the first prober. */
let prewarmed: Promise<ProbeWorker> | undefined;

/**
 * Start the import worker now, so that its start-up overlaps whatever the process loads
 * before it scans the DAGs folder. Unused, it never holds the process open.
 */
export function prewarmImportWorker(): void {
  prewarmed ??= ProbeWorker.start();
  prewarmed.catch(() => {}); // A failed start is reported by the prober that takes it.
}

/**
 * Probes files one after the other in one worker; a worker that timed out or died is
 * replaced for the next file. One worker, not a pool: a worker's start-up costs far more
 * than importing a typical DAG file. With `keep`, the worker stays between scans (for a
 * scheduler that rescans the folder: a changed file is then probed at once); else it ends
 * after each scan.
 */
export class ImportProber {
  private worker: Promise<ProbeWorker> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly keep = false) {}

  /**
   * Probe `files` in order; each file's result is ready as soon as that file is done, so
   * the caller can import one while the next is probed. `timeoutMs(file)` is its limit.
   */
  probeAll(files: string[], timeoutMs: (file: string) => number, load: number): Map<string, Promise<ProbeResult>> {
    const results = new Map<string, Promise<ProbeResult>>();
    for (const file of files) {
      const result = this.queue.then(() => this.probeOne(file, timeoutMs(file), load));
      results.set(file, result);
      this.queue = result;
    }
    if (!this.keep) this.queue = this.queue.then(() => this.close());
    return results;
  }

  /** End the worker, if one runs. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    const w = await worker?.catch(() => undefined);
    if (w?.alive) await w.terminate();
  }

  private async probeOne(file: string, timeoutMs: number, load: number): Promise<ProbeResult> {
    let worker: ProbeWorker;
    try {
      worker = await this.liveWorker();
    } catch (err) {
      return { file, ok: false, message: `could not start the import worker: ${(err as Error).message}` };
    }
    return worker.probe(file, timeoutMs, load);
  }

  private async liveWorker(): Promise<ProbeWorker> {
    const current = await this.worker?.catch(() => undefined);
    if (current?.alive) return current;
    this.worker = prewarmed ?? ProbeWorker.start();
    prewarmed = undefined;
    const hold = setInterval(() => {}, 60_000); // the worker is unref'd: keep this process alive while it starts
    try {
      return await this.worker;
    } catch (err) {
      this.worker = undefined;
      throw err;
    } finally {
      clearInterval(hold);
    }
  }
}
