/**
 * The engine's `/batches`: a local `.sql` file run as a batch, with Livy's batch states,
 * JSON and log semantics (docs/livy-api.md, "Batches").
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDLESS_SQL, engineForTest, http, until } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let url: string;
let dir: string;

beforeAll(async () => {
  engine = await engineForTest();
  url = engine.url;
  dir = engine.home;
});
afterAll(async () => engine.close());

function sqlFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function finalState(id: number): Promise<string> {
  const r = await until(() => http(url, 'GET', `/batches/${id}/state`), (x) => ['success', 'dead', 'killed'].includes(x.json.state));
  return r.json.state;
}

describe('running a .sql file as a batch', () => {
  it('answers 201 with Location /batches/{id} and Livy\'s batch JSON, starting', async () => {
    const file = sqlFile('ok.sql', 'SELECT 1 AS one;');
    const r = await http(url, 'POST', '/batches', { body: { file, name: 'batch-201' } });
    expect(r.status).toBe(201);
    expect(r.headers.location).toBe(`/batches/${r.json.id}`);
    expect(Object.keys(r.json).sort()).toEqual(['appId', 'appInfo', 'id', 'log', 'name', 'owner', 'proxyUser', 'state']);
    expect(r.json.state).toBe('starting');
    expect(await finalState(r.json.id)).toBe('success');
  });

  it('runs every statement in order, logs each, prints the last result, and ends success', async () => {
    const file = sqlFile('steps.sql', 'CREATE TABLE b1 AS SELECT range AS n FROM range(3);\nINSERT INTO b1 VALUES (10);\nSELECT sum(n) AS total FROM b1;\n');
    const { json } = await http(url, 'POST', '/batches', { body: { file } });
    expect(await finalState(json.id)).toBe('success');
    const log: string[] = (await http(url, 'GET', `/batches/${json.id}/log?size=-1`)).json.log;
    expect(log[0]).toBe('stdout: ');
    const text = log.join('\n');
    expect(text).toMatch(/statement 1\/3 done[\s\S]*statement 2\/3 done[\s\S]*statement 3\/3 done/);
    expect(text).toContain('|total|');
    expect(text).toContain('|   13|');
  });

  it('ends dead, with the SQL error on stderr, when a statement fails', async () => {
    const { json } = await http(url, 'POST', '/batches', { body: { file: sqlFile('bad.sql', 'SELECT 1;\nSELECT * FROM nowhere;\n') } });
    expect(await finalState(json.id)).toBe('dead');
    const log: string[] = (await http(url, 'GET', `/batches/${json.id}/log?size=-1`)).json.log;
    expect(log.slice(log.indexOf('\nstderr: ')).join('\n')).toMatch(/CatalogException: Table with name nowhere does not exist/);
  });

  it('ends dead with "file not found" in the log when the file does not exist', async () => {
    const { json } = await http(url, 'POST', '/batches', { body: { file: join(dir, 'absent.sql') } });
    expect(await finalState(json.id)).toBe('dead');
    expect((await http(url, 'GET', `/batches/${json.id}/log`)).json.log.join('\n')).toContain('file not found');
  });
});

describe('refused batches', () => {
  it('refuses an s3:// file with 400 {msg} naming the backends that can read it', async () => {
    const r = await http(url, 'POST', '/batches', { body: { file: 's3://bucket/job.sql' } });
    expect(r.status).toBe(400);
    expect(r.json.msg).toMatch(/local paths only; s3:\/\/ paths are read by the 'livy' and 'emr' backends/);
  });

  it('refuses a jar or a Python file with 400 {msg} naming the backends that run them', async () => {
    const r = await http(url, 'POST', '/batches', { body: { file: '/tmp/job.jar', className: 'com.example.Main' } });
    expect(r.status).toBe(400);
    expect(r.json.msg).toMatch(/runs \.sql files.*'livy' or 'emr'/);
  });

  it('refuses a body without file, or with an unknown field, with a 400 bare string', async () => {
    const missing = await http(url, 'POST', '/batches', { body: { name: 'x' } });
    expect(missing.status).toBe(400);
    expect(typeof missing.json).toBe('string');
    expect(missing.json).toContain('"file"');
    const unknown = await http(url, 'POST', '/batches', { body: { file: '/tmp/x.sql', mainClass: 'x' } });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toContain('Unrecognized field "mainClass"');
  });
});

describe('the shared routes under /batches', () => {
  it('lists, gets by id and name, reports state, and 404s unknown ids', async () => {
    const { json } = await http(url, 'POST', '/batches', { body: { file: sqlFile('named.sql', 'SELECT 1;'), name: 'named-batch' } });
    await finalState(json.id);
    const list = (await http(url, 'GET', '/batches')).json;
    expect(list.from).toBe(0);
    expect(list.sessions.some((b: { id: number }) => b.id === json.id)).toBe(true);
    expect((await http(url, 'GET', '/batches/named-batch')).json.id).toBe(json.id);
    expect((await http(url, 'GET', `/batches/${json.id}/state`)).json).toEqual({ id: json.id, state: 'success' });
    expect(await http(url, 'GET', '/batches/777')).toMatchObject({ status: 404, json: { msg: "Session '777' not found." } });
  });

  it('DELETE kills a running batch, answers deleted, and the batch is gone', async () => {
    const { json } = await http(url, 'POST', '/batches', { body: { file: sqlFile('endless.sql', `${ENDLESS_SQL};`) } });
    await until(() => http(url, 'GET', `/batches/${json.id}/state`), (r) => r.json.state === 'running');
    expect(await http(url, 'DELETE', `/batches/${json.id}`)).toMatchObject({ status: 200, json: { msg: 'deleted' } });
    expect((await http(url, 'GET', `/batches/${json.id}`)).status).toBe(404);
  });
});
