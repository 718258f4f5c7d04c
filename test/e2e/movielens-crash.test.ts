/**
 * The crash tests for the Livy pipeline: the process driving a run goes away while
 * transforms run on the embedded engine — SIGKILLed, drained by SIGTERM, or cut off from its
 * database — and the same command run again finishes that run: against the same engine
 * (which outlived the scheduler), following the statement that was still running, and
 * without submitting again the statements that had finished.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { DbView, killAll, orch, orchOk, spawnOrch, waitFor, type OrchProcess } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { engineAuthHeaders } from '../../src/operators/cluster/embedded.ts';
import { SAMPLE, SDK_OPERATORS, STATEMENTS, duckdb, enginePids, killEngines, listed, parquet, processRunning, queryDb, readCsv, xcomOf } from '../helpers/movielens.ts';

/** `count(*) … WHERE hash(range) % 7 < 7` over this many rows: several seconds of DuckDB on 2 cores, and the count is exact. */
const SLOW_ROWS = 1_000_000_000;

let ws: Workspace;
let db: DbView;
let out: string;
let conf: string;

beforeEach(() => {
  ws = workspace();
  db = new DbView(ws.db);
  out = join(ws.root, 'out');
  conf = JSON.stringify({ output: out });
  const slow = join(ws.root, 'slow.duckdb.sql');
  writeFileSync(slow, `COPY (SELECT count(*) AS n FROM range(${SLOW_ROWS}) WHERE hash(range) % 7 < 7) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true);\n`);
  ws.writeDag(
    'crash_movielens',
    `${SDK_OPERATORS}
     const d = dag({
       id: 'crash_movielens',
       maxActiveTasks: 3,
       params: z.object({ source: z.string().default(${JSON.stringify(SAMPLE)}), output: z.string() }),
     });
     const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'crash' }) });
     const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });
     const transform = (name: string, file: string) => d.task({
       id: 'transform_' + name,
       upstream: [ready],
       retries: 1,
       retryDelay: '100ms',
       operator: livy.statement({ cluster: create, output: '{{ params.output }}/' + name, code: { duckdb: codeFile(file) } }),
     });
     const transforms = [
       transform('movies', ${JSON.stringify(join(STATEMENTS, 'movies.duckdb.sql'))}),
       transform('links', ${JSON.stringify(join(STATEMENTS, 'links.duckdb.sql'))}),
       transform('slow', ${JSON.stringify(slow)}),
     ];
     d.task({ id: 'terminate_cluster', upstream: transforms, operator: cluster.terminate({ cluster: create }) });
     export default d;`,
  );
});

afterEach(async () => {
  await killAll();
  killEngines(ws.db);
  db.close();
  ws.cleanup();
});

const logOf = (runId: string, task: string, attempt = 1) => db.logs('crash_movielens', runId, task, attempt).join('\n');
const submissions = (runId: string, task: string) => queryDb(ws.db, `SELECT external_id FROM external_handle WHERE run_id = ? AND task_id = ? AND kind = 'livy-statement'`, runId, task).length;

/**
 * Wait until `proc` (an orch driving the run) has finished transform_movies and
 * transform_links while transform_slow's statement runs; return where that statement is.
 */
async function whileSlowTransformRuns(proc: OrchProcess) {
  const runId = await waitFor(
    'transform_movies and transform_links to succeed while transform_slow runs its statement',
    () => {
      const run = db.runs('crash_movielens')[0];
      const t = db.tasks('crash_movielens');
      if (!run || t.transform_movies?.state !== 'success' || t.transform_links?.state !== 'success' || t.transform_slow?.state !== 'running') return false;
      return /submitted statement \d+ to session \d+/.test(logOf(run.runId, 'transform_slow')) && run.runId;
    },
    60_000,
    () => `tasks: ${JSON.stringify(db.tasks('crash_movielens'))}\nstdout:\n${proc.stdout}\nstderr:\n${proc.stderr}`,
  );
  const { pid, livyUrl, tokenFile } = xcomOf<{ pid: number; livyUrl: string; tokenFile: string }>(ws.db, runId, 'create_cluster')!;
  const [, statementId, sessionId] = /submitted statement (\d+) to session (\d+)/.exec(logOf(runId, 'transform_slow'))!;
  return { runId, pid, engine: { url: livyUrl, tokenFile }, sessionId: Number(sessionId), statementId: Number(statementId) };
}

/** What a process that stopped driving the run mid-statement must leave: the engine up, the statement not cancelled, the try open. */
async function expectLeftForTheNextOwner(at: Awaited<ReturnType<typeof whileSlowTransformRuns>>) {
  expect(processRunning(at.pid)).toBe(true);
  expect(['waiting', 'running', 'available']).toContain(await statementState(at.engine, at.sessionId, at.statementId));
  expect(db.tasks('crash_movielens', at.runId)).toMatchObject({ transform_slow: { state: 'running', tryNumber: 1 }, terminate_cluster: { state: 'none' } });
}

/** Start `orch run` and SIGKILL it while transform_slow's statement runs; return what the dead process left. */
async function crashDuringSlowTransform() {
  const victim = spawnOrch(ws, ['run', 'crash_movielens', '--conf', conf]);
  const at = await whileSlowTransformRuns(victim);
  victim.child.kill('SIGKILL');
  expect((await victim.waitForExit()).signal).toBe('SIGKILL');
  await expectLeftForTheNextOwner(at);
  return at;
}

/** The rerun finished the run, following transform_slow's statement: one submission, no log line twice, the full output. */
async function expectFinishedWithoutResubmitting(runId: string) {
  expect(db.tasks('crash_movielens', runId).transform_slow).toEqual({ state: 'success', tryNumber: 1 });
  expect(submissions(runId, 'transform_slow')).toBe(1);
  const livyLines = db.logs('crash_movielens', runId, 'transform_slow', 1).filter((l) => /^(stdout|stderr|YARN Diagnostics): /.test(l));
  expect(new Set(livyLines).size).toBe(livyLines.length);
  expect(await duckdb(`SELECT n FROM ${parquet(join(out, 'slow'))}`)).toEqual([{ n: BigInt(SLOW_ROWS) }]);
  expect(listed(out)).toEqual(['links', 'movies', 'slow']);
}

/** The state of a statement, straight from the engine. */
/** A statement's state on the run's engine, asked with the engine's token as orch does. */
async function statementState(engine: { url: string; tokenFile: string }, sessionId: number, statementId: number): Promise<string> {
  const response = await fetch(`${engine.url}/sessions/${sessionId}/statements/${statementId}`, {
    headers: engineAuthHeaders({ tokenFile: engine.tokenFile }),
    signal: AbortSignal.timeout(10_000),
  });
  return ((await response.json()) as { state: string }).state;
}

describe('orch run killed with SIGKILL during the transforms', () => {
  it('is finished by the same command: same run, same engine, finished statements not submitted again', async () => {
    const { runId, pid, sessionId, statementId } = await crashDuringSlowTransform();

    const r = await orch(ws, ['run', 'crash_movielens', '--conf', conf], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`resumed run ${runId}: success`);
    expect(db.runs('crash_movielens')).toEqual([expect.objectContaining({ runId, state: 'success' })]);

    // Every task ran once: the killed try was resumed as the same try, nothing retried.
    expect(db.tasks('crash_movielens', runId)).toEqual(
      Object.fromEntries(
        ['create_cluster', 'wait_for_cluster', 'transform_movies', 'transform_links', 'transform_slow', 'terminate_cluster'].map((t) => [t, { state: 'success', tryNumber: 1 }]),
      ),
    );
    expect(queryDb(ws.db, `SELECT task_id, count(*) AS tries FROM task_try WHERE run_id = ? GROUP BY task_id HAVING tries > 1`, runId)).toEqual([]);

    // One engine for the whole run: created once, used by the resumed try, stopped at the end.
    expect(enginePids(ws.db)).toEqual([pid]);
    expect(readdirSync(join(ws.home, 'engines'))).toHaveLength(1);
    expect(processRunning(pid)).toBe(false);

    // Finished statements were not submitted again; the running one was followed, not resubmitted.
    for (const t of ['transform_movies', 'transform_links']) {
      expect(submissions(runId, t), t).toBe(1);
      expect(logOf(runId, t), t).not.toMatch(/resuming|reattached/);
    }
    expect(submissions(runId, 'transform_slow')).toBe(1);
    const slowLog = logOf(runId, 'transform_slow');
    expect(slowLog).toMatch(/died; resuming it in pid/);
    expect(slowLog).toContain(`reattached to Livy session ${sessionId}`);
    expect(slowLog).toMatch(new RegExp(`statement ${statementId} is still known to Livy \\((waiting|running|available)\\); following it instead of submitting again`));
    expect(slowLog.match(/submitted statement/g)).toHaveLength(1);
    // The Livy log continues where the dead process stopped reading it: no line twice.
    const livyLines = db.logs('crash_movielens', runId, 'transform_slow', 1).filter((l) => /^(stdout|stderr|YARN Diagnostics): /.test(l));
    expect(livyLines.length).toBeGreaterThan(0);
    expect(new Set(livyLines).size).toBe(livyLines.length);
    expect(xcomOf(ws.db, runId, 'transform_slow')).toMatchObject({ sessionId, statementId });

    // The outputs are complete, including the one whose statement ran across the crash.
    expect(listed(out)).toEqual(['links', 'movies', 'slow']);
    expect(await duckdb(`SELECT n FROM ${parquet(join(out, 'slow'))}`)).toEqual([{ n: BigInt(SLOW_ROWS) }]);
    for (const d of ['movies', 'links']) {
      const [{ n }] = (await duckdb(`SELECT count(*) AS n FROM ${parquet(join(out, d))}`)) as [{ n: bigint }];
      expect(Number(n), d).toBe(readCsv(SAMPLE, d).rows.length);
    }
  });

  it('publishes the output of a statement that finished while no orch was running', async () => {
    const { runId, engine, sessionId, statementId } = await crashDuringSlowTransform();
    const deadline = Date.now() + 120_000;
    let state: string;
    while (['waiting', 'running'].includes((state = await statementState(engine, sessionId, statementId)))) {
      if (Date.now() > deadline) throw new Error(`statement ${statementId} of session ${sessionId} did not finish within 120 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(state).toBe('available');

    const r = await orch(ws, ['run', 'crash_movielens', '--conf', conf], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`resumed run ${runId}: success`);
    expect(db.tasks('crash_movielens', runId).transform_slow).toEqual({ state: 'success', tryNumber: 1 });
    expect(logOf(runId, 'transform_slow')).toContain(`statement ${statementId} is still known to Livy (available); following it instead of submitting again`);
    expect(submissions(runId, 'transform_slow')).toBe(1);
    expect(await duckdb(`SELECT n FROM ${parquet(join(out, 'slow'))}`)).toEqual([{ n: BigInt(SLOW_ROWS) }]);
    expect(listed(out)).toEqual(['links', 'movies', 'slow']);
  });
});

describe('orch scheduler drained (SIGTERM) during the transforms', () => {
  it('leaves the running statement running on the engine; the next orch run follows it, submitting nothing again', async () => {
    await orchOk(ws, ['trigger', 'crash_movielens', '--conf', conf]);
    const scheduler = spawnOrch(ws, ['scheduler']);
    const at = await whileSlowTransformRuns(scheduler);
    scheduler.child.kill('SIGTERM');
    const { code } = await scheduler.waitForExit();
    expect(code, scheduler.stderr).toBe(0);
    await expectLeftForTheNextOwner(at);
    expect(logOf(at.runId, 'transform_slow')).toContain('try 1 detached: its work goes on, and the next orch process to own this run follows it');
    expect(logOf(at.runId, 'transform_slow')).not.toMatch(/cancelled statement|deleted Livy session/);

    const r = await orch(ws, ['run', 'crash_movielens', '--conf', conf], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`resumed run ${at.runId}: success`);
    await expectFinishedWithoutResubmitting(at.runId);
    expect(processRunning(at.pid)).toBe(false);
  });
});

describe('orch run whose database stops taking writes during the transforms', () => {
  it('exits 1 naming the file and the cause, leaves the engine and the statement for the next run, which finishes without resubmitting', async () => {
    const run = spawnOrch(ws, ['run', 'crash_movielens', '--conf', conf]);
    const at = await whileSlowTransformRuns(run);
    // A full disk: every write past the first byte of any file fails (EFBIG → SQLite's disk I/O error).
    execFileSync('prlimit', ['--pid', String(run.child.pid), '--fsize=1']);
    const { code } = await run.waitForExit();
    expect(code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error ORCH_DB_UNWRITABLE: cannot write the orch database ${ws.db}: disk I/O error`);
    await expectLeftForTheNextOwner(at);

    const r = await orch(ws, ['run', 'crash_movielens', '--conf', conf], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`resumed run ${at.runId}: success`);
    await expectFinishedWithoutResubmitting(at.runId);
    expect(enginePids(ws.db)).toEqual([at.pid]);
    expect(processRunning(at.pid)).toBe(false);
  });
});
