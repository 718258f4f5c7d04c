/**
 * The engine's `/sessions/{id}/statements` routes, over raw HTTP, against docs/livy-api.md
 * ("Statements"): states, output shapes, ordering, cancel, and the 100-statement window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDLESS_SQL, engineForTest, http, idleSession, runStatement, until } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let url: string;
let sid: number;

beforeAll(async () => {
  engine = await engineForTest();
  url = engine.url;
  sid = await idleSession(url);
});
afterAll(async () => engine.close());

describe('submitting a statement', () => {
  it('answers 201 with Location /sessions/{id}/statements/{sid} and the statement JSON', async () => {
    const r = await http(url, 'POST', `/sessions/${sid}/statements`, { body: { code: 'SELECT 1' } });
    expect(r.status).toBe(201);
    expect(r.headers.location).toBe(`/sessions/${sid}/statements/${r.json.id}`);
    expect(Object.keys(r.json).sort()).toEqual(['code', 'completed', 'id', 'output', 'progress', 'started', 'state']);
    expect(['waiting', 'running', 'available']).toContain(r.json.state);
    await runStatement(url, sid, 'SELECT 1');
  });

  it('ends available with an ok output: a text/plain table and application/json {schema, data}', async () => {
    const st = await runStatement(url, sid, "SELECT 42 AS answer, 'x' AS label, 2.5::DOUBLE AS ratio");
    expect(st.state).toBe('available');
    expect(st.progress).toBe(1);
    expect(st.started).toBeGreaterThan(0);
    expect(st.completed).toBeGreaterThanOrEqual(st.started);
    expect(st.output.status).toBe('ok');
    expect(st.output.execution_count).toBe(st.id);
    expect(st.output.data['text/plain']).toBe(
      ['+------+-----+-----+', '|answer|label|ratio|', '+------+-----+-----+', '|    42|    x|  2.5|', '+------+-----+-----+'].join('\n'),
    );
    expect(st.output.data['application/json']).toEqual({
      schema: {
        type: 'struct',
        fields: [
          { name: 'answer', type: 'integer', nullable: true, metadata: {} },
          { name: 'label', type: 'string', nullable: true, metadata: {} },
          { name: 'ratio', type: 'double', nullable: true, metadata: {} },
        ],
      },
      data: [[42, 'x', 2.5]],
    });
  });

  it('returns at most 1000 rows, and says so in the table', async () => {
    const st = await runStatement(url, sid, 'SELECT range AS n FROM range(5000)');
    expect(st.output.data['application/json'].data).toHaveLength(1000);
    expect(st.output.data['text/plain']).toMatch(/only showing top 1000 rows$/);
  });

  it('runs code with several statements and returns the last result', async () => {
    const st = await runStatement(url, sid, 'CREATE TABLE multi AS SELECT 1 AS a; INSERT INTO multi VALUES (2); SELECT sum(a) AS s FROM multi');
    expect(st.output.data['application/json'].data).toEqual([[3]]);
  });

  it('answers code with nothing to run (comments only) with an empty ok output', async () => {
    const st = await runStatement(url, sid, '-- orch:marker=x\n/* nothing */');
    expect(st.output).toMatchObject({ status: 'ok', data: { 'text/plain': '', 'application/json': { data: [] } } });
  });

  it('accepts a per-statement kind sql, and refuses other kinds with 400 {msg}', async () => {
    const ok = await http(url, 'POST', `/sessions/${sid}/statements`, { body: { code: 'SELECT 1', kind: 'sql' } });
    expect(ok.status).toBe(201);
    const refused = await http(url, 'POST', `/sessions/${sid}/statements`, { body: { code: 'print(1)', kind: 'pyspark' } });
    expect(refused.status).toBe(400);
    expect(refused.json.msg).toMatch(/kind 'pyspark' needs Spark/);
  });
});

describe('failing code', () => {
  it("ends available (there is no error state) with {status:'error', ename, evalue, traceback}", async () => {
    const st = await runStatement(url, sid, 'SELECT * FROM no_such_table');
    expect(st.state).toBe('available');
    expect(st.output).toMatchObject({ status: 'error', execution_count: st.id, ename: 'CatalogException' });
    expect(st.output.evalue).toContain('no_such_table');
    expect(st.output.traceback.join('\n')).toContain('LINE 1');
  });

  it('leaves the session idle and able to run the next statement', async () => {
    await runStatement(url, sid, 'SELEC 1');
    expect((await http(url, 'GET', `/sessions/${sid}/state`)).json.state).toBe('idle');
    expect((await runStatement(url, sid, 'SELECT 7 AS n')).output.data['application/json'].data).toEqual([[7]]);
  });

  it('explains that s3:// paths need the livy or emr backend', async () => {
    const st = await runStatement(url, sid, "SELECT * FROM read_parquet('s3://bucket/data.parquet')");
    expect(st.output.status).toBe('error');
    expect(st.output.evalue).toMatch(/local paths only; s3:\/\/ paths are read by the 'livy' and 'emr' backends/);
  });
});

describe('reading statements', () => {
  it('answers an unknown statement id with 404 and the bare string "Statement not found"', async () => {
    const r = await http(url, 'GET', `/sessions/${sid}/statements/99999`);
    expect(r.status).toBe(404);
    expect(r.json).toBe('Statement not found');
  });

  it('lists statements as {total_statements, statements}', async () => {
    const r = await http(url, 'GET', `/sessions/${sid}/statements`);
    expect(r.json.total_statements).toBe(r.json.statements.length);
    expect(r.json.statements[0]).toMatchObject({ id: 0, code: 'SELECT 1' });
  });

  it('keeps only the last 100 statements of a session', async () => {
    const id = await idleSession(url);
    for (let i = 0; i < 101; i++) await http(url, 'POST', `/sessions/${id}/statements`, { body: { code: `SELECT ${i}` } });
    const list = await until(
      () => http(url, 'GET', `/sessions/${id}/statements`),
      (r) => r.json.statements.every((s: { state: string }) => s.state === 'available'),
    );
    expect(list.json.total_statements).toBe(100);
    expect(list.json.statements[0].id).toBe(1);
    expect((await http(url, 'GET', `/sessions/${id}/statements/0`)).status).toBe(404);
    await http(url, 'DELETE', `/sessions/${id}`);
  });
});

describe('ordering and parallelism', () => {
  it('runs the statements of one session one at a time, in order', async () => {
    const codes = ['CREATE TABLE seq (n INTEGER)', 'INSERT INTO seq VALUES (1)', 'INSERT INTO seq SELECT max(n) + 1 FROM seq', 'SELECT list(n ORDER BY n) AS ns FROM seq'];
    const ids: number[] = [];
    for (const code of codes) ids.push((await http(url, 'POST', `/sessions/${sid}/statements`, { body: { code } })).json.id);
    const last = await until(() => http(url, 'GET', `/sessions/${sid}/statements/${ids[3]}`), (r) => r.json.state === 'available');
    expect(last.json.output.data['application/json'].data).toEqual([[[1, 2]]]);
    const all = (await http(url, 'GET', `/sessions/${sid}/statements`)).json.statements.filter((s: { id: number }) => ids.includes(s.id));
    for (let i = 1; i < all.length; i++) expect(all[i].started).toBeGreaterThanOrEqual(all[i - 1].completed);
  });

  it('runs sessions in parallel: a busy session does not hold up another', async () => {
    const a = await idleSession(url);
    const b = await idleSession(url);
    const long = (await http(url, 'POST', `/sessions/${a}/statements`, { body: { code: ENDLESS_SQL } })).json;
    await until(() => http(url, 'GET', `/sessions/${a}/statements/${long.id}`), (r) => r.json.state === 'running');
    const quick = await runStatement(url, b, 'SELECT 1 AS one');
    expect(quick.output.status).toBe('ok');
    expect((await http(url, 'GET', `/sessions/${a}/statements/${long.id}`)).json.state).toBe('running');
    expect((await http(url, 'GET', `/sessions/${a}/state`)).json.state).toBe('busy');
    await http(url, 'DELETE', `/sessions/${a}`);
    await http(url, 'DELETE', `/sessions/${b}`);
  });
});

describe("orch's long poll (?wait=<ms>&state=<state>, not Livy's)", () => {
  it('holds a poll until the statement leaves the state the client knows, and says how long it may wait', async () => {
    const id = await idleSession(url);
    const st = (await http(url, 'POST', `/sessions/${id}/statements`, { body: { code: ENDLESS_SQL } })).json;
    await until(() => http(url, 'GET', `/sessions/${id}/statements/${st.id}`), (r) => r.json?.state === 'running');
    const held = http(url, 'GET', `/sessions/${id}/statements/${st.id}?wait=10000&state=running`);
    // Give the poll time to reach the server first; if it arrives later it sees the cancel at once, which is right too.
    await new Promise((r) => setTimeout(r, 300));
    await http(url, 'POST', `/sessions/${id}/statements/${st.id}/cancel`);
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(['cancelling', 'cancelled']).toContain(answer.json.state);
    expect(answer.headers['x-orch-long-poll-ms']).toBe('10000');
    await http(url, 'DELETE', `/sessions/${id}`);
  });

  it('answers at once when the statement is already past that state', async () => {
    const st = await runStatement(url, sid, 'SELECT 1 AS one');
    const answer = await http(url, 'GET', `/sessions/${sid}/statements/${st.id}?wait=10000&state=running`);
    expect(answer.json).toMatchObject({ id: st.id, state: 'available' });
  });
});

describe('cancelling', () => {
  it('interrupts a running query: cancelling → cancelled, and the session is idle again', async () => {
    const id = await idleSession(url);
    const st = (await http(url, 'POST', `/sessions/${id}/statements`, { body: { code: ENDLESS_SQL } })).json;
    await until(() => http(url, 'GET', `/sessions/${id}/statements/${st.id}`), (r) => r.json.state === 'running');
    const cancel = await http(url, 'POST', `/sessions/${id}/statements/${st.id}/cancel`);
    expect(cancel).toMatchObject({ status: 200, json: { msg: 'canceled' } });
    const done = await until(() => http(url, 'GET', `/sessions/${id}/statements/${st.id}`), (r) => r.json.state === 'cancelled');
    expect(done.json.output).toBeNull();
    await until(() => http(url, 'GET', `/sessions/${id}/state`), (r) => r.json.state === 'idle');
    expect((await runStatement(url, id, 'SELECT 2 AS two')).output.status).toBe('ok');
    await http(url, 'DELETE', `/sessions/${id}`);
  });

  it('drops a waiting statement without running it', async () => {
    const id = await idleSession(url);
    const long = (await http(url, 'POST', `/sessions/${id}/statements`, { body: { code: ENDLESS_SQL } })).json;
    const queued = (await http(url, 'POST', `/sessions/${id}/statements`, { body: { code: 'CREATE TABLE never_made AS SELECT 1' } })).json;
    expect(queued.state).toBe('waiting');
    await http(url, 'POST', `/sessions/${id}/statements/${queued.id}/cancel`);
    expect((await http(url, 'GET', `/sessions/${id}/statements/${queued.id}`)).json).toMatchObject({ state: 'cancelled', started: 0 });
    await http(url, 'POST', `/sessions/${id}/statements/${long.id}/cancel`);
    await until(() => http(url, 'GET', `/sessions/${id}/state`), (r) => r.json.state === 'idle');
    const check = await runStatement(url, id, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'never_made'");
    expect(check.output.data['application/json'].data).toEqual([[0]]);
    await http(url, 'DELETE', `/sessions/${id}`);
  });

  it('DELETE while a statement runs interrupts it, answers deleted, and the session is gone', async () => {
    const id = await idleSession(url);
    const st = (await http(url, 'POST', `/sessions/${id}/statements`, { body: { code: ENDLESS_SQL } })).json;
    await until(() => http(url, 'GET', `/sessions/${id}/statements/${st.id}`), (r) => r.json.state === 'running');
    expect(await http(url, 'DELETE', `/sessions/${id}`)).toMatchObject({ status: 200, json: { msg: 'deleted' } });
    expect((await http(url, 'GET', `/sessions/${id}`)).status).toBe(404);
    expect((await http(url, 'GET', '/version')).status).toBe(200);
  });
});

describe('progress', () => {
  it("reports DuckDB's query progress between 0 and 1 while a statement runs, and 1.0 when done", async () => {
    const id = await idleSession(url);
    await runStatement(url, id, 'CREATE TABLE big AS SELECT range AS x FROM range(3000000)');
    // A transform (CREATE TABLE AS) runs to completion, the case where DuckDB reports progress.
    const code = "CREATE TABLE hashed AS SELECT x, md5(x::VARCHAR || 'salt') AS h FROM big WHERE md5(x::VARCHAR) LIKE '%a%'";
    const st = (await http(url, 'POST', `/sessions/${id}/statements`, { body: { code } })).json;
    const seen = new Set<number>();
    const done = await until(
      async () => {
        const r = await http(url, 'GET', `/sessions/${id}/statements/${st.id}`);
        if (r.json.state === 'running') seen.add(r.json.progress);
        return r;
      },
      (r) => r.json.state === 'available',
      2000,
      10,
    );
    expect(done.json.progress).toBe(1);
    expect([...seen].some((p) => p > 0 && p < 1)).toBe(true);
    await http(url, 'DELETE', `/sessions/${id}`);
  });
});
