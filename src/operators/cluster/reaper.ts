/**
 * The reaper: clusters whose run is over but that are still up — a run cancelled during
 * create_cluster, or a process that died and whose run was then finished by hand — are
 * stopped. Only clusters of finished runs: an interrupted run may still be adopted.
 */
import type { Logger } from '../../core/logging.ts';
import type { Store } from '../../store/index.ts';
import { isLiveEngine, stopEngine } from './process.ts';

/** Stop leftover embedded engines of finished runs; returns how many were stopped. */
export async function reapClusters(store: Store, logger: Logger): Promise<number> {
  let stopped = 0;
  for (const h of store.handles.openOfFinishedRuns('cluster')) {
    const pid = Number(h.data?.pid);
    if (h.data?.backend === 'embedded' && isLiveEngine(pid)) {
      await stopEngine(pid, 10_000);
      logger.warn({ dag: h.dagId, run: h.runId, pid }, `stopped a leftover embedded engine of a finished run (pid ${pid})`);
      stopped++;
    }
    // EMR clusters are reaped by the emr backend; anything else has nothing left to stop.
    if (h.data?.backend !== 'emr') store.handles.releaseById(h.id, new Date().toISOString());
  }
  return stopped;
}
