/** Notices when the DAG bag changed (a file added, edited, removed, or now failing), to send `dags`. */
import type { DagBag } from '../core/dags/loader.ts';
import type { Logger } from '../core/logging.ts';

export interface DagWatchOptions {
  /** Re-read the folder this often; 0 when another part of the process does (a scheduler). */
  refreshMs: number;
  /** Compare the bag with what it was this often. */
  watchMs: number;
  onChange: () => void;
  logger?: Logger;
}

/** Start watching; returns the stop function. */
export function watchDags(bag: DagBag, options: DagWatchOptions): () => void {
  // A re-import makes new definition objects, so identity tells an edited file from an untouched one.
  const snapshot = () => ({ dags: bag.list(), errors: JSON.stringify(bag.errors()) });
  let last = snapshot();
  let refreshedAt = Date.now();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        if (options.refreshMs > 0 && Date.now() - refreshedAt >= options.refreshMs) {
          refreshedAt = Date.now();
          await bag.refresh();
        }
        const now = snapshot();
        const changed = now.errors !== last.errors || now.dags.length !== last.dags.length || now.dags.some((d, i) => d !== last.dags[i]);
        last = now;
        if (changed) options.onChange();
      } catch (err) {
        options.logger?.warn({ err }, 'could not re-read the DAGs folder; trying again');
      } finally {
        busy = false;
      }
    })();
  }, options.watchMs);
  timer.unref();
  return () => clearInterval(timer);
}
