/** What most commands need: the config, the store, and the DAGs loaded from the folder. */
import { basename } from 'node:path';
import { loadConfig, type ConfigOverrides, type OrchConfig } from '../core/config.ts';
import type { DagDefinition } from '../core/dags/definition.ts';
import { DagBag } from '../core/dags/loader.ts';
import type { Logger } from '../core/logging.ts';
import { Scheduler } from '../core/scheduler.ts';
import { UnknownDagError } from '../errors.ts';
import { reapClusters } from '../operators/cluster/reaper.ts';
import { builtinOperators } from '../operators/index.ts';
import { openStore, type Store } from '../store/index.ts';

export interface CliContext {
  config: OrchConfig;
  store: Store;
  dagBag: DagBag;
  requireDag(dagId: string): DagDefinition;
  /** A scheduler over this store and DAG bag, sized by the config. */
  scheduler(logger: Logger): Scheduler;
  close(): void;
}

/** Open config, store and (when `loadDags`) the DAG bag. */
export async function openContext(overrides: ConfigOverrides = {}, loadDags = true): Promise<CliContext> {
  const config = loadConfig(overrides);
  const store = openStore(config.dbFile);
  for (const [name, slots] of Object.entries(config.pools)) store.dags.setPool(name, slots);
  const dagBag = new DagBag(config.dagsFolder, { importTimeoutMs: config.dagImportTimeoutMs, importTimeoutsMs: config.dagImportTimeoutsMs });
  // Reading commands write nothing: the scheduler and createRun record the DAGs they use.
  if (loadDags) await dagBag.refresh();
  return {
    config,
    store,
    dagBag,
    requireDag(dagId) {
      const dag = dagBag.get(dagId);
      if (!dag) {
        const errors = dagBag.errors();
        // A file named after the DAG that failed to import is almost surely where it lives.
        const broken = errors.filter((e) => e.message.includes(`(DAG '${dagId}')`) || basename(e.file, '.ts') === dagId);
        if (broken.length) throw new UnknownDagError(dagId, dagBag.ids(), broken.map((e) => e.message));
        const files = [...new Set(errors.map((e) => e.file))];
        const err = new UnknownDagError(dagId, dagBag.ids());
        if (files.length) err.message += `\n${files.length} DAG file(s) failed to load and may define it: ${files.join(', ')} (see orch dags list)`;
        throw err;
      }
      return dag;
    },
    scheduler: (logger) =>
      new Scheduler({
        store,
        dagBag,
        registry: builtinOperators(config),
        logger,
        housekeeping: () => reapClusters(store, logger),
        parallelism: config.parallelism,
        heartbeatMs: config.heartbeatMs,
        leaseMs: config.leaseMs,
      }),
    close: () => store.close(),
  };
}
