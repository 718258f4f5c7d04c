import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelRun, clearTasks, markTask } from '../../src/core/run-commands.ts';
import { waitFor } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { harness, type Harness } from '../helpers/scheduler.ts';

let ws: Workspace;
let h: Harness;
let counts: string;

beforeEach(async () => {
  ws = workspace();
  counts = join(ws.root, 'counts.txt');
  ws.writeDag('pipe', `
    import { appendFileSync } from 'node:fs';
    const mark = (id) => appendFileSync(${JSON.stringify(counts)}, id + '\\n');
    const d = dag({ id: 'pipe' });
    const create = d.task({ id: 'create', run: () => mark('create') });
    const work = d.task({ id: 'work', upstream: [create], run: (ctx) => new Promise((resolve, reject) => {
      mark('work');
      const t = setTimeout(resolve, Number(ctx.conf.workMs ?? 0));
      ctx.signal.addEventListener('abort', () => { clearTimeout(t); reject(ctx.signal.reason); });
    }) });
    const after = d.task({ id: 'after', upstream: [work], run: () => mark('after') });
    d.task({ id: 'teardown', upstream: [after], triggerRule: 'all_done', run: () => mark('teardown') });
    export default d;`);
  h = await harness(ws);
});
afterEach(() => {
  h.close();
  ws.cleanup();
});

const ran = () => (existsSync(counts) ? readFileSync(counts, 'utf8').trim().split('\n') : []);
const states = (runId: string) => Object.fromEntries(h.store.tis.listForRun('pipe', runId).map((t) => [t.taskId, t.state]));

describe('cancel, mark and clear', () => {
  it('cancelling a run stops the running task, skips what had not started, and still runs the teardown', async () => {
    const done = h.scheduler.runDag('pipe', { conf: { workMs: 30_000 } });
    await waitFor('work to start', () => ran().includes('work'));
    const runId = h.store.runs.list({ dagId: 'pipe' })[0]!.runId;
    expect(cancelRun(h.store, 'pipe', runId, new Date())).toBe('requested');
    const result = await done;
    expect(result.state).toBe('failed');
    expect(result.run.note).toBe('cancelled');
    expect(states(runId)).toEqual({ create: 'success', work: 'failed', after: 'skipped', teardown: 'success' });
    expect(ran()).toEqual(['create', 'work', 'teardown']);
  });

  it('cancelling during the first task waits for it to stop before running the teardown', async () => {
    ws.writeDag('slow_create', `
      const d = dag({ id: 'slow_create' });
      const create = d.task({ id: 'create', run: (ctx) => new Promise((_, reject) => {
        // Stopping takes a while, as killing a half-started cluster does.
        ctx.signal.addEventListener('abort', () => setTimeout(() => reject(ctx.signal.reason), 200));
      }) });
      const work = d.task({ id: 'work', upstream: [create], run: () => 1 });
      d.task({ id: 'teardown', upstream: [work], triggerRule: 'all_done', run: () => 'torn down' });
      export default d;`);
    await h.bag.refresh();
    const done = h.scheduler.runDag('slow_create');
    await waitFor('create to start', () => h.store.runs.list({ dagId: 'slow_create' })[0]?.state === 'running' && h.store.tis.listForRun('slow_create', h.store.runs.list({ dagId: 'slow_create' })[0]!.runId).some((t) => t.taskId === 'create' && t.state === 'running'));
    const runId = h.store.runs.list({ dagId: 'slow_create' })[0]!.runId;
    cancelRun(h.store, 'slow_create', runId, new Date());
    h.scheduler.cancel('slow_create', runId);
    const result = await done;
    expect(result.state).toBe('failed');
    const tries = new Map(h.store.tis.triesForRun('slow_create', runId).map((t) => [t.taskId, t]));
    expect(tries.get('work')).toBeUndefined();
    expect(Date.parse(tries.get('teardown')!.startDate)).toBeGreaterThanOrEqual(Date.parse(tries.get('create')!.endDate!));
  });

  it('marking a running task success stops it and lets downstream run', async () => {
    const done = h.scheduler.runDag('pipe', { conf: { workMs: 30_000 } });
    await waitFor('work to start', () => ran().includes('work'));
    const runId = h.store.runs.list({ dagId: 'pipe' })[0]!.runId;
    markTask(h.store, h.bag.get('pipe')!, runId, 'work', 'success', new Date());
    const result = await done;
    expect(result.state).toBe('success');
    expect(states(runId)).toEqual({ create: 'success', work: 'success', after: 'success', teardown: 'success' });
  });

  it('clearing a task with --downstream re-runs it and what follows, not what came before', async () => {
    const first = await h.scheduler.runDag('pipe');
    expect(first.state).toBe('success');
    const dag = h.bag.get('pipe')!;
    expect(clearTasks(h.store, dag, first.run.runId, ['work'], true)).toEqual(['work', 'after', 'teardown']);
    expect(h.store.runs.get('pipe', first.run.runId)!.state).toBe('running');
    const again = await h.scheduler.runDag('pipe');
    expect(again.adopted).toBe(true);
    expect(again.run.runId).toBe(first.run.runId);
    expect(again.state).toBe('success');
    expect(ran()).toEqual(['create', 'work', 'after', 'teardown', 'work', 'after', 'teardown']);
    expect(h.store.tis.get({ dagId: 'pipe', runId: first.run.runId, taskId: 'work' })!.tryNumber).toBe(2);
  });

  it('rejects an unknown run or task with the ids to use', () => {
    expect(() => cancelRun(h.store, 'pipe', 'nope', new Date())).toThrow(/has no run 'nope'.*orch runs list/);
  });
});
