/**
 * cluster.terminate marks the cluster handle of cluster.create released, whether it stopped
 * the engine or found it already gone: the run's cluster (API, `runs show`, the UI's
 * "cluster up") ends when the cluster does, not at a later reaper pass.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orch } from '../../helpers/cli.ts';
import { workspace, type Workspace } from '../../helpers/dags.ts';
import { SDK_OPERATORS, killEngines } from '../../helpers/movielens.ts';
import { openStore } from '../../../src/store/index.ts';

let ws: Workspace;

beforeEach(() => (ws = workspace()));
afterEach(() => {
  killEngines(ws.db);
  ws.cleanup();
});

/** create_cluster → [middle] → terminate_cluster; `middle` is a task body (TypeScript) or none. */
function writeDag(middle?: string): void {
  ws.writeDag(
    'cluster_end',
    `${SDK_OPERATORS}
     const d = dag({ id: 'cluster_end' });
     const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'end' }) });
     const before = ${middle ? `d.task({ id: 'middle', upstream: [create], run: ${middle} })` : 'create'};
     d.task({ id: 'terminate_cluster', upstream: [before], operator: cluster.terminate({ cluster: create }) });
     export default d;`,
  );
}

/** Run the DAG to success; the cluster handle and terminate_cluster's end time. */
async function runIt() {
  const r = await orch(ws, ['run', 'cluster_end']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const store = openStore(ws.db);
  try {
    const run = store.runs.list({ dagId: 'cluster_end', limit: 1 })[0]!;
    const handles = store.handles.listForRun('cluster_end', run.runId).filter((h) => h.kind === 'cluster');
    const terminate = store.tis.get({ dagId: 'cluster_end', runId: run.runId, taskId: 'terminate_cluster' })!;
    return { handles, terminate, run };
  } finally { store.close(); }
}

describe('cluster.terminate', () => {
  it('marks the cluster released when it stops the engine', async () => {
    writeDag();
    const { handles, terminate, run } = await runIt();
    expect(handles).toHaveLength(1);
    expect(handles[0]).toMatchObject({ taskId: 'create_cluster', releasedAt: expect.any(String) });
    // Released by terminate_cluster, before the run ended.
    expect(Date.parse(handles[0]!.releasedAt!)).toBeLessThanOrEqual(Date.parse(terminate.endDate!));
    expect(Date.parse(handles[0]!.releasedAt!)).toBeLessThanOrEqual(Date.parse(run.endDate!));
  });

  it('marks the cluster released when the engine is already gone', async () => {
    writeDag(`(ctx) => { process.kill(Number(ctx.xcom.pull('create_cluster').pid), 'SIGKILL'); }`);
    const { handles, terminate } = await runIt();
    expect(handles[0]).toMatchObject({ taskId: 'create_cluster', releasedAt: expect.any(String) });
    expect(Date.parse(handles[0]!.releasedAt!)).toBeLessThanOrEqual(Date.parse(terminate.endDate!));
  });
});
