import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../../src/core/retry.ts';
import { workspace, type Workspace } from '../../helpers/dags.ts';
import { harness } from '../../helpers/scheduler.ts';

let ws: Workspace;
beforeEach(() => (ws = workspace()));
afterEach(() => ws.cleanup());

describe('retries', () => {
  it('retries a failing task and succeeds on a later try, keeping each try and its log', async () => {
    ws.writeDag('flaky', `
      let calls = 0;
      const d = dag({ id: 'flaky' });
      d.task({ id: 'a', retries: 2, retryDelay: '50ms', run: (ctx) => {
        calls++;
        ctx.log.info('attempt ' + ctx.tryNumber);
        if (ctx.tryNumber < 3) throw new Error('transient ' + ctx.tryNumber);
        return 'ok';
      } });
      export default d;`);
    const h = await harness(ws);
    const { run, state } = await h.scheduler.runDag('flaky');
    expect(state).toBe('success');
    const key = { dagId: 'flaky', runId: run.runId, taskId: 'a' };
    const tries = h.store.tis.tries(key);
    expect(tries.map((t) => [t.tryNumber, t.state, t.error])).toEqual([
      [1, 'failed', 'transient 1'],
      [2, 'failed', 'transient 2'],
      [3, 'success', null],
    ]);
    // The retry waited at least the configured delay after the failure.
    expect(Date.parse(tries[1]!.startDate) - Date.parse(tries[0]!.endDate!)).toBeGreaterThanOrEqual(50);
    expect(h.store.logs.read(key, 1).map((l) => l.message)).toContain('attempt 1');
    expect(h.store.logs.read(key, 2).map((l) => l.message)).toContain('attempt 2');
    expect(h.store.logs.read(key, 2).map((l) => l.message)).not.toContain('attempt 1');
    expect(h.store.tis.get(key)!.tryNumber).toBe(3);
    h.close();
  });

  it('fails the task once retries are used up, with the last error', async () => {
    ws.writeDag('broken', `
      const d = dag({ id: 'broken' });
      const a = d.task({ id: 'a', retries: 1, retryDelay: '10ms', run: (ctx) => { throw new Error('bad input in try ' + ctx.tryNumber); } });
      d.task({ id: 'b', upstream: [a], run: () => 1 });
      export default d;`);
    const h = await harness(ws);
    const { run, state } = await h.scheduler.runDag('broken');
    expect(state).toBe('failed');
    const a = h.store.tis.get({ dagId: 'broken', runId: run.runId, taskId: 'a' })!;
    expect([a.state, a.tryNumber, a.error]).toEqual(['failed', 2, 'bad input in try 2']);
    expect(h.store.tis.get({ dagId: 'broken', runId: run.runId, taskId: 'b' })!.state).toBe('upstream_failed');
    h.close();
  });

  it('backs off exponentially with jitter, capped by maxRetryDelay', () => {
    const policy = { retryDelayMs: 1_000, retryExponentialBackoff: true, maxRetryDelayMs: 5_000 };
    const low = () => 0;
    const high = () => 1;
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n, high))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect([1, 2, 3].map((n) => retryDelayMs(policy, n, low))).toEqual([500, 1_000, 2_000]);
    expect(retryDelayMs({ ...policy, retryExponentialBackoff: false }, 4, high)).toBe(1_000);
  });

  it('waits the backoff between real tries', async () => {
    ws.writeDag('backoff', `
      const d = dag({ id: 'backoff' });
      d.task({ id: 'a', retries: 2, retryDelay: '40ms', retryExponentialBackoff: true, maxRetryDelay: '1s',
        run: (ctx) => { if (ctx.tryNumber < 3) throw new Error('again'); } });
      export default d;`);
    const h = await harness(ws);
    const { run } = await h.scheduler.runDag('backoff');
    const tries = h.store.tis.tries({ dagId: 'backoff', runId: run.runId, taskId: 'a' });
    const gap = (i: number) => Date.parse(tries[i + 1]!.startDate) - Date.parse(tries[i]!.endDate!);
    // Try 2 waits within [20, 40] ms, try 3 within [40, 80] ms: at least the lower bound each time.
    expect(gap(0)).toBeGreaterThanOrEqual(20);
    expect(gap(1)).toBeGreaterThanOrEqual(40);
    h.close();
  });
});

describe('executionTimeout', () => {
  it('aborts a try that runs too long through its signal and runs its cleanup', async () => {
    const marker = join(ws.root, 'cleanup.txt');
    ws.writeDag('slow', `
      import { appendFileSync } from 'node:fs';
      const d = dag({ id: 'slow' });
      d.task({
        id: 'a',
        executionTimeout: '150ms',
        run: (ctx) => new Promise((resolve, reject) => {
          const t = setTimeout(resolve, 10_000);
          ctx.signal.addEventListener('abort', () => { clearTimeout(t); reject(ctx.signal.reason); });
        }),
        cleanup: (ctx, outcome) => appendFileSync(${JSON.stringify(marker)}, ctx.tryNumber + ':' + outcome.state + ':' + (outcome.state === 'failed' ? outcome.error.message : '') + '\\n'),
      });
      export default d;`);
    const h = await harness(ws);
    const { run, state } = await h.scheduler.runDag('slow');
    expect(state).toBe('failed');
    const ti = h.store.tis.get({ dagId: 'slow', runId: run.runId, taskId: 'a' })!;
    expect(ti.error).toContain('exceeded its executionTimeout of 150 ms');
    expect(readFileSync(marker, 'utf8')).toContain('1:failed:');
    expect(readFileSync(marker, 'utf8')).toContain('executionTimeout');
    h.close();
  });

  it('gives up on a task that ignores its signal after the grace period', async () => {
    ws.writeDag('stubborn', `
      const d = dag({ id: 'stubborn' });
      d.task({ id: 'a', executionTimeout: '100ms', run: () => new Promise((r) => setTimeout(r, 5_000)) });
      export default d;`);
    const h = await harness(ws, { abortGraceMs: 100 });
    const { run, state } = await h.scheduler.runDag('stubborn');
    expect(state).toBe('failed');
    expect(h.store.tis.get({ dagId: 'stubborn', runId: run.runId, taskId: 'a' })!.error).toContain('executionTimeout');
    h.close();
  });

  it('retries a timed-out try when retries remain', async () => {
    ws.writeDag('timeout_retry', `
      const d = dag({ id: 'timeout_retry' });
      d.task({ id: 'a', retries: 1, retryDelay: '10ms', executionTimeout: '100ms',
        run: (ctx) => ctx.tryNumber === 1 ? new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))) : 'second try' });
      export default d;`);
    const h = await harness(ws);
    const { run, state } = await h.scheduler.runDag('timeout_retry');
    expect(state).toBe('success');
    expect(h.store.xcom.get({ dagId: 'timeout_retry', runId: run.runId, taskId: 'a' }, 'return_value')).toEqual({ found: true, value: 'second try' });
    h.close();
  });
});
