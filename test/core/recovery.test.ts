/**
 * The crash test: `orch run` is killed with SIGKILL mid-run; the next `orch run` of the DAG
 * adopts that same run and finishes it without re-running finished tasks. The task that was
 * running is retried, or, when it defines `resume`, resumed as the same try from the handle
 * it recorded. Real child processes, a real SQLite file, polled read-only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { DbView, executionCounter, killAll, orchOk, spawnOrch, waitFor, PATIENCE_MS } from '../helpers/cli.ts';

let ws: Workspace;
let counter: ReturnType<typeof executionCounter>;
let db: DbView;

beforeEach(() => {
  ws = workspace();
  counter = executionCounter(ws);
  db = new DbView(ws.db);
});

afterEach(async () => {
  await killAll();
  db.close();
  ws.cleanup();
});

/**
 * `extract` and `clean` finish, `crunch` blocks on its first try until the process is
 * killed, `publish` runs after it. `crunchExtra` adds options to `crunch`.
 */
function writeCrashDag(crunchExtra: string): void {
  ws.writeDag(
    'crashy',
    `${counter.snippet}
     const d = dag({ id: 'crashy' });
     const extract = d.task({ id: 'extract', run: () => { count('extract'); return 3; } });
     const clean = d.task({ id: 'clean', upstream: [extract], run: (ctx) => { count('clean'); return ctx.xcom.pull<number>('extract') + 1; } });
     const crunch = d.task({
       id: 'crunch',
       upstream: [clean],
       ${crunchExtra}
       run: async (ctx) => {
         count('crunch.run.try' + ctx.tryNumber);
         ctx.handles.record({ kind: 'job', externalId: 'job-' + ctx.tryNumber + '-' + process.pid, data: { input: ctx.xcom.pull<number>('clean') } });
         ctx.log.info('submitted job for try ' + ctx.tryNumber);
         // The first try never finishes on its own: the test kills the process running it.
         if (ctx.tryNumber === 1) await until('never', ctx.signal);
         return ctx.xcom.pull<number>('clean') * 10;
       },
     });
     d.task({ id: 'publish', upstream: [crunch], run: (ctx) => { count('publish'); ctx.log.info('published ' + ctx.xcom.pull<number>('crunch')); } });
     export default d;`,
  );
}

/** Start `orch run crashy`, wait until extract and clean succeeded and crunch is running (job recorded), SIGKILL it. */
async function crashMidRun(): Promise<string> {
  const victim = spawnOrch(ws, ['run', 'crashy']);
  const runId = await waitFor(
    'extract and clean to succeed and crunch to be running, its job submitted',
    () => {
      const t = db.tasks('crashy');
      const run = db.runs('crashy')[0];
      if (!run || t.extract?.state !== 'success' || t.clean?.state !== 'success' || t.crunch?.state !== 'running') return false;
      return db.logs('crashy', run.runId, 'crunch', 1).includes('submitted job for try 1') && run.runId;
    },
    30_000,
    () => `tasks: ${JSON.stringify(db.tasks('crashy'))}\nstdout:\n${victim.stdout}\nstderr:\n${victim.stderr}`,
  );
  victim.child.kill('SIGKILL');
  const { signal } = await victim.waitForExit();
  expect(signal).toBe('SIGKILL');
  // What the dead process left behind: an unfinished run with a try still marked running.
  expect(db.runs('crashy')).toEqual([expect.objectContaining({ runId, state: 'running', ownerPid: victim.child.pid })]);
  expect(db.tasks('crashy', runId)).toMatchObject({
    extract: { state: 'success' },
    clean: { state: 'success' },
    crunch: { state: 'running', tryNumber: 1 },
    publish: { state: 'none' },
  });
  return runId;
}

describe('a run whose process was killed with SIGKILL', () => {
  it('is finished by the next orch run: same run id, finished tasks not re-run, the interrupted task retried', async () => {
    writeCrashDag(`retries: 1, retryDelay: 50,`);
    const runId = await crashMidRun();

    const r = await orchOk(ws, ['run', 'crashy']);
    expect(r.stdout).toContain(`resumed run ${runId}: success`);
    expect(db.runs('crashy')).toEqual([expect.objectContaining({ runId, state: 'success' })]);

    expect(counter.count('extract')).toBe(1);
    expect(counter.count('clean')).toBe(1);
    expect(counter.count('crunch.run.try1')).toBe(1);
    expect(counter.count('crunch.run.try2')).toBe(1);
    expect(counter.count('publish')).toBe(1);
    expect(db.tasks('crashy', runId)).toEqual({
      extract: { state: 'success', tryNumber: 1 },
      clean: { state: 'success', tryNumber: 1 },
      crunch: { state: 'success', tryNumber: 2 },
      publish: { state: 'success', tryNumber: 1 },
    });
    // Try 1's log says why it ended; try 2 read the XCom that survived the crash.
    expect(db.logs('crashy', runId, 'crunch', 1).join('\n')).toMatch(/died and the task cannot be resumed/);
    expect(db.logs('crashy', runId, 'publish', 1)).toContain('published 40');
  });

  it('fails the interrupted task when it has no retries left, and still never re-runs finished tasks', async () => {
    writeCrashDag(`retries: 0,`);
    const runId = await crashMidRun();

    const r = await orchOk(ws, ['run', 'crashy'], 1);
    expect(r.stdout).toContain(`resumed run ${runId}: failed`);
    expect(r.stdout).toMatch(/✗ crunch: the process running this try .* died/);
    expect(db.tasks('crashy', runId)).toEqual({
      extract: { state: 'success', tryNumber: 1 },
      clean: { state: 'success', tryNumber: 1 },
      crunch: { state: 'failed', tryNumber: 1 },
      publish: { state: 'upstream_failed', tryNumber: 0 },
    });
    expect([counter.count('extract'), counter.count('clean'), counter.count('crunch.run.try1'), counter.count('publish')]).toEqual([1, 1, 1, 0]);
  });

  it('resumes a task that defines resume as the same try, from the handle it recorded, instead of retrying it', async () => {
    // No retries: if the try were retried rather than resumed, the run would fail.
    writeCrashDag(`retries: 0,
       resume: async (ctx) => {
         const [job] = ctx.handles.list('job');
         if (!job) throw new Error('no job handle to resume from');
         count('crunch.resume.try' + ctx.tryNumber);
         ctx.log.info('reattached to ' + job.externalId + ' recorded by try ' + job.tryNumber + ' with input ' + job.data?.input);
         return Number(job.data?.input) * 10;
       },`);
    const runId = await crashMidRun();
    const killedJob = `job-1-`;

    const r = await orchOk(ws, ['run', 'crashy']);
    expect(r.stdout).toContain(`resumed run ${runId}: success`);
    expect(db.runs('crashy')).toEqual([expect.objectContaining({ runId, state: 'success' })]);

    expect(db.tasks('crashy', runId)).toEqual({
      extract: { state: 'success', tryNumber: 1 },
      clean: { state: 'success', tryNumber: 1 },
      crunch: { state: 'success', tryNumber: 1 },
      publish: { state: 'success', tryNumber: 1 },
    });
    // run() ran once (the killed try), resume() once with the same try number; nothing else re-ran.
    expect(counter.count('crunch.run.try1')).toBe(1);
    expect(counter.count('crunch.resume.try1')).toBe(1);
    expect(counter.count('crunch.run.try2')).toBe(0);
    expect([counter.count('extract'), counter.count('clean'), counter.count('publish')]).toEqual([1, 1, 1]);

    const try1 = db.logs('crashy', runId, 'crunch', 1).join('\n');
    expect(try1).toMatch(/submitted job for try 1/);
    expect(try1).toMatch(/died; resuming it in pid/);
    expect(try1).toMatch(new RegExp(`reattached to ${killedJob}\\d+ recorded by try 1 with input 4`));
    expect(db.logs('crashy', runId, 'publish', 1)).toContain('published 40');
  });

  it('is finished by orch scheduler as well, which adopts it without re-running finished tasks', async () => {
    writeCrashDag(`retries: 1, retryDelay: 50,`);
    const runId = await crashMidRun();

    const scheduler = spawnOrch(ws, ['scheduler']);
    await waitFor('the scheduler to finish the run', () => db.runs('crashy')[0]?.state === 'success', PATIENCE_MS, () => scheduler.stderr);
    scheduler.child.kill('SIGTERM');
    expect((await scheduler.waitForExit()).code).toBe(0);

    expect(db.runs('crashy')).toEqual([expect.objectContaining({ runId, state: 'success' })]);
    expect(db.tasks('crashy', runId)).toMatchObject({ crunch: { state: 'success', tryNumber: 2 }, publish: { state: 'success' } });
    expect([counter.count('extract'), counter.count('clean'), counter.count('crunch.run.try1'), counter.count('crunch.run.try2'), counter.count('publish')]).toEqual([1, 1, 1, 1, 1]);
  });
});
