/**
 * cluster.create on the embedded backend, detached (a drain, a lost lease) while it waits for
 * the engine it started to listen: the engine and its handle are left for the next owner,
 * whose resume reattaches to that engine instead of starting another.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/core/config.ts';
import { TaskDetachedError } from '../../../src/errors.ts';
import { backendsFrom } from '../../../src/operators/cluster/backends.ts';
import type { ClusterInfo } from '../../../src/operators/cluster/backend.ts';
import { clusterOperators } from '../../../src/operators/cluster/operators.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { workspace, type Workspace } from '../../helpers/dags.ts';
import { processRunning } from '../../helpers/movielens.ts';
import { RUN, createRun, taskContext } from '../support.ts';

let ws: Workspace | undefined;
let store: Store | undefined;
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) if (processRunning(pid)) process.kill(pid, 'SIGKILL');
  store?.close();
  ws?.cleanup();
  ws = store = undefined;
});

describe('a cluster.create try detached while its engine starts', () => {
  it('leaves the engine running and its handle open; the resume reattaches to that engine', async () => {
    // Reproduces the review of issue 7: the detached create SIGKILLed its engine and released the handle.
    ws = workspace();
    store = openStore(ws.db);
    const env = { ORCH_HOME: ws.home };
    const create = clusterOperators(backendsFrom(loadConfig({}, env, ws.root), env))['cluster.create']!;
    const run = createRun(store, []);
    const handles = () => store!.handles.listForTask({ dagId: run.dagId, runId: RUN, taskId: 'create_cluster' }, { kind: 'cluster', includeReleased: true });

    const owner = new AbortController();
    const ctx = taskContext(store, run, 'create_cluster', { signal: owner.signal });
    // The drain comes the moment the engine's pid is recorded: create is then waiting for its URL.
    const record = ctx.handles.record.bind(ctx.handles);
    (ctx.handles as { record: typeof record }).record = (h) => {
      record(h);
      if (h.kind === 'cluster' && !h.url) owner.abort(new TaskDetachedError('create_cluster', 'orch is shutting down'));
    };
    const error = await create.execute(ctx, { name: 'detach' }).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(TaskDetachedError);
    const [handle] = handles();
    const pid = Number(handle!.data!.pid);
    pids.push(pid);
    expect(handle!.releasedAt).toBeNull();
    expect(processRunning(pid)).toBe(true);

    const info = (await create.resume!(taskContext(store, run, 'create_cluster'), { name: 'detach' })) as ClusterInfo;
    expect(info).toMatchObject({ backend: 'embedded', pid, clusterId: handle!.externalId });
    expect((await fetch(`${info.livyUrl}/version`, { signal: AbortSignal.timeout(10_000) })).status).toBe(200);
    expect(handles()).toHaveLength(1);
  });
});
