/**
 * The SQLite store: one file (`$ORCH_HOME/orch.db`) shared by the scheduler, the web
 * server and CLI commands. Each table family has its own module; this binds them.
 */
import { ChangeStore } from './changes.ts';
import { openDb, type Db, type DbNotice, type OpenOptions } from './db.ts';
import { DagStore } from './dags.ts';
import { HandleStore } from './handles.ts';
import { LogStore } from './logs.ts';
import { RunStore } from './runs.ts';
import { TaskInstanceStore } from './task-instances.ts';
import { XComStore } from './xcom.ts';

export class Store {
  readonly dags: DagStore;
  readonly runs: RunStore;
  readonly tis: TaskInstanceStore;
  readonly xcom: XComStore;
  readonly logs: LogStore;
  readonly handles: HandleStore;
  readonly changes: ChangeStore;

  constructor(
    readonly db: Db,
    /** What the CLI should tell the user about the file it opened (e.g. it was found empty). */
    readonly notices: readonly DbNotice[] = [],
  ) {
    this.dags = new DagStore(db);
    this.runs = new RunStore(db);
    this.tis = new TaskInstanceStore(db);
    this.xcom = new XComStore(db);
    this.logs = new LogStore(db);
    this.handles = new HandleStore(db);
    this.changes = new ChangeStore(db);
  }

  /** Run `fn` in one write transaction taken up front, so checks and writes see the same state across processes. */
  immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Open the store at `file`, creating and migrating it as needed. */
export function openStore(file: string, options?: OpenOptions): Store {
  const { db, notices } = openDb(file, options);
  return new Store(db, notices);
}

export * from './types.ts';
export { RETURN_VALUE } from './xcom.ts';
export { isStoreBusy, storeFailureKind, type StoreFailureKind } from './failures.ts';
export { SchemaTooNewError, type DbNotice, type OpenOptions } from './db.ts';
export type { NewRun, RunFilter } from './runs.ts';
export type { NewHandle } from './handles.ts';
export { CHANGES_KEPT, type ChangeKind, type ChangeRow } from './changes.ts';
