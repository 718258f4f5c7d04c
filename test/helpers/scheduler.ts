/** A real Scheduler over a real SQLite file and a real DAG folder. */
import { DagBag } from '../../src/core/dags/loader.ts';
import { Scheduler, type SchedulerOptions } from '../../src/core/scheduler.ts';
import type { OperatorRegistry } from '../../src/core/operator.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import type { Workspace } from './dags.ts';

export interface Harness {
  store: Store;
  bag: DagBag;
  scheduler: Scheduler;
  close(): void;
}

/** Load `ws.dags` and build a scheduler with fast heartbeats, suitable for tests. */
export async function harness(ws: Workspace, options: Partial<SchedulerOptions> & { registry?: OperatorRegistry } = {}): Promise<Harness> {
  const store = openStore(ws.db);
  const bag = new DagBag(ws.dags);
  await bag.refresh();
  const scheduler = new Scheduler({ store, dagBag: bag, heartbeatMs: 100, leaseMs: 2_000, abortGraceMs: 1_000, ...options });
  return { store, bag, scheduler, close: () => store.close() };
}
