/** What most commands need: the config, the store, and the DAGs loaded from the folder. */
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { loadConfig, type ConfigOverrides, type OrchConfig } from '../core/config.ts';
import type { DagDefinition } from '../core/dags/definition.ts';
import { databaseFailure } from '../core/database-failure.ts';
import { DagBag } from '../core/dags/loader.ts';
import type { Logger } from '../core/logging.ts';
import type { Scheduler } from '../core/scheduler.ts';
import { UnknownDagError } from '../errors.ts';
import { openStore, type Store } from '../store/index.ts';
import { DagsFolderMissingError } from './errors.ts';

export interface CliContext {
  config: OrchConfig;
  store: Store;
  dagBag: DagBag;
  requireDag(dagId: string): DagDefinition;
  /**
   * For commands that read history: throw unless the DAG is in the folder or has runs (a
   * DAG whose file was removed is still known). Returns its definition when it loads.
   * Loads the DAG bag only when the runs table does not settle it.
   */
  knownDag(dagId: string): Promise<DagDefinition | undefined>;
  /** Throw when the DAGs folder does not exist, naming where the setting came from. */
  requireDagsFolder(): void;
  /** A scheduler over this store and DAG bag, sized by the config (loaded on demand: reading commands never need it). */
  scheduler(logger: Logger): Promise<Scheduler>;
  close(): void;
}

/** The database file the command opened, so an SQLite error escaping it can name the file. */
let openedDbFile: string | undefined;

/** The database file this process opened through openContext, if any. */
export const openedDatabase = (): string | undefined => openedDbFile;

/**
 * Open config, store and (when `loadDags`) the DAG bag. `rescans`: the command keeps
 * rescanning the DAGs folder (scheduler, web), so the bag keeps its import worker.
 */
export async function openContext(overrides: ConfigOverrides = {}, loadDags = true, rescans = false): Promise<CliContext> {
  const config = loadConfig(overrides);
  openedDbFile = config.dbFile;
  const store = openStoreExplained(config.dbFile, config.synchronous);
  // Only when it changed: commands that merely read must work on a read-only database.
  for (const [name, slots] of Object.entries(config.pools)) if (store.dags.poolSlots(name) !== slots) store.dags.setPool(name, slots);
  const dagBag = new DagBag(config.dagsFolder, {
    importTimeoutMs: config.dagImportTimeoutMs,
    importTimeoutsMs: config.dagImportTimeoutsMs,
    keepImportWorker: rescans,
  });
  // Reading commands write nothing: the scheduler and createRun record the DAGs they use.
  let loaded = loadDags;
  if (loadDags) await dagBag.refresh();
  const requireDagsFolder = () => {
    if (!statSync(config.dagsFolder, { throwIfNoEntry: false })?.isDirectory()) throw new DagsFolderMissingError(config.dagsFolder, folderSource(overrides, config));
  };
  const requireDag = (dagId: string, alsoKnown: string[] = []): DagDefinition => {
    const dag = dagBag.get(dagId);
    if (dag) return dag;
    // With nothing loaded, a missing folder explains more than "unknown DAG" does.
    if (!dagBag.ids().length) requireDagsFolder();
    const known = [...new Set([...dagBag.ids(), ...alsoKnown])].sort();
    const errors = dagBag.errors();
    // A file named after the DAG that failed to import is almost surely where it lives.
    const broken = errors.filter((e) => e.message.includes(`(DAG '${dagId}')`) || basename(e.file, '.ts') === dagId);
    if (broken.length) throw new UnknownDagError(dagId, known, broken.map((e) => e.message));
    const files = [...new Set(errors.map((e) => e.file))];
    const err = new UnknownDagError(dagId, known);
    if (files.length) err.message += `\n${files.length} DAG file(s) failed to load and may define it: ${files.join(', ')} (see orch dags list)`;
    throw err;
  };
  return {
    config,
    store,
    dagBag,
    requireDag: (dagId) => requireDag(dagId),
    async knownDag(dagId) {
      const withRuns = store.runs.dagIds();
      if (withRuns.includes(dagId)) return loaded ? dagBag.get(dagId) : undefined;
      if (!loaded) {
        await dagBag.refresh();
        loaded = true;
      }
      return requireDag(dagId, withRuns);
    },
    requireDagsFolder,
    async scheduler(logger) {
      const [{ Scheduler }, { builtinOperators }, { backendsFrom }, { reapClusters }] = await Promise.all([
        import('../core/scheduler.ts'),
        import('../operators/index.ts'),
        import('../operators/cluster/backends.ts'),
        import('../operators/cluster/reaper.ts'),
      ]);
      return new Scheduler({
        store,
        dagBag,
        registry: builtinOperators(config),
        logger,
        housekeeping: () => reapClusters(store, logger, backendsFrom(config)),
        parallelism: config.parallelism,
        heartbeatMs: config.heartbeatMs,
        leaseMs: config.leaseMs,
      });
    },
    close: () => {
      void dagBag.close();
      store.close();
    },
  };
}

/** Open the database, or fail with one line that names the file and what to do; say when it was found empty. */
function openStoreExplained(file: string, synchronous: OrchConfig['synchronous']): Store {
  let store: Store;
  try {
    store = openStore(file, { synchronous });
  } catch (err) {
    throw databaseFailure(err, file) ?? err;
  }
  for (const notice of store.notices) {
    if (notice.kind === 'emptied') {
      process.stderr.write(
        `warning: the orch database ${notice.file} was empty (0 bytes), so a new run history starts in it; if it held runs before, they are gone (restore it from a backup to get them back)\n`,
      );
    }
  }
  return store;
}

/** Which setting chose the DAGs folder, for messages about it. */
function folderSource(overrides: ConfigOverrides, config: OrchConfig): string {
  if (overrides.dagsFolder) return '--dags-folder';
  if (process.env.ORCH_DAGS_FOLDER) return 'ORCH_DAGS_FOLDER';
  if (config.configFile && config.dagsFolder !== resolve('dags')) return `dagsFolder in ${config.configFile}`;
  return 'the default, ./dags in the working directory';
}
