/**
 * transform_movielens on `--backend emr`, run as a user runs it (`orch run`), with EMR
 * scripted by aws-sdk-client-mock (preloaded into the orch process) and a real `orch engine`
 * as the master node's Livy: the cluster the DAG describes is created once, the six
 * datasets are converted through Livy, and the cluster is terminated whatever happened.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DbView, orch, orchOk, spawnOrch, waitFor, PATIENCE_MS } from '../helpers/cli.ts';
import { REPO } from '../helpers/dags.ts';
import { startEngineProcess, type EngineProcess } from '../helpers/engine-process.ts';
import { readFakeEmr, updateFakeEmr, writeFakeEmr } from '../helpers/fake-emr.mjs';
import { DATASETS, SAMPLE, queryDb, repoWorkspace } from '../helpers/movielens.ts';

const PRELOAD = pathToFileURL(join(REPO, 'test/helpers/fake-emr-preload.mjs')).href;

let engine: EngineProcess;
let ws: ReturnType<typeof repoWorkspace>;
let fake: string;
let config: string;

beforeAll(async () => {
  engine = await startEngineProcess();
});
afterAll(async () => {
  await engine.stop('SIGKILL');
});
beforeEach(() => {
  ws = repoWorkspace();
  fake = join(ws.out, '..', 'fake-emr.json');
  config = join(ws.out, '..', 'orch.config.json');
  writeFakeEmr(fake);
  // The account's side of the cluster, as a user keeps it in orch.config.json.
  writeFileSync(
    config,
    JSON.stringify({
      backends: {
        emr: {
          region: 'eu-west-1',
          subnetIds: ['subnet-0abc'],
          logUri: 's3://my-logs/emr/',
          pollInterval: '50ms',
          livy: { port: Number(new URL(engine.url).port) },
        },
      },
    }),
  );
});
afterEach(() => ws.cleanup());

const emrEnv = () => ({ ORCH_CONFIG: config, ORCH_TEST_FAKE_EMR: fake, NODE_OPTIONS: `--import ${PRELOAD}` });
const runArgs = (conf: Record<string, string>) => ['run', 'transform_movielens', '--backend', 'emr', '--conf', JSON.stringify({ emr_scripts: 's3://my-bucket/orch', ...conf })];
const runEmr = (conf: Record<string, string>) => orch(ws, runArgs(conf), { env: emrEnv() });

describe('transform_movielens on the emr backend', () => {
  it('creates the cluster the DAG describes once, converts every dataset through its Livy, and terminates it', async () => {
    const r = await runEmr({ source: SAMPLE, output: ws.out });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The AWS SDK's "later releases need Node 22" warning is not orch's user's concern.
    expect(r.stderr).not.toContain('NodeVersionSupportWarning');

    const state = readFakeEmr(fake);
    const runJobFlows = state.calls.filter((c) => c.op === 'RunJobFlow');
    expect(runJobFlows).toHaveLength(1);
    const input = runJobFlows[0]!.input;
    expect(input.Applications.map((a: { Name: string }) => a.Name)).toEqual(['Spark', 'Livy', 'Hadoop']);
    expect(input.Instances.InstanceGroups).toContainEqual(expect.objectContaining({ InstanceRole: 'TASK', Market: 'SPOT' }));
    expect(input.Instances.Ec2SubnetId).toBe('subnet-0abc');
    expect(input.LogUri).toBe('s3://my-logs/emr/');
    expect(input.BootstrapActions[0].ScriptBootstrapAction.Path).toBe('s3://my-bucket/orch/bootstrap-python.sh');
    expect(input.Configurations.map((c: { Classification: string }) => c.Classification)).toEqual(['spark', 'livy-conf']);
    expect(input.Tags).toContainEqual({ Key: 'orch:dag', Value: 'transform_movielens' });
    expect(input.AutoTerminationPolicy).toEqual({ IdleTimeout: 3600 });

    const [cluster] = Object.values(state.clusters);
    expect(cluster!.state).toBe('TERMINATED');
    expect(state.calls.filter((c) => c.op === 'TerminateJobFlows')).toHaveLength(1);
    for (const name of DATASETS) expect(readdirSync(join(ws.out, name)).some((f) => f.endsWith('.parquet')), name).toBe(true);

    // The cluster's progress is in the task logs, as a user reads them.
    const lines = queryDb<{ task_id: string; message: string }>(ws.db, `SELECT task_id, message FROM task_log ORDER BY id`);
    const of = (task: string) => lines.filter((l) => l.task_id === task).map((l) => l.message).join('\n');
    expect(of('create_cluster')).toMatch(/EMR cluster j-\d+ created/);
    expect(of('wait_for_cluster')).toMatch(/is ready after \d+ s: Livy/);
    expect(of('terminate_cluster')).toMatch(/is TERMINATED after/);
    // …and live in orch run's output.
    expect(r.stdout).toMatch(/\] create_cluster: EMR cluster j-\d+: STARTING \(\d+ s, waiting for the master node\)/);
    expect(r.stdout).toMatch(/\] wait_for_cluster: EMR cluster j-\d+: WAITING \(\d+ s/);
  });

  it('terminates the cluster when the transforms fail', async () => {
    const r = await runEmr({ source: join(ws.out, 'no-such-folder'), output: ws.out });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('movies.csv does not exist');
    const state = readFakeEmr(fake);
    expect(state.calls.filter((c) => c.op === 'RunJobFlow')).toHaveLength(1);
    expect(Object.values(state.clusters).map((c) => c.state)).toEqual(['TERMINATED']);
    expect(existsSync(join(ws.out, 'movies'))).toBe(false);
  });

  it('terminates the cluster when the run is cancelled while the cluster bootstraps', async () => {
    // EMR stays in BOOTSTRAPPING: wait_for_cluster waits until the cancel.
    writeFakeEmr(fake, { states: ['STARTING', 'BOOTSTRAPPING'] });
    const proc = spawnOrch(ws, runArgs({ source: SAMPLE, output: ws.out }), emrEnv());
    const db = new DbView(ws.db);
    await waitFor('wait_for_cluster to be running', () => db.tasks('transform_movielens').wait_for_cluster?.state === 'running', PATIENCE_MS, () => proc.stdout + proc.stderr);
    const runId = db.runs('transform_movielens')[0]!.runId;
    await orchOk(ws, ['runs', 'cancel', 'transform_movielens', runId]);
    expect((await proc.waitForExit()).code).toBe(1);
    const tasks = db.tasks('transform_movielens', runId);
    expect(tasks.wait_for_cluster?.state).toBe('failed');
    expect(tasks.terminate_cluster?.state).toBe('success');
    const state = readFakeEmr(fake);
    expect(state.calls.filter((c) => c.op === 'TerminateJobFlows')).toHaveLength(1);
    expect(Object.values(state.clusters).map((c) => c.state)).toEqual(['TERMINATED']);
  });

  it('fails a run with a wrong EMR setting before any cluster is created, naming the field', async () => {
    writeFileSync(config, JSON.stringify({ backends: { emr: { region: 'eu-west-1', subnetIds: 'subnet-0abc' } } }));
    const r = await runEmr({ source: SAMPLE, output: ws.out });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('failed (preflight check failed)');
    expect(r.stdout).toContain('subnetIds: Invalid input: expected array, received string');
    // Only the reaper looked at the account; nothing was created or terminated.
    expect(readFakeEmr(fake).calls.map((c) => c.op).filter((op) => op !== 'ListClusters')).toEqual([]);
  });

  it('makes one cluster per run when orch is killed while create_cluster waits for EMR', async () => {
    // EMR is slow to give the master an address: create_cluster is still waiting when orch dies.
    writeFakeEmr(fake, { states: ['STARTING'], masterDns: '' });
    const victim = spawnOrch(ws, runArgs({ source: SAMPLE, output: ws.out }), emrEnv());
    await waitFor('create_cluster to wait on the new cluster', () => readFakeEmr(fake).calls.filter((c) => c.op === 'DescribeCluster').length >= 2, PATIENCE_MS, () => victim.stdout + victim.stderr);
    victim.child.kill('SIGKILL');
    expect((await victim.waitForExit()).signal).toBe('SIGKILL');
    updateFakeEmr(fake, (s) => Object.assign(s.script, { states: ['STARTING', 'BOOTSTRAPPING', 'WAITING'], masterDns: '127.0.0.1' }));

    const r = await runEmr({ source: SAMPLE, output: ws.out });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^resumed run \S+: success$/m);
    const state = readFakeEmr(fake);
    expect(state.calls.filter((c) => c.op === 'RunJobFlow')).toHaveLength(1);
    expect(Object.values(state.clusters).map((c) => c.state)).toEqual(['TERMINATED']);
    for (const name of DATASETS) expect(readdirSync(join(ws.out, name)).some((f) => f.endsWith('.parquet')), name).toBe(true);
  });
});
