import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskTryRow } from '../../../src/store/index.ts';
import { join } from 'node:path';
import { REPO, workspace, type Workspace } from '../../helpers/dags.ts';
import { harness } from '../../helpers/scheduler.ts';

let ws: Workspace;
beforeEach(() => (ws = workspace()));
afterEach(() => ws.cleanup());

/** The most tries that overlapped in time, from the recorded start/end of each. */
function maxOverlap(tries: TaskTryRow[]): number {
  const points = tries.flatMap((t) => [
    { at: Date.parse(t.startDate), delta: 1 },
    { at: Date.parse(t.endDate!), delta: -1 },
  ]);
  // Ends sort before starts at the same instant: a slot freed and retaken is not overlap.
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let cur = 0;
  let max = 0;
  for (const p of points) max = Math.max(max, (cur += p.delta));
  return max;
}

const FAN_OUT = (opts: string) => `
const d = dag({ id: 'fan', ${opts} });
const start = d.task({ id: 'start', run: () => 'go' });
for (let i = 1; i <= 6; i++) {
  d.task({ id: 't' + i, upstream: [start], run: async () => { await new Promise((r) => setTimeout(r, 60)); return i; } });
}
export default d;`;

describe('what a try sees when it starts', () => {
  it('is set going only once the row saying it runs, and its first log line, are committed', async () => {
    // The task reads the file through a connection of its own: it sees only what was committed.
    ws.writeDag('durable', `
      import { createRequire } from 'node:module';
      const Database = createRequire(import.meta.url)(${JSON.stringify(join(REPO, 'node_modules/better-sqlite3'))});
      const d = dag({ id: 'durable' });
      const look = (ctx) => {
        const db = new Database(${JSON.stringify(ws.db)}, { readonly: true });
        try {
          const row = db.prepare('SELECT state, try_number AS tryNumber FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ?').get(ctx.dagId, ctx.runId, ctx.taskId);
          const lines = db.prepare('SELECT message FROM task_log WHERE dag_id = ? AND run_id = ? AND task_id = ?').all(ctx.dagId, ctx.runId, ctx.taskId).map((l) => l.message);
          return { ...row, lines };
        } finally {
          db.close();
        }
      };
      const first = d.task({ id: 'first', run: look });
      d.task({ id: 'second', upstream: [first], run: look });
      export default d;`);
    const h = await harness(ws);
    const { run, state } = await h.scheduler.runDag('durable');
    expect(state).toBe('success');
    for (const taskId of ['first', 'second']) {
      const seen = (h.store.xcom.get({ dagId: 'durable', runId: run.runId, taskId }, 'return_value') as { value: unknown }).value as { state: string; tryNumber: number; lines: string[] };
      expect(seen).toMatchObject({ state: 'running', tryNumber: 1 });
      expect(seen.lines).toEqual([expect.stringMatching(/^starting try 1 of 1/)]);
    }
    h.close();
  });
});

describe('concurrency caps', () => {
  it('runs a fan-out of 6 with never more than maxActiveTasks: 3 at once, and finishes', async () => {
    ws.writeDag('fan', FAN_OUT('maxActiveTasks: 3'));
    const h = await harness(ws);
    const { run, state } = await h.scheduler.runDag('fan');
    expect(state).toBe('success');
    const tries = h.store.tis.triesForRun('fan', run.runId).filter((t) => t.taskId !== 'start');
    expect(tries).toHaveLength(6);
    expect(tries.every((t) => t.state === 'success' && t.endDate)).toBe(true);
    expect(maxOverlap(tries)).toBe(3);
    h.close();
  });

  it('holds a named pool to its slots', async () => {
    ws.writeDag('fan', FAN_OUT(`maxActiveTasks: 6, defaultArgs: { pool: 'spark' }`));
    const h = await harness(ws);
    h.store.dags.setPool('spark', 2);
    const { run, state } = await h.scheduler.runDag('fan');
    expect(state).toBe('success');
    expect(maxOverlap(h.store.tis.triesForRun('fan', run.runId).filter((t) => t.taskId !== 'start'))).toBe(2);
    h.close();
  });

  it('holds a pool to its slots across two schedulers, each with its own connection to the file', async () => {
    for (const id of ['fan_a', 'fan_b']) ws.writeDag(id, FAN_OUT(`maxActiveTasks: 6, defaultArgs: { pool: 'spark' }`).replace(`id: 'fan'`, `id: '${id}'`));
    const a = await harness(ws);
    const b = await harness(ws);
    a.store.dags.setPool('spark', 2);
    const [ra, rb] = await Promise.all([a.scheduler.runDag('fan_a'), b.scheduler.runDag('fan_b')]);
    expect([ra.state, rb.state]).toEqual(['success', 'success']);
    const tries = [...a.store.tis.triesForRun('fan_a', ra.run.runId), ...a.store.tis.triesForRun('fan_b', rb.run.runId)].filter((t) => t.taskId !== 'start');
    expect(tries).toHaveLength(12);
    expect(maxOverlap(tries)).toBeLessThanOrEqual(2);
    a.close();
    b.close();
  });

  it('holds the global parallelism of the process', async () => {
    ws.writeDag('fan', FAN_OUT('maxActiveTasks: 6'));
    const h = await harness(ws, { parallelism: 2 });
    const { run } = await h.scheduler.runDag('fan');
    expect(maxOverlap(h.store.tis.triesForRun('fan', run.runId))).toBe(2);
    h.close();
  });

  it('fails a task whose pool is not defined, naming the pool', async () => {
    ws.writeDag('nopool', `
      const d = dag({ id: 'nopool' });
      d.task({ id: 'a', pool: 'gpu', run: () => 1 });
      export default d;`);
    const h = await harness(ws);
    const { run, state } = await h.scheduler.runDag('nopool');
    expect(state).toBe('failed');
    const ti = h.store.tis.get({ dagId: 'nopool', runId: run.runId, taskId: 'a' })!;
    expect(ti.state).toBe('failed');
    expect(ti.error).toContain("pool 'gpu'");
    h.close();
  });

  it('starts a downstream task as soon as its upstream ends, before slower siblings finish', async () => {
    ws.writeDag('chain', `
      const d = dag({ id: 'chain' });
      const fast = d.task({ id: 'fast', run: () => 1 });
      d.task({ id: 'slow', run: () => new Promise((r) => setTimeout(r, 300)) });
      d.task({ id: 'after_fast', upstream: [fast], run: () => 2 });
      export default d;`);
    const h = await harness(ws);
    const { run } = await h.scheduler.runDag('chain');
    const tries = new Map(h.store.tis.triesForRun('chain', run.runId).map((t) => [t.taskId, t]));
    expect(Date.parse(tries.get('after_fast')!.endDate!)).toBeLessThan(Date.parse(tries.get('slow')!.endDate!));
    h.close();
  });
});
