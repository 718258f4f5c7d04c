/**
 * livy.statement's resume, called directly as the scheduler calls it, against a real engine:
 * a detached try is followed by the next owner without a second submission or a log line
 * twice; a try whose result was recorded completes from the record without touching Livy;
 * a try that died before opening its session simply starts; a lookup that fails leaves the
 * session and its statement alone, and the task's next try deletes them before it starts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskDetachedError } from '../../src/errors.ts';
import { statementOperator } from '../../src/operators/livy/statement.ts';
import { waitFor } from '../helpers/cli.ts';
import { duckdb, listed, parquet } from '../helpers/movielens.ts';
import { bench, onEngine, type Bench } from './support.ts';

/** Seconds of DuckDB on 2 cores; the count is exact, so the output proves it ran to the end. */
const SLOW_ROWS = 1_000_000_000;
const SLOW = `COPY (SELECT count(*) AS n FROM range(${SLOW_ROWS}) WHERE hash(range) % 7 < 7) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true)`;
const SLOW_SELECT = `SELECT count(*) AS n FROM range(${SLOW_ROWS}) WHERE hash(range) % 7 < 7`;
const QUICK = `COPY (SELECT 42 AS answer) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true)`;

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const statementPosts = (b: Bench) => b.proxy.count('POST', /^\/sessions\/\d+\/statements$/);
const sessionPosts = (b: Bench) => b.proxy.count('POST', '/sessions');
const livyLines = (lines: string[]) => lines.filter((l) => /^(stdout|stderr|YARN Diagnostics): /.test(l));
const openHandles = (b: Bench) =>
  b.store.db.prepare(`SELECT kind FROM external_handle WHERE kind LIKE 'livy-%' AND released_at IS NULL ORDER BY kind`).all() as { kind: string }[];

describe('a detached try (drain, lost lease, unwritable database)', () => {
  it('leaves its statement running and its session open; the next owner resumes it without submitting again or logging a line twice', async () => {
    b = await bench(['stmt']);
    const op = statementOperator(b.backends);
    const out = join(b.ws.root, 'out', 'slow');
    const options = { cluster: 'create_cluster', output: out, code: { duckdb: SLOW } };

    const owner = new AbortController();
    const first = op.execute(b.context('stmt', { signal: owner.signal }), options).then(() => 'finished', (err: unknown) => err);
    const [, statementId, sessionId] = await waitFor('the statement to be submitted', () => /submitted statement (\d+) to session (\d+)/.exec(b!.logs('stmt').join('\n')));
    owner.abort(new TaskDetachedError('stmt', 'orch is shutting down'));
    expect(await first).not.toBe('finished');

    // Nothing was cancelled or deleted: the engine still has the session and the statement, orch still has the handles.
    expect(b.proxy.count('DELETE', `/sessions/${sessionId}`)).toBe(0);
    expect(b.proxy.count('POST', /\/cancel$/)).toBe(0);
    const session = await onEngine(b, `/sessions/${sessionId}`);
    expect(session.status).toBe(200);
    expect(['idle', 'busy']).toContain(session.body.state);
    expect(['running', 'waiting', 'available']).toContain((await onEngine(b, `/sessions/${sessionId}/statements/${statementId}`)).body.state);
    expect(openHandles(b)).toEqual([{ kind: 'livy-session' }, { kind: 'livy-statement' }]);
    expect(b.logs('stmt').join('\n')).toContain(`detached: Livy session ${sessionId} and its statement keep running`);

    // The next owner: a fresh context over the same database, the same try.
    const result = await op.resume!(b.context('stmt', { fresh: true }), options);
    expect(result).toMatchObject({ sessionId: Number(sessionId), statementId: Number(statementId), outputDir: out });
    expect(statementPosts(b)).toBe(1);
    expect(sessionPosts(b)).toBe(1);
    expect(b.logs('stmt').join('\n')).toContain(`statement ${statementId} is still known to Livy`);
    const lines = livyLines(b.logs('stmt'));
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines).size).toBe(lines.length);
    expect(await duckdb(`SELECT n FROM ${parquet(out)}`)).toEqual([{ n: BigInt(SLOW_ROWS) }]);
    expect((await onEngine(b, '/sessions')).body.total).toBe(0);
    expect(openHandles(b)).toEqual([]);
  });
});

describe('a try whose database fails as its statement succeeds', () => {
  it('leaves the finished statement and its session for the resume, which completes it without running it again', async () => {
    b = await bench(['stmt']);
    const op = statementOperator(b.backends);
    const out = join(b.ws.root, 'out', 'answer');
    const options = { cluster: 'create_cluster', output: out, code: { duckdb: QUICK } };
    const ctx = b.context('stmt');
    // The disk fills just as the result is to be recorded.
    const record = ctx.handles.record.bind(ctx.handles);
    (ctx.handles as { record: typeof record }).record = (h) => {
      if (h.data?.result !== undefined) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
      record(h);
    };
    await expect(op.execute(ctx, options)).rejects.toThrow('disk I/O error');
    const [, statementId, sessionId] = /submitted statement (\d+) to session (\d+)/.exec(b.logs('stmt').join('\n'))!;
    expect(b.proxy.count('DELETE', `/sessions/${sessionId}`)).toBe(0);
    expect((await onEngine(b, `/sessions/${sessionId}/statements/${statementId}`)).body.state).toBe('available');
    expect(openHandles(b)).toEqual([{ kind: 'livy-session' }, { kind: 'livy-statement' }]);

    const result = await op.resume!(b.context('stmt', { fresh: true }), options);
    expect(result).toMatchObject({ sessionId: Number(sessionId), statementId: Number(statementId), outputDir: out });
    expect(statementPosts(b)).toBe(1);
    expect(await duckdb(`SELECT answer FROM ${parquet(out)}`)).toEqual([{ answer: 42 }]);
    expect(openHandles(b)).toEqual([]);
  });
});

describe('resuming a try whose statement had succeeded', () => {
  it('completes from the recorded result without touching Livy when the process died after the swap, before success was recorded', async () => {
    b = await bench(['stmt']);
    const op = statementOperator(b.backends);
    const out = join(b.ws.root, 'out', 'answer');
    const options = { cluster: 'create_cluster', output: out, code: { duckdb: QUICK } };
    // The first process ran everything an operator does — and died before the scheduler recorded success.
    const first = await op.execute(b.context('stmt'), options);
    const seen = b.proxy.hits.length;

    const again = await op.resume!(b.context('stmt', { fresh: true }), options);
    expect(again).toEqual(first);
    expect(b.proxy.hits.length).toBe(seen);
    const log = b.logs('stmt').join('\n');
    expect(log).toContain('had succeeded before orch restarted; completing from its recorded result, not running it again');
    expect(log).toContain(`${out} was already published before orch restarted`);
    expect(log).not.toMatch(/wrote nothing/);
    expect(await duckdb(`SELECT answer FROM ${parquet(out)}`)).toEqual([{ answer: 42 }]);
    expect(listed(join(b.ws.root, 'out'))).toEqual(['answer']);
  });
});

describe('resuming a try that had not opened its session yet', () => {
  it('opens the session and runs the statement in the same try, without failing it', async () => {
    b = await bench(['stmt']);
    const op = statementOperator(b.backends);
    const out = join(b.ws.root, 'out', 'answer');
    const result = await op.resume!(b.context('stmt'), { cluster: 'create_cluster', output: out, code: { duckdb: QUICK } });
    expect(result).toMatchObject({ outputDir: out });
    expect(b.logs('stmt').join('\n')).toContain('try 1 had not opened a Livy session before orch restarted; starting it now');
    expect(sessionPosts(b)).toBe(1);
    expect(statementPosts(b)).toBe(1);
    expect(existsSync(out)).toBe(true);
    expect(openHandles(b)).toEqual([]);
  });
});

describe('a resume that cannot look its statement up (Livy does not answer the statement list)', () => {
  it("fails the try but leaves the session and the previous owner's running statement alone; the next try deletes them before opening its own", async () => {
    // Reproduces the review of issue 7: the failed lookup's cleanup deleted the session under the running statement.
    // The livy backend: handles carry no engine pid, so what is deleted is decided by name alone.
    b = await bench(['stmt'], { backend: 'livy' });
    const op = statementOperator(b.backends);
    const owner = new AbortController();
    const first = op.execute(b.context('stmt', { signal: owner.signal }), { cluster: 'create_cluster', code: { duckdb: SLOW_SELECT } }).then(() => 'finished', (err: unknown) => err);
    const [, statementId, sessionId] = await waitFor('the statement to be submitted', () => /submitted statement (\d+) to session (\d+)/.exec(b!.logs('stmt').join('\n')));
    owner.abort(new TaskDetachedError('stmt', 'orch is shutting down'));
    expect(await first).not.toBe('finished');

    b.proxy.faults.push((hit) => (hit.method === 'GET' && hit.url.split('?')[0] === `/sessions/${sessionId}/statements` ? { reset: true } : undefined));
    const error = await op.resume!(b.context('stmt', { fresh: true }), { cluster: 'create_cluster', code: { duckdb: SLOW_SELECT } }).then(() => undefined, (err: unknown) => err);
    b.proxy.faults.length = 0;
    expect(error).toMatchObject({ code: 'ORCH_LIVY_LOOKUP_FAILED', retryable: true });
    expect((error as Error).message).toMatch(/^could not tell whether the statement of try 1 runs in the Livy session 'orch-op_dag-manual__op-stmt-1' at http:\S+ \(cannot reach Livy/);
    expect(b.proxy.count('DELETE', `/sessions/${sessionId}`)).toBe(0);
    expect(b.proxy.count('POST', /\/cancel$/)).toBe(0);
    expect((await onEngine(b, `/sessions/${sessionId}/statements/${statementId}`)).body.state).toBe('running');
    expect(openHandles(b)).toEqual([{ kind: 'livy-session' }, { kind: 'livy-statement' }]);

    // The task's next try: the session of try 1 goes before try 2 opens its own.
    const result = await op.execute(b.context('stmt', { tryNumber: 2 }), { cluster: 'create_cluster', code: { duckdb: 'SELECT 42 AS answer' } });
    expect(result).toMatchObject({ output: { data: [[42]] } });
    expect(b.logs('stmt', 2).join('\n')).toContain(`deleted Livy session ${sessionId} 'orch-op_dag-manual__op-stmt-1', left running by try 1, before submitting this try's`);
    const order = b.proxy.hits.map((h) => `${h.method} ${h.url}`);
    expect(order.indexOf(`DELETE /sessions/${sessionId}`)).toBeGreaterThan(-1);
    expect(order.indexOf(`DELETE /sessions/${sessionId}`)).toBeLessThan(order.lastIndexOf('POST /sessions'));
    expect((await onEngine(b, `/sessions/${sessionId}`)).status).toBe(404);
    expect(openHandles(b)).toEqual([{ kind: 'livy-statement' }]);
  });
});
