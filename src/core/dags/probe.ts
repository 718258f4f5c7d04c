/**
 * Imports DAG files in worker threads before orch imports them for real, so that a file
 * that throws, exits or never finishes importing costs a terminated worker instead of a
 * frozen scheduler. Each file has its own time limit, counted from the moment a warmed-up
 * worker takes it: a worker's start-up (tsx, esbuild, the SDK and zod) is never charged to
 * a file, so a busy host does not turn a slow start into a vanished DAG.
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

  /** Import `file` in this worker; after `timeoutMs` the worker is terminated. */
  probe(file: string, timeoutMs: number): Promise<ProbeResult> {
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
      w.postMessage({ file });
    });
  }

  async terminate(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }
}

/**
 * Probe `files` one after the other in one worker; `timeoutMs(file)` is each file's import
 * limit. A worker that timed out or died is replaced for the next file. One worker, not a
 * pool: a worker's start-up costs far more than importing a typical DAG file, so a second
 * one made `orch dags list` slower even with a dozen files.
 */
export async function probeFiles(files: string[], timeoutMs: (file: string) => number): Promise<Map<string, ProbeResult>> {
  const results = new Map<string, ProbeResult>();
  let worker: ProbeWorker | undefined;
  try {
    for (const file of files) {
      if (!worker?.alive) {
        try {
          worker = await ProbeWorker.start();
        } catch (err) {
          results.set(file, { file, ok: false, message: `could not start the import worker: ${(err as Error).message}` });
          continue;
        }
      }
      results.set(file, await worker.probe(file, timeoutMs(file)));
    }
  } finally {
    if (worker?.alive) await worker.terminate();
  }
  return results;
}
