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
  const slow = join(ws.root, 'slow.duckdb.sql');
  writeFileSync(slow, `COPY (SELECT count(*) AS n FROM range(1000000000000) WHERE hash(range) % 7 < 7) TO '{{ staging_dir }}' (FORMAT parquet);\n`);
  ws.writeDag(
    'spot_run',
    `${SDK_OPERATORS}
     const d = dag({ id: 'spot_run', maxActiveTasks: 1, params: z.object({ output: z.string() }) });
     const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'spot' }) });
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
});

afterEach(async () => {
  await killAll();
  await engine.stop('SIGKILL');
  ws.cleanup();
});

describe('an EMR cluster lost mid-run', () => {
  it('fails the running statement and the task still waiting with EMR’s reason, without retries', async () => {
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
    // Spot capacity is reclaimed: EMR ends the cluster and its master (the Livy) is gone.
    const [clusterId] = Object.keys(readFakeEmr(fake).clusters);
    endCluster(fake, clusterId!, 'TERMINATED_WITH_ERRORS', 'INSTANCE_FAILURE', REASON);
    await engine.stop('SIGKILL');

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
});
