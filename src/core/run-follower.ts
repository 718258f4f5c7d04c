/**
 * Following a run another live process drives (a second `orch run` of the same DAG and
 * conf): its task changes are read from SQLite and re-announced as events here, so the
 * CLI shows the same progress; if the driving process dies meanwhile, this one adopts the
 * run and finishes it.
 */
import { FINISHED_RUN_STATES, type DagRunRow, type Store } from '../store/index.ts';
import type { OrchEvents } from './events.ts';
import type { RunDriver } from './run-driver.ts';

export interface FollowOptions {
  store: Store;
  events: OrchEvents;
  /** How often SQLite is read. */
  pollMs: number;
  signal?: AbortSignal;
  /** Take the run over if its owner is gone; the driver when this process now drives it. */
  adoptIfOrphaned: (run: DagRunRow) => RunDriver | undefined;
  /** Called once the starting point is read: announce the run now, so nothing after it goes unreported. */
  onStart?: () => void;
}

/** The run as it stands once finished (or once following stopped), or the driver when this process took it over. */
export type FollowResult = { run: DagRunRow; driver?: undefined } | { run?: undefined; driver: RunDriver };

/** Watch `run` until it finishes, this process adopts it, or `signal` aborts. */
export async function followRun(run: DagRunRow, options: FollowOptions): Promise<FollowResult> {
  const { store, events } = options;
  const seen = new Map<string, string>();
  // What the run looked like when following began is no news: the caller shows it from SQLite.
  // It is read before the run is announced: a process paused between the two (a busy machine)
  // would otherwise take changes made meanwhile for the starting point and never report them.
  for (const ti of store.tis.listForRun(run.dagId, run.runId)) seen.set(ti.taskId, `${ti.state}/${ti.tryNumber}`);
  options.onStart?.();
  for (;;) {
    if (options.signal?.aborted) return { run: store.runs.get(run.dagId, run.runId)! };
    const current = store.runs.get(run.dagId, run.runId)!;
    for (const ti of store.tis.listForRun(run.dagId, run.runId)) {
      const key = `${ti.state}/${ti.tryNumber}`;
      if (seen.get(ti.taskId) === key) continue;
      seen.set(ti.taskId, key);
      events.emit('task', { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, state: ti.state, tryNumber: ti.tryNumber, error: ti.error ?? undefined });
    }
    if (FINISHED_RUN_STATES.has(current.state)) return { run: current };
    const driver = options.adoptIfOrphaned(current);
    if (driver) return { driver };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, options.pollMs);
      function done() {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        resolve();
      }
      options.signal?.addEventListener('abort', done, { once: true });
    });
  }
}
