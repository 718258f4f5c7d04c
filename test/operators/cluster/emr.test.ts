/**
 * The emr backend against a scripted EMR (aws-sdk-client-mock with the API reference's
 * response shapes) and, as the master's Livy, a real `orch engine` process: the cluster the
 * settings describe, ready only when Livy answers, failures with EMR's reason, terminate
 * whatever happened, and one cluster per run after a crash.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmrApi } from '../../../src/integrations/emr/index.ts';
import { EmrBackend, type EmrBackendSettings } from '../../../src/operators/cluster/emr/backend.ts';
import type { ClusterInfo } from '../../../src/operators/cluster/backend.ts';
import type { TaskContext } from '../../../src/sdk/index.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { workspace, type Workspace } from '../../helpers/dags.ts';
import { startEngineProcess, type EngineProcess } from '../../helpers/engine-process.ts';
import { installFakeEmr, readFakeEmr, writeFakeEmr, type FakeEmrScript } from '../../helpers/fake-emr.mjs';
import { createRun, taskContext } from '../support.ts';

let ws: Workspace;
let store: Store;
let fakeFile: string;
let engine: EngineProcess;
let mock: ReturnType<typeof installFakeEmr>;

beforeAll(async () => {
  engine = await startEngineProcess();
});
afterAll(async () => {
  await engine.stop('SIGKILL');
});
beforeEach(() => {
  ws = workspace();
  store = openStore(ws.db);
  fakeFile = join(ws.root, 'fake-emr.json');
  mock = installFakeEmr(fakeFile);
});
afterEach(() => {
  mock.restore();
  store.close();
  ws.cleanup();
});

const run = () => createRun(store, ['wait_for_cluster', 'terminate_cluster'], { bucket: 'my-bucket' });
const enginePort = () => Number(new URL(engine.url).port);
/** A backend whose cluster's Livy is the engine, polling fast. */
const backend = (settings: EmrBackendSettings = {}) => new EmrBackend({ pollInterval: '20ms', region: 'us-east-1', livy: { port: enginePort() }, ...settings });
const calls = (op?: string) => readFakeEmr(fakeFile).calls.filter((c) => !op || c.op === op);
function logs(taskId: string): string[] {
  return (store.db.prepare(`SELECT message FROM task_log WHERE task_id = ? ORDER BY id`).all(taskId) as { message: string }[]).map((r) => r.message);
}
function context(taskId: string, signal?: AbortSignal, tryNumber = 1): TaskContext {
  const r = store.runs.get('op_dag', 'manual__op') ?? run();
  return taskContext(store, r, taskId, { signal, tryNumber });
}
async function created(script: FakeEmrScript = {}, settings: EmrBackendSettings = {}): Promise<{ b: EmrBackend; info: ClusterInfo }> {
  writeFakeEmr(fakeFile, script);
  const b = backend(settings);
  return { b, info: await b.create(context('create_cluster'), { name: 'movielens' }) };
}

describe('emr backend: create', () => {
  it('creates the cluster the settings describe, with orch’s name, tags and an idle timeout', async () => {
    const { info } = await created({}, { tags: { team: 'data' }, logUri: 's3://logs/emr/', bootstrapActions: [{ path: 's3://{{ params.bucket }}/bootstrap.sh', args: ['--fast'] }] });
    const [runJobFlow, ...more] = calls('RunJobFlow');
    expect(more).toEqual([]);
    const input = runJobFlow!.input;
    expect(input).toMatchObject({
      Name: 'orch-movielens-op_dag-manual__op',
      ReleaseLabel: 'emr-7.13.0',
      Applications: [{ Name: 'Spark' }, { Name: 'Livy' }, { Name: 'Hadoop' }],
      LogUri: 's3://logs/emr/',
      ServiceRole: 'EMR_DefaultRole',
      JobFlowRole: 'EMR_EC2_DefaultRole',
      Instances: {
        KeepJobFlowAliveWhenNoSteps: true,
        TerminationProtected: false,
        InstanceGroups: [
          { InstanceRole: 'MASTER', InstanceType: 'm5.xlarge', InstanceCount: 1, Market: 'ON_DEMAND' },
          { InstanceRole: 'CORE', InstanceType: 'm5.xlarge', InstanceCount: 2, Market: 'ON_DEMAND' },
        ],
      },
      // Params rendered into the settings' strings.
      BootstrapActions: [{ Name: 'bootstrap 1', ScriptBootstrapAction: { Path: 's3://my-bucket/bootstrap.sh', Args: ['--fast'] } }],
      AutoTerminationPolicy: { IdleTimeout: 3600 },
    });
    expect(input.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'team', Value: 'data' },
        { Key: 'orch:dag', Value: 'op_dag' },
        { Key: 'orch:run', Value: 'manual__op' },
        { Key: 'orch:task', Value: 'create_cluster' },
      ]),
    );
    const id = Object.keys(readFakeEmr(fakeFile).clusters)[0]!;
    expect(info).toMatchObject({ backend: 'emr', clusterId: id, livyUrl: `http://127.0.0.1:${enginePort()}`, region: 'us-east-1' });
    // The id is on record before anything else can fail, for the reaper and a resume.
    expect(store.handles.listForRun('op_dag', 'manual__op').map((h) => h.externalId)).toEqual([id]);
    expect(logs('create_cluster').join('\n')).toMatch(/EMR cluster j-\d+ created/);
  });

  it('lets the DAG’s settings override the config file’s and combines their tags', async () => {
    writeFakeEmr(fakeFile);
    const b = backend({ releaseLabel: 'emr-6.15.0', tags: { team: 'data', cost: 'a' }, subnetIds: ['subnet-1'] });
    await b.create(context('create_cluster'), {
      emr: {
        releaseLabel: 'emr-spark-8.0.0',
        tags: { cost: 'b' },
        instanceFleets: {
          master: { instanceTypes: ['m5.xlarge'] },
          core: { instanceTypes: ['r5.2xlarge', { instanceType: 'r5a.2xlarge', weightedCapacity: 2 }], spotCapacity: 4 },
          spot: { provisioningTimeout: '15m' },
        },
        configurations: [{ classification: 'spark', properties: { maximizeResourceAllocation: 'true' } }],
        idleTimeout: '30m',
      },
    });
    const input = calls('RunJobFlow')[0]!.input;
    expect(input.ReleaseLabel).toBe('emr-spark-8.0.0');
    expect(input.Tags).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'data' }, { Key: 'cost', Value: 'b' }]));
    expect(input.Instances.InstanceGroups).toBeUndefined();
    expect(input.Instances.Ec2SubnetIds).toEqual(['subnet-1']);
    expect(input.Instances.InstanceFleets[1]).toMatchObject({
      InstanceFleetType: 'CORE',
      TargetOnDemandCapacity: 0,
      TargetSpotCapacity: 4,
      InstanceTypeConfigs: [{ InstanceType: 'r5.2xlarge' }, { InstanceType: 'r5a.2xlarge', WeightedCapacity: 2 }],
      LaunchSpecifications: { SpotSpecification: { AllocationStrategy: 'price-capacity-optimized', TimeoutDurationMinutes: 15, TimeoutAction: 'SWITCH_TO_ON_DEMAND' } },
    });
    expect(input.Configurations).toEqual([{ Classification: 'spark', Properties: { maximizeResourceAllocation: 'true' } }]);
    expect(input.AutoTerminationPolicy).toEqual({ IdleTimeout: 1800 });
  });

  it('refuses a misspelled field or termination protection before calling AWS', async () => {
    writeFakeEmr(fakeFile);
    await expect(backend().create(context('create_cluster'), { emr: { releaseLable: 'emr-7.13.0' } as never })).rejects.toMatchObject({
      code: 'ORCH_EMR_SETTINGS',
      message: expect.stringContaining("'releaseLable'"),
    });
    await expect(backend({ terminationProtected: true }).create(context('create_cluster'), {})).rejects.toMatchObject({
      code: 'ORCH_EMR_SETTINGS',
      message: expect.stringContaining('terminationProtected'),
    });
    await expect(backend().create(context('create_cluster'), { emr: { instanceGroups: { master: { instanceType: 'm5.xlarge', market: 'SPOTT' as never } } } })).rejects.toMatchObject({
      message: expect.stringContaining('instanceGroups.master.market'),
    });
    expect(calls()).toEqual([]);
  });

  it('says what EMR refused, with AWS’s code', async () => {
    writeFakeEmr(fakeFile, { runJobFlowError: { name: 'AccessDeniedException', message: 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: elasticmapreduce:RunJobFlow' } });
    await expect(backend().create(context('create_cluster'), {})).rejects.toMatchObject({
      code: 'ORCH_EMR_API',
      message: expect.stringMatching(/EMR RunJobFlow failed: AccessDeniedException: .*not authorized.*README "Run on EMR"/),
    });
    expect(store.handles.listForRun('op_dag', 'manual__op')).toEqual([]);
  });

  it('terminates the cluster it started when the create is cancelled', async () => {
    writeFakeEmr(fakeFile, { states: ['STARTING'] , masterDns: '' });
    const abort = new AbortController();
    const creating = backend().create(context('create_cluster', abort.signal), {});
    await waitFor(() => calls('DescribeCluster').length >= 2);
    abort.abort(new Error('cancelled by the user'));
    await expect(creating).rejects.toThrow('cancelled by the user');
    const id = Object.keys(readFakeEmr(fakeFile).clusters)[0]!;
    expect(calls('TerminateJobFlows').map((c) => c.input.JobFlowIds)).toEqual([[id]]);
    expect(store.handles.listForRun('op_dag', 'manual__op')[0]!.releasedAt).toEqual(expect.any(String));
  });
});

describe('emr backend: one cluster per run', () => {
  it('a create resumed after a crash takes the cluster the dead try started, found by name and tags', async () => {
    writeFakeEmr(fakeFile);
    // The first try's RunJobFlow went through, but the process died before recording the id.
    const api = new EmrApi({ region: 'us-east-1' });
    const { runJobFlowRequest } = await import('../../../src/operators/cluster/emr/request.ts');
    const { emrSettings } = await import('../../../src/operators/cluster/emr/settings.ts');
    const id = await api.runJobFlow(runJobFlowRequest(emrSettings({}, {}), { dagId: 'op_dag', runId: 'manual__op', taskId: 'create_cluster', name: 'movielens' }));
    api.close();
    const info = await backend().reattach(context('create_cluster', undefined, 2), { name: 'movielens' });
    expect(info?.clusterId).toBe(id);
    expect(calls('RunJobFlow')).toHaveLength(1);
    // A later try's plain create also reuses it rather than starting a second.
    const again = await backend().create(context('create_cluster', undefined, 3), { name: 'movielens' });
    expect(again.clusterId).toBe(id);
    expect(calls('RunJobFlow')).toHaveLength(1);
    expect(logs('create_cluster').join('\n')).toContain(`found this run's EMR cluster ${id}`);
  });

  it('does not take a cluster of another run that happens to share the name', async () => {
    writeFakeEmr(fakeFile);
    const api = new EmrApi({ region: 'us-east-1' });
    const { runJobFlowRequest } = await import('../../../src/operators/cluster/emr/request.ts');
    const { emrSettings } = await import('../../../src/operators/cluster/emr/settings.ts');
    const request = runJobFlowRequest(emrSettings({}, {}), { dagId: 'op_dag', runId: 'manual__other', taskId: 'create_cluster', name: 'movielens' });
    await api.runJobFlow({ ...request, Name: 'orch-movielens-op_dag-manual__op' });
    api.close();
    expect(await backend().reattach(context('create_cluster'), { name: 'movielens' })).toBeUndefined();
  });
});

describe('emr backend: waitReady', () => {
  it('waits through STARTING and BOOTSTRAPPING to WAITING and a Livy that answers, logging each state', async () => {
    const { b, info } = await created();
    await b.waitReady(context('wait_for_cluster'), info, 60_000);
    const text = logs('create_cluster').concat(logs('wait_for_cluster')).join('\n');
    expect(text).toMatch(/STARTING \(\d+ s/);
    expect(text).toMatch(/BOOTSTRAPPING \(\d+ s/);
    expect(text).toMatch(/WAITING \(\d+ s/);
    expect(logs('wait_for_cluster').join('\n')).toMatch(new RegExp(`is ready after \\d+ s: Livy .* answers at http://127.0.0.1:${enginePort()}`));
  });

  it('is not ready while EMR says WAITING but Livy does not answer', async () => {
    const closed = await unusedPort();
    const { b, info } = await created({ states: ['WAITING'] }, { livy: { port: closed } });
    await expect(b.waitReady(context('wait_for_cluster'), info, 1_500)).rejects.toMatchObject({
      code: 'ORCH_EMR_NOT_READY',
      message: expect.stringContaining(`Livy at http://127.0.0.1:${closed} did not answer`),
    });
  });

  it('fails at once with EMR’s reason when bootstrapping fails', async () => {
    const reason = { Code: 'BOOTSTRAP_FAILURE', Message: 'On the master instance (i-0abc), bootstrap action 1 returned a non-zero return code' };
    const { b, info } = await created({ states: ['STARTING', 'BOOTSTRAPPING', 'TERMINATED_WITH_ERRORS'], reason });
    await expect(b.waitReady(context('wait_for_cluster'), info, 600_000)).rejects.toMatchObject({
      code: 'ORCH_EMR_CLUSTER_ENDED',
      retryable: false,
      message: expect.stringContaining('TERMINATED_WITH_ERRORS while orch was waiting for WAITING or RUNNING: BOOTSTRAP_FAILURE: On the master instance (i-0abc), bootstrap action 1 returned a non-zero return code'),
    });
  });

  it('refuses a cluster created without Livy', async () => {
    const { b, info } = await created({}, { applications: ['Spark', 'Hadoop'] });
    await expect(b.waitReady(context('wait_for_cluster'), info, 60_000)).rejects.toMatchObject({ code: 'ORCH_EMR_NO_LIVY' });
  });
});

describe('emr backend: terminate', () => {
  it('terminates and waits until EMR reports TERMINATED; a second terminate only looks', async () => {
    const { b, info } = await created();
    await b.terminate(context('terminate_cluster'), info);
    expect(calls('TerminateJobFlows').map((c) => c.input.JobFlowIds)).toEqual([[info.clusterId]]);
    expect(readFakeEmr(fakeFile).clusters[info.clusterId]!.state).toBe('TERMINATED');
    expect(logs('terminate_cluster').join('\n')).toMatch(/is TERMINATED after \d+ s/);
    await b.terminate(context('terminate_cluster'), info);
    expect(calls('TerminateJobFlows')).toHaveLength(1);
    expect(logs('terminate_cluster').join('\n')).toContain('is already TERMINATED');
  });

  it('says how to remove a cluster someone protected, rather than leaving it silently', async () => {
    const { b, info } = await created({ terminationProtected: true });
    await expect(b.terminate(context('terminate_cluster'), info)).rejects.toMatchObject({
      code: 'ORCH_EMR_TERMINATION_PROTECTED',
      message: expect.stringContaining(`aws emr modify-cluster-attributes --cluster-id ${info.clusterId} --no-termination-protected`),
    });
  });
});

describe('emr api', () => {
  let server: Server;
  let throttles: number;
  beforeAll(async () => {
    // aws-sdk-client-mock replaces `send`, below the SDK's retry middleware; throttling is
    // answered on the wire instead, as EMR answers it, so the SDK's own retries are what run.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (throttles-- > 0) {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
          return;
        }
        res.end(JSON.stringify({ Cluster: { Id: 'j-THROTTLED', Name: 'orch-x', Status: { State: 'WAITING', StateChangeReason: {} } } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('rides out throttling with the SDK’s retries', async () => {
    mock.restore();
    throttles = 2;
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAFAKE', AWS_SECRET_ACCESS_KEY: 'fake' });
    const api = new EmrApi({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    try {
      const cluster = await api.describeCluster('j-THROTTLED');
      expect(cluster.Status?.State).toBe('WAITING');
      expect(throttles).toBe(-1);
    } finally {
      api.close();
    }
  });

  it('gives up on throttling that does not end, with AWS’s code', async () => {
    mock.restore();
    throttles = 1_000;
    const api = new EmrApi({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxAttempts: 2 });
    try {
      await expect(api.describeCluster('j-THROTTLED')).rejects.toMatchObject({ code: 'ORCH_EMR_API', message: expect.stringContaining('ThrottlingException: Rate exceeded') });
    } finally {
      api.close();
    }
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 10));
}

async function unusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
