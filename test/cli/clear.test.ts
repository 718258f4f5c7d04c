/** `orch clear`: cleared tasks run again on the next `orch run`, the others do not. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { DbView, executionCounter, orch, orchOk } from '../helpers/cli.ts';

let ws: Workspace;
let counter: ReturnType<typeof executionCounter>;
let db: DbView;
let runId: string;

const counts = () => Object.fromEntries(['extract', 'transform', 'load', 'report'].map((t) => [t, counter.count(t)]));

beforeEach(async () => {
  ws = workspace();
  counter = executionCounter(ws);
  db = new DbView(ws.db);
  // extract → transform → load, and extract → report (a branch that is not downstream of transform)
  ws.writeDag(
    'chain',
    `${counter.snippet}
     const d = dag({ id: 'chain' });
     const extract = d.task({ id: 'extract', run: () => { count('extract'); return 5; } });
     const transform = d.task({ id: 'transform', upstream: [extract], run: (ctx) => { count('transform'); return ctx.xcom.pull<number>('extract') * 2; } });
     d.task({ id: 'load', upstream: [transform], run: (ctx) => { count('load'); ctx.log.info('loaded ' + ctx.xcom.pull<number>('transform')); } });
     d.task({ id: 'report', upstream: [extract], run: () => { count('report'); } });
     export default d;`,
  );
  const first = await orchOk(ws, ['run', 'chain']);
  runId = /^run (\S+): success$/m.exec(first.stdout)![1]!;
  expect(counts()).toEqual({ extract: 1, transform: 1, load: 1, report: 1 });
});

afterEach(() => {
  db.close();
  ws.cleanup();
});

/** `orch run chain` after a clear: it must adopt the reopened run, not start a new one. */
async function rerun(): Promise<string> {
  const r = await orchOk(ws, ['run', 'chain']);
  expect(r.stdout).toContain(`resumed run ${runId}: success`);
  expect(db.runs('chain')).toEqual([expect.objectContaining({ runId, state: 'success' })]);
  return r.stdout;
}

describe('orch clear', () => {
  it('re-runs only the cleared task with --task', async () => {
    const r = await orchOk(ws, ['clear', 'chain', runId, '--task', 'transform']);
    expect(r.stdout).toContain(`cleared 1 task(s) in ${runId}: transform`);
    expect(db.runs('chain')[0]!.state).toBe('running');
    await rerun();
    expect(counts()).toEqual({ extract: 1, transform: 2, load: 1, report: 1 });
    expect(db.tasks('chain', runId).transform).toEqual({ state: 'success', tryNumber: 2 });
  });

  it('re-runs the cleared task and everything downstream of it with --downstream', async () => {
    const r = await orchOk(ws, ['clear', 'chain', runId, '--task', 'transform', '--downstream']);
    expect(r.stdout).toContain(`cleared 2 task(s) in ${runId}: transform, load`);
    const out = await rerun();
    expect(counts()).toEqual({ extract: 1, transform: 2, load: 2, report: 1 });
    // The re-run only shows the cleared tasks running.
    expect(out).toMatch(/\] transform running \(try 2\)/);
    expect(out).not.toMatch(/\] (extract|report) running/);
    // load read transform's new XCom in its second try.
    expect((await orchOk(ws, ['logs', 'chain', runId, 'load'])).stdout).toMatch(/loaded 10/);
  });

  it('re-runs every task of the run without --task', async () => {
    const r = await orchOk(ws, ['clear', 'chain', runId]);
    expect(r.stdout).toContain(`cleared 4 task(s) in ${runId}`);
    await rerun();
    expect(counts()).toEqual({ extract: 2, transform: 2, load: 2, report: 2 });
  });

  it('keeps the logs of the earlier try of a cleared task', async () => {
    await orchOk(ws, ['clear', 'chain', runId, '--task', 'load']);
    await rerun();
    expect((await orchOk(ws, ['logs', 'chain', runId, 'load', '--try', '1'])).stdout).toMatch(/starting try 1/);
    expect((await orchOk(ws, ['logs', 'chain', runId, 'load', '--try', '2'])).stdout).toMatch(/starting try 2/);
  });

  it('exits 2 and changes nothing for an unknown task or run', async () => {
    const badTask = await orch(ws, ['clear', 'chain', runId, '--task', 'transfrom']);
    expect(badTask.code).toBe(2);
    expect(badTask.stderr).toMatch(/has no task 'transfrom'/);
    const badRun = await orch(ws, ['clear', 'chain', 'manual__nope']);
    expect(badRun.code).toBe(2);
    expect(badRun.stderr).toMatch(/has no run 'manual__nope'/);
    expect(db.runs('chain')).toEqual([expect.objectContaining({ runId, state: 'success' })]);
    expect(Object.values(db.tasks('chain', runId)).map((t) => t.state)).toEqual(['success', 'success', 'success', 'success']);
  });
});
