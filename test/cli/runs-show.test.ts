/** `orch runs show`: a run and its tasks as a user reads them, as text and as JSON. */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, json, orch, orchOk } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { SDK_OPERATORS, killEngines } from '../helpers/movielens.ts';

let ws: Workspace;
let db: DbView;

beforeEach(() => {
  ws = workspace();
  db = new DbView(ws.db);
  writeFileSync(join(ws.root, 'orch.config.json'), JSON.stringify({ pools: { slow: 2 } }));
  ws.writeDag(
    'shown',
    `const d = dag({ id: 'shown', params: z.object({ size: z.number().default(1) }) });
     const extract = d.task({ id: 'extract', run: (ctx) => ctx.params.size });
     const flaky = d.task({ id: 'flaky', upstream: [extract], retries: 1, retryDelay: 10, run: (ctx) => {
       if (ctx.tryNumber === 1) throw new Error('first try fails on purpose');
       return 'ok';
     } });
     d.task({ id: 'load', upstream: [flaky], pool: 'slow', run: () => 'loaded' });
     export default d;`,
  );
});

afterEach(() => {
  killEngines(ws.db);
  db.close();
  ws.cleanup();
});

const runIdOf = (stdout: string) => /^run (\S+): (?:success|failed)/m.exec(stdout)![1]!;

interface ShowJson {
  run: Record<string, any>;
  tasks: {
    taskId: string;
    state: string;
    tryNumber: number;
    startDate: string;
    endDate: string;
    durationMs: number;
    pool: string;
    error: string | null;
    handles: { kind: string; id: string; tryNumber: number }[];
    tries: { tryNumber: number; state: string; error: string | null }[];
  }[];
}

describe('orch runs show', () => {
  it('shows the run (state, type, trigger, conf, times) and a row per task with state, try, times, duration and pool', async () => {
    const runId = runIdOf((await orchOk(ws, ['run', 'shown', '--conf', '{"size": 3}'])).stdout);
    const out = (await orchOk(ws, ['runs', 'show', 'shown', runId])).stdout;
    expect(out.split('\n')[0]).toBe(`shown ${runId}`);
    expect(out).toMatch(/^ {2}state +success$/m);
    expect(out).toMatch(/^ {2}type +manual, triggered by cli$/m);
    expect(out).toMatch(/^ {2}conf +\{"size":3\}$/m);
    expect(out).toMatch(/^ {2}started +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
    expect(out).toMatch(/^ {2}duration +\d+\.\ds$/m);
    expect(out).toMatch(/^TASK +STATE +TRY +START +END +DURATION +POOL +EXTERNAL$/m);
    const time = String.raw`\d\d:\d\d:\d\d`;
    expect(out).toMatch(new RegExp(`^extract +success +1/1 +${time} +${time} +\\d+\\.\\ds +default_pool$`, 'm'));
    expect(out).toMatch(new RegExp(`^flaky +success +2/2 +${time} +${time} +\\d+\\.\\ds +default_pool$`, 'm'));
    expect(out).toMatch(new RegExp(`^load +success +1/1 +${time} +${time} +\\d+\\.\\ds +slow$`, 'm'));
    expect(out).not.toMatch(/errors:/);
  });

  it('prints { run, tasks } with --json, each task with its tries, duration and pool', async () => {
    const runId = runIdOf((await orchOk(ws, ['run', 'shown', '--conf', '{"size": 3}'])).stdout);
    const { run, tasks } = json<ShowJson>(await orchOk(ws, ['runs', 'show', 'shown', runId, '--json']));
    expect(run).toMatchObject({ dagId: 'shown', runId, state: 'success', runType: 'manual', triggeredBy: 'cli', conf: { size: 3 }, note: null, owner: null });
    expect(run.durationMs).toBe(Date.parse(run.endDate) - Date.parse(run.startDate));
    expect(tasks.map((t) => [t.taskId, t.state, t.tryNumber, t.pool])).toEqual([
      ['extract', 'success', 1, 'default_pool'],
      ['flaky', 'success', 2, 'default_pool'],
      ['load', 'success', 1, 'slow'],
    ]);
    for (const t of tasks) expect(t.durationMs, t.taskId).toBe(Date.parse(t.endDate) - Date.parse(t.startDate));
    const flaky = tasks.find((t) => t.taskId === 'flaky')!;
    expect(flaky.tries.map((t) => [t.tryNumber, t.state])).toEqual([
      [1, 'failed'],
      [2, 'success'],
    ]);
    expect(flaky.tries[0]!.error).toContain('first try fails on purpose');
    expect(flaky.error).toBeNull();
  });

  it("shows the Livy session and statement of a statement task, the batch id of a batch task and the run's engine", async () => {
    const sql = join(ws.root, 'job.sql');
    writeFileSync(sql, 'SELECT 42 AS answer;\n');
    ws.writeDag(
      'livy_ids',
      `${SDK_OPERATORS}
       const d = dag({ id: 'livy_ids' });
       const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'ids' }) });
       const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });
       const query = d.task({ id: 'query', upstream: [ready], operator: livy.statement({ cluster: create, code: { duckdb: 'SELECT 42 AS answer' } }) });
       const job = d.task({ id: 'job', upstream: [ready], operator: livy.batch({ cluster: create, file: ${JSON.stringify(sql)} }) });
       d.task({ id: 'terminate_cluster', upstream: [query, job], operator: cluster.terminate({ cluster: create }) });
       export default d;`,
    );
    const r = await orch(ws, ['run', 'livy_ids']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const runId = runIdOf(r.stdout);
    // What the operators logged when they opened each thing is what the table must show.
    const [, statement, session] = /submitted statement (\d+) to session (\d+)/.exec(db.logs('livy_ids', runId, 'query', 1).join('\n'))!;
    const [, batch] = /submitted batch (\d+)/.exec(db.logs('livy_ids', runId, 'job', 1).join('\n'))!;
    const [, pid] = /started orch engine \(pid (\d+)\)/.exec(db.logs('livy_ids', runId, 'create_cluster', 1).join('\n'))!;

    const out = (await orchOk(ws, ['runs', 'show', 'livy_ids', runId])).stdout;
    expect(out).toMatch(new RegExp(`^query +success .* default_pool +session ${session}, statement ${statement}$`, 'm'));
    expect(out).toMatch(new RegExp(`^job +success .* default_pool +batch ${batch}$`, 'm'));
    expect(out).toMatch(new RegExp(`^create_cluster +success .* default_pool +engine pid ${pid}$`, 'm'));
    expect(out).toMatch(/^wait_for_cluster +success .* default_pool$/m);

    const { tasks } = json<ShowJson>(await orchOk(ws, ['runs', 'show', 'livy_ids', runId, '--json']));
    const handles = (id: string) => tasks.find((t) => t.taskId === id)!.handles.map((h) => [h.kind, h.id, h.tryNumber]);
    expect(handles('query')).toEqual([
      ['livy-session', session, 1],
      ['livy-statement', `${session}/${statement}`, 1],
    ]);
    expect(handles('job')).toEqual([['livy-batch', batch, 1]]);
    expect(handles('create_cluster')).toEqual([['cluster', expect.stringContaining('ids-'), 1]]);
  });

  it('exits 2 with ORCH_DAG_NOT_FOUND for an unknown DAG and ORCH_RUN_NOT_FOUND for an unknown run', async () => {
    const dag = await orch(ws, ['runs', 'show', 'shwon', 'manual__x']);
    expect(dag.code).toBe(2);
    expect(dag.stderr).toMatch(/^error ORCH_DAG_NOT_FOUND: DAG 'shwon' not found\. Did you mean 'shown'\?/m);
    const run = await orch(ws, ['runs', 'show', 'shown', 'manual__x', '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error ORCH_RUN_NOT_FOUND: DAG 'shown' has no run 'manual__x'\. See: orch runs list --dag shown$/m);
    expect(run.stdout).toBe('');
  });

  it('still shows the runs of a DAG whose file was removed', async () => {
    const runId = runIdOf((await orchOk(ws, ['run', 'shown'])).stdout);
    rmSync(join(ws.dags, 'shown.ts'));
    expect((await orchOk(ws, ['runs', 'show', 'shown', runId])).stdout).toMatch(/^ {2}state +success$/m);
    expect((await orchOk(ws, ['runs', 'list', '--dag', 'shown'])).stdout).toContain(runId);
  });
});
