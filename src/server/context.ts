/** What every route needs: the store, the DAGs, and the hooks the hosting command gives. */
import type { WebAuth } from '../core/config.ts';
import type { DagDefinition } from '../core/dags/definition.ts';
import type { DagBag } from '../core/dags/loader.ts';
import type { Logger } from '../core/logging.ts';
import { UnknownDagError } from '../errors.ts';
import type { Store } from '../store/index.ts';
import type { ChangeFeed } from './change-feed.ts';

export interface ServerOptions {
  store: Store;
  dagBag: DagBag;
  auth?: WebAuth;
  /** Re-read the DAGs folder this often (`orch web`); off (0) where a scheduler in this process already does (standalone). */
  dagRefreshMs?: number;
  /** How often the DAG bag is compared with what clients were last told (to send `dags`). Default 1 s. */
  dagWatchMs?: number;
  /** A run was queued, reopened or unpaused through the API: standalone starts it now instead of at the next tick. */
  kick?: () => void;
  /** A cancel was recorded: standalone stops the run's tries now instead of at the next heartbeat. */
  onCancelRequested?: (dagId: string, runId: string) => void;
  /** The built UI (default: web/dist of this checkout). */
  webDist?: string;
  /** How often the change feed looks at PRAGMA data_version. Default 25 ms. */
  feedPollMs?: number;
  logger?: Logger;
}

export interface ServerContext {
  options: ServerOptions;
  store: Store;
  dagBag: DagBag;
  feed: ChangeFeed;
  /** The loaded DAG, or 404. */
  requireDag(dagId: string): DagDefinition;
  /** A DAG that is loaded or has runs (a removed file keeps its history readable), or 404; its definition when loaded. */
  knownDag(dagId: string): DagDefinition | undefined;
}

/** The route context over `options`. */
export function serverContext(options: ServerOptions, feed: ChangeFeed): ServerContext {
  const { store, dagBag } = options;
  const requireDag = (dagId: string): DagDefinition => {
    const dag = dagBag.get(dagId);
    if (dag) return dag;
    const broken = dagBag.errors().filter((e) => e.message.includes(`(DAG '${dagId}')`));
    throw new UnknownDagError(dagId, dagBag.ids(), broken.map((e) => e.message));
  };
  return {
    options,
    store,
    dagBag,
    feed,
    requireDag,
    knownDag(dagId) {
      const dag = dagBag.get(dagId);
      if (dag || store.runs.list({ dagId, limit: 1 }).length) return dag;
      return requireDag(dagId);
    },
  };
}
