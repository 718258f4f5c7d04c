/**
 * livy.batch resumed after `orch run` was killed between Livy accepting the batch and orch
 * recording its id, on a Livy older than 0.8 (which answers 400 to `GET /batches/{name}`):
 * the batch is found by listing, never submitted twice; a lookup that fails fails the try,
 * and the retry kills that try's batch before it submits its own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, killAll, orch, spawnOrch, waitFor, PATIENCE_MS } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { SDK_OPERATORS, engineByHand, killEngines } from '../helpers/movielens.ts';
import { nth, startFaultProxy, type FaultProxy, type Hit } from '../integrations/livy/fault-proxy.ts';

let ws: Workspace;
let db: DbView;
let proxy: FaultProxy | undefined;

/** `batch_dag`: create_cluster → wait_for_cluster → job (a livy.batch with `taskArgs`) → terminate_cluster. */
function writeBatchDag(taskArgs = ''): void {
  const sql = join(ws.root, 'job.sql');
  writeFileSync(sql, `SELECT 42 AS answer;\n`);
  ws.writeDag(
    'batch_dag',
    `${SDK_OPERATORS}
     const d = dag({ id: 'batch_dag' });
     const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'batch' }) });
     const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });
     const job = d.task({ id: 'job', upstream: [ready], ${taskArgs} operator: livy.batch({ cluster: create, file: ${JSON.stringify(sql)}, name: 'nightly-job' }) });
     d.task({ id: 'terminate_cluster', upstream: [job], operator: cluster.terminate({ cluster: create }) });
     export default d;`,
  );
}

beforeEach(async () => {
  ws = workspace();
  db = new DbView(ws.db);
  writeBatchDag();
  proxy = await startFaultProxy((await engineByHand(ws)).url);
});

afterEach(async () => {
  await proxy?.close();
  await killAll();
  killEngines(ws.db);
  db.close();
  ws.cleanup();
});

const args = ['run', 'batch_dag', '--backend', 'livy'];
const env = () => ({ ORCH_LIVY_URL: proxy!.url });
const batchPosts = () => proxy!.hits.filter((h: Hit) => h.method === 'POST' && h.url === '/batches' && h.status !== undefined).length;
/** Livy before 0.8 reads `GET /batches/{x}` as an id only: a name is a 400. */
const oldLivy = (hit: Hit) => (hit.method === 'GET' && /^\/batches\/[^/?]*[^0-9/?]/.test(hit.url) ? { reply: 400, body: '{"msg":"invalid batch id"}' } : undefined);

/** `orch run`, SIGKILLed right after the engine accepted the batch (its answer never reached orch). */
async function killAfterBatchAccepted(): Promise<string> {
  proxy!.faults.push((hit) => (hit.method === 'POST' && hit.url === '/batches' ? { hangAfterForward: true } : undefined));
  const victim = spawnOrch(ws, args, env());
  await waitFor('the engine to accept the batch', () => batchPosts() === 1, PATIENCE_MS, () => victim.stdout + victim.stderr);
  victim.child.kill('SIGKILL');
  await victim.waitForExit();
  proxy!.faults.length = 0;
  const runId = db.runs('batch_dag')[0]!.runId;
  expect(db.tasks('batch_dag', runId).job).toEqual({ state: 'running', tryNumber: 1 });
  return runId;
}

describe('livy.batch resumed on a Livy that answers 400 to name lookups', () => {
  it('finds the batch by listing and follows it instead of submitting a second one', async () => {
    // Reproduces issue 7 (10): the 400 of GET /batches/{name} was swallowed and the batch POSTed again.
    const runId = await killAfterBatchAccepted();
    proxy!.faults.push(oldLivy);
    const r = await orch(ws, args, { timeoutMs: 120_000, env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(db.tasks('batch_dag', runId).job).toEqual({ state: 'success', tryNumber: 1 });
    expect(batchPosts()).toBe(1);
    const log = db.logs('batch_dag', runId, 'job', 1).join('\n');
    expect(log).toMatch(new RegExp(`following batch \\d+ \\('nightly-job-batch_dag-${runId.replace(/[^A-Za-z0-9_.:-]/g, '_')}-job-1'\\) started by this try`));
    expect(log).toMatch(/batch \d+: success/);
  });

  it('fails the try with a clear message, and submits nothing, when the lookup itself fails', async () => {
    const runId = await killAfterBatchAccepted();
    proxy!.faults.push(oldLivy, (hit) => (hit.method === 'GET' && hit.url.startsWith('/batches?') ? { reset: true } : undefined));
    const r = await orch(ws, args, { timeoutMs: 120_000, env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ job: could not tell whether the Livy batch 'nightly-job-\S+-job-1' of try 1 exists at .* orch does not submit it again/);
    expect(db.tasks('batch_dag', runId).job).toEqual({ state: 'failed', tryNumber: 1 });
    expect(batchPosts()).toBe(1);
  });

  it('kills the batch of the try whose lookup failed before the retry submits its own: the two never run at once', async () => {
    // Reproduces the review of issue 7: the retry submitted a second batch while the first one ran on.
    writeBatchDag(`retries: 1, retryDelay: '100ms',`);
    const runId = await killAfterBatchAccepted();
    // The listing fails for every attempt of try 1's lookup, then answers again.
    proxy!.faults.push(oldLivy, nth('GET', /^\/batches\?/, { reset: true }, 4));
    const r = await orch(ws, args, { timeoutMs: 120_000, env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(db.tasks('batch_dag', runId).job).toEqual({ state: 'success', tryNumber: 2 });
    expect(db.logs('batch_dag', runId, 'job', 1).join('\n')).toMatch(/could not tell whether the Livy batch 'nightly-job-batch_dag-\S+-job-1' of try 1 exists/);
    const log = db.logs('batch_dag', runId, 'job', 2).join('\n');
    const [, first] = /deleted Livy batch (\d+) 'nightly-job-batch_dag-\S+-job-1', left running by try 1, before submitting this try's/.exec(log) ?? [];
    expect(first, log).toBeDefined();
    const order = proxy!.hits.map((h) => `${h.method} ${h.url}`);
    expect(order.filter((h) => h === 'POST /batches')).toHaveLength(2);
    expect(order.indexOf(`DELETE /batches/${first}`)).toBeLessThan(order.lastIndexOf('POST /batches'));
    expect(order.indexOf(`DELETE /batches/${first}`)).toBeGreaterThan(order.indexOf('POST /batches'));
  });
});
