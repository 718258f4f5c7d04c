/** `orch runs cancel` and `orch tasks mark`, against runs driven by real `orch run` processes. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, executionCounter, json, killAll, orch, orchOk, spawnOrch, waitFor, type OrchProcess, PATIENCE_MS } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';

let ws: Workspace;
let db: DbView;
let counter: ReturnType<typeof executionCounter>;

beforeEach(() => {
  ws = workspace();
  db = new DbView(ws.db);
  counter = executionCounter(ws);
  // create → work → after → teardown (all_done: it runs whatever happened, as terminate_cluster does)
  ws.writeDag(
    'pipe',
    `${counter.snippet}
     const d = dag({ id: 'pipe', params: z.object({ hold: z.boolean().default(false), fail: z.boolean().default(false) }) });
     const create = d.task({ id: 'create', run: () => { count('create'); } });
     const work = d.task({ id: 'work', upstream: [create], run: async (ctx) => {
       count('work');
       if (ctx.params.fail) throw new Error('work failed on purpose');
       if (ctx.params.hold) await until('release-work', ctx.signal);
     } });
     const after = d.task({ id: 'after', upstream: [work], run: () => { count('after'); } });
     d.task({ id: 'teardown', upstream: [after], triggerRule: 'all_done', run: () => { count('teardown'); } });
     export default d;`,
  );
});

afterEach(async () => {
  await killAll();
  db.close();
  ws.cleanup();
});

const counts = () => Object.fromEntries(['create', 'work', 'after', 'teardown'].map((t) => [t, counter.count(t)]));
const states = (runId: string) => Object.fromEntries(Object.entries(db.tasks('pipe', runId)).map(([k, v]) => [k, v.state]));
const runIdOf = (stdout: string) => /^(?:resumed )?run (\S+): /m.exec(stdout)![1]!;

/** `orch run pipe` holding in `work`, and its run id once `work` runs. */
async function holdingRun(): Promise<{ proc: OrchProcess; runId: string }> {
  const proc = spawnOrch(ws, ['run', 'pipe', '--conf', '{"hold": true}']);
  // Running in the database is not yet running in the process: wait for the task's own mark too.
  await waitFor('work to be running', () => db.tasks('pipe').work?.state === 'running' && counter.count('work') === 1, PATIENCE_MS, () => proc.stdout + proc.stderr);
  return { proc, runId: db.runs('pipe')[0]!.runId };
}

describe('orch runs cancel', () => {
  it('asks the live orch run to stop: the running task stops, the next is skipped, the teardown still runs', async () => {
    const { proc, runId } = await holdingRun();
    const shown = (await orchOk(ws, ['runs', 'show', 'pipe', runId])).stdout;
    expect(shown).toMatch(new RegExp(`^ {2}owner +pid ${proc.child.pid} on \\S+$`, 'm'));
    expect(shown).toMatch(/^ {2}duration +\S+ so far$/m);
    expect(shown).toMatch(/^work +running +1\/1 /m);
    const r = await orchOk(ws, ['runs', 'cancel', 'pipe', runId]);
    expect(r.stdout).toContain(`cancel requested for run ${runId} of pipe`);
    expect(r.stdout).toMatch(new RegExp(`the orch process running it \\(pid ${proc.child.pid} on \\S+\\) acts on it within a heartbeat \\(2 s\\)`));
    expect(r.stdout).toContain('and runs the teardown tasks (teardown)');

    expect((await proc.waitForExit()).code).toBe(1);
    expect(proc.stdout).toContain(`run ${runId}: failed (cancelled)`);
    expect(states(runId)).toEqual({ create: 'success', work: 'failed', after: 'skipped', teardown: 'success' });
    expect(counts()).toEqual({ create: 1, work: 1, after: 0, teardown: 1 });
    expect((await orchOk(ws, ['runs', 'show', 'pipe', runId])).stdout).toMatch(/^ {2}state +failed \(cancelled\)$/m);
  });

  it('fails a queued run at once, running none of its tasks', async () => {
    const runId = /^queued run (\S+)/m.exec((await orchOk(ws, ['trigger', 'pipe'])).stdout)![1]!;
    const r = await orchOk(ws, ['runs', 'cancel', 'pipe', runId]);
    expect(r.stdout).toContain(`cancelled run ${runId} of pipe: it was queued and had not started, so it is now failed (cancelled) and none of its tasks will run`);
    const { run, tasks } = json<{ run: { state: string; note: string }; tasks: { state: string }[] }>(await orchOk(ws, ['runs', 'show', 'pipe', runId, '--json']));
    expect(run).toMatchObject({ state: 'failed', note: 'cancelled' });
    expect(tasks.map((t) => t.state)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    expect(counts().create).toBe(0);
  });

  it('says so when the process running the run is gone, and the next orch run finishes the cancel and runs the teardown', async () => {
    const { proc, runId } = await holdingRun();
    const pid = proc.child.pid!;
    proc.child.kill('SIGKILL');
    await proc.exited;

    const r = await orchOk(ws, ['runs', 'cancel', 'pipe', runId]);
    expect(r.stdout).toContain(`cancel recorded for run ${runId} of pipe, but no orch process is running it: its process (pid ${pid} on `);
    expect(r.stdout).toContain('is gone');
    expect(r.stdout).toContain('nothing is stopped until `orch scheduler` or `orch run pipe` adopts the run; it then honours the cancel, and runs the teardown tasks (teardown)');
    expect(db.runs('pipe')[0]!.state).toBe('running');
    expect((await orchOk(ws, ['runs', 'show', 'pipe', runId])).stdout).toMatch(new RegExp(`^ {2}owner +pid ${pid} on \\S+, which is gone`, 'm'));

    const again = await orch(ws, ['run', 'pipe']);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`resumed run ${runId}: failed (cancelled)`);
    expect(states(runId)).toEqual({ create: 'success', work: 'failed', after: 'skipped', teardown: 'success' });
    expect(counts()).toEqual({ create: 1, work: 1, after: 0, teardown: 1 });
  });

  it('says no process can adopt a run whose process is gone once its DAG file was removed too', async () => {
    const { proc, runId } = await holdingRun();
    proc.child.kill('SIGKILL');
    await proc.exited;
    rmSync(join(ws.dags, 'pipe.ts'));
    const r = await orchOk(ws, ['runs', 'cancel', 'pipe', runId]);
    expect(r.stdout).toContain('but no orch process is running it');
    expect(r.stdout).toContain(`its DAG file is no longer in ${ws.dags}, so no orch process can adopt the run: put the file back, then run \`orch scheduler\` or \`orch run pipe\``);
  });

  it('leaves a finished run alone', async () => {
    const runId = runIdOf((await orchOk(ws, ['run', 'pipe'])).stdout);
    const r = await orchOk(ws, ['runs', 'cancel', 'pipe', runId]);
    expect(r.stdout).toContain(`run ${runId} of pipe had already finished (success); nothing to cancel`);
    expect(db.runs('pipe')[0]!.state).toBe('success');
  });

  it('exits 2 with ORCH_RUN_NOT_FOUND for an unknown run', async () => {
    const r = await orch(ws, ['runs', 'cancel', 'pipe', 'manual__nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ORCH_RUN_NOT_FOUND: DAG 'pipe' has no run 'manual__nope'/m);
  });
});

describe('orch tasks mark', () => {
  it('marks a running task success: its try stops and the tasks after it run', async () => {
    const { proc, runId } = await holdingRun();
    const r = await orchOk(ws, ['tasks', 'mark', 'pipe', runId, 'work', 'success']);
    expect(r.stdout).toContain(`marked success in ${runId}: work`);
    expect(r.stdout).toMatch(new RegExp(`the orch process running it \\(pid ${proc.child.pid} on \\S+\\) stops work within a heartbeat`));
    expect((await proc.waitForExit()).code).toBe(0);
    expect(states(runId)).toEqual({ create: 'success', work: 'success', after: 'success', teardown: 'success' });
    expect(counts()).toEqual({ create: 1, work: 1, after: 1, teardown: 1 });
  });

  it('makes orch runs show say a running task marked success had its state set by hand (its log calls the stopped try failed)', async () => {
    const { proc, runId } = await holdingRun();
    await orchOk(ws, ['tasks', 'mark', 'pipe', runId, 'work', 'success']);
    expect((await proc.waitForExit()).code).toBe(0);

    const shown = (await orchOk(ws, ['runs', 'show', 'pipe', runId])).stdout;
    expect(shown).toMatch(/^work +success \(marked\) +1\/1 /m);
    expect(shown).toMatch(/^after +success +1\/1 /m);
    expect(shown).toContain('\nmarked by hand (orch tasks mark): work success\n  a user set these states; a try running at the time was stopped (its log may call that stop a failure)\n');
    const { tasks } = json<{ tasks: { taskId: string; marked: boolean }[] }>(await orchOk(ws, ['runs', 'show', 'pipe', runId, '--json']));
    expect(tasks.map((t) => [t.taskId, t.marked])).toEqual([
      ['create', false],
      ['work', true],
      ['after', false],
      ['teardown', false],
    ]);
  });

  it('makes orch runs show list tasks marked failed as marked by hand, not among the errors', async () => {
    const runId = runIdOf((await orchOk(ws, ['run', 'pipe'])).stdout);
    await orchOk(ws, ['tasks', 'mark', 'pipe', runId, 'after', 'failed']);
    const shown = (await orchOk(ws, ['runs', 'show', 'pipe', runId])).stdout;
    expect(shown).toMatch(/^ {2}state +failed$/m);
    expect(shown).toMatch(/^after +failed \(marked\) +1\/1 /m);
    expect(shown).toContain('\nmarked by hand (orch tasks mark): after failed\n');
    expect(shown).not.toMatch(/errors:/);
  });

  it('marks a running task and everything after it failed with --downstream, but the teardown still runs', async () => {
    const { proc, runId } = await holdingRun();
    const r = await orchOk(ws, ['tasks', 'mark', 'pipe', runId, 'work', 'failed', '--downstream']);
    expect(r.stdout).toContain(`marked failed in ${runId}: work, after`);
    expect(r.stdout).toContain('left to run as their trigger rule says (teardown tasks): teardown');
    expect((await proc.waitForExit()).code).toBe(1);
    expect(states(runId)).toEqual({ create: 'success', work: 'failed', after: 'failed', teardown: 'success' });
    expect(counts()).toEqual({ create: 1, work: 1, after: 0, teardown: 1 });
  });

  it('turns a failed run into a success when the failed task and those after it are marked success', async () => {
    const first = await orch(ws, ['run', 'pipe', '--conf', '{"fail": true}']);
    expect(first.code).toBe(1);
    const runId = runIdOf(first.stdout);
    const before = (await orchOk(ws, ['runs', 'show', 'pipe', runId])).stdout;
    expect(before).toMatch(/^errors:\n {2}work \(try 1\): .*work failed on purpose$/m);

    const r = await orchOk(ws, ['tasks', 'mark', 'pipe', runId, 'work', 'success', '--downstream']);
    expect(r.stdout).toContain(`marked success in ${runId}: work, after`);
    expect(r.stdout).toContain('the run is now success (was failed)');
    const { run, tasks } = json<{ run: { state: string }; tasks: { taskId: string; state: string }[] }>(await orchOk(ws, ['runs', 'show', 'pipe', runId, '--json']));
    expect(run.state).toBe('success');
    expect(tasks.map((t) => [t.taskId, t.state])).toEqual([
      ['create', 'success'],
      ['work', 'success'],
      ['after', 'success'],
      ['teardown', 'success'],
    ]);
    expect(counts()).toEqual({ create: 1, work: 1, after: 0, teardown: 1 });
  });

  it('tells how to run the tasks after a task marked in a finished run', async () => {
    const runId = runIdOf((await orch(ws, ['run', 'pipe', '--conf', '{"fail": true}'])).stdout);
    const r = await orchOk(ws, ['tasks', 'mark', 'pipe', runId, 'work', 'success']);
    expect(r.stdout).toContain('the run stays failed');
    expect(r.stdout).toContain(`to run them: orch clear pipe ${runId} --task after --downstream`);
  });

  it('exits 2 for a state other than success or failed, and for an unknown task', async () => {
    const runId = runIdOf((await orchOk(ws, ['run', 'pipe'])).stdout);
    const bad = await orch(ws, ['tasks', 'mark', 'pipe', runId, 'work', 'succes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error ORCH_USAGE: .*'succes'.*Allowed choices are success, failed/m);
    expect(bad.stderr).toContain('usage: orch tasks mark [options] <dag> <run_id> <task> <state>');
    const task = await orch(ws, ['tasks', 'mark', 'pipe', runId, 'wrok', 'success']);
    expect(task.code).toBe(2);
    expect(task.stderr).toMatch(/^error ORCH_TASK_NOT_FOUND: DAG 'pipe' has no task 'wrok'\. Did you mean 'work'\?/m);
  });
});
