/**
 * Operators called directly, as the scheduler calls them, over real parts: a real SQLite
 * store (a run whose create_cluster pushed its ClusterInfo), a real `orch engine` process,
 * and the fault proxy in front of it, which also counts what reached the engine.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/logging.ts';
import { systemClock } from '../../src/core/clock.ts';
import { buildTaskContext } from '../../src/core/task-context.ts';
import type { ClusterInfo } from '../../src/operators/cluster/backend.ts';
import { backendsFrom, type Backends } from '../../src/operators/cluster/backends.ts';
import type { TaskContext } from '../../src/sdk/index.ts';
import { openStore, type DagRunRow, type Store, type TiKey } from '../../src/store/index.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { startEngineProcess, type EngineProcess } from '../helpers/engine-process.ts';
import { startFaultProxy, type FaultProxy } from '../integrations/livy/fault-proxy.ts';

export const DAG = 'op_dag';
export const RUN = 'manual__op';
export const OWNER = { id: 'test-owner', host: 'localhost', pid: process.pid };

export interface Bench {
  ws: Workspace;
  store: Store;
  engine: EngineProcess;
  proxy: FaultProxy;
  /** What create_cluster pushed: an embedded engine (its pid) reached through the proxy. */
  info: ClusterInfo;
  backends: Backends;
  run: DagRunRow;
  key(taskId: string): TiKey;
  /** A try's context; `fresh` opens the database anew, as the next orch process would. */
  context(taskId: string, options?: { tryNumber?: number; signal?: AbortSignal; fresh?: boolean }): TaskContext;
  /** Log lines of one try, oldest first. */
  logs(taskId: string, tryNumber?: number): string[];
  close(): Promise<void>;
}

export interface BenchOptions {
  params?: Record<string, unknown>;
  /** 'livy': the cluster is the livy backend's server (the engine behind the proxy), with `config`'s settings. */
  backend?: 'embedded' | 'livy';
  /** Written to orch.config.json. */
  config?: Record<string, unknown>;
}

/** A run of `op_dag` with `tasks` (create_cluster is added), its ClusterInfo pushed, an engine behind a proxy. */
export async function bench(tasks: string[], options: BenchOptions = {}): Promise<Bench> {
  const { params = {}, backend = 'embedded' } = options;
  const ws = workspace();
  if (options.config) writeFileSync(join(ws.root, 'orch.config.json'), JSON.stringify(options.config));
  const store = openStore(ws.db);
  const stores: Store[] = [store];
  const engine = await startEngineProcess();
  const proxy = await startFaultProxy(engine.url);
  const info: ClusterInfo =
    backend === 'embedded'
      ? { backend, clusterId: 'op-cluster', livyUrl: proxy.url, localFiles: true, pid: engine.child.pid }
      : { backend, clusterId: proxy.url, livyUrl: proxy.url, localFiles: true, dialects: ['duckdb'] };
  const env = { ORCH_HOME: ws.home };
  const run = createRun(store, tasks, params);
  const key = (taskId: string): TiKey => ({ dagId: DAG, runId: RUN, taskId });
  store.xcom.set(key('create_cluster'), 'return_value', info, new Date().toISOString());
  return {
    ws,
    store,
    engine,
    proxy,
    info,
    backends: backendsFrom(loadConfig({}, env, ws.root), env),
    run,
    key,
    context(taskId, options = {}) {
      const s = options.fresh ? openStore(ws.db) : store;
      if (options.fresh) stores.push(s);
      return taskContext(s, run, taskId, options);
    },
    logs: (taskId, tryNumber = 1) =>
      (store.db.prepare(`SELECT message FROM task_log WHERE task_id = ? AND try_number = ? ORDER BY id`).all(taskId, tryNumber) as { message: string }[]).map((r) => r.message),
    async close() {
      await proxy.close();
      await engine.stop('SIGKILL');
      for (const s of stores) s.close();
      ws.cleanup();
    },
  };
}

/** A run of `op_dag` (or `dagId`) with `tasks` (and create_cluster), as the scheduler creates it. */
export function createRun(store: Store, tasks: string[], params: Record<string, unknown> = {}, runId = RUN, dagId = DAG): DagRunRow {
  const now = new Date().toISOString();
  return store.runs.create({
    dagId,
    runId,
    runType: 'manual',
    triggeredBy: 'cli',
    logicalDate: now,
    dataIntervalStart: now,
    dataIntervalEnd: now,
    conf: params,
    params,
    queuedAt: now,
    tasks: ['create_cluster', ...tasks].map((taskId) => ({ taskId, maxTries: 2, pool: 'default_pool', operator: 'test' })),
  });
}

/** The context of one try of `taskId` (try 0: what preflight gets). */
export function taskContext(store: Store, run: DagRunRow, taskId: string, options: { tryNumber?: number; signal?: AbortSignal } = {}): TaskContext {
  return buildTaskContext({
    store,
    run,
    taskId,
    tryNumber: options.tryNumber ?? 1,
    maxTries: 2,
    signal: options.signal ?? new AbortController().signal,
    clock: systemClock,
    logger: silentLogger,
  });
}

/** Start try 1 of a task as the scheduler does (so the reaper leaves its handles alone); returns a function that ends it. */
export function startTry(store: Store, key: TiKey): (state: 'success' | 'failed') => void {
  const now = () => new Date().toISOString();
  if (store.tis.startTry(key, ['none'], OWNER, now(), new Date(Date.now() + 600_000).toISOString())?.tryNumber !== 1) throw new Error(`could not start ${key.taskId}`);
  return (state) => {
    if (!store.tis.finishTry(key, 1, state, now(), null)) throw new Error(`could not end ${key.taskId}`);
  };
}

/** GET a path on the engine itself (not through the proxy). */
export async function onEngine<T = any>(b: Bench, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(b.engine.url + path, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as T };
}
