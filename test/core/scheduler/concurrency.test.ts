import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskTryRow } from '../../../src/store/index.ts';
import { workspace, type Workspace } from '../../helpers/dags.ts';
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
