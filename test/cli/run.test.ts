/** `orch run`, its bad-input errors, `orch logs` and `orch tasks test`, as a user runs them. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { DbView, executionCounter, json, killAll, orch, orchOk, spawnOrch, waitFor, PATIENCE_MS } from '../helpers/cli.ts';

let ws: Workspace;
let counter: ReturnType<typeof executionCounter>;
let db: DbView;

beforeEach(() => {
  ws = workspace();
  counter = executionCounter(ws);
  db = new DbView(ws.db);
  ws.writeDag(
    'report',
    `${counter.snippet}
     const d = dag({
       id: 'report',
       params: z.object({ parts: z.number().int().min(1).max(5).default(2), label: z.string().default('daily') }),
     });
     const extract = d.task({ id: 'extract', run: (ctx) => { count('extract'); ctx.log.info('extracting ' + ctx.params.parts + ' parts'); return ctx.params.parts; } });
     d.task({ id: 'publish', upstream: [extract], run: (ctx) => { count('publish'); const n = ctx.xcom.pull<number>('extract'); ctx.log.info('published ' + ctx.params.label + ' x' + n); return n * 10; } });
     export default d;`,
  );
  ws.writeDag(
    'fragile',
    `const d = dag({ id: 'fragile' });
     const ok = d.task({ id: 'ok', run: () => 1 });
     d.task({ id: 'explode', upstream: [ok], run: () => { throw new Error('disk full on /data'); } });
     export default d;`,
  );
});

afterEach(async () => {
  await killAll();
  db.close();
  ws.cleanup();
});

/** The run id `orch run` printed in its summary line. */
function summaryRunId(stdout: string): string {
  const m = /^(?:resumed )?run (\S+): (success|failed|running)/m.exec(stdout);
  if (!m) throw new Error(`no summary line in:\n${stdout}`);
  return m[1]!;
}

describe('orch run', () => {
  it('exits 0 on success and prints the run id, the final state and where the logs are', async () => {
    const r = await orchOk(ws, ['run', 'report']);
    const runId = summaryRunId(r.stdout);
    expect(r.stdout).toMatch(new RegExp(`^run ${runId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: success$`, 'm'));
    expect(r.stdout).toContain(`logs: orch logs report ${runId} <task>`);
    expect(r.stdout).toContain(ws.db);
    // The run it printed is the run that was recorded.
    const runs = json<{ runId: string; state: string }[]>(await orchOk(ws, ['runs', 'list', '--dag', 'report', '--json']));
    expect(runs).toEqual([expect.objectContaining({ runId, state: 'success' })]);
    expect([counter.count('extract'), counter.count('publish')]).toEqual([1, 1]);
  });

  it('prints plain progress lines, one per state change, when stdout is not a terminal', async () => {
    const r = await orchOk(ws, ['run', 'report']);
    expect(r.stdout).not.toContain('\x1b[');
    const lines = r.stdout.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/^report manual__\S+$/)).toBe(0);
    expect(at(/\] extract running \(try 1\)$/)).toBeGreaterThan(0);
    expect(at(/\] extract success in /)).toBeGreaterThan(at(/\] extract running/));
    expect(at(/\] publish running \(try 1\)$/)).toBeGreaterThan(at(/\] extract success/));
    expect(at(/\] publish success in /)).toBeGreaterThan(at(/\] publish running/));
  });

  it('exits 1 when a task fails and names the task and its error', async () => {
    const r = await orch(ws, ['run', 'fragile']);
    expect(r.code).toBe(1);
    const runId = summaryRunId(r.stdout);
    expect(r.stdout).toMatch(/^run \S+: failed$/m);
    expect(r.stdout).toMatch(/✗ explode: disk full on \/data/);
    expect(r.stdout).toContain(`logs: orch logs fragile ${runId} <task>`);
    const logs = await orchOk(ws, ['logs', 'fragile', runId, 'explode']);
    expect(logs.stdout).toMatch(/ERROR .*try 1 failed: disk full on \/data/);
  });

  it('passes --conf to the tasks as params, with defaults for what it leaves out', async () => {
    const r = await orchOk(ws, ['run', 'report', '--conf', '{"parts": 4}']);
    const runId = summaryRunId(r.stdout);
    expect((await orchOk(ws, ['logs', 'report', runId, 'publish'])).stdout).toMatch(/published daily x4/);
    const runs = json<{ conf: unknown }[]>(await orchOk(ws, ['runs', 'list', '--json']));
    expect(runs[0]!.conf).toEqual({ parts: 4 });
  });
});

describe('bad input to orch run', () => {
  it('exits 2 and says where malformed --conf JSON breaks, without creating a run', async () => {
    const r = await orch(ws, ['run', 'report', '--conf', '{"parts": 4,}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--conf is not a JSON object/);
    expect(r.stderr).toMatch(/position 12|character 13/);
    expect(r.stdout).not.toMatch(/^run /m);
    expect(db.count('dag_run')).toBe(0);
    expect(counter.count('extract')).toBe(0);
  });

  it('exits 2 when --conf is JSON but not an object', async () => {
    const r = await orch(ws, ['run', 'report', '--conf', '[1, 2]']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--conf is not a JSON object: expected an object .*got an array/);
  });

  it('exits 2 naming the field when the conf fails the params schema', async () => {
    const r = await orch(ws, ['run', 'report', '--conf', '{"parts": 9}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/params of DAG 'report' rejected: parts: /);
    expect(r.stderr).toMatch(/5/); // the bound it broke
    expect(db.count('dag_run')).toBe(0);
    expect(counter.count('extract')).toBe(0);
  });

  it('exits 2 naming the field when a param has the wrong type', async () => {
    const r = await orch(ws, ['run', 'report', '--conf', '{"label": 7}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rejected: label: .*string/i);
  });

  it('exits 2 and suggests the right name for a misspelled conf key', async () => {
    const r = await orch(ws, ['run', 'report', '--conf', '{"prats": 3}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/prats: not a param of this DAG \(did you mean 'parts'\?\)/);
    expect(db.count('dag_run')).toBe(0);
  });

  it('rejects bad conf the same way in orch trigger and orch tasks test', async () => {
    for (const args of [
      ['trigger', 'report', '--conf', '{"prats": 3}'],
      ['tasks', 'test', 'report', 'extract', '--conf', '{"prats": 3}'],
    ]) {
      const r = await orch(ws, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/did you mean 'parts'/);
    }
    expect(db.count('dag_run')).toBe(0);
    expect(counter.count('extract')).toBe(0);
  });
});

describe('orch logs', () => {
  beforeEach(() => {
    ws.writeDag(
      'flaky',
      `const d = dag({ id: 'flaky' });
       d.task({
         id: 'fetch', retries: 1, retryDelay: 50,
         run: (ctx) => {
           ctx.log.info('attempt ' + ctx.tryNumber + ' connecting');
           if (ctx.tryNumber === 1) { ctx.log.warn('attempt 1 saw a timeout'); throw new Error('upstream timed out'); }
           ctx.log.info('attempt ' + ctx.tryNumber + ' fetched 42 rows');
           return 42;
         },
       });
       export default d;`,
    );
  });

  it('prints the lines a task logged, per try: a task that failed once then succeeded has different lines in try 1 and try 2', async () => {
    const runId = summaryRunId((await orchOk(ws, ['run', 'flaky'])).stdout);

    const try1 = (await orchOk(ws, ['logs', 'flaky', runId, 'fetch', '--try', '1'])).stdout;
    expect(try1).toMatch(/INFO  \[orch\] attempt 1 connecting/);
    expect(try1).toMatch(/WARN  \[orch\] attempt 1 saw a timeout/);
    expect(try1).toMatch(/ERROR \[orch\] try 1 failed: upstream timed out/);
    expect(try1).not.toMatch(/attempt 2/);

    const try2 = (await orchOk(ws, ['logs', 'flaky', runId, 'fetch', '--try', '2'])).stdout;
    expect(try2).toMatch(/attempt 2 connecting/);
    expect(try2).toMatch(/attempt 2 fetched 42 rows/);
    expect(try2).not.toMatch(/attempt 1/);

    // Without --try: the latest try.
    expect((await orchOk(ws, ['logs', 'flaky', runId, 'fetch'])).stdout).toBe(try2);
  });

  it('exits 2 for a try that does not exist, an unknown task or an unknown run', async () => {
    const runId = summaryRunId((await orchOk(ws, ['run', 'flaky'])).stdout);
    const noTry = await orch(ws, ['logs', 'flaky', runId, 'fetch', '--try', '3']);
    expect(noTry.code).toBe(2);
    expect(noTry.stderr).toMatch(/--try must be 1\.\.2/);
    const noTask = await orch(ws, ['logs', 'flaky', runId, 'fecth']);
    expect(noTask.code).toBe(2);
    expect(noTask.stderr).toMatch(/has no task 'fecth'.*fetch/);
    const noRun = await orch(ws, ['logs', 'flaky', 'manual__nope', 'fetch']);
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toMatch(/has no run 'manual__nope'/);
  });

  it('with --follow prints lines as the task logs them and returns when the try ends', async () => {
    ws.writeDag(
      'slow',
      `${counter.snippet}
       const d = dag({ id: 'slow' });
       d.task({ id: 'crunch', run: async (ctx) => {
         ctx.log.info('phase one done');
         await until('go', ctx.signal);
         ctx.log.info('phase two done');
         return 'crunched';
       } });
       export default d;`,
    );
    const run = spawnOrch(ws, ['run', 'slow']);
    const runId = await waitFor('crunch to be running', () => db.tasks('slow').crunch?.state === 'running' && db.runs('slow')[0]!.runId, PATIENCE_MS, () => run.stderr);
    const follow = spawnOrch(ws, ['logs', 'slow', runId, 'crunch', '--follow']);
    await follow.waitForOutput(/phase one done/, 'the first line to be printed');
    expect(follow.stdout).not.toMatch(/phase two done/);
    counter.signal('go');
    const { code } = await follow.waitForExit();
    expect(code).toBe(0);
    expect(follow.stdout).toMatch(/phase one done[\s\S]*phase two done[\s\S]*try 1 succeeded/);
    expect((await run.waitForExit()).code).toBe(0);
  });

  it('with --follow on a task that has not started yet, waits for it and prints its lines', async () => {
    ws.writeDag(
      'gated',
      `${counter.snippet}
       const d = dag({ id: 'gated' });
       const gate = d.task({ id: 'gate', run: async (ctx) => { await until('open', ctx.signal); } });
       d.task({ id: 'after', upstream: [gate], run: (ctx) => { ctx.log.info('after the gate'); } });
       export default d;`,
    );
    const run = spawnOrch(ws, ['run', 'gated']);
    const runId = await waitFor('gate to be running', () => db.tasks('gated').gate?.state === 'running' && db.runs('gated')[0]!.runId, PATIENCE_MS, () => run.stderr);
    const follow = spawnOrch(ws, ['logs', 'gated', runId, 'after', '--follow']);
    // Give it time to look at the task (state 'none', no try yet); it must not give up.
    const gaveUp = await Promise.race([follow.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3_000))]);
    expect(gaveUp, `orch logs --follow exited before the task started\nstdout:\n${follow.stdout}\nstderr:\n${follow.stderr}`).toBe(false);
    counter.signal('open');
    expect((await follow.waitForExit()).code).toBe(0);
    expect(follow.stdout).toMatch(/after the gate/);
    expect(follow.stderr).not.toMatch(/has not run yet/);
    expect((await run.waitForExit()).code).toBe(0);
  });
});

describe('orch run on SIGTERM', () => {
  it('lets the running task finish, starts nothing new, exits 143 saying how to finish the run; the next orch run finishes it', async () => {
    ws.writeDag(
      'stoppable',
      `${counter.snippet}
       const d = dag({ id: 'stoppable' });
       const a = d.task({ id: 'a', run: async (ctx) => { count('a'); await until('release-a', ctx.signal); } });
       d.task({ id: 'b', upstream: [a], run: () => { count('b'); } });
       export default d;`,
    );
    const run = spawnOrch(ws, ['run', 'stoppable']);
    const runId = await waitFor('a to be running', () => db.tasks('stoppable').a?.state === 'running' && counter.count('a') === 1 && db.runs('stoppable')[0]!.runId, PATIENCE_MS, () => run.stderr);
    run.child.kill('SIGTERM');
    await run.waitForOutput(/SIGTERM: no new tasks start; running function tasks get a grace period to finish/, 'orch run to start draining');
    counter.signal('release-a'); // a ends within the drain's grace period
    const { code } = await run.waitForExit();
    expect(code, run.stdout + run.stderr).toBe(143);
    expect(run.stdout).toContain(`run ${runId}: running`);
    expect(run.stdout).toMatch(/the run is not finished; `orch run stoppable` or `orch scheduler` will finish it/);
    expect(counter.count('b')).toBe(0);

    const again = await orchOk(ws, ['run', 'stoppable']);
    expect(again.stdout).toContain(`resumed run ${runId}: success`);
    expect([counter.count('a'), counter.count('b')]).toEqual([1, 1]);
  });
});

describe('orch run twice at once', () => {
  const slowDag = () =>
    ws.writeDag(
      'slowstart',
      `${counter.snippet}
       const d = dag({ id: 'slowstart' });
       d.task({ id: 'work', retries: 1, retryDelay: '10ms', run: async (ctx) => { count('work'); await until('finish', ctx.signal); return 1; } });
       export default d;`,
    );

  it('makes one run: the second orch run follows the first, shows its progress and exits with its result', async () => {
    slowDag();
    const first = spawnOrch(ws, ['run', 'slowstart']);
    const second = spawnOrch(ws, ['run', 'slowstart']);
    await waitFor('work to be running', () => counter.count('work') === 1 && db.tasks('slowstart').work?.state === 'running', PATIENCE_MS, () => first.stderr + second.stderr);
    await waitFor('one of them to say it follows the other', () => /following it/.test(first.stdout + second.stdout), PATIENCE_MS, () => first.stdout + second.stdout);
    counter.signal('finish');
    const [a, b] = await Promise.all([first.waitForExit(), second.waitForExit()]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const runs = db.runs('slowstart');
    expect(runs).toEqual([expect.objectContaining({ state: 'success' })]);
    expect(counter.count('work')).toBe(1);
    const [driver, follower] = /following it/.test(first.stdout) ? [second, first] : [first, second];
    expect(follower.stdout).toContain(`slowstart ${runs[0]!.runId} (an identical run is already going in pid ${driver.child.pid}: following it`);
    expect(follower.stdout).toMatch(/\] work success/);
    expect(follower.stdout).toContain(`run ${runs[0]!.runId} (driven by pid ${driver.child.pid}): success`);
  });

  it('takes the run over and finishes it when the process it follows dies', async () => {
    slowDag();
    const first = spawnOrch(ws, ['run', 'slowstart']);
    await waitFor('work to be running', () => db.tasks('slowstart').work?.state === 'running' && counter.count('work') === 1, PATIENCE_MS, () => first.stderr);
    const second = spawnOrch(ws, ['run', 'slowstart']);
    await second.waitForOutput(/following it/, 'the second orch run to follow the first');
    first.child.kill('SIGKILL');
    await first.waitForExit();
    counter.signal('finish');
    const { code } = await second.waitForExit();
    expect(code, second.stdout + second.stderr).toBe(0);
    expect(second.stderr).toMatch(/the process driving run \S+ is gone; this orch run takes it over and finishes it/);
    expect(db.runs('slowstart')).toEqual([expect.objectContaining({ state: 'success' })]);
    // work has no resume: the dead process's try counts as failed and the task is retried, as after any crash.
    expect(counter.count('work')).toBe(2);
  });

  it('stops only following on SIGTERM or Ctrl-C: the run goes on in the first', async () => {
    slowDag();
    const first = spawnOrch(ws, ['run', 'slowstart']);
    await waitFor('work to be running', () => db.tasks('slowstart').work?.state === 'running' && counter.count('work') === 1, PATIENCE_MS, () => first.stderr);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const follower = spawnOrch(ws, ['run', 'slowstart']);
      await follower.waitForOutput(/following it/, 'the second orch run to follow the first');
      follower.child.kill(signal);
      const { code } = await follower.waitForExit();
      expect(code, follower.stderr).toBe(signal === 'SIGTERM' ? 143 : 130);
      expect(follower.stderr).toContain('stopped following; the run goes on in the process that drives it');
      expect(follower.stdout).toMatch(/the run is not finished; it goes on in the process that drives it/);
    }
    expect(db.tasks('slowstart').work?.state).toBe('running');
    counter.signal('finish');
    expect((await first.waitForExit()).code).toBe(0);
    expect(db.runs('slowstart')).toEqual([expect.objectContaining({ state: 'success' })]);
    expect(counter.count('work')).toBe(1);
  });

  it('starts a second run when the conf differs', async () => {
    ws.writeDag(
      'sized',
      `${counter.snippet}
       const d = dag({ id: 'sized', params: z.object({ size: z.number().default(1) }) });
       d.task({ id: 'work', run: async (ctx) => { count('work' + ctx.params.size); await until('finish', ctx.signal); } });
       export default d;`,
    );
    const one = spawnOrch(ws, ['run', 'sized', '--conf', '{"size": 1}']);
    await waitFor('the first run to work', () => counter.count('work1') === 1, PATIENCE_MS, () => one.stderr);
    const two = spawnOrch(ws, ['run', 'sized', '--conf', '{"size": 2}']);
    await waitFor('the second run to work', () => counter.count('work2') === 1, PATIENCE_MS, () => two.stderr);
    counter.signal('finish');
    expect([(await one.waitForExit()).code, (await two.waitForExit()).code]).toEqual([0, 0]);
    expect(db.runs('sized')).toHaveLength(2);
  });
});

describe('orch run and Ctrl-C', () => {
  it('once cancels the run but lets the teardown run; twice leaves the run unfinished, and the next orch run says so and finishes the teardown', async () => {
    ws.writeDag(
      'torn',
      `${counter.snippet}
       const d = dag({ id: 'torn' });
       const work = d.task({ id: 'work', run: async (ctx) => { count('work'); await until('never', ctx.signal); } });
       d.task({
         id: 'teardown', upstream: [work], triggerRule: 'all_done',
         run: async (ctx) => { count('teardown.run'); await until('release-teardown', ctx.signal); return 'down'; },
         resume: async (ctx) => { count('teardown.resume'); await until('release-teardown', ctx.signal); return 'down'; },
       });
       export default d;`,
    );
    const run = spawnOrch(ws, ['run', 'torn']);
    const runId = await waitFor('work to be running', () => db.tasks('torn').work?.state === 'running' && db.runs('torn')[0]!.runId, PATIENCE_MS, () => run.stderr);
    run.child.kill('SIGINT');
    await run.waitForOutput(/cancelling the run: running tasks are stopped, teardown tasks \(terminate_cluster\) still run/, 'the first Ctrl-C to cancel');
    await waitFor('the teardown to start', () => counter.count('teardown.run') === 1, PATIENCE_MS, () => run.stderr);
    run.child.kill('SIGINT');
    const { code } = await run.waitForExit();
    expect(code, run.stdout + run.stderr).toBe(130);
    expect(run.stderr).toContain('leaving the run unfinished');
    expect(run.stdout).toMatch(/the run is not finished; `orch run torn` or `orch scheduler` will finish it/);
    expect(db.tasks('torn')).toMatchObject({ work: { state: 'failed' }, teardown: { state: 'running', tryNumber: 1 } });

    const again = spawnOrch(ws, ['run', 'torn']);
    await again.waitForOutput(new RegExp(`torn ${runId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(resuming an unfinished run that was being cancelled: finishing its cancel and teardown\\)`), 'the rerun to say it resumes the cancelled run');
    counter.signal('release-teardown');
    expect((await again.waitForExit()).code).toBe(1);
    expect(again.stdout).toContain(`resumed run ${runId}: failed (cancelled)`);
    expect(db.tasks('torn')).toMatchObject({ work: { state: 'failed' }, teardown: { state: 'success', tryNumber: 1 } });
    expect([counter.count('work'), counter.count('teardown.run'), counter.count('teardown.resume')]).toEqual([1, 1, 1]);
  });
});

describe('orch run on a paused DAG', () => {
  it('says the DAG is paused and runs it anyway', async () => {
    await orchOk(ws, ['pause', 'report']);
    const r = await orchOk(ws, ['run', 'report']);
    expect(r.stderr).toContain('note: report is paused, so the scheduler starts none of its runs; orch run runs it anyway (orch unpause report to resume scheduling)');
    expect(r.stdout).toMatch(/run \S+: success/);
  });
});

describe('orch tasks test', () => {
  it("runs one task alone and prints its log lines and return value", async () => {
    const r = await orchOk(ws, ['tasks', 'test', 'report', 'extract', '--conf', '{"parts": 3}']);
    expect(r.stdout).toMatch(/INFO  \[orch\] extracting 3 parts/);
    expect(r.stdout).toMatch(/^extract: success$/m);
    expect(r.stdout).toMatch(/^return value: 3$/m);
    expect(counter.count('extract')).toBe(1);
    expect(counter.count('publish')).toBe(0);
  });

  it('records nothing: no run, no task state, no logs', async () => {
    await orchOk(ws, ['tasks', 'test', 'report', 'extract']);
    expect((await orchOk(ws, ['runs', 'list'])).stdout).toMatch(/No runs yet/);
    expect(json(await orchOk(ws, ['runs', 'list', '--json']))).toEqual([]);
    for (const table of ['dag_run', 'task_instance', 'task_try', 'task_log', 'xcom'] as const) expect(db.count(table), table).toBe(0);
  });

  it('exits 1 and prints the error when the task fails', async () => {
    const r = await orch(ws, ['tasks', 'test', 'fragile', 'explode']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/explode: failed: disk full on \/data/);
    expect(db.count('dag_run')).toBe(0);
  });

  it('exits 2 and lists the tasks when the task id is unknown', async () => {
    const r = await orch(ws, ['tasks', 'test', 'report', 'extrct']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DAG 'report' has no task 'extrct'. Did you mean 'extract'\? Its tasks: extract, publish/);
  });
});
