/**
 * Bad input never crashes the engine, and every refusal comes in one of Livy's shapes
 * (docs/livy-api.md, "Every endpoint"): malformed JSON, unknown fields, oversized code, CSRF.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineForTest, http, idleSession, until } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let url: string;
let sid: number;

beforeAll(async () => {
  engine = await engineForTest();
  url = engine.url;
  sid = await idleSession(url);
});
afterAll(async () => engine.close());

describe('request bodies', () => {
  it('are parsed as JSON whatever the Content-Type says', async () => {
    const r = await http(url, 'POST', '/sessions', { raw: '{"kind":"sql"}', headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(201);
    const none = await http(url, 'POST', `/sessions/${sid}/statements`, { raw: '{"code":"SELECT 1"}' });
    expect(none.status).toBe(201);
    await until(() => http(url, 'GET', `/sessions/${sid}/statements/${none.json.id}`), (s) => s.json.state === 'available');
    await http(url, 'DELETE', `/sessions/${r.json.id}`);
  });

  it('answer malformed JSON with a 400 bare string, and the engine keeps serving', async () => {
    const r = await http(url, 'POST', `/sessions/${sid}/statements`, { raw: '{"code": "SELECT', headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(typeof r.json).toBe('string');
    expect(r.json).toMatch(/^Malformed JSON body/);
    expect((await http(url, 'GET', `/sessions/${sid}/state`)).json.state).toBe('idle');
  });

  it('answer an unknown field with a 400 bare string naming it and the accepted fields', async () => {
    const r = await http(url, 'POST', `/sessions/${sid}/statements`, { body: { code: 'SELECT 1', language: 'sql' } });
    expect(r.status).toBe(400);
    expect(r.json).toBe('Unrecognized field "language": POST /sessions/{id}/statements accepts only code, kind');
  });

  it('answer a field of the wrong type or a missing code with a 400 bare string', async () => {
    const wrong = await http(url, 'POST', '/sessions', { body: { kind: 'sql', driverCores: 'many' } });
    expect(wrong.status).toBe(400);
    expect(wrong.json).toContain('"driverCores"');
    const missing = await http(url, 'POST', `/sessions/${sid}/statements`, { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.json).toBe('Missing required field "code" in POST /sessions/{id}/statements');
  });

  it('answer oversized code with 413 {msg} pointing to batches', async () => {
    const r = await http(url, 'POST', `/sessions/${sid}/statements`, { body: { code: `SELECT '${'x'.repeat(1_100_000)}'` } });
    expect(r.status).toBe(413);
    expect(r.json.msg).toMatch(/larger than \d+ bytes.*batch/);
    expect((await http(url, 'GET', `/sessions/${sid}/state`)).json.state).toBe('idle');
  });
});

describe('routes and ids', () => {
  it('answer an unknown route with 404 {msg}', async () => {
    expect(await http(url, 'GET', '/nothing/here')).toMatchObject({ status: 404, json: { msg: 'No route for GET /nothing/here' } });
  });

  it('answer a non-numeric statement id with 400 {msg}', async () => {
    const r = await http(url, 'GET', `/sessions/${sid}/statements/first`);
    expect(r.status).toBe(400);
    expect(r.json.msg).toContain('For input string: "first"');
  });

  it('GET /version answers {version, user, revision, branch, date, url}', async () => {
    const r = await http(url, 'GET', '/version');
    expect(Object.keys(r.json).sort()).toEqual(['branch', 'date', 'revision', 'url', 'user', 'version']);
    expect(r.json.version).toBe('0.8.0');
    expect(r.json.branch).toMatch(/^duckdb-v\d/);
  });
});

describe('with --csrf', () => {
  let csrf: Awaited<ReturnType<typeof engineForTest>>;
  beforeAll(async () => {
    csrf = await engineForTest({ csrf: true });
  });
  afterAll(async () => csrf.close());

  it('rejects POST and DELETE without X-Requested-By with 400 and an HTML body, as Livy/Jetty', async () => {
    const post = await http(csrf.url, 'POST', '/sessions', { body: { kind: 'sql' }, noRequestedBy: true });
    expect(post.status).toBe(400);
    expect(post.headers['content-type']).toMatch(/^text\/html/);
    expect(post.text).toContain('<title>Error 400 Missing Required Header for CSRF protection.</title>');
    expect(post.text).toContain('<pre>    Missing Required Header for CSRF protection.</pre>');
    const del = await http(csrf.url, 'DELETE', '/sessions/0', { noRequestedBy: true });
    expect(del.status).toBe(400);
    expect(del.headers['content-type']).toMatch(/^text\/html/);
  });

  it('lets GET through without the header, and POST/DELETE with it', async () => {
    expect((await http(csrf.url, 'GET', '/sessions', { noRequestedBy: true })).status).toBe(200);
    const post = await http(csrf.url, 'POST', '/sessions', { body: { kind: 'sql' } });
    expect(post.status).toBe(201);
    expect((await http(csrf.url, 'DELETE', `/sessions/${post.json.id}`)).status).toBe(200);
  });
});
