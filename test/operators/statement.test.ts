/**
 * livy.statement against a real engine process, as a user meets it through `orch run`:
 * templates rendered (or refused) before anything reaches the cluster, a missing input
 * named, an executionTimeout that cancels the statement and deletes the session, and a
 * task with no code the backend can run.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, killAll, orch, spawnOrch, waitFor, type CliResult } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { SDK_OPERATORS, STATEMENTS, engineByHand, killEngines, livySessions, processRunning, queryDb, xcomOf } from '../helpers/movielens.ts';

let ws: Workspace;
let db: DbView;

beforeEach(() => {
  ws = workspace();
  db = new DbView(ws.db);
});

afterEach(async () => {
  await killAll();
  killEngines(ws.db);
  db.close();
  ws.cleanup();
});

/**
 * A DAG `stmt_dag`: create_cluster → wait_for_cluster → stmt → terminate_cluster, where
 * `stmt` is a livy.statement with `options` (TypeScript source: code, output, …).
 */
function writeStatementDag(options: string, taskArgs = 'retries: 0,'): void {
  ws.writeDag(
    'stmt_dag',
    `${SDK_OPERATORS}
     const d = dag({ id: 'stmt_dag', params: z.object({ label: z.string().default('weekly'), source: z.string().default('.') }) });
     const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'stmt' }) });
     const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });
     const stmt = d.task({ id: 'stmt', upstream: [ready], ${taskArgs} operator: livy.statement({ cluster: create, ${options} }) });
     d.task({ id: 'terminate_cluster', upstream: [stmt], operator: cluster.terminate({ cluster: create }) });
     export default d;`,
  );
}

/** `orch run stmt_dag --backend livy` against `url`; returns the result and the run id. */
async function runOnLivy(url: string, conf: Record<string, unknown> = {}): Promise<{ r: CliResult; runId: string }> {
  const r = await orch(ws, ['run', 'stmt_dag', '--backend', 'livy', '--conf', JSON.stringify(conf)], { env: { ORCH_LIVY_URL: url } });
  const runId = /^run (\S+): (?:success|failed)$/m.exec(r.stdout)?.[1];
  if (!runId) throw new Error(`no summary line\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return { r, runId };
}

const stmtLog = (runId: string) => db.logs('stmt_dag', runId, 'stmt', 1).join('\n');

/** The next session the engine opens gets id 0 only if none was ever opened on it. */
async function nextSessionId(url: string): Promise<number> {
  const response = await fetch(`${url}/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-requested-by': 'test' },
    body: JSON.stringify({ kind: 'sql' }),
    signal: AbortSignal.timeout(10_000),
  });
  return ((await response.json()) as { id: number }).id;
}

describe('livy.statement templates', () => {
  it('renders params, run facts and XComs into the code, and keeps the rendered code with the try', async () => {
    writeStatementDag(`code: { duckdb: "SELECT '{{ params.label }}' AS label, '{{ run_id }}' AS run, '{{ ds }}' AS ds, '{{ xcom.create_cluster.backend }}' AS backend" }`);
    const engine = await engineByHand(ws);
    const { r, runId } = await runOnLivy(engine.url, { label: 'monthly' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ds = runId.replace(/^manual__/, '').slice(0, 10);
    const rendered = `SELECT 'monthly' AS label, '${runId}' AS run, '${ds}' AS ds, 'livy' AS backend`;
    expect(xcomOf(ws.db, runId, 'stmt')).toMatchObject({ output: { data: [['monthly', runId, ds, 'livy']] } });
    expect(queryDb(ws.db, `SELECT source, message FROM task_log WHERE run_id = ? AND task_id = 'stmt' AND source = 'code'`, runId)).toEqual([
      { source: 'code', message: rendered },
    ]);
  });

  it('fails the task on an unknown variable before anything is submitted, naming the file, line and variable', async () => {
    const file = join(ws.root, 'report.duckdb.sql');
    writeFileSync(file, `-- a report\nSELECT '{{ params.label }}' AS label,\n       '{{ params.nope }}' AS nope;\n`);
    writeStatementDag(`code: { duckdb: codeFile(${JSON.stringify(file)}) }`);
    const engine = await engineByHand(ws);
    const { r, runId } = await runOnLivy(engine.url);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✗ stmt: ${file}, line 3: {{ params.nope }}: unknown variable; known here: params.label, params.source`);
    expect(db.tasks('stmt_dag', runId)).toMatchObject({ stmt: { state: 'failed', tryNumber: 1 }, terminate_cluster: { state: 'success' } });
    // Nothing reached the engine: no session recorded, none opened on it ever.
    expect(stmtLog(runId)).not.toMatch(/Livy session|submitted/);
    expect(queryDb(ws.db, `SELECT * FROM external_handle WHERE kind LIKE 'livy-%'`)).toEqual([]);
    expect(await nextSessionId(engine.url)).toBe(0);
  });
});

describe('livy.statement failures', () => {
  it('fails a task whose input file is missing with a message naming the path, publishing nothing, without a retry', async () => {
    // Reproduces issue 7 (14): DuckDB's "No files found" was retried, though no retry can find the file.
    const source = join(ws.root, 'empty-download');
    const out = join(ws.root, 'out');
    mkdirSync(source);
    mkdirSync(out);
    writeStatementDag(`output: ${JSON.stringify(out)} + '/ratings', code: { duckdb: codeFile(${JSON.stringify(join(STATEMENTS, 'ratings.duckdb.sql'))}) }`, `retries: 1, retryDelay: '10s',`);
    const engine = await engineByHand(ws);
    const { r, runId } = await runOnLivy(engine.url, { source });
    expect(r.code).toBe(1);
    const error = /^ {2}✗ stmt: (.*)$/m.exec(r.stdout)?.[1];
    expect(error, r.stdout).toContain(`task 'stmt': input ${join(source, 'ratings.csv')} does not exist`);
    expect(db.tasks('stmt_dag', runId).stmt).toEqual({ state: 'failed', tryNumber: 1 });
    expect(readdirSync(out)).toEqual([]);
    expect(await livySessions(engine.url)).toMatchObject({ total: 0 });
  });

  it("refuses s3:// input on the embedded backend with orch's own one-line message, before anything is submitted, without a retry", async () => {
    // Reproduces issue 7 (14): the engine answered with DuckDB's `INSTALL httpfs` text, twice.
    writeStatementDag(`code: { duckdb: "SELECT count(*) FROM read_csv('{{ params.source }}/ratings.csv')" }`, `retries: 1, retryDelay: '10s',`);
    const r = await orch(ws, ['run', 'stmt_dag', '--conf', JSON.stringify({ source: 's3://movielens/ml-25m' })]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "✗ stmt: task 'stmt': s3://movielens/ml-25m/ratings.csv is not on this machine, and the embedded backend reads only local files; run with --backend livy (or emr) for s3:// data, or copy it here\n",
    );
    expect(r.stdout).not.toMatch(/httpfs/);
    const runId = db.runs('stmt_dag')[0]!.runId;
    expect(db.tasks('stmt_dag', runId).stmt).toEqual({ state: 'failed', tryNumber: 1 });
    expect(stmtLog(runId)).not.toMatch(/Livy session|submitted/);
  });

  it('cancels the statement and deletes the session when executionTimeout expires', async () => {
    writeStatementDag(`code: { duckdb: 'SELECT count(*) FROM range(100000000000) WHERE hash(range) % 7 < 7' }`, `retries: 0, executionTimeout: '4s',`);
    const engine = await engineByHand(ws);
    const { r, runId } = await runOnLivy(engine.url);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✗ stmt: task 'stmt' exceeded its executionTimeout of 4000 ms");
    const log = stmtLog(runId);
    const [, statementId, sessionId] = /submitted statement (\d+) to session (\d+)/.exec(log) ?? [];
    expect(statementId, log).toBeDefined();
    expect(log).toContain(`cancelled statement ${statementId}`);
    expect(log).toContain(`deleted Livy session ${sessionId}`);
    expect(await livySessions(engine.url)).toMatchObject({ total: 0, sessions: [] });
    expect(queryDb(ws.db, `SELECT kind FROM external_handle WHERE kind LIKE 'livy-%' AND released_at IS NULL`)).toEqual([]);
  });

  it('fails a task with only a spark variant on the embedded backend, naming the dialects the backend runs', async () => {
    writeStatementDag(`code: { spark: 'spark.range(10).count()' }`);
    const r = await orch(ws, ['run', 'stmt_dag']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✗ stmt: task 'stmt' has code for spark, but the embedded backend runs duckdb; add code.duckdb or choose another backend`);
    const runId = db.runs('stmt_dag')[0]!.runId;
    expect(db.tasks('stmt_dag', runId)).toMatchObject({ create_cluster: { state: 'success' }, stmt: { state: 'failed' }, terminate_cluster: { state: 'success' } });
    expect(stmtLog(runId)).not.toMatch(/Livy session/);
    const { pid } = xcomOf<{ pid: number }>(ws.db, runId, 'create_cluster')!;
    expect(processRunning(pid)).toBe(false);
  });
});

describe('livy.statement when the engine dies under it', () => {
  it('fails this task and the next one needing the cluster at once, with the engine\'s fate, spending no retry', async () => {
    // Reproduces issue 7 (14): a dead engine cost a 10 s retry that could not succeed ("no longer running").
    const slow = `code: { duckdb: 'SELECT count(*) FROM range(100000000000) WHERE hash(range) % 7 < 7' }`;
    ws.writeDag(
      'gone_dag',
      `${SDK_OPERATORS}
       const d = dag({ id: 'gone_dag', maxActiveTasks: 1 });
       const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'gone' }) });
       const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });
       const first = d.task({ id: 'first', upstream: [ready], retries: 1, retryDelay: '10s', operator: livy.statement({ cluster: create, ${slow} }) });
       const second = d.task({ id: 'second', upstream: [ready], retries: 1, retryDelay: '10s', operator: livy.statement({ cluster: create, ${slow} }) });
       d.task({ id: 'terminate_cluster', upstream: [first, second], operator: cluster.terminate({ cluster: create }) });
       export default d;`,
    );
    const run = spawnOrch(ws, ['run', 'gone_dag']);
    const { runId, pid } = await waitFor('a statement to run on the engine', () => {
      const id = db.runs('gone_dag')[0]?.runId;
      const running = !!id && ['first', 'second'].some((t) => /submitted statement/.test(db.logs('gone_dag', id, t, 1).join('\n')));
      return running && { runId: id!, pid: xcomOf<{ pid: number }>(ws.db, id!, 'create_cluster')!.pid };
    }, 60_000, () => run.stdout + run.stderr);
    process.kill(pid, 'SIGKILL');
    const { code } = await run.waitForExit();
    expect(code, run.stdout + run.stderr).toBe(1);
    for (const task of ['first', 'second']) {
      const summary = new RegExp(`^  ✗ ${task}: (.*)$`, 'm').exec(run.stdout)?.[1];
      expect(summary, run.stdout).toContain(`task '${task}' needs the cluster`);
      expect(summary).toContain(`no longer running (engine pid ${pid} exited; last lines of its log: `);
    }
    expect(db.tasks('gone_dag', runId)).toMatchObject({ first: { state: 'failed', tryNumber: 1 }, second: { state: 'failed', tryNumber: 1 } });
  });
});
