/** `orch web` and `orch standalone` as a user runs them: child processes on a real port. */
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, killAll, orch, spawnOrch, type OrchProcess } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { DATASETS, killEngines, repoWorkspace } from '../helpers/movielens.ts';
import { ALPHA, CSRF, openEvents, type EventStream } from './support.ts';

let ws: Workspace;
const streams: EventStream[] = [];

beforeEach(() => {
  ws = workspace();
  ws.writeDag('alpha', ALPHA);
});

afterEach(async () => {
  for (const e of streams.splice(0)) e.close();
  await killAll();
  ws.cleanup();
});

/** Start `orch <mode> --port 0` and return it with the URL it printed. */
async function start(w: Workspace, args: string[], env: Record<string, string> = {}): Promise<{ proc: OrchProcess; url: string }> {
  const proc = spawnOrch(w, [...args, '--port', '0'], env);
  await proc.waitForOutput(/^orch (web|standalone): http:\/\/\S+$/m, 'the URL');
  return { proc, url: /^orch \w+: (http:\/\/\S+)$/m.exec(proc.stdout)![1]! };
}

async function events(url: string): Promise<EventStream> {
  const e = await openEvents(url);
  streams.push(e);
  return e;
}

async function stop(proc: OrchProcess): Promise<void> {
  proc.child.kill('SIGTERM');
  const { code, signal } = await proc.waitForExit();
  expect({ code, signal }, proc.stderr).toEqual({ code: 0, signal: null });
}

describe('orch web and orch standalone', () => {
  it('refuses a non-loopback --host without auth, saying how to set it', async () => {
    const r = await orch(ws, ['standalone', '--host', '0.0.0.0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error ORCH_WEB_AUTH_REQUIRED: .*ORCH_WEB_TOKEN.*orch\.config\.json/)]);
    expect(r.stdout).toBe('');
  });

  it('says in one line when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await orch(ws, ['web', '--port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error ORCH_WEB_PORT_IN_USE: port ${port} on 127\\.0\\.0\\.1 is in use`, 'm'));
    } finally {
      taken.close();
    }
  });

  it('orch web beside a separate orch scheduler: a run triggered through the API runs, and the stream shows it', async () => {
    const web = await start(ws, ['web']);
    const health = async () => ((await (await fetch(`${web.url}/api/v1/health`)).json()) as { schedulerAlive: boolean }).schedulerAlive;
    expect(await health()).toBe(false);
    const stream = await events(`${web.url}/api/v1/events?dagId=alpha`);
    const res = await fetch(`${web.url}/api/v1/dags/alpha/runs`, { method: 'POST', headers: { ...CSRF, 'content-type': 'application/json', 'x-orch-client': 'web' }, body: JSON.stringify({ conf: { size: 3 } }) });
    expect(res.status).toBe(201);
    const { runId } = (await res.json()) as { runId: string };
    await stream.next('the run event of the trigger', (e) => e.event === 'run' && e.data.runId === runId && e.data.state === 'queued');

    const scheduler = spawnOrch(ws, ['scheduler']);
    await scheduler.waitForOutput(/scheduler started/, 'the scheduler to start');
    const done = await stream.next('the run to succeed', (e) => e.event === 'run' && e.data.runId === runId && e.data.state === 'success');
    expect(done.data).toMatchObject({ triggeredBy: 'ui', params: { size: 3, label: 'x' } });
    await stream.next('its tasks', (e) => e.event === 'task' && e.data.taskId === 'second' && e.data.state === 'success');
    expect(await health()).toBe(true);
    await stop(scheduler);
    expect(await health()).toBe(false);
    // An open event stream does not keep the server from stopping.
    await stop(web.proc);
    expect(new DbView(ws.db).runs('alpha')).toEqual([expect.objectContaining({ runId, state: 'success' })]);
  });
});

describe('orch standalone with the real transform_movielens DAG', () => {
  it('runs it to success from an API trigger, with statement progress and logs', async () => {
    const repo = repoWorkspace();
    try {
      const sa = await start(repo, ['standalone']);
      const stream = await events(`${sa.url}/api/v1/events?dagId=transform_movielens`);
      const res = await fetch(`${sa.url}/api/v1/dags/transform_movielens/runs`, { method: 'POST', headers: { ...CSRF, 'content-type': 'application/json' }, body: JSON.stringify({ conf: { output: repo.out } }) });
      expect(res.status, await res.clone().text()).toBe(201);
      const { runId } = (await res.json()) as { runId: string };
      await stream.next('the run to succeed', (e) => e.event === 'run' && e.data.runId === runId && ['success', 'failed'].includes(e.data.state));
      const run = (await (await fetch(`${sa.url}/api/v1/dags/transform_movielens/runs/${encodeURIComponent(runId)}`)).json()) as any;
      expect(run.state, JSON.stringify(run.tasks.map((t: any) => [t.taskId, t.state, t.error]))).toBe('success');
      expect(run.cluster).toMatchObject({ backend: 'embedded', taskId: 'create_cluster', clusterId: expect.stringMatching(/movielens/), url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
      const transforms = run.tasks.filter((t: any) => t.taskId.startsWith('transform_'));
      expect(transforms).toHaveLength(DATASETS.length);
      for (const t of transforms) expect(t, t.taskId).toMatchObject({ state: 'success', progress: 1 });
      expect(stream.events.some((e) => e.event === 'handle' && e.data.kind === 'livy-statement')).toBe(true);
      const logs = (await (await fetch(`${sa.url}/api/v1/dags/transform_movielens/runs/${encodeURIComponent(runId)}/tasks/transform_movies/tries/1/logs`)).json()) as any;
      expect(logs.final).toBe(true);
      expect(logs.lines.some((l: any) => l.source === 'livy')).toBe(true);
      await stop(sa.proc);
    } finally {
      killEngines(repo.db);
      repo.cleanup();
    }
  });
});
