/**
 * How a try ends, whatever the task does: throws something odd, blocks the event loop,
 * prints to the console, or runs in a worker thread of its own. Real scheduler, real
 * SQLite file, real DAG files.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelRun } from '../../src/core/run-commands.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { harness, type Harness } from '../helpers/scheduler.ts';
import { DbView, orch, waitFor } from '../helpers/cli.ts';

let ws: Workspace;
let h: Harness | undefined;
beforeEach(() => (ws = workspace()));
afterEach(() => {
  h?.close();
  h = undefined;
  ws.cleanup();
});

async function run(dagId: string, options: Parameters<typeof harness>[1] = {}) {
  h = await harness(ws, options);
  const result = await h.scheduler.runDag(dagId);
  const ti = (taskId: string) => h!.store.tis.get({ dagId, runId: result.run.runId, taskId })!;
  const lines = (taskId: string, tryNumber = 1) => h!.store.logs.read({ dagId, runId: result.run.runId, taskId }, tryNumber);
  return { ...result, ti, lines };
}

describe('a task that throws', () => {
  it('fails, and its run finishes, whatever it throws: a null-prototype object, undefined, null, a string, a plain object', async () => {
    ws.writeDag('throws', `
      const d = dag({ id: 'throws' });
      d.task({ id: 'null_proto', run: () => { throw Object.create(null); } });
      d.task({ id: 'null_proto_fields', run: () => { const e = Object.create(null); e.code = 'E42'; throw e; } });
      d.task({ id: 'undefined', run: () => { throw undefined; } });
      d.task({ id: 'null', run: async () => { throw null; } });
      d.task({ id: 'string', run: () => { throw 'quota exceeded'; } });
      d.task({ id: 'object', run: () => { throw { status: 503, detail: 'try later' }; } });
      d.task({ id: 'message_object', run: () => { const e = new Error('x'); (e as any).message = Object.create(null); throw e; } });
      export default d;`);
    const r = await run('throws');
    expect(r.state).toBe('failed');
    const failed = (id: string) => {
      expect(r.ti(id).state).toBe('failed');
      return r.ti(id).error;
    };
    expect(failed('null_proto')).toBe('threw [Object: null prototype] {}');
    expect(failed('null_proto_fields')).toBe('threw {"code":"E42"}');
    expect(failed('undefined')).toBe('threw undefined');
    expect(failed('null')).toBe('threw null');
    expect(failed('string')).toBe('quota exceeded');
    expect(failed('object')).toBe('threw {"status":503,"detail":"try later"}');
    expect(failed('message_object')).toBe('Error');
    // Nothing holds a slot or a lease afterwards.
    expect(h!.store.tis.listForRun('throws', r.run.runId).every((t) => t.ownerId === null)).toBe(true);
  });
});

describe('executionTimeout', () => {
  it('records a try that blocked the event loop past its timeout as timed out, never as success', async () => {
    ws.writeDag('blocks', `
      const d = dag({ id: 'blocks' });
      d.task({ id: 'spin', executionTimeout: '200ms', run: () => { const end = Date.now() + 1500; while (Date.now() < end) {} return 'finished late'; } });
      export default d;`);
    const r = await run('blocks');
    expect(r.state).toBe('failed');
    expect(r.ti('spin').state).toBe('failed');
    expect(r.ti('spin').error).toBe("task 'spin' exceeded its executionTimeout of 200 ms and was aborted");
    expect(h!.store.xcom.get({ dagId: 'blocks', runId: r.run.runId, taskId: 'spin' }, 'return_value').found).toBe(false);
  });
});

describe('console output of a function task', () => {
  it("lands in that try's log, with its stream and level, also after awaits and timers", async () => {
    ws.writeDag('chatty', `
      const d = dag({ id: 'chatty' });
      d.task({ id: 'talk', run: async () => {
        console.log('rows read:', 42);
        await new Promise((r) => setTimeout(r, 10));
        console.warn('slow disk');
        console.error({ bad: 'record' });
        console.info('two\\nlines');
        return 'ok';
      } });
      export default d;`);
    const r = await run('chatty');
    expect(r.state).toBe('success');
    const lines = r.lines('talk').filter((l) => l.source !== 'orch').map((l) => [l.source, l.level, l.message]);
    expect(lines).toEqual([
      ['stdout', 'info', 'rows read: 42'],
      ['stderr', 'warn', 'slow disk'],
      ['stderr', 'error', "{ bad: 'record' }"],
      ['stdout', 'info', 'two'],
      ['stdout', 'info', 'lines'],
    ]);
  });
});

describe("isolation: 'worker'", () => {
  it('stops a task stuck in synchronous work at its timeout, while the other tasks of the run go on', async () => {
    ws.writeDag('stuck', `
      const d = dag({ id: 'stuck' });
      d.task({ id: 'forever', isolation: 'worker', executionTimeout: '300ms', run: () => { while (true) {} } });
      d.task({ id: 'meanwhile', run: async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 50)); return 'done'; } });
      export default d;`);
    // Were 'forever' inline, the run would never end: its loop never yields.
    const r = await run('stuck');
    expect(r.state).toBe('failed');
    expect(r.ti('forever').error).toBe("task 'forever' exceeded its executionTimeout of 300 ms and was aborted");
    expect(r.ti('meanwhile').state).toBe('success');
  });

  it('terminates a thread that cannot even take the abort at once, without waiting out the grace', async () => {
    const started = join(ws.root, 'started');
    ws.writeDag('stuck_cancel', `
      import { writeFileSync } from 'node:fs';
      const d = dag({ id: 'stuck_cancel' });
      d.task({ id: 'forever', isolation: 'worker', run: () => { writeFileSync(${JSON.stringify(started)}, ''); while (true) {} } });
      export default d;`);
    // A grace far longer than the test may take: only the quick path can end this run in time.
    h = await harness(ws, { abortGraceMs: 600_000 });
    const done = h.scheduler.runDag('stuck_cancel');
    await waitFor('the task to be in its loop', () => existsSync(started));
    const runId = h.store.runs.list({ dagId: 'stuck_cancel' })[0]!.runId;
    cancelRun(h.store, 'stuck_cancel', runId, new Date());
    expect((await done).state).toBe('failed');
    const lines = h.store.logs.read({ dagId: 'stuck_cancel', runId, taskId: 'forever' }, 1).map((l) => l.message);
    expect(lines).toContain('the worker thread did not take the abort within 1 s (stuck in synchronous work); terminated it');
  });

  it('gives the task params, XCom, handles, a log and console capture as inline, and its return value becomes its XCom', async () => {
    ws.writeDag('threaded', `
      const d = dag({ id: 'threaded', params: z.object({ factor: z.number().default(3) }) });
      const a = d.task({ id: 'a', run: () => 14 });
      const b = d.task({ id: 'b', upstream: [a], isolation: 'worker', run: (ctx) => {
        ctx.log.info('in a thread');
        console.log('from the console');
        ctx.xcom.push('extra', { threadId: 'worker' });
        ctx.handles.record({ kind: 'job', externalId: 'j-1' });
        return ctx.xcom.pull<number>('a') * ctx.params.factor;
      } });
      d.task({ id: 'c', upstream: [b], run: (ctx) => [ctx.xcom.pull('b'), ctx.xcom.pull('b', 'extra')] });
      export default d;`);
    const r = await run('threaded');
    expect(r.state).toBe('success');
    const key = (taskId: string) => ({ dagId: 'threaded', runId: r.run.runId, taskId });
    expect(h!.store.xcom.get(key('c'), 'return_value')).toEqual({ found: true, value: [42, { threadId: 'worker' }] });
    expect(h!.store.handles.listForTask(key('b')).map((x) => x.externalId)).toEqual(['j-1']);
    const messages = r.lines('b').map((l) => l.message);
    expect(messages).toContain('in a thread');
    expect(messages).toContain('from the console');
  });

  it('fails with the error the task threw in its thread, keeping its message and that it must not be retried', async () => {
    ws.writeDag('thread_throws', `
      const d = dag({ id: 'thread_throws' });
      d.task({ id: 't', retries: 2, retryDelay: '10ms', isolation: 'worker', run: () => {
        const e = new Error('bad input file /data/x.csv'); (e as any).retryable = false; throw e;
      } });
      export default d;`);
    const r = await run('thread_throws');
    expect(r.ti('t').state).toBe('failed');
    expect(r.ti('t').error).toBe('bad input file /data/x.csv');
    expect(r.ti('t').tryNumber).toBe(1);
  });

  it('is refused on an operator task, naming the task', async () => {
    ws.writeDag('bad_isolation', `
      import { cluster } from ${JSON.stringify(new URL('../../src/sdk/index.ts', import.meta.url).pathname)};
      const d = dag({ id: 'bad_isolation' });
      d.task({ id: 'create', isolation: 'worker', operator: cluster.create() });
      export default d;`);
    h = await harness(ws);
    expect(h.bag.errors().map((e) => e.message)).toEqual([
      expect.stringContaining("task 'create': isolation 'worker' is for function tasks (run); operator tasks wait on I/O and always run inline"),
    ]);
  });
});

describe('an error that escapes a task (thrown in a callback, a promise nobody awaited)', () => {
  it('fails that try, and the process and its other tasks go on', async () => {
    ws.writeDag('escapes', `
      const d = dag({ id: 'escapes' });
      d.task({ id: 'timer_throws', run: (ctx) => new Promise((_, reject) => {
        setTimeout(() => { throw new Error('boom in a timer'); }, 10);
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
      }) });
      d.task({ id: 'not_awaited', run: async (ctx) => {
        void Promise.reject(new Error('nobody awaited me'));
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      } });
      d.task({ id: 'steady', run: async () => { await new Promise((r) => setTimeout(r, 300)); return 'fine'; } });
      export default d;`);
    const r = await orch(ws, ['run', 'escapes']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('✗ timer_throws: boom in a timer');
    expect(r.stdout).toContain('✗ not_awaited: nobody awaited me');
    expect(r.stdout).toMatch(/\] steady success/);
    const db = new DbView(ws.db);
    try {
      const [run] = db.runs('escapes');
      expect(db.logs('escapes', run!.runId, 'timer_throws', 1)).toContain("an error escaped the task's code (thrown in a callback, or a promise nobody awaited): boom in a timer");
    } finally {
      db.close();
    }
  });
});
