import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DagBag } from '../../src/core/dags/loader.ts';
import { silentLogger } from '../../src/core/logging.ts';
import { createScheduledRuns } from '../../src/core/run-creator.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';

let ws: Workspace;
let store: Store;
let bag: DagBag;

async function setup(dagOptions: string): Promise<void> {
  ws.writeDag('cron', `
    const d = dag({ id: 'cron', schedule: '@daily', startDate: '2026-03-01', ${dagOptions} });
    d.task({ id: 'a', run: (ctx) => ctx.ds });
    export default d;`);
  await bag.refresh();
}

const at = (iso: string) => new Date(iso);
const intervals = () =>
  store.runs
    .list({ dagId: 'cron' })
    .map((r) => `${r.dataIntervalStart.slice(0, 10)}→${r.dataIntervalEnd.slice(0, 10)}`)
    .sort();

beforeEach(() => {
  ws = workspace();
  store = openStore(ws.db);
  bag = new DagBag(ws.dags);
});
afterEach(() => {
  store.close();
  ws.cleanup();
});

describe('cron schedules', () => {
  it('with catchup, creates exactly the missed daily intervals, each with its logical date', async () => {
    await setup('catchup: true');
    createScheduledRuns(store, bag.list(), at('2026-03-05T10:00:00Z'), silentLogger);
    expect(intervals()).toEqual(['2026-03-01→2026-03-02', '2026-03-02→2026-03-03', '2026-03-03→2026-03-04', '2026-03-04→2026-03-05']);
    const first = store.runs.list({ dagId: 'cron' }).find((r) => r.dataIntervalStart.startsWith('2026-03-01'))!;
    expect(first.runId).toBe('scheduled__2026-03-01T00:00:00.000Z');
    expect(first.logicalDate).toBe('2026-03-01T00:00:00.000Z');
    expect(first.runType).toBe('scheduled');
  });

  it('does not create the same interval twice when ticked again', async () => {
    await setup('catchup: true');
    createScheduledRuns(store, bag.list(), at('2026-03-03T10:00:00Z'), silentLogger);
    createScheduledRuns(store, bag.list(), at('2026-03-03T11:00:00Z'), silentLogger);
    createScheduledRuns(store, bag.list(), at('2026-03-04T00:00:01Z'), silentLogger);
    expect(intervals()).toEqual(['2026-03-01→2026-03-02', '2026-03-02→2026-03-03', '2026-03-03→2026-03-04']);
  });

  it('without catchup, creates only the latest interval', async () => {
    await setup('catchup: false');
    createScheduledRuns(store, bag.list(), at('2026-03-05T10:00:00Z'), silentLogger);
    expect(intervals()).toEqual(['2026-03-04→2026-03-05']);
    createScheduledRuns(store, bag.list(), at('2026-03-08T10:00:00Z'), silentLogger);
    expect(intervals()).toEqual(['2026-03-04→2026-03-05', '2026-03-07→2026-03-08']);
  });

  it('never has more active runs than maxActiveRuns, and creates the rest as runs finish', async () => {
    await setup('catchup: true, maxActiveRuns: 2');
    const now = at('2026-03-06T10:00:00Z');
    createScheduledRuns(store, bag.list(), now, silentLogger);
    expect(intervals()).toEqual(['2026-03-01→2026-03-02', '2026-03-02→2026-03-03']);
    createScheduledRuns(store, bag.list(), now, silentLogger);
    expect(store.runs.countActive('cron')).toBe(2);

    const oldest = store.runs.list({ dagId: 'cron' }).find((r) => r.dataIntervalStart.startsWith('2026-03-01'))!;
    store.runs.finish('cron', oldest.runId, 'success', now.toISOString());
    createScheduledRuns(store, bag.list(), now, silentLogger);
    expect(intervals()).toHaveLength(3);
    expect(store.runs.countActive('cron')).toBe(2);
  });

  it('creates no runs for a paused DAG, and catches up once unpaused', async () => {
    await setup('catchup: true');
    store.dags.setPaused('cron', true);
    createScheduledRuns(store, bag.list(), at('2026-03-04T10:00:00Z'), silentLogger);
    expect(intervals()).toEqual([]);
    store.dags.setPaused('cron', false);
    createScheduledRuns(store, bag.list(), at('2026-03-04T10:00:00Z'), silentLogger);
    expect(intervals()).toHaveLength(3);
  });

  it('runs scheduled runs with the interval exposed to tasks, under the scheduler loop with an injected clock', async () => {
    await setup('catchup: true, maxActiveRuns: 1');
    const clock = { now: () => at('2026-03-03T12:00:00Z') };
    const scheduler = new Scheduler({ store, dagBag: bag, clock, heartbeatMs: 50 });
    const deadline = Date.now() + 20_000;
    while (store.runs.list({ dagId: 'cron', states: ['success'] }).length < 2) {
      if (Date.now() > deadline) throw new Error(`runs did not finish: ${JSON.stringify(store.runs.list({ dagId: 'cron' }).map((r) => r.state))}`);
      scheduler.tick();
      // maxActiveRuns: 1 — never two at once, whatever the loop does.
      expect(store.runs.list({ dagId: 'cron', states: ['queued', 'running'] }).length).toBeLessThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 20));
    }
    await scheduler.drain();
    const ds = store.runs
      .list({ dagId: 'cron' })
      .map((r) => store.xcom.get({ dagId: 'cron', runId: r.runId, taskId: 'a' }, 'return_value'))
      .map((x) => (x.found ? x.value : null))
      .sort();
    expect(ds).toEqual(['2026-03-01', '2026-03-02']);
  });
});
