/**
 * `orch run` killed (SIGKILL) in the windows the fault proxy can hold open: right after the
 * engine answered the session DELETE (the result was known, success not yet recorded), and
 * before the session existed. The same command then finishes the run in the same try,
 * without running the statement again. And a session POST whose answer is lost leaves no
 * orphan session behind.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, killAll, orch, spawnOrch, waitFor, PATIENCE_MS } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { SDK_OPERATORS, duckdb, engineByHand, killEngines, livySessions, parquet } from '../helpers/movielens.ts';
import { nth, startFaultProxy, type FaultProxy, type Hit } from '../integrations/livy/fault-proxy.ts';

let ws: Workspace;
let db: DbView;
let proxy: FaultProxy | undefined;
let engineUrl: string;
let out: string;

beforeEach(async () => {
  ws = workspace();
  db = new DbView(ws.db);
  out = join(ws.root, 'out');
  ws.writeDag(
    'crash_stmt',
    `${SDK_OPERATORS}
     const d = dag({ id: 'crash_stmt', params: z.object({ output: z.string() }) });
     const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'crash' }) });
     const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });
     const stmt = d.task({ id: 'stmt', upstream: [ready], retries: 1, retryDelay: '100ms', operator: livy.statement({
       cluster: create,
       output: '{{ params.output }}/answer',
       code: { duckdb: "COPY (SELECT 42 AS answer) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true)" },
     }) });
     d.task({ id: 'terminate_cluster', upstream: [stmt], operator: cluster.terminate({ cluster: create }) });
     export default d;`,
  );
  engineUrl = (await engineByHand(ws)).url;
  proxy = await startFaultProxy(engineUrl);
});

afterEach(async () => {
  await proxy?.close();
  await killAll();
  killEngines(ws.db);
  db.close();
  ws.cleanup();
});

const args = () => ['run', 'crash_stmt', '--backend', 'livy', '--conf', JSON.stringify({ output: out })];
const env = () => ({ ORCH_LIVY_URL: proxy!.url });
/** Requests the engine answered (the proxy forwarded them). */
const answered = (method: string, path: RegExp) => proxy!.hits.filter((h: Hit) => h.method === method && path.test(h.url.split('?')[0]!) && h.status !== undefined);
const STATEMENTS = /^\/sessions\/\d+\/statements$/;

/** Start `orch run`, SIGKILL it once `ready()` holds; returns the run id. */
async function killWhen(what: string, ready: () => boolean): Promise<string> {
  const victim = spawnOrch(ws, args(), env());
  await waitFor(what, ready, PATIENCE_MS, () => `stdout:\n${victim.stdout}\nstderr:\n${victim.stderr}`);
  victim.child.kill('SIGKILL');
  expect((await victim.waitForExit()).signal).toBe('SIGKILL');
  const run = db.runs('crash_stmt')[0]!;
  expect(db.tasks('crash_stmt', run.runId).stmt).toEqual({ state: 'running', tryNumber: 1 });
  proxy!.faults.length = 0;
  return run.runId;
}

async function finishRun(runId: string) {
  const r = await orch(ws, args(), { timeoutMs: 120_000, env: env() });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toContain(`resumed run ${runId}: success`);
  expect(db.tasks('crash_stmt', runId).stmt).toEqual({ state: 'success', tryNumber: 1 });
  expect(await duckdb(`SELECT answer FROM ${parquet(join(out, 'answer'))}`)).toEqual([{ answer: 42 }]);
  expect(await livySessions(engineUrl)).toMatchObject({ total: 0 });
  return db.logs('crash_stmt', runId, 'stmt', 1).join('\n');
}

describe('orch run killed around a statement', () => {
  it('does not run the statement again when killed right after the engine answered the session DELETE', async () => {
    // Reproduces issue 7 (9): the rerun logged "the Livy session of try 1 is gone" and ran the statement again.
    proxy!.faults.push(nth('DELETE', /^\/sessions\/\d+$/, { hangAfterForward: true }));
    const runId = await killWhen('the engine to answer the session DELETE', () => answered('DELETE', /^\/sessions\/\d+$/).length > 0);
    expect(answered('POST', STATEMENTS)).toHaveLength(1);

    const log = await finishRun(runId);
    expect(answered('POST', STATEMENTS)).toHaveLength(1);
    expect(log).toContain('had succeeded before orch restarted; completing from its recorded result, not running it again');
    expect(log).toContain(`published ${join(out, 'answer')}`);
    expect(log).not.toMatch(/is gone/);
  });

  it('runs the statement in the same try, without a retry, when killed before its session existed', async () => {
    // Reproduces issue 7 (9): a crash before the session was opened burned a retry and its delay.
    proxy!.faults.push(nth('POST', /^\/sessions$/, { hang: true }));
    const runId = await killWhen('orch to ask for a session', () => proxy!.count('POST', '/sessions') > 0);

    const log = await finishRun(runId);
    expect(log).toContain('try 1 had not opened a Livy session before orch restarted; starting it now');
    expect(answered('POST', /^\/sessions$/)).toHaveLength(1);
    expect(answered('POST', STATEMENTS)).toHaveLength(1);
  });
});

describe('a session POST whose answer is lost', () => {
  it('uses the session Livy created (found by its unique name) and leaves no orphan session', async () => {
    // Reproduces issue 7 (10): the handle was recorded only after the answer, so the session was orphaned.
    proxy!.faults.push(nth('POST', /^\/sessions$/, { resetAfterForward: true }));
    const r = await orch(ws, args(), { timeoutMs: 120_000, env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(db.tasks('crash_stmt').stmt).toEqual({ state: 'success', tryNumber: 1 });
    expect(answered('POST', /^\/sessions$/)).toHaveLength(1);
    expect(await livySessions(engineUrl)).toMatchObject({ total: 0 });
  });
});
