/**
 * The EMR reaper: running clusters orch created whose run is over — finished in this
 * database, or unknown to it — are terminated after a grace period; everything else is
 * listed with the reason it was left alone. EMR is scripted with aws-sdk-client-mock.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmrApi } from '../../../src/integrations/emr/index.ts';
import { reapEmrClusters, reapEmrOfFinishedRuns } from '../../../src/operators/cluster/emr/reaper.ts';
import { reapClusters } from '../../../src/operators/cluster/reaper.ts';
import { silentLogger } from '../../../src/core/logging.ts';
import { runJobFlowRequest } from '../../../src/operators/cluster/emr/request.ts';
import { emrSettings } from '../../../src/operators/cluster/emr/settings.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { workspace, type Workspace } from '../../helpers/dags.ts';
import { installFakeEmr, readFakeEmr, updateFakeEmr, writeFakeEmr } from '../../helpers/fake-emr.mjs';
import { createRun } from '../support.ts';

let ws: Workspace;
let store: Store;
let fake: string;
let mock: ReturnType<typeof installFakeEmr>;

beforeEach(() => {
  ws = workspace();
  store = openStore(ws.db);
  fake = join(ws.root, 'fake-emr.json');
  writeFakeEmr(fake, { states: ['WAITING'] });
  mock = installFakeEmr(fake);
});
afterEach(() => {
  mock.restore();
  store.close();
  ws.cleanup();
});

const HOUR = 3_600_000;

/** A cluster as orch would create it for `runId`, `ageMs` old; recorded in this database when `recorded`. */
async function clusterFor(runId: string, ageMs = 0, recorded = false): Promise<string> {
  const api = new EmrApi({ region: 'us-east-1' });
  const id = await api.runJobFlow(runJobFlowRequest(emrSettings({}, {}), { dagId: 'op_dag', runId, taskId: 'create_cluster' }));
  api.close();
  updateFakeEmr(fake, (s) => {
    s.clusters[id]!.state = 'WAITING';
    s.clusters[id]!.createdAt = new Date(Date.now() - ageMs).toISOString();
  });
  if (recorded) store.handles.record({ dagId: 'op_dag', runId, taskId: 'create_cluster' }, 1, { kind: 'cluster', externalId: id, data: { backend: 'emr' } }, new Date().toISOString());
  return id;
}

/** A run of op_dag in `state`, ended `endedAgoMs` ago when finished. */
function runIn(runId: string, state: 'running' | 'success' | 'failed', endedAgoMs = 0): void {
  createRun(store, ['terminate_cluster'], {}, runId);
  const end = new Date(Date.now() - endedAgoMs).toISOString();
  store.db.prepare(`UPDATE dag_run SET state = ?, start_date = ?, end_date = ? WHERE run_id = ?`).run(state, end, state === 'running' ? null : end, runId);
}

const stateOf = (id: string) => readFakeEmr(fake).clusters[id]!.state;

describe('orch emr reap', () => {
  it('terminates clusters of runs that ended past the grace period, and of runs this database does not know', async () => {
    runIn('manual__done', 'failed', 2 * HOUR);
    const done = await clusterFor('manual__done', 3 * HOUR, true);
    const unknown = await clusterFor('manual__elsewhere', 2 * HOUR);
    const decisions = await reapEmrClusters(store, { region: 'us-east-1' });
    expect(decisions.map((d) => [d.clusterId, d.action])).toEqual([
      [done, 'terminated'],
      [unknown, 'terminated'],
    ]);
    expect(decisions[0]!.reason).toBe('its run ended (failed) 120 min ago');
    expect(decisions[1]!.reason).toMatch(/its run is unknown to this database \(created 120 min ago\)/);
    expect([stateOf(done), stateOf(unknown)]).toEqual(['TERMINATING', 'TERMINATING']);
    // The run's cluster handle is closed: runs show and the UI stop calling it up.
    expect(store.handles.listForRun('op_dag', 'manual__done')[0]!.releasedAt).toEqual(expect.any(String));
  });

  it('leaves running runs, runs that just ended, and young clusters of unknown runs alone, saying why', async () => {
    runIn('manual__going', 'running');
    runIn('manual__just', 'success', 60_000);
    const going = await clusterFor('manual__going', HOUR, true);
    const just = await clusterFor('manual__just', HOUR, true);
    const young = await clusterFor('manual__starting', 60_000);
    const decisions = await reapEmrClusters(store, { region: 'us-east-1' });
    expect(Object.fromEntries(decisions.map((d) => [d.clusterId, [d.action, d.reason]]))).toEqual({
      [going]: ['kept', 'its run is running'],
      [just]: ['kept', expect.stringContaining('its run ended (success) 1 min ago; terminate_cluster may still be at work (grace 10 min)')],
      [young]: ['kept', expect.stringContaining('its run is unknown to this database, but it was created only 1 min ago')],
    });
    expect(readFakeEmr(fake).calls.filter((c) => c.op === 'TerminateJobFlows')).toEqual([]);
  });

  it('never touches clusters without orch’s tags', async () => {
    const api = new EmrApi({ region: 'us-east-1' });
    const request = runJobFlowRequest(emrSettings({}, {}), { dagId: 'op_dag', runId: 'x', taskId: 'create_cluster' });
    await api.runJobFlow({ ...request, Tags: [{ Key: 'team', Value: 'data' }] });
    await api.runJobFlow({ ...request, Name: 'someone-elses-cluster' });
    api.close();
    updateFakeEmr(fake, (s) => Object.values(s.clusters).forEach((c) => (c.state = 'WAITING')));
    expect(await reapEmrClusters(store, { region: 'us-east-1', graceMs: 0 })).toEqual([]);
    expect(readFakeEmr(fake).calls.filter((c) => c.op === 'TerminateJobFlows')).toEqual([]);
  });

  it('leaves clusters another orch database made to that database, and reaps its own', async () => {
    const api = new EmrApi({ region: 'us-east-1' });
    const made = async (db: string) => api.runJobFlow(runJobFlowRequest(emrSettings({}, {}), { dagId: 'op_dag', runId: `manual__${db}`, taskId: 'create_cluster', db }));
    const theirs = await made('0123456789abcdef');
    const ours = await made('fedcba9876543210');
    api.close();
    updateFakeEmr(fake, (s) => Object.values(s.clusters).forEach((c) => ((c.state = 'WAITING'), (c.createdAt = new Date(Date.now() - 2 * HOUR).toISOString()))));
    const decisions = await reapEmrClusters(store, { region: 'us-east-1', dbTag: 'fedcba9876543210' });
    expect(Object.fromEntries(decisions.map((d) => [d.clusterId, d.action]))).toEqual({ [theirs]: 'kept', [ours]: 'terminated' });
    expect(decisions.find((d) => d.clusterId === theirs)!.reason).toContain('another orch database made it (orch:db 0123456789abcdef');
  });

  it('with --dry-run only says what it would terminate', async () => {
    const id = await clusterFor('manual__elsewhere', 2 * HOUR);
    const decisions = await reapEmrClusters(store, { region: 'us-east-1', dryRun: true });
    expect(decisions.map((d) => [d.clusterId, d.action])).toEqual([[id, 'would terminate']]);
    expect(stateOf(id)).toBe('WAITING');
  });

  it('reports a protected cluster with the command that unprotects it', async () => {
    const id = await clusterFor('manual__elsewhere', 2 * HOUR);
    updateFakeEmr(fake, (s) => (s.clusters[id]!.protected = true));
    const [d] = await reapEmrClusters(store, { region: 'us-east-1' });
    expect(d).toMatchObject({ action: 'failed', reason: expect.stringContaining(`aws emr modify-cluster-attributes --cluster-id ${id} --no-termination-protected`) });
  });
});

describe('the scheduler’s EMR round', () => {
  it('makes no AWS call when no finished run has an EMR cluster on record', async () => {
    runIn('manual__going', 'running');
    await clusterFor('manual__going', HOUR, true);
    const before = readFakeEmr(fake).calls.length;
    expect(await reapEmrOfFinishedRuns(store, { region: 'us-east-1' })).toEqual([]);
    expect(readFakeEmr(fake).calls.length).toBe(before);
  });

  it('terminates a recorded cluster of a finished run and releases the handle of one already gone', async () => {
    runIn('manual__done', 'success', HOUR);
    runIn('manual__gone', 'success', HOUR);
    const up = await clusterFor('manual__done', 2 * HOUR, true);
    const gone = await clusterFor('manual__gone', 2 * HOUR, true);
    updateFakeEmr(fake, (s) => (s.clusters[gone]!.state = 'TERMINATED'));
    const decisions = await reapEmrOfFinishedRuns(store, { region: 'us-east-1' });
    expect(decisions.map((d) => [d.clusterId, d.action])).toEqual([[up, 'terminated']]);
    expect(stateOf(up)).toBe('TERMINATING');
    for (const run of ['manual__done', 'manual__gone']) expect(store.handles.listForRun('op_dag', run)[0]!.releasedAt).toEqual(expect.any(String));
  });
});

describe('the scheduler’s housekeeping', () => {
  it('does not look at the AWS account when the emr backend is not in use', async () => {
    await clusterFor('manual__elsewhere', 2 * HOUR);
    const before = readFakeEmr(fake).calls.length;
    await reapClusters(store, silentLogger);
    expect(readFakeEmr(fake).calls.length).toBe(before);
  });

  it('on the emr backend, sweeps the account every 10 minutes for orch clusters whose run is unknown here', async () => {
    const id = await clusterFor('manual__elsewhere', 2 * HOUR);
    // Not in the first minutes of a process (an `orch run` never waits on a sweep): ten minutes on.
    vi.useFakeTimers({ now: Date.now() + 11 * 60_000, toFake: ['Date'] });
    const saved = { backend: process.env.ORCH_BACKEND, region: process.env.AWS_REGION };
    Object.assign(process.env, { ORCH_BACKEND: 'emr', AWS_REGION: 'us-east-1' });
    try {
      await reapClusters(store, silentLogger);
    } finally {
      vi.useRealTimers();
      for (const [k, v] of [['ORCH_BACKEND', saved.backend], ['AWS_REGION', saved.region]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(stateOf(id)).toBe('TERMINATING');
  });
});
