import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspace, type Workspace } from '../../helpers/dags.ts';
import { harness } from '../../helpers/scheduler.ts';

let ws: Workspace;
beforeEach(() => {
  ws = workspace();
  ws.writeDag('p', `
    const d = dag({
      id: 'p',
      params: z.object({ source: z.string().default('data/sample'), limit: z.number().int().positive().default(10) }),
    });
    const first = d.task({ id: 'first', run: (ctx) => { ctx.xcom.push('extra', { n: 7 }); return { source: ctx.params.source, limit: ctx.params.limit }; } });
    d.task({ id: 'second', upstream: [first], run: (ctx) => ({
      fromFirst: ctx.xcom.pull('first'),
      extra: ctx.xcom.pull('first', 'extra'),
      missing: ctx.xcom.get('first', 'nope') ?? null,
      ds: ctx.ds,
      runId: ctx.runId,
    }) });
    export default d;`);
});
afterEach(() => ws.cleanup());

const value = (h: Awaited<ReturnType<typeof harness>>, runId: string, taskId: string) => {
  const r = h.store.xcom.get({ dagId: 'p', runId, taskId }, 'return_value');
  return r.found ? r.value : undefined;
};

describe('XCom and params', () => {
  it('passes return values and pushed values downstream', async () => {
    const h = await harness(ws);
    const { run } = await h.scheduler.runDag('p');
    expect(value(h, run.runId, 'second')).toEqual({
      fromFirst: { source: 'data/sample', limit: 10 },
      extra: { n: 7 },
      missing: null,
      ds: run.logicalDate.slice(0, 10),
      runId: run.runId,
    });
    h.close();
  });

  it('fills params from their defaults', async () => {
    const h = await harness(ws);
    const { run } = await h.scheduler.runDag('p');
    expect(run.params).toEqual({ source: 'data/sample', limit: 10 });
    h.close();
  });

  it('lets the conf override a param, keeping the other defaults', async () => {
    const h = await harness(ws);
    const { run } = await h.scheduler.runDag('p', { conf: { source: '/data/ml-25m' } });
    expect(value(h, run.runId, 'first')).toEqual({ source: '/data/ml-25m', limit: 10 });
    expect(run.conf).toEqual({ source: '/data/ml-25m' });
    h.close();
  });

  it('rejects a conf that fails the schema before creating anything, naming the field', async () => {
    const h = await harness(ws);
    await expect(h.scheduler.runDag('p', { conf: { limit: -1 } })).rejects.toMatchObject({
      code: 'ORCH_PARAMS_INVALID',
      message: expect.stringContaining('limit'),
    });
    await expect(h.scheduler.runDag('p', { conf: { sorce: 'x' } })).rejects.toMatchObject({
      code: 'ORCH_PARAMS_INVALID',
      message: expect.stringContaining("did you mean 'source'"),
    });
    expect(h.store.runs.list({ dagId: 'p' })).toEqual([]);
    h.close();
  });

  it('fails a task that pulls an XCom nobody pushed, saying which', async () => {
    ws.writeDag('nox', `
      const d = dag({ id: 'nox' });
      const a = d.task({ id: 'a', run: () => undefined });
      d.task({ id: 'b', upstream: [a], run: (ctx) => ctx.xcom.pull('a') });
      export default d;`);
    const h = await harness(ws);
    await h.bag.refresh();
    const { run, state } = await h.scheduler.runDag('nox');
    expect(state).toBe('failed');
    expect(h.store.tis.get({ dagId: 'nox', runId: run.runId, taskId: 'b' })!.error).toContain("no XCom 'return_value' from task 'a'");
    h.close();
  });
});
