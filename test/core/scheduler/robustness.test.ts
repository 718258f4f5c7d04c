/** What keeps runs from hanging or lying when things go wrong around them. */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelRun } from '../../../src/core/run-commands.ts';
import { runTry } from '../../../src/core/executor.ts';
import type { TaskContext } from '../../../src/sdk/index.ts';
import { waitFor } from '../../helpers/cli.ts';
import { REPO, workspace, type Workspace } from '../../helpers/dags.ts';
import { harness } from '../../helpers/scheduler.ts';

let ws: Workspace;
beforeEach(() => (ws = workspace()));
afterEach(() => ws.cleanup());

describe('runs that must not hang', () => {
  it('fails a task whose return value cannot be stored as XCom, and finishes the run', async () => {
    ws.writeDag('bad_value', `
      const d = dag({ id: 'bad_value' });
      const a = d.task({ id: 'a', run: () => () => 'a function' });
      const b = d.task({ id: 'b', run: () => ({ big: 1n }) });
      d.task({ id: 'after', upstream: [a, b], triggerRule: 'all_done', run: () => 'ran' });
      export default d;`);
    const h = await harness(ws);
    const { run, state } = await h.scheduler.runDag('bad_value');
    expect(state).toBe('failed');
    const ti = (id: string) => h.store.tis.get({ dagId: 'bad_value', runId: run.runId, taskId: id })!;
    expect(ti('a').state).toBe('failed');
    expect(ti('a').error).toContain("task 'a' returned a function, which cannot be stored as XCom");
    expect(ti('b').error).toContain("task 'b' returned a value that cannot be stored as XCom");
    expect(ti('after').state).toBe('success');
    h.close();
  });

  it('does not let the running tasks of a dead, unadopted run hold maxActiveTasks once their lease is over', async () => {
    ws.writeDag('capped', `
      const d = dag({ id: 'capped', maxActiveTasks: 1, params: z.object({ day: z.string().default('x') }) });
      d.task({ id: 'a', run: () => 1 });
      export default d;`);
    const h = await harness(ws);
    // A run left by a process that died on another host: its task still says running, lease over.
    const dead = h.store.runs.create({
      dagId: 'capped', runId: 'dead', runType: 'manual', triggeredBy: 'cli', logicalDate: '2026-01-01T00:00:00.000Z',
      dataIntervalStart: '2026-01-01T00:00:00.000Z', dataIntervalEnd: '2026-01-01T00:00:00.000Z', conf: { day: 'x' }, params: { day: 'x' },
      queuedAt: '2026-01-01T00:00:00.000Z', tasks: [{ taskId: 'a', maxTries: 1, pool: 'default_pool', operator: 'function' }],
    });
    const past = '2026-01-01T00:00:01.000Z';
    h.store.runs.claim(dead.dagId, dead.runId, { id: 'gone', host: 'elsewhere', pid: 1 }, past, past, () => false);
    h.store.tis.startTry({ dagId: 'capped', runId: 'dead', taskId: 'a' }, ['none'], { id: 'gone', host: 'elsewhere', pid: 1 }, past, past);
    const { state } = await h.scheduler.runDag('capped', { conf: { day: 'y' } });
    expect(state).toBe('success');
    h.close();
  });

  it('lets a teardown retry in a cancelled run', async () => {
    ws.writeDag('retry_teardown', `
      const d = dag({ id: 'retry_teardown' });
      const work = d.task({ id: 'work', run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))) });
      d.task({ id: 'teardown', upstream: [work], triggerRule: 'all_done', retries: 1, retryDelay: '10ms',
        run: (ctx) => { if (ctx.tryNumber === 1) throw new Error('transient'); return 'down'; } });
      export default d;`);
    const h = await harness(ws);
    const done = h.scheduler.runDag('retry_teardown');
    await waitFor('the run to start', () => h.store.runs.list({ dagId: 'retry_teardown' })[0]?.state === 'running');
    const runId = h.store.runs.list({ dagId: 'retry_teardown' })[0]!.runId;
    await waitFor('work to start', () => h.store.tis.get({ dagId: 'retry_teardown', runId, taskId: 'work' })?.state === 'running');
    cancelRun(h.store, 'retry_teardown', runId, new Date());
    const result = await done;
    expect(result.state).toBe('failed');
    const teardown = h.store.tis.get({ dagId: 'retry_teardown', runId, taskId: 'teardown' })!;
    expect([teardown.state, teardown.tryNumber]).toEqual(['success', 2]);
    h.close();
  });

  it('stops driving a run whose lease another process took, recording nothing for its tries', async () => {
    ws.writeDag('stolen', `
      const d = dag({ id: 'stolen' });
      d.task({ id: 'a', run: (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('too late'))) });
      export default d;`);
    const h = await harness(ws);
    const done = h.scheduler.runDag('stolen');
    await waitFor('a to start', () => h.store.tis.listForRun('stolen', h.store.runs.list({ dagId: 'stolen' })[0]?.runId ?? '').some((t) => t.state === 'running'));
    const runId = h.store.runs.list({ dagId: 'stolen' })[0]!.runId;
    h.store.db.prepare(`UPDATE dag_run SET owner_id = 'someone-else' WHERE run_id = ?`).run(runId);
    const result = await done;
    expect(result.state).toBe('running');
    const a = h.store.tis.get({ dagId: 'stolen', runId, taskId: 'a' })!;
    expect(a.state).toBe('running');
    expect(h.store.xcom.get({ dagId: 'stolen', runId, taskId: 'a' }, 'return_value').found).toBe(false);
    h.close();
  });
});

describe('a database locked by another process past the busy timeout', () => {
  it('records the end of a try once the lock is gone, instead of losing it or failing the try; the run finishes', async () => {
    const go = join(ws.root, 'go');
    ws.writeDag('locked', `
      import { existsSync } from 'node:fs';
      const d = dag({ id: 'locked' });
      const a = d.task({ id: 'a', run: async (ctx) => { while (!existsSync(${JSON.stringify(go)})) { if (ctx.signal.aborted) throw ctx.signal.reason; await new Promise((r) => setTimeout(r, 20)); } return 42; } });
      d.task({ id: 'b', upstream: [a], run: (ctx) => ctx.xcom.pull<number>('a') + 1 });
      export default d;`);
    // Leases outlast the lock: this is about a write that waits, not about a lost lease.
    const h = await harness(ws, { leaseMs: 120_000 });
    const done = h.scheduler.runDag('locked');
    await waitFor('a to start', () => h.store.tis.listForRun('locked', h.store.runs.list({ dagId: 'locked' })[0]?.runId ?? '').some((t) => t.state === 'running'));
    // Another process holds the write lock for longer than the 10 s busy timeout (an open sqlite3 shell, a backup).
    const holder = spawn(process.execPath, ['-e', `
      const db = new (require(${JSON.stringify(join(REPO, 'node_modules/better-sqlite3'))}))(${JSON.stringify(ws.db)});
      db.exec('BEGIN IMMEDIATE'); console.log('locked');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 13_000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    writeFileSync(go, '');
    const { run, state } = await done;
    expect(state).toBe('success');
    const key = (taskId: string) => ({ dagId: 'locked', runId: run.runId, taskId });
    expect(h.store.tis.get(key('a'))).toMatchObject({ state: 'success', tryNumber: 1 });
    expect(h.store.xcom.get(key('b'), 'return_value')).toEqual({ found: true, value: 43 });
    h.close();
  });
});

describe('a run taken over by another process', () => {
  it('leaves what a resumable try opened to the new owner: no cleanup, nothing recorded', async () => {
    const cleanups = join(ws.root, 'cleanups');
    ws.writeDag('taken', `
      import { appendFileSync } from 'node:fs';
      const d = dag({ id: 'taken' });
      d.task({
        id: 'a',
        run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
        resume: () => 'resumed',
        cleanup: () => appendFileSync(${JSON.stringify(cleanups)}, 'x'),
      });
      export default d;`);
    const h = await harness(ws);
    const done = h.scheduler.runDag('taken');
    await waitFor('a to start', () => h.store.tis.listForRun('taken', h.store.runs.list({ dagId: 'taken' })[0]?.runId ?? '').some((t) => t.state === 'running'));
    const runId = h.store.runs.list({ dagId: 'taken' })[0]!.runId;
    h.store.db.prepare(`UPDATE dag_run SET owner_id = 'someone-else' WHERE run_id = ?`).run(runId);
    expect((await done).state).toBe('running');
    expect(h.store.tis.get({ dagId: 'taken', runId, taskId: 'a' })!.state).toBe('running');
    expect(existsSync(cleanups)).toBe(false);
    h.close();
  });
});

describe('cleanup', () => {
  it('gives up on a cleanup that never finishes, so the try still ends', async () => {
    const lines: string[] = [];
    const ctx = { taskId: 't', log: { error: (m: string) => lines.push(m) } } as unknown as TaskContext;
    const result = await runTry(
      { execute: async () => 'done', resume: undefined, cleanup: () => new Promise(() => {}), preflight: undefined },
      ctx,
      { mode: 'execute', timeoutMs: undefined, abortGraceMs: 100, controller: new AbortController(), cleanupTimeoutMs: 100 },
    );
    expect(result).toEqual({ state: 'success', value: 'done' });
    expect(lines).toEqual(['cleanup failed: did not finish within 0.1 s; gave up on it']);
  });
});
