/**
 * emr.addSteps and emr.stepSensor against a scripted EMR (aws-sdk-client-mock): the steps as
 * `aws emr add-steps` would send them, added once per try even across a crash, followed to
 * COMPLETED, failing with EMR's FailureDetails, and cancelled with the task.
 */
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.ts';
import { EmrApi } from '../../src/integrations/emr/index.ts';
import { backendsFrom } from '../../src/operators/cluster/backends.ts';
import { emrStepOperators, type AddedSteps } from '../../src/operators/emr/steps.ts';
import type { TaskContext } from '../../src/sdk/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { installFakeEmr, readFakeEmr, writeFakeEmr, type FakeEmrScript } from '../helpers/fake-emr.mjs';
import { createRun, taskContext } from './support.ts';

let ws: Workspace;
let store: Store;
let fake: string;
let mock: ReturnType<typeof installFakeEmr>;
let s3: ReturnType<typeof mockClient>;

const STEPS = [
  { name: 'ratings by {{ ds }}', sparkSubmit: ['--deploy-mode', 'cluster', 's3://jobs/ratings.py', '{{ params.day }}'] },
  { name: 'custom jar', jar: { path: 's3://jobs/etl.jar', mainClass: 'com.example.Etl', args: ['--fast'] }, actionOnFailure: 'CANCEL_AND_WAIT' as const },
];

beforeEach(() => {
  ws = workspace();
  store = openStore(ws.db);
  fake = join(ws.root, 'fake-emr.json');
  mock = installFakeEmr(fake);
  // No test reaches real S3: a step log is missing unless a test puts one there.
  s3 = mockClient(S3Client);
  s3.on(GetObjectCommand).rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
});
afterEach(() => {
  s3.restore();
  mock.restore();
  store.close();
  ws.cleanup();
});

/** A run whose create_cluster pushed an EMR cluster that is up (`backend` names another backend instead); the step operators for it. */
async function setUp(script: FakeEmrScript = {}, backend = 'emr') {
  writeFakeEmr(fake, { states: ['WAITING'], ...script });
  const api = new EmrApi({ region: 'us-east-1' });
  const clusterId = await api.runJobFlow({ Name: 'orch-op', Instances: {} });
  api.close();
  const run = createRun(store, ['add_steps', 'watch_steps'], { day: '2026-12-07' });
  store.xcom.set({ dagId: 'op_dag', runId: 'manual__op', taskId: 'create_cluster' }, 'return_value', { backend, clusterId, livyUrl: 'http://127.0.0.1:1', region: 'us-east-1' }, new Date().toISOString());
  const ops = emrStepOperators(backendsFrom(loadConfig({}, { ORCH_HOME: ws.home }, ws.root), { ORCH_HOME: ws.home }));
  const ctx = (taskId: string, tryNumber = 1, signal?: AbortSignal): TaskContext => taskContext(store, run, taskId, { tryNumber, signal });
  return { ops, ctx, clusterId };
}

const calls = (op: string) => readFakeEmr(fake).calls.filter((c) => c.op === op);

describe('emr.addSteps', () => {
  it('adds the steps as aws emr add-steps would, templates rendered, names unique to the try', async () => {
    const { ops, ctx, clusterId } = await setUp();
    const added = (await ops['emr.addSteps']!.execute(ctx('add_steps'), { cluster: 'create_cluster', steps: STEPS })) as AddedSteps;
    expect(added.stepIds).toHaveLength(2);
    const [call] = calls('AddJobFlowSteps');
    const ds = new Date().toISOString().slice(0, 10);
    expect(call!.input).toEqual({
      JobFlowId: clusterId,
      Steps: [
        { Name: `ratings by ${ds} [orch manual__op add_steps try 1]`, ActionOnFailure: 'CONTINUE', HadoopJarStep: { Jar: 'command-runner.jar', Args: ['spark-submit', '--deploy-mode', 'cluster', 's3://jobs/ratings.py', '2026-12-07'] } },
        { Name: 'custom jar [orch manual__op add_steps try 1]', ActionOnFailure: 'CANCEL_AND_WAIT', HadoopJarStep: { Jar: 's3://jobs/etl.jar', MainClass: 'com.example.Etl', Args: ['--fast'] } },
      ],
    });
  });

  it('resumed after a crash that lost the step ids, finds its steps by name instead of adding them twice', async () => {
    const { ops, ctx, clusterId } = await setUp();
    const first = (await ops['emr.addSteps']!.execute(ctx('add_steps'), { cluster: 'create_cluster', steps: STEPS })) as AddedSteps;
    store.db.prepare(`DELETE FROM external_handle`).run();
    const again = (await ops['emr.addSteps']!.resume!(ctx('add_steps'), { cluster: 'create_cluster', steps: STEPS })) as AddedSteps;
    expect(again.stepIds).toEqual(first.stepIds);
    expect(calls('AddJobFlowSteps')).toHaveLength(1);
    // A retry (try 2) is new work: it adds its own.
    await ops['emr.addSteps']!.execute(ctx('add_steps', 2), { cluster: 'create_cluster', steps: STEPS });
    expect(calls('AddJobFlowSteps')).toHaveLength(2);
  });

  it('needs an EMR cluster', async () => {
    const { ops, ctx, clusterId } = await setUp({}, 'livy');
    await expect(ops['emr.addSteps']!.execute(ctx('add_steps'), { cluster: 'create_cluster', steps: STEPS })).rejects.toMatchObject({ code: 'ORCH_EMR_STEPS_NEED_EMR' });
  });
});

describe('emr.stepSensor', () => {
  it('waits until every step is COMPLETED', async () => {
    const { ops, ctx, clusterId } = await setUp({ step: { states: ['PENDING', 'RUNNING', 'COMPLETED'] } });
    store.xcom.set({ dagId: 'op_dag', runId: 'manual__op', taskId: 'add_steps' }, 'return_value', await ops['emr.addSteps']!.execute(ctx('add_steps'), { cluster: 'create_cluster', steps: STEPS }), new Date().toISOString());
    const result = await ops['emr.stepSensor']!.execute(ctx('watch_steps'), { cluster: 'create_cluster', steps: 'add_steps', pollInterval: '10ms' });
    expect(result).toEqual({ completed: expect.arrayContaining([expect.stringMatching(/^s-/)]) });
  });

  it('fails with EMR’s failure details and the step’s log', async () => {
    const failure = { Reason: 'Unknown Error.', Message: 'Exception in thread "main" org.apache.spark.SparkException: Job aborted.', LogFile: 's3://logs/j-0000000000001/steps/s-0000000000002/stderr.gz' };
    const { ops, ctx, clusterId } = await setUp({ step: { states: ['PENDING', 'RUNNING', 'FAILED'], failure } });
    store.xcom.set({ dagId: 'op_dag', runId: 'manual__op', taskId: 'add_steps' }, 'return_value', await ops['emr.addSteps']!.execute(ctx('add_steps'), { cluster: 'create_cluster', steps: STEPS.slice(0, 1) }), new Date().toISOString());
    await expect(ops['emr.stepSensor']!.execute(ctx('watch_steps'), { cluster: 'create_cluster', steps: 'add_steps', pollInterval: '10ms' })).rejects.toMatchObject({
      code: 'ORCH_EMR_STEP_FAILED',
      retryable: false,
      message: expect.stringContaining(`ended FAILED: Unknown Error.: Exception in thread "main" org.apache.spark.SparkException: Job aborted. (its log: ${failure.LogFile})`),
    });
    // The log is not in S3 yet (EMR uploads every few minutes): the task log says so, the failure stands.
    const lines = (store.db.prepare(`SELECT message FROM task_log WHERE task_id = 'watch_steps' ORDER BY id`).all() as { message: string }[]).map((l) => l.message);
    expect(lines.join('\n')).toContain(`could not read the log of step`);
  });

  it('copies the end of a failed step’s stderr from S3 into the task log and the error', async () => {
    const logFile = 's3://logs/emr/j-1/steps/s-2/stderr.gz';
    const stderr = ['INFO starting', 'WARN slow', 'Traceback (most recent call last):', '  File "ratings.py", line 3', "KeyError: 'userId'"].join('\n') + '\n';
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(gzipSync(stderr)) } } as never);
    {
      const { ops, ctx } = await setUp({ step: { states: ['PENDING', 'FAILED'], failure: { Reason: 'Unknown Error.', LogFile: logFile } } });
      store.xcom.set({ dagId: 'op_dag', runId: 'manual__op', taskId: 'add_steps' }, 'return_value', await ops['emr.addSteps']!.execute(ctx('add_steps'), { cluster: 'create_cluster', steps: STEPS.slice(0, 1) }), new Date().toISOString());
      await expect(ops['emr.stepSensor']!.execute(ctx('watch_steps'), { cluster: 'create_cluster', steps: 'add_steps', pollInterval: '10ms' })).rejects.toMatchObject({
        message: expect.stringContaining(`its stderr ends: Traceback (most recent call last): |   File "ratings.py", line 3 | KeyError: 'userId'`),
      });
      expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'logs', Key: 'emr/j-1/steps/s-2/stderr.gz' }]);
      const logged = store.db.prepare(`SELECT message FROM task_log WHERE task_id = 'watch_steps' AND source = 'emr-step' ORDER BY id`).all() as { message: string }[];
      expect(logged.map((l) => l.message.replace(/^s-\d+: /, ''))).toEqual(stderr.trim().split('\n'));
    }
  });

  it('cancels the steps it waits for when the task is cancelled', async () => {
    const { ops, ctx, clusterId } = await setUp({ step: { states: ['PENDING', 'RUNNING'] } });
    const added = (await ops['emr.addSteps']!.execute(ctx('add_steps'), { cluster: 'create_cluster', steps: STEPS })) as AddedSteps;
    store.xcom.set({ dagId: 'op_dag', runId: 'manual__op', taskId: 'add_steps' }, 'return_value', added, new Date().toISOString());
    const abort = new AbortController();
    const watching = ops['emr.stepSensor']!.execute(ctx('watch_steps', 1, abort.signal), { cluster: 'create_cluster', steps: 'add_steps', pollInterval: '10ms' });
    while (calls('DescribeStep').length < 4) await new Promise((r) => setTimeout(r, 10));
    abort.abort(new Error('cancelled by the user'));
    await expect(watching).rejects.toThrow('cancelled by the user');
    expect(calls('CancelSteps').map((c) => c.input)).toEqual([{ ClusterId: clusterId, StepIds: added.stepIds }]);
  });
});
