/** The API through app.inject(), over a real SQLite file and real DAG files. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { ALPHA, CSRF, STMT, testServer, type TestServer } from './support.ts';

let ws: Workspace;
let s: TestServer;

beforeEach(async () => {
  ws = workspace();
  ws.writeDag('alpha', ALPHA);
  ws.writeDag('stmt', STMT);
  mkdirSync(join(ws.dags, 'sql'));
  writeFileSync(join(ws.dags, 'sql/load.sql'), 'SELECT 1;\n');
  writeFileSync(join(ws.dags, 'sql/common.scala'), 'val common = 1\n');
  writeFileSync(join(ws.dags, 'broken.ts'), "throw new Error('boom at import');\n");
  s = await testServer(ws);
});

afterEach(async () => {
  await s.stop();
  ws.cleanup();
});

const get = (url: string) => s.app.inject({ method: 'GET', url });
const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  s.app.inject({ method: 'POST', url, payload: payload as never, headers: { ...CSRF, ...headers } });

/** Run alpha to its end in the harness scheduler; its run id. */
async function runAlpha(conf?: Record<string, unknown>): Promise<string> {
  const r = await s.scheduler.runDag('alpha', { conf });
  expect(r.state).toBe('success');
  return r.run.runId;
}

describe('DAGs', () => {
  it('lists DAGs with their recent runs, load errors, and DAGs known only from history', async () => {
    const runId = await runAlpha();
    s.store.runs.create({ dagId: 'gone', runId: 'r1', runType: 'manual', triggeredBy: 'cli', logicalDate: 'x', dataIntervalStart: 'x', dataIntervalEnd: 'x', conf: {}, params: {}, queuedAt: 'x', tasks: [] });
    const res = await get('/api/v1/dags');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.dags.map((d: { dagId: string }) => d.dagId)).toEqual(['alpha', 'stmt']);
    expect(body.dags[0]).toMatchObject({ description: 'two steps', tags: ['demo', 'small'], isPaused: false, taskCount: 2, hasParams: true, schedule: null, nextRunAt: null });
    expect(body.dags[0].recentRuns).toEqual([expect.objectContaining({ runId, state: 'success' })]);
    expect(body.errors).toEqual([expect.objectContaining({ code: 'ORCH_DAG_IMPORT', message: expect.stringMatching(/boom at import/) })]);
    expect(body.historical).toEqual(['gone']);
    expect((await get('/api/v1/dags?search=STEPS')).json().dags.map((d: { dagId: string }) => d.dagId)).toEqual(['alpha']);
    expect((await get('/api/v1/dags?tag=small')).json().dags).toHaveLength(1);
    expect((await get('/api/v1/dags?tag=sma')).json().dags).toHaveLength(0);
  });

  it('gives one DAG in full, with its params as JSON Schema and defaults', async () => {
    const res = await get('/api/v1/dags/alpha');
    expect(res.statusCode).toBe(200);
    const dag = res.json();
    expect(dag.paramsSchema.properties.size).toMatchObject({ type: 'integer', minimum: 1, default: 2, description: 'how many' });
    expect(dag.paramsSchema.properties.label).toMatchObject({ type: 'string', default: 'x' });
    expect(dag.tasks).toEqual([
      { taskId: 'first', operator: 'function', upstream: [], downstream: ['second'], triggerRule: 'all_success', pool: 'default_pool', retries: 0, doc: null },
      { taskId: 'second', operator: 'function', upstream: ['first'], downstream: [], triggerRule: 'all_success', pool: 'default_pool', retries: 1, doc: null },
    ]);
    expect((await get('/api/v1/dags/stmt')).json().paramsSchema).toBeNull();
  });

  it('answers 404 with the error shape for an unknown DAG', async () => {
    const res = await get('/api/v1/dags/nope');
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'ORCH_DAG_NOT_FOUND', message: expect.stringMatching(/not found/) });
  });

  it('pauses and unpauses; a bad body names the field', async () => {
    const res = await s.app.inject({ method: 'PATCH', url: '/api/v1/dags/alpha', payload: { isPaused: true }, headers: CSRF });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ dagId: 'alpha', isPaused: true });
    expect(s.store.dags.isPaused('alpha')).toBe(true);
    const bad = await s.app.inject({ method: 'PATCH', url: '/api/v1/dags/alpha', payload: { isPaused: 'maybe' }, headers: CSRF });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'ORCH_BAD_REQUEST', fields: [expect.objectContaining({ path: 'isPaused' })] });
    const extra = await s.app.inject({ method: 'PATCH', url: '/api/v1/dags/alpha', payload: { isPaused: false, colour: 1 }, headers: CSRF });
    expect(extra.json().error.fields).toEqual([expect.objectContaining({ path: 'colour' })]);
  });

  it('serves the DAG file and the code files its tasks name, and nothing else', async () => {
    const res = await get('/api/v1/dags/stmt/source');
    expect(res.statusCode).toBe(200);
    const src = res.json();
    expect(src.file).toMatchObject({ language: 'typescript', text: expect.stringContaining("dag({ id: 'stmt' })") });
    expect(src.statementFiles).toEqual([
      { path: expect.stringMatching(/sql\/load\.sql$/), language: 'sql', text: 'SELECT 1;\n', tasks: ['load', 'again'] },
      { path: expect.stringMatching(/sql\/common\.scala$/), language: 'scala', text: 'val common = 1\n', tasks: ['load'] },
    ]);
    for (const url of ['/api/v1/dags/..%2F..%2Fetc/source', '/api/v1/dags/..%2Fbroken/source', '/api/v1/dags/%2Fetc%2Fpasswd/source']) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.json().error.code).toBe('ORCH_DAG_NOT_FOUND');
    }
    expect((await get('/api/v1/dags/stmt/source/..%2F..%2Fetc%2Fpasswd')).statusCode).toBe(404);
  });
});

describe('runs', () => {
  it('triggers a run with a checked conf, as api or ui', async () => {
    const res = await post('/api/v1/dags/alpha/runs', { conf: { size: 5 } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ dagId: 'alpha', runType: 'manual', triggeredBy: 'api', state: 'queued', conf: { size: 5 }, params: { size: 5, label: 'x' }, owner: null });
    const ui = await post('/api/v1/dags/alpha/runs', {}, { 'x-orch-client': 'web' });
    expect(ui.json()).toMatchObject({ triggeredBy: 'ui', conf: {} });
    expect(s.store.runs.list({ dagId: 'alpha' })).toHaveLength(2);
  });

  it('rejects a bad conf with fields a form can show, creating nothing', async () => {
    const bad = await post('/api/v1/dags/alpha/runs', { conf: { size: 0, label: '' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'ORCH_PARAMS_INVALID' });
    expect(bad.json().error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['label', 'size']);
    const typo = await post('/api/v1/dags/alpha/runs', { conf: { sise: 3 } });
    expect(typo.json().error.fields).toEqual([{ path: 'sise', message: expect.stringMatching(/did you mean 'size'/) }]);
    const notObject = await post('/api/v1/dags/alpha/runs', { conf: 3 });
    expect(notObject.statusCode).toBe(400);
    expect(notObject.json().error).toMatchObject({ code: 'ORCH_BAD_REQUEST', fields: [expect.objectContaining({ path: 'conf' })] });
    const notJson = await s.app.inject({ method: 'POST', url: '/api/v1/dags/alpha/runs', payload: '{"conf":', headers: { ...CSRF, 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('ORCH_BAD_REQUEST');
    expect((await post('/api/v1/dags/nope/runs', {})).statusCode).toBe(404);
    expect(s.store.runs.list({ dagId: 'alpha' })).toHaveLength(0);
  });

  it('pages runs newest first', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await post('/api/v1/dags/alpha/runs', {})).json().runId);
    const first = (await get('/api/v1/dags/alpha/runs?limit=2')).json();
    expect(first.runs.map((r: { runId: string }) => r.runId)).toEqual([ids[2], ids[1]]);
    expect(first.next).toBe(ids[1]);
    const second = (await get(`/api/v1/dags/alpha/runs?limit=2&before=${encodeURIComponent(first.next)}`)).json();
    expect(second).toEqual({ runs: [expect.objectContaining({ runId: ids[0] })], next: null });
    const limit = await get('/api/v1/dags/alpha/runs?limit=0');
    expect(limit.statusCode).toBe(400);
    expect(limit.json().error.fields).toEqual([expect.objectContaining({ path: 'limit' })]);
    expect((await get('/api/v1/dags/alpha/runs?before=nope')).json().error.fields).toEqual([expect.objectContaining({ path: 'before' })]);
  });

  it('shows a run with its tasks, every try, its cluster, and the grid', async () => {
    const runId = await runAlpha({ size: 3 });
    const url = `/api/v1/dags/alpha/runs/${encodeURIComponent(runId)}`;
    let run = (await get(url)).json();
    expect(run).toMatchObject({ runId, state: 'success', conf: { size: 3 }, cluster: null });
    expect(run.tasks.map((t: { taskId: string; state: string }) => [t.taskId, t.state])).toEqual([['first', 'success'], ['second', 'success']]);
    expect(run.tasks[0]).toMatchObject({ tryNumber: 1, maxTries: 1, markedByHand: false, progress: null, operator: 'function' });
    expect(run.tries).toEqual([
      expect.objectContaining({ taskId: 'first', tryNumber: 1, state: 'success' }),
      expect.objectContaining({ taskId: 'second', tryNumber: 1, state: 'success' }),
    ]);
    s.store.handles.record({ dagId: 'alpha', runId, taskId: 'first' }, 1, { kind: 'cluster', externalId: 'c-1', url: 'http://127.0.0.1:9', data: { backend: 'embedded', pid: 1 } }, new Date().toISOString());
    run = (await get(url)).json();
    expect(run.cluster).toMatchObject({ backend: 'embedded', clusterId: 'c-1', url: 'http://127.0.0.1:9', taskId: 'first', releasedAt: null });

    const grid = (await get('/api/v1/dags/alpha/grid?limit=5')).json();
    expect(grid.tasks).toEqual(['first', 'second']);
    expect(grid.runs).toEqual([expect.objectContaining({ runId, state: 'success', runType: 'manual' })]);
    expect(grid.cells[runId].second).toMatchObject({ state: 'success', tryNumber: 1 });
    expect((await get('/api/v1/dags/alpha/runs/nope')).json().error.code).toBe('ORCH_RUN_NOT_FOUND');
  });

  it('cancels, clears and marks', async () => {
    const queued = (await post('/api/v1/dags/alpha/runs', {})).json().runId;
    expect((await post(`/api/v1/dags/alpha/runs/${encodeURIComponent(queued)}/cancel`)).json()).toEqual({ outcome: 'finished' });
    expect((await post(`/api/v1/dags/alpha/runs/${encodeURIComponent(queued)}/cancel`)).json()).toEqual({ outcome: 'already_done' });

    const runId = await runAlpha();
    const base = `/api/v1/dags/alpha/runs/${encodeURIComponent(runId)}`;
    const marked = await post(`${base}/tasks/second/mark`, { state: 'failed' });
    expect(marked.json()).toEqual({ marked: ['second'], unchanged: [], teardownsLeft: [], runState: 'failed' });
    const task = (await get(`${base}/tasks/second`)).json();
    expect(task).toMatchObject({ state: 'failed', markedByHand: true });
    expect((await post(`${base}/tasks/second/mark`, { state: 'done' })).json().error.fields).toEqual([expect.objectContaining({ path: 'state' })]);
    expect((await post(`${base}/tasks/nope/mark`, { state: 'success' })).json().error.code).toBe('ORCH_TASK_NOT_FOUND');

    const cleared = await post(`${base}/clear`, { taskIds: ['first'], downstream: true });
    expect(cleared.json()).toEqual({ cleared: ['first', 'second'] });
    expect(s.store.runs.get('alpha', runId)!.state).toBe('running');
    expect((await post(`${base}/clear`, { taskIds: ['nope'] })).statusCode).toBe(404);
  });
});

describe('tasks and logs', () => {
  it('shows a task with its tries, handles with statement progress, and XCom', async () => {
    const runId = await runAlpha({ size: 4 });
    s.store.handles.record({ dagId: 'alpha', runId, taskId: 'first' }, 1, { kind: 'livy-statement', externalId: '0/0', data: { sessionId: 0, statementId: 0, progress: 0.4 } }, new Date().toISOString());
    const res = await get(`/api/v1/dags/alpha/runs/${encodeURIComponent(runId)}/tasks/first`);
    expect(res.statusCode).toBe(200);
    const t = res.json();
    expect(t).toMatchObject({ taskId: 'first', state: 'success', progress: 0.4, xcom: [{ key: 'return_value', value: 4 }] });
    expect(t.tries).toEqual([expect.objectContaining({ tryNumber: 1, state: 'success', error: null })]);
    expect(t.handles).toEqual([expect.objectContaining({ kind: 'livy-statement', externalId: '0/0', tryNumber: 1, data: { sessionId: 0, statementId: 0, progress: 0.4 } })]);
  });

  it('pages a try log to its end, says when it is final, and downloads it as text', async () => {
    const runId = await runAlpha({ size: 7 });
    const base = `/api/v1/dags/alpha/runs/${encodeURIComponent(runId)}/tasks/first/tries/1/logs`;
    const all = (await get(base)).json();
    expect(all.final).toBe(true);
    expect(all.more).toBe(false);
    expect(all.lines.map((l: { message: string }) => l.message)).toEqual(expect.arrayContaining(['size is 7', 'second line']));
    const page1 = await get(`${base}?limit=1`);
    expect(page1.json()).toMatchObject({ more: true, final: false, lines: [expect.objectContaining({ id: all.lines[0].id })] });
    expect(page1.headers['cache-control']).toBe('no-store');
    const rest = await get(`${base}?cursor=${page1.json().cursor}&limit=1000`);
    expect(rest.json().lines).toEqual(all.lines.slice(1));
    expect(rest.json().final).toBe(true);
    expect(rest.headers['cache-control']).toMatch(/immutable/);

    const dl = await get(`${base}/download`);
    expect(dl.headers['content-type']).toMatch(/^text\/plain/);
    expect(dl.headers['content-disposition']).toMatch(/^attachment; filename="alpha__.*__first__1\.log"$/);
    expect(dl.body.split('\n').filter(Boolean)).toHaveLength(all.lines.length);
    expect(dl.body).toMatch(/^\S+ info \S+ size is 7$/m);

    const tryBase = `/api/v1/dags/alpha/runs/${encodeURIComponent(runId)}/tasks/first/tries`;
    for (const bad of ['0', 'abc', '1.5']) {
      const r = await get(`${tryBase}/${bad}/logs`);
      expect(r.statusCode, bad).toBe(400);
      expect(r.json().error.fields, bad).toEqual([expect.objectContaining({ path: 'try' })]);
    }
    expect((await get(`${tryBase}/2/logs`)).json().error.code).toBe('ORCH_TRY_NOT_FOUND');
    expect((await get(`${base}?cursor=-1`)).statusCode).toBe(400);
  });
});

describe('health and the OpenAPI document', () => {
  it('says whether a scheduler is alive and lists every route in openapi.json', async () => {
    const health = (await get('/api/v1/health')).json();
    expect(health).toMatchObject({ status: 'ok', authRequired: false, schedulerAlive: false, database: ws.db });
    s.store.changes.beat({ id: 'x', host: 'h', pid: 1 }, new Date().toISOString());
    expect((await get('/api/v1/health')).json().schedulerAlive).toBe(true);

    const doc = (await get('/api/v1/openapi.json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/health',
        '/api/v1/dags',
        '/api/v1/dags/{dagId}',
        '/api/v1/dags/{dagId}/source',
        '/api/v1/dags/{dagId}/runs',
        '/api/v1/dags/{dagId}/runs/{runId}',
        '/api/v1/dags/{dagId}/runs/{runId}/cancel',
        '/api/v1/dags/{dagId}/runs/{runId}/clear',
        '/api/v1/dags/{dagId}/grid',
        '/api/v1/dags/{dagId}/runs/{runId}/tasks/{taskId}',
        '/api/v1/dags/{dagId}/runs/{runId}/tasks/{taskId}/mark',
        '/api/v1/dags/{dagId}/runs/{runId}/tasks/{taskId}/tries/{try}/logs',
        '/api/v1/dags/{dagId}/runs/{runId}/tasks/{taskId}/tries/{try}/logs/download',
        '/api/v1/events',
      ]),
    );
    expect(doc.paths['/api/v1/dags/{dagId}/runs'].post.responses['201']).toBeDefined();
    const unknown = await get('/api/v1/nothing');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('ORCH_ROUTE_NOT_FOUND');
  });
});
