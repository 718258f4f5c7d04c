/**
 * The engine's `/sessions` routes, over raw HTTP, against docs/livy-api.md ("Interactive
 * sessions", "Session states", "Every endpoint").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineForTest, http, idleSession, until } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let url: string;

beforeAll(async () => {
  engine = await engineForTest({ maxSessions: 6 });
  url = engine.url;
});
afterAll(async () => engine.close());

describe('creating a session', () => {
  it('answers 201 with Location /sessions/{id} and the session in state starting', async () => {
    const r = await http(url, 'POST', '/sessions', { body: { kind: 'sql', name: 'create-201' } });
    expect(r.status).toBe(201);
    expect(r.headers.location).toBe(`/sessions/${r.json.id}`);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json).toMatchObject({ name: 'create-201', kind: 'sql', state: 'starting', owner: null, proxyUser: null });
    expect(r.json.appInfo).toEqual({ driverLogUrl: null, sparkUiUrl: null });
    expect(r.json.appId).toMatch(/^local-\d+$/);
    await http(url, 'DELETE', `/sessions/${r.json.id}`);
  });

  it('accepts every field of Livy\'s create request, echoing the 0.8 ones in the session JSON', async () => {
    const body = {
      kind: 'sql', proxyUser: 'alice', jars: ['a.jar'], pyFiles: ['b.py'], files: ['c.txt'], archives: ['d.zip'],
      driverMemory: '1g', driverCores: 1, executorMemory: '2g', executorCores: 2, numExecutors: 3, queue: 'q',
      name: 'every-field', conf: { 'spark.sql.shuffle.partitions': '4' }, heartbeatTimeoutInSecond: 0, ttl: '1h', idleTimeout: '1h',
    };
    const r = await http(url, 'POST', '/sessions', { body });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      proxyUser: 'alice', jars: ['a.jar'], driverMemory: '1g', executorCores: 2, numExecutors: 3, queue: 'q',
      conf: { 'spark.sql.shuffle.partitions': '4' }, ttl: '1h',
    });
    await http(url, 'DELETE', `/sessions/${r.json.id}`);
  });

  it('becomes idle, and GET /sessions/{id}/state answers {id, state}', async () => {
    const id = await idleSession(url);
    const r = await http(url, 'GET', `/sessions/${id}/state`);
    expect(r.json).toEqual({ id, state: 'idle' });
    await http(url, 'DELETE', `/sessions/${id}`);
  });

  it('refuses spark, pyspark, sparkr and shared with a 400 {msg} naming the backends that run them', async () => {
    for (const kind of ['spark', 'pyspark', 'sparkr', 'shared', 'scala', 'python', 'r']) {
      const r = await http(url, 'POST', '/sessions', { body: { kind } });
      expect(r.status).toBe(400);
      expect(r.json.msg).toContain("kind 'sql'");
      expect(r.json.msg).toContain('DuckDB');
      expect(r.json.msg).toMatch(/'livy'.*'emr'/);
    }
  });

  it("refuses a missing kind (Livy's default is shared) with the same explanation", async () => {
    const r = await http(url, 'POST', '/sessions', { body: {} });
    expect(r.status).toBe(400);
    expect(r.json.msg).toMatch(/kind is required.*'sql'.*'livy'.*'emr'/s);
  });

  it('answers "Invalid kind" for a kind Livy does not know', async () => {
    const r = await http(url, 'POST', '/sessions', { body: { kind: 'cobol' } });
    expect(r.status).toBe(400);
    expect(r.json.msg).toMatch(/^Invalid kind: cobol/);
  });

  it('refuses a second session with the same name (names are unique, for reattach)', async () => {
    const first = await http(url, 'POST', '/sessions', { body: { kind: 'sql', name: 'unique-name' } });
    const second = await http(url, 'POST', '/sessions', { body: { kind: 'sql', name: 'unique-name' } });
    expect(second.status).toBe(400);
    expect(second.json.msg).toContain('Duplicate session name: unique-name');
    await http(url, 'DELETE', `/sessions/${first.json.id}`);
  });
});

describe('reading sessions', () => {
  it('lists sessions as {from, total, sessions} and honours from/size', async () => {
    const ids = [await idleSession(url), await idleSession(url), await idleSession(url)];
    const all = await http(url, 'GET', '/sessions');
    expect(all.json.from).toBe(0);
    expect(all.json.total).toBe(all.json.sessions.length);
    expect(all.json.sessions.map((s: { id: number }) => s.id)).toEqual(expect.arrayContaining(ids));
    const page = await http(url, 'GET', '/sessions?from=1&size=1');
    expect(page.json.from).toBe(1);
    expect(page.json.sessions).toHaveLength(1);
    expect(page.json.sessions[0].id).toBe(all.json.sessions[1].id);
    for (const id of ids) await http(url, 'DELETE', `/sessions/${id}`);
  });

  it('finds a session by name when the path segment is not all digits', async () => {
    const id = await idleSession(url, { name: 'by-name-7' });
    const r = await http(url, 'GET', '/sessions/by-name-7');
    expect(r.json.id).toBe(id);
    expect((await http(url, 'GET', '/sessions/by-name-7/state')).json).toEqual({ id, state: 'idle' });
    await http(url, 'DELETE', `/sessions/${id}`);
  });

  it("answers an unknown id or name with 404 {\"msg\":\"Session '<id>' not found.\"}", async () => {
    expect(await http(url, 'GET', '/sessions/4242')).toMatchObject({ status: 404, json: { msg: "Session '4242' not found." } });
    expect(await http(url, 'GET', '/sessions/nobody')).toMatchObject({ status: 404, json: { msg: "Session 'nobody' not found." } });
    expect((await http(url, 'GET', '/sessions/4242/log')).status).toBe(404);
    expect((await http(url, 'POST', '/sessions/4242/statements', { body: { code: 'select 1' } })).status).toBe(404);
  });

  it('puts the last 10 log lines in the session JSON', async () => {
    const id = await idleSession(url);
    const session = await http(url, 'GET', `/sessions/${id}`);
    const log = await http(url, 'GET', `/sessions/${id}/log?size=-1`);
    expect(session.json.log).toEqual(log.json.log.slice(-10));
    await http(url, 'DELETE', `/sessions/${id}`);
  });
});

describe('deleting a session', () => {
  it('answers 200 {"msg":"deleted"} and later GETs are 404', async () => {
    const id = await idleSession(url);
    expect(await http(url, 'DELETE', `/sessions/${id}`)).toMatchObject({ status: 200, json: { msg: 'deleted' } });
    expect((await http(url, 'GET', `/sessions/${id}`)).status).toBe(404);
    expect((await http(url, 'DELETE', `/sessions/${id}`)).status).toBe(404);
  });
});

describe('session conf', () => {
  it('applies duckdb.* keys as session-scoped DuckDB settings and logs spark.* keys as ignored', async () => {
    const id = await idleSession(url, { conf: { 'duckdb.default_order': 'desc', 'spark.executor.instances': '4' } });
    const posted = await http(url, 'POST', `/sessions/${id}/statements`, { body: { code: "SELECT current_setting('default_order') AS o" } });
    const done = await until(() => http(url, 'GET', `/sessions/${id}/statements/${posted.json.id}`), (r) => r.json.state === 'available');
    expect(done.json.output.data['application/json'].data).toEqual([['DESC']]);
    const log = (await http(url, 'GET', `/sessions/${id}/log?size=-1`)).json.log.join('\n');
    expect(log).toContain('conf spark.executor.instances ignored');
    await http(url, 'DELETE', `/sessions/${id}`);
  });

  it('a session whose conf DuckDB refuses ends dead, with the reason in its log', async () => {
    const created = await http(url, 'POST', '/sessions', { body: { kind: 'sql', conf: { 'duckdb.no_such_setting': 'x' } } });
    const id = created.json.id;
    await until(() => http(url, 'GET', `/sessions/${id}/state`), (r) => r.json.state === 'dead');
    const log = (await http(url, 'GET', `/sessions/${id}/log`)).json.log.join('\n');
    expect(log).toMatch(/failed to start: .*no_such_setting/);
  });
});

describe('a dead session', () => {
  it("refuses statements with Livy's 500 bare string, and 400 {msg} for reading them", async () => {
    const created = await http(url, 'POST', '/sessions', { body: { kind: 'sql', conf: { 'duckdb.no_such_setting': 'x' } } });
    const id = created.json.id;
    await until(() => http(url, 'GET', `/sessions/${id}/state`), (r) => r.json.state === 'dead');
    const post = await http(url, 'POST', `/sessions/${id}/statements`, { body: { code: 'select 1' } });
    expect(post.status).toBe(500);
    expect(post.json).toBe('java.lang.IllegalStateException: Session is in state dead');
    const list = await http(url, 'GET', `/sessions/${id}/statements`);
    expect(list).toMatchObject({ status: 400, json: { msg: "requirement failed: Session isn't active." } });
    const cancel = await http(url, 'POST', `/sessions/${id}/statements/0/cancel`);
    expect(cancel.status).toBe(500);
  });
});

describe('limits and timeouts', () => {
  it('answers 400 "Rejected, too many sessions are being created!" past --max-sessions', async () => {
    const live = (await http(url, 'GET', '/sessions')).json.sessions.filter((s: { state: string }) => s.state !== 'dead');
    const ids: number[] = [];
    let refused;
    for (let i = live.length; i < 8; i++) {
      const r = await http(url, 'POST', '/sessions', { body: { kind: 'sql' } });
      if (r.status === 201) ids.push(r.json.id);
      else {
        refused = r;
        break;
      }
    }
    expect(refused).toMatchObject({ status: 400, json: { msg: 'Rejected, too many sessions are being created!' } });
    for (const id of ids) await http(url, 'DELETE', `/sessions/${id}`);
  });

  it('deletes a session nobody polls once heartbeatTimeoutInSecond passes', async () => {
    const created = await http(url, 'POST', '/sessions', { body: { kind: 'sql', name: 'heartbeat-1', heartbeatTimeoutInSecond: 1 } });
    // Listing does not count as a heartbeat (in Livy neither): only GETs of the session do.
    await until(
      () => http(url, 'GET', '/sessions'),
      (r) => !r.json.sessions.some((s: { id: number }) => s.id === created.json.id),
      200,
      50,
    );
    expect((await http(url, 'GET', `/sessions/${created.json.id}`)).status).toBe(404);
  });

  it('deletes an idle session after its ttl', async () => {
    const created = await http(url, 'POST', '/sessions', { body: { kind: 'sql', ttl: '1s' } });
    await until(
      () => http(url, 'GET', '/sessions'),
      (r) => !r.json.sessions.some((s: { id: number }) => s.id === created.json.id),
      200,
      50,
    );
  });

  it('refuses an unparseable ttl with 400 {msg}', async () => {
    const r = await http(url, 'POST', '/sessions', { body: { kind: 'sql', ttl: 'soon' } });
    expect(r.status).toBe(400);
    expect(r.json.msg).toContain("ttl: invalid time 'soon'");
  });
});
