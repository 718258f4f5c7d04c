/**
 * Following a run another process drives: every change after the moment the follower
 * announces the run reaches its events, even when this process is paused right then.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OrchEvents, type TaskEvent } from '../../src/core/events.ts';
import { followRun } from '../../src/core/run-follower.ts';
import { openStore, type Store } from '../../src/store/index.ts';

let store: Store;
afterEach(() => store?.close());

const T0 = '2026-12-02T10:00:00.000Z';

function runningRun(): { dagId: string; runId: string } {
  store = openStore(join(mkdtempSync(join(tmpdir(), 'orch-follow-')), 'orch.db'));
  const key = { dagId: 'slowstart', runId: 'manual__1' };
  store.runs.create({
    ...key, runType: 'manual', triggeredBy: 'cli', logicalDate: T0, dataIntervalStart: T0, dataIntervalEnd: T0, conf: {}, params: {}, queuedAt: T0,
    tasks: [{ taskId: 'work', maxTries: 1, pool: 'default_pool', operator: 'function' }],
  });
  const owner = { id: 'driver', host: 'h', pid: 1 };
  store.runs.claim(key.dagId, key.runId, owner, T0, '2999-01-01T00:00:00.000Z', () => false);
  store.tis.startTry({ ...key, taskId: 'work' }, ['none'], owner, T0, '2999-01-01T00:00:00.000Z');
  return key;
}

describe('following a run driven elsewhere', () => {
  it('reports a task that finished while the follower was announcing the run (a process paused at that moment)', async () => {
    const key = runningRun();
    const events = new OrchEvents();
    const seen: TaskEvent[] = [];
    events.on('task', (e) => seen.push(e));
    const result = await followRun(store.runs.get(key.dagId, key.runId)!, {
      store,
      events,
      pollMs: 10,
      adoptIfOrphaned: () => undefined,
      // The driver finishes the task and the run right as the follower says it follows.
      onStart: () => {
        store.tis.finishTry({ ...key, taskId: 'work' }, 1, 'success', T0, null);
        store.runs.finish(key.dagId, key.runId, 'success', T0);
      },
    });
    expect(result.run?.state).toBe('success');
    expect(seen.map((e) => `${e.taskId} ${e.state}`)).toEqual(['work success']);
  });
});
