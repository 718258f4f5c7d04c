/**
 * `orch logs --follow` on a run no process drives any more (its `orch run` was killed, or
 * drained by SIGTERM): it prints what there is, says who will finish the run, and returns,
 * instead of waiting forever. A run a live process drives is still followed to the end.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, executionCounter, killAll, orchOk, spawnOrch, waitFor, type OrchProcess } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';

let ws: Workspace;
let db: DbView;
let counter: ReturnType<typeof executionCounter>;

beforeEach(() => {
  ws = workspace();
  db = new DbView(ws.db);
  counter = executionCounter(ws);
  ws.writeDag(
    'held',
    `${counter.snippet}
     const d = dag({ id: 'held' });
     const work = d.task({ id: 'work', run: async (ctx) => { ctx.log.info('work started'); await until('release', ctx.signal); ctx.log.info('work released'); } });
     d.task({ id: 'after', upstream: [work], run: (ctx) => { ctx.log.info('after ran'); } });
     export default d;`,
  );
});

afterEach(async () => {
  await killAll();
  db.close();
  ws.cleanup();
});

/** `orch run held`, once `work` runs, and the run id. */
async function holding(): Promise<{ run: OrchProcess; runId: string }> {
  const run = spawnOrch(ws, ['run', 'held']);
  // Running in the database is not yet running in the process: wait for the task's own first line.
  const runId = await waitFor(
    'work to be running',
    () => {
      const id = db.runs('held')[0]?.runId;
      return id && db.tasks('held').work?.state === 'running' && db.logs('held', id, 'work', 1).includes('work started') && id;
    },
    30_000,
    () => run.stderr,
  );
  return { run, runId };
}

const follow = (runId: string, task: string) => spawnOrch(ws, ['logs', 'held', runId, task, '--follow']);

describe('orch logs --follow on a run no process drives', () => {
  it('prints the log, says the run was left by a process that died and who will finish it, and exits 0', async () => {
    const { run, runId } = await holding();
    await run.kill(); // SIGKILL: the run stays running, owned by a pid that is gone
    const gone = `its process \\(pid ${run.child.pid} on \\S+\\) is gone`;

    const running = follow(runId, 'work');
    expect((await running.waitForExit()).code).toBe(0);
    expect(running.stdout).toMatch(/work started/);
    expect(running.stderr).toMatch(new RegExp(`^stopped following: no orch process is running run ${runId} of held \\(${gone}\\); \`orch scheduler\` or \`orch run held\` will finish it$`, 'm'));

    const waiting = follow(runId, 'after');
    expect((await waiting.waitForExit()).code).toBe(0);
    expect(waiting.stdout).toBe('');
    expect(waiting.stderr).toMatch(new RegExp(`^stopped following: no orch process is running run ${runId} of held \\(${gone}\\)`, 'm'));
    expect(waiting.stderr).toContain("task 'after' has not run yet (state: none)");
  });

  it('stops following a task still waiting in a run drained by SIGTERM, saying who will finish it', async () => {
    const { run, runId } = await holding();
    run.child.kill('SIGTERM');
    await run.waitForOutput(/SIGTERM: no new tasks start/, 'orch run to start draining');
    counter.signal('release'); // work ends within the drain's grace period; after never starts
    expect((await run.waitForExit()).code).toBe(143);
    expect(db.tasks('held', runId)).toMatchObject({ work: { state: 'success' }, after: { tryNumber: 0 } });

    const waiting = follow(runId, 'after');
    expect((await waiting.waitForExit()).code).toBe(0);
    expect(waiting.stderr).toMatch(
      new RegExp(`^stopped following: no orch process is running run ${runId} of held \\(the process that ran it let it go [^)]*\\)\\); \`orch scheduler\` or \`orch run held\` will finish it$`, 'm'),
    );
  });
});

describe('orch logs --follow on a run a live process drives', () => {
  it('follows a task still waiting to its end, without saying the run is abandoned', async () => {
    const { run, runId } = await holding();
    const running = follow(runId, 'work');
    const waiting = follow(runId, 'after');
    await running.waitForOutput(/work started/, 'the running task to be printed');
    counter.signal('release');
    const [a, b] = await Promise.all([running.waitForExit(), waiting.waitForExit()]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(running.stdout).toMatch(/work started[\s\S]*work released/);
    expect(waiting.stdout).toMatch(/after ran/);
    expect(running.stderr + waiting.stderr).not.toMatch(/stopped following/);
    expect((await run.waitForExit()).code).toBe(0);
  });

  it('on a triggered run not started yet, says it waits for the scheduler and follows the task once it starts', async () => {
    const queued = /^queued run (\S+) of held/.exec((await orchOk(ws, ['trigger', 'held'])).stdout)![1]!;
    const waiting = follow(queued, 'work');
    await waiting.waitForOutput(/is queued and no orch process has started it yet; following until `orch scheduler` starts it/, 'the note that the run waits');
    const scheduler = spawnOrch(ws, ['scheduler']);
    await waiting.waitForOutput(/work started/, 'the task to start under the scheduler');
    counter.signal('release');
    expect((await waiting.waitForExit()).code).toBe(0);
    expect(waiting.stdout).toMatch(/work started[\s\S]*work released/);
    expect(waiting.stderr).not.toMatch(/stopped following/);
    await scheduler.kill();
  });
});
