/**
 * An EMR cluster lost under a running statement (spot capacity reclaimed: the master node
 * goes, EMR ends the cluster TERMINATED_WITH_ERRORS): the running Livy task fails with EMR's
 * reason within seconds instead of waiting out Livy's silence, the task that still needed
 * the cluster fails at once with the same reason, no retry is spent on either, and
 * terminate_cluster finds the cluster already gone.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, killAll, spawnOrch, waitFor, PATIENCE_MS } from '../helpers/cli.ts';
import { REPO, workspace, type Workspace } from '../helpers/dags.ts';
import { startEngineProcess, type EngineProcess } from '../helpers/engine-process.ts';
import { endCluster, readFakeEmr, writeFakeEmr } from '../helpers/fake-emr.mjs';
import { SDK_OPERATORS } from '../helpers/movielens.ts';

const REASON = 'Master node was terminated due to an increase in the market price';

let ws: Workspace;
let engine: EngineProcess;
let fake: string;
let config: string;

beforeEach(async () => {
  ws = workspace();
  engine = await startEngineProcess();
  fake = join(ws.root, 'fake-emr.json');
  config = join(ws.root, 'orch.config.json');
  writeFakeEmr(fake);
  writeFileSync(config, JSON.stringify({ backends: { emr: { region: 'us-east-1', pollInterval: '50ms', livy: { port: Number(new URL(engine.url).port) } } } }));
  writeDag(false);
});

/** spot_run: slow then late, one at a time, on a cluster with spot task nodes; `recreate` sets onClusterLost. */
function writeDag(recreate: boolean): void {
  // The slow statement counts to the number in rows.csv: a test makes it endless, then short.
  writeFileSync(rowsFile(), 'n\n1000000000000\n');
  const slow = join(ws.root, 'slow.duckdb.sql');
  writeFileSync(slow, `COPY (SELECT count(*) AS n FROM read_csv('${rowsFile()}') t, range(t.n) WHERE hash(range) % 7 < 7) TO '{{ staging_dir }}' (FORMAT parquet);\n`);
  const emr = `{ instanceGroups: { master: { instanceType: 'm5.xlarge' }, core: { instanceType: 'r5.xlarge', count: 2 }, task: [{ instanceType: 'r5.xlarge', count: 4, market: 'SPOT' }] } }`;
  ws.writeDag(
    'spot_run',
    `${SDK_OPERATORS}
     const d = dag({ id: 'spot_run', maxActiveTasks: 1, params: z.object({ output: z.string() }) });
     const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'spot', emr: ${emr}${recreate ? ", onClusterLost: 'recreate'" : ''} }) });
     const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });
     const work = (id: string) => d.task({
       id, upstream: [ready], retries: 2, retryDelay: '100ms',
       operator: livy.statement({ cluster: create, output: '{{ params.output }}/' + id, code: { duckdb: codeFile(${JSON.stringify(slow)}) } }),
     });
     const slow = work('slow');
     const late = work('late');
     d.task({ id: 'terminate_cluster', upstream: [slow, late], operator: cluster.terminate({ cluster: create }) });
     export default d;`,
  );
}

const rowsFile = () => join(ws.root, 'rows.csv');

/** Start `orch run spot_run` on the emr backend; resolve once slow's statement runs on the first cluster. */
async function runUntilSlowRuns() {
  const proc = spawnOrch(ws, ['run', 'spot_run', '--backend', 'emr', '--conf', JSON.stringify({ output: join(ws.root, 'out') })], {
    ORCH_CONFIG: config,
    ORCH_TEST_FAKE_EMR: fake,
    NODE_OPTIONS: `--import ${pathToFileURL(join(REPO, 'test/helpers/fake-emr-preload.mjs')).href}`,
  });
  const db = new DbView(ws.db);
  const runId = await waitFor(
    "slow's statement to be running",
    () => {
      const run = db.runs('spot_run')[0];
      return run && db.logs('spot_run', run.runId, 'slow', 1).some((l) => /submitted statement \d+/.test(l)) && run.runId;
    },
    PATIENCE_MS,
    () => proc.stdout + proc.stderr,
  );
  return { proc, db, runId };
}

/** Spot capacity is reclaimed: EMR ends the cluster and its master (the Livy) is gone. */
async function loseTheCluster(): Promise<string> {
  const [clusterId] = Object.keys(readFakeEmr(fake).clusters);
  endCluster(fake, clusterId!, 'TERMINATED_WITH_ERRORS', 'INSTANCE_FAILURE', REASON);
  await engine.stop('SIGKILL');
  return clusterId!;
}

afterEach(async () => {
  await killAll();
  await engine.stop('SIGKILL');
  ws.cleanup();
});

describe('an EMR cluster lost mid-run', () => {
  it('fails the running statement and the task still waiting with EMR’s reason, without retries', async () => {
    const { proc, db, runId } = await runUntilSlowRuns();
    await loseTheCluster();
    const exit = await proc.waitForExit();
    expect(exit.code, proc.stdout + proc.stderr).toBe(1);
    expect(db.tasks('spot_run', runId)).toMatchObject({
      slow: { state: 'failed', tryNumber: 1 },
      late: { state: 'failed', tryNumber: 1 },
      terminate_cluster: { state: 'success' },
    });
    for (const task of ['slow', 'late']) {
      expect(proc.stdout).toMatch(new RegExp(`✗ ${task}: .*EMR says TERMINATED_WITH_ERRORS: INSTANCE_FAILURE: ${REASON}`));
    }
    expect(db.logs('spot_run', runId, 'terminate_cluster', 1).join('\n')).toContain(`is already TERMINATED_WITH_ERRORS (INSTANCE_FAILURE: ${REASON})`);
    // Nothing was terminated twice or created again.
    const calls = readFakeEmr(fake).calls;
    expect(calls.filter((c) => c.op === 'RunJobFlow')).toHaveLength(1);
    expect(calls.filter((c) => c.op === 'TerminateJobFlows')).toHaveLength(0);
  });

  it("with onClusterLost 'recreate', reruns the unfinished work on an on-demand replacement and terminates it at the end", async () => {
    writeDag(true);
    const port = Number(new URL(engine.url).port);
    const { proc, db, runId } = await runUntilSlowRuns();
    const lost = await loseTheCluster();
    // The replacement's master: a Livy on the same address; the statement is short this time.
    writeFileSync(rowsFile(), 'n\n1000\n');
    engine = await startEngineProcess(['--port', String(port)]);

    const exit = await proc.waitForExit();
    expect(exit.code, proc.stdout + proc.stderr).toBe(0);
    expect(db.tasks('spot_run', runId)).toMatchObject({ slow: { state: 'success', tryNumber: 1 }, late: { state: 'success', tryNumber: 1 }, terminate_cluster: { state: 'success' } });
    const state = readFakeEmr(fake);
    const created = state.calls.filter((c) => c.op === 'RunJobFlow').map((c) => c.input);
    expect(created).toHaveLength(2);
    expect(created[0]!.Instances.InstanceGroups.map((g: { Market: string }) => g.Market)).toEqual(['ON_DEMAND', 'ON_DEMAND', 'SPOT']);
    expect(created[1]!.Instances.InstanceGroups.map((g: { Market: string }) => g.Market)).toEqual(['ON_DEMAND', 'ON_DEMAND', 'ON_DEMAND']);
    const replacement = Object.keys(state.clusters).find((id) => id !== lost)!;
    expect(state.clusters[lost]!.state).toBe('TERMINATED_WITH_ERRORS');
    expect(state.clusters[replacement]!.state).toBe('TERMINATED');
    expect(state.calls.filter((c) => c.op === 'TerminateJobFlows').map((c) => c.input.JobFlowIds)).toEqual([[replacement]]);
    expect(db.logs('spot_run', runId, 'slow', 1).join('\n')).toContain(`cluster ${lost} is gone (EMR says TERMINATED_WITH_ERRORS: INSTANCE_FAILURE: ${REASON}); onClusterLost is 'recreate': creating a replacement, on-demand since spot capacity was lost`);
  });
});
