/** The event stream over a real socket: a scheduler and the server in one process, as `orch standalone` runs them. */
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { executionCounter } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { ALPHA, CSRF, openEvents, testServer, type EventStream, type TestServer } from './support.ts';

let ws: Workspace;
let s: TestServer;
let base: string;
let counter: ReturnType<typeof executionCounter>;
const streams: EventStream[] = [];
let stop: AbortController;
let serving: Promise<void>;

beforeEach(async () => {
  ws = workspace();
  counter = executionCounter(ws);
  ws.writeDag('alpha', ALPHA);
  ws.writeDag(
    'waiter',
    `${counter.snippet}
     const d = dag({ id: 'waiter' });
     const hold = d.task({ id: 'hold', run: async (ctx) => { ctx.log.info('waiting for go'); await until('go', ctx.signal); for (let i = 0; i < 3; i++) ctx.log.info('released ' + i); } });
     d.task({ id: 'after', upstream: [hold], run: () => 'done' });
     export default d;`,
  );
  s = await testServer(ws, { kick: () => s.scheduler.tick(), dagRefreshMs: 200 });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
  stop = new AbortController();
  serving = s.scheduler.serve(stop.signal);
});

afterEach(async () => {
  for (const e of streams.splice(0)) e.close();
  stop.abort();
  await serving;
  await s.stop();
  ws.cleanup();
});

async function events(query = ''): Promise<EventStream> {
  const e = await openEvents(`${base}/api/v1/events${query}`);
  streams.push(e);
  return e;
}

async function trigger(dagId: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/dags/${dagId}/runs`, { method: 'POST', headers: { ...CSRF, 'content-type': 'application/json' }, body: '{}' });
  expect(res.status).toBe(201);
  return ((await res.json()) as { runId: string }).runId;
}

describe('GET /api/v1/events', () => {
  it('sends run, task and try events of a run triggered through the API, which starts at once', async () => {
    const all = await events('?dagId=alpha');
    const runId = await trigger('alpha');
    const done = await all.next('the run to succeed', (e) => e.event === 'run' && e.data.runId === runId && e.data.state === 'success');
    expect(done.data).toMatchObject({ dagId: 'alpha', triggeredBy: 'api', endDate: expect.any(String) });
    const second = await all.next('second to succeed', (e) => e.event === 'task' && e.data.taskId === 'second' && e.data.state === 'success');
    expect(second.data).toMatchObject({ dagId: 'alpha', runId, tryNumber: 1, markedByHand: false, progress: null });
    await all.next('a try event', (e) => e.event === 'try' && e.data.taskId === 'first' && e.data.state === 'success');
    // Ids are change seqs, increasing.
    const ids = all.events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    // Another DAG's events are not sent on this stream; a reconnect with Last-Event-ID gets what it missed.
    const everything = await events();
    const other = await trigger('waiter');
    counter.signal('go');
    const resumed = await openEvents(`${base}/api/v1/events?dagId=alpha`, { 'last-event-id': '0' });
    streams.push(resumed);
    await resumed.next('the missed run events', (e) => e.event === 'run' && e.data.runId === runId && e.data.state === 'success');
    await everything.next('the other run to finish', (e) => e.event === 'run' && e.data.runId === other && e.data.state === 'success');
    expect(all.events.filter((e) => e.data.dagId === 'waiter')).toEqual([]);
  });

  it("streams a try's new log lines while it runs, and the DAG's other runs too", async () => {
    const runEvents = await events('?dagId=waiter');
    const runId = await trigger('waiter');
    await runEvents.next('hold to run', (e) => e.event === 'task' && e.data.taskId === 'hold' && e.data.state === 'running');
    // The log names its run (logRun); without runId the state events are the whole DAG's.
    const logs = await events(`?dagId=waiter&logRun=${encodeURIComponent(runId)}&logTask=hold&logTry=1&logCursor=0`);
    await logs.next('the first line', (e) => e.event === 'log' && e.data.lines.some((l: { message: string }) => l.message === 'waiting for go'));
    const other = await trigger('waiter');
    await logs.next('the other run on the log stream', (e) => e.event === 'run' && e.data.runId === other);
    counter.signal('go');
    await logs.next('the last line', (e) => e.event === 'log' && e.data.lines.some((l: { message: string }) => l.message === 'released 2'));
    const lines = logs.events.filter((e) => e.event === 'log').flatMap((e) => e.data.lines.map((l: { id: number; message: string }) => l));
    expect(lines.map((l) => l.id)).toEqual([...new Set(lines.map((l) => l.id))].sort((a, b) => a - b));
    expect(logs.events.find((e) => e.event === 'log')!.data).toMatchObject({ dagId: 'waiter', runId, taskId: 'hold', tryNumber: 1 });
    await runEvents.next('the run to succeed', (e) => e.event === 'run' && e.data.runId === runId && e.data.state === 'success');
    expect(logs.events.filter((e) => e.event === 'log').every((e) => e.data.runId === runId)).toBe(true);
  });

  it('says when the DAG folder changed', async () => {
    const all = await events();
    ws.writeDag('gamma', `const d = dag({ id: 'gamma' }); d.task({ id: 't', run: () => 1 }); export default d;`);
    await all.next('a dags event', (e) => e.event === 'dags');
    const list = (await (await fetch(`${base}/api/v1/dags`)).json()) as { dags: { dagId: string }[] };
    expect(list.dags.map((d) => d.dagId)).toContain('gamma');
  });

  it('rejects bad filters with the field, and a try of an unknown run', async () => {
    const bad = await fetch(`${base}/api/v1/events?logTask=hold`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { fields: { path: string }[] } }).error.fields[0]!.path).toBe('logTry');
    const noRun = await fetch(`${base}/api/v1/events?dagId=waiter&runId=nope&logTask=hold&logTry=1`);
    expect(noRun.status).toBe(400);
    expect(((await noRun.json()) as { error: { fields: { path: string }[] } }).error.fields[0]!.path).toBe('logRun');
    const unknown = await fetch(`${base}/api/v1/events?dagId=waiter&logRun=nope&logTask=hold&logTry=1`);
    expect(unknown.status).toBe(404);
  });
});
