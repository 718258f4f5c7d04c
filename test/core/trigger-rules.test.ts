import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decide } from '../../src/core/trigger-rules.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { harness } from '../helpers/scheduler.ts';

describe('trigger rules decide from upstream states', () => {
  const cases: [Parameters<typeof decide>[0], Parameters<typeof decide>[1], ReturnType<typeof decide>][] = [
    ['all_success', ['success', 'success'], 'run'],
    ['all_success', ['success', 'running'], 'wait'],
    ['all_success', ['failed', 'running'], 'upstream_failed'],
    ['all_success', ['upstream_failed', 'success'], 'upstream_failed'],
    ['all_success', ['skipped', 'success'], 'skipped'],
    ['all_failed', ['failed', 'upstream_failed'], 'run'],
    ['all_failed', ['failed', 'success'], 'skipped'],
    ['all_failed', ['failed', 'running'], 'wait'],
    ['all_done', ['failed', 'success', 'skipped'], 'run'],
    ['all_done', ['failed', 'up_for_retry'], 'wait'],
    ['one_success', ['success', 'running'], 'run'],
    ['one_success', ['failed', 'failed'], 'upstream_failed'],
    ['one_success', ['skipped', 'skipped'], 'skipped'],
    ['one_failed', ['failed', 'running'], 'run'],
    ['one_failed', ['success', 'success'], 'skipped'],
    ['one_failed', ['success', 'running'], 'wait'],
    ['none_failed', ['success', 'skipped'], 'run'],
    ['none_failed', ['success', 'failed'], 'upstream_failed'],
    ['none_skipped', ['success', 'failed'], 'run'],
    ['none_skipped', ['success', 'skipped'], 'skipped'],
    ['always', ['running', 'none'], 'run'],
    ['all_success', [], 'run'],
  ];
  it.each(cases)('%s with upstream %j → %s', (rule, upstream, expected) => {
    expect(decide(rule, upstream)).toBe(expected);
  });
});

describe('trigger rules in a real run', () => {
  let ws: Workspace;
  beforeEach(() => (ws = workspace()));
  afterEach(() => ws.cleanup());

  it('gives each rule its Airflow outcome when one branch fails, and propagates upstream_failed', async () => {
    ws.writeDag('rules', `
      const d = dag({ id: 'rules' });
      const ok = d.task({ id: 'ok', run: () => 1 });
      const bad = d.task({ id: 'bad', run: () => { throw new Error('nope'); } });
      const both = [ok, bad];
      d.task({ id: 'r_all_success', upstream: both, run: () => 1 });
      d.task({ id: 'r_all_failed', upstream: both, triggerRule: 'all_failed', run: () => 1 });
      d.task({ id: 'r_all_done', upstream: both, triggerRule: 'all_done', run: () => 1 });
      d.task({ id: 'r_one_success', upstream: both, triggerRule: 'one_success', run: () => 1 });
      d.task({ id: 'r_one_failed', upstream: both, triggerRule: 'one_failed', run: () => 1 });
      d.task({ id: 'r_none_failed', upstream: both, triggerRule: 'none_failed', run: () => 1 });
      d.task({ id: 'r_none_skipped', upstream: both, triggerRule: 'none_skipped', run: () => 1 });
      d.task({ id: 'r_always', upstream: both, triggerRule: 'always', run: () => 1 });
      d.task({ id: 'after_upstream_failed', upstream: ['r_all_success'], run: () => 1 });
      d.task({ id: 'after_skipped', upstream: ['r_all_failed'], run: () => 1 });
      export default d;`);
    const h = await harness(ws);
    const { run, state } = await h.scheduler.runDag('rules');
    const states = Object.fromEntries(h.store.tis.listForRun('rules', run.runId).map((t) => [t.taskId, t.state]));
    expect(states).toEqual({
      ok: 'success',
      bad: 'failed',
      r_all_success: 'upstream_failed',
      r_all_failed: 'skipped',
      r_all_done: 'success',
      r_one_success: 'success',
      r_one_failed: 'success',
      r_none_failed: 'upstream_failed',
      r_none_skipped: 'success',
      r_always: 'success',
      after_upstream_failed: 'upstream_failed',
      after_skipped: 'skipped',
    });
    expect(state).toBe('failed');
    h.close();
  });

  it('runs an all_done teardown after a failure, and the run still fails', async () => {
    ws.writeDag('teardown', `
      const d = dag({ id: 'teardown' });
      const create = d.task({ id: 'create', run: () => 'cluster-1' });
      const work = d.task({ id: 'work', upstream: [create], run: () => { throw new Error('transform failed'); } });
      d.task({ id: 'terminate', upstream: [work], triggerRule: 'all_done', run: (ctx) => 'terminated ' + ctx.xcom.pull('create') });
      export default d;`);
    const h = await harness(ws);
    const { run, state } = await h.scheduler.runDag('teardown');
    expect(state).toBe('failed');
    expect(h.store.xcom.get({ dagId: 'teardown', runId: run.runId, taskId: 'terminate' }, 'return_value')).toEqual({ found: true, value: 'terminated cluster-1' });
    h.close();
  });
});
