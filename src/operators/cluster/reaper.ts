/**
 * The reaper: clusters whose run is over but that are still up — a run cancelled during
 * create_cluster, or a process that died and whose run was then finished by hand — are
 * stopped. Only clusters of finished runs: an interrupted run may still be adopted. Livy
 * sessions and batches that ended tries left open are deleted too (livy/leftovers.ts).
 */
import pLimit from 'p-limit';
import { loadConfig, type OrchConfig } from '../../core/config.ts';
import type { Logger } from '../../core/logging.ts';
import type { ExternalHandleRow, Store } from '../../store/index.ts';
import { reapLivyLeftovers } from '../livy/leftovers.ts';
import { backendsFrom, type Backends } from './backends.ts';
import { isLiveEngine, stopEngine } from './process.ts';

/**
 * Stop leftover embedded engines of finished runs and delete leftover Livy sessions and
 * batches (through `backends`, for their URL, headers and auth); returns how many engines
 * were stopped. Without `backends`, they come from this process's config and environment.
 */
export async function reapClusters(store: Store, logger: Logger, backends?: Backends): Promise<number> {
  let stopped = 0;
  // Each stop may wait out a 10 s grace: several at once, so a pile of leftovers is quick.
  const limit = pLimit(4);
  const open = store.handles.openOfFinishedRuns('cluster');
  // One read of the config per round, for the EMR and Livy checks below.
  const config = loadConfig();
  await Promise.all(
    open.map((h) =>
      limit(async () => {
        const pid = Number(h.data?.pid);
        if (h.data?.backend === 'embedded' && isLiveEngine(pid)) {
          await stopEngine(pid, 10_000);
          logger.warn({ dag: h.dagId, run: h.runId, pid }, `stopped a leftover embedded engine of a finished run (pid ${pid})`);
          stopped++;
        }
        // EMR clusters are checked below (their handle is released once they have ended); anything else has nothing left to stop.
        if (h.data?.backend !== 'emr') store.handles.releaseById(h.id, new Date().toISOString());
      }),
    ),
  );
  try {
    await reapEmr(store, logger, config, open.filter((h) => h.data?.backend === 'emr'));
  } catch (err) {
    // The message says what to fix (region, credentials); the next round tries again.
    logger.warn(`could not check for leftover EMR clusters: ${(err as Error).message}`);
  }
  try {
    await reapLivyLeftovers(store, logger, backends ?? backendsFrom(config));
  } catch (err) {
    logger.warn({ err }, `could not reap leftover Livy sessions and batches: ${(err as Error).message}`);
  }
  return stopped;
}

/** How often a scheduler on the emr backend sweeps the account for orch clusters whose run is over. */
const EMR_SWEEP_MS = 10 * 60_000;
// The first sweep comes a period after start: `orch run` never waits on one before its run.
let lastEmrSweep = Date.now();

/**
 * EMR clusters this database recorded for finished runs are checked on every round; where
 * the emr backend is in use, the whole account is swept every 10 minutes for orch clusters
 * whose run is over or unknown here. The AWS SDK is loaded only when either has work.
 */
async function reapEmr(store: Store, logger: Logger, config: OrchConfig, recorded: ExternalHandleRow[]): Promise<void> {
  const settings = (config.backends.emr ?? {}) as { region?: string; endpoint?: string };
  const sweep = (process.env.ORCH_BACKEND ?? config.backend) === 'emr' && Date.now() - lastEmrSweep >= EMR_SWEEP_MS;
  if (!sweep && !recorded.length) return;
  const [{ reapEmrClusters, reapEmrOfFinishedRuns }, { databaseTag }] = await Promise.all([import('./emr/reaper.ts'), import('./emr/request.ts')]);
  const options = { region: settings.region, endpoint: settings.endpoint, dbTag: databaseTag(config.dbFile) };
  const decisions = recorded.length ? await reapEmrOfFinishedRuns(store, options, recorded) : [];
  if (sweep) {
    lastEmrSweep = Date.now();
    decisions.push(...(await reapEmrClusters(store, options)));
  }
  for (const d of decisions) {
    if (d.action !== 'kept') logger.warn({ dag: d.dagId, run: d.runId, cluster: d.clusterId }, `EMR cluster ${d.clusterId} ${d.action}: ${d.reason}`);
  }
}
